"""match: mapping patterns, **rest, value keys, nested mappings, event dispatch."""

import collections


class Keys:
    KIND = "kind"
    ID = "id"


def describe(event):
    match event:
        case {"kind": "click", "pos": (x, y), **extra}:
            return f"click at {x},{y} extra={sorted(extra.items())}"
        case {"kind": "key", "key": str(key)} if len(key) == 1:
            return f"key {key!r}"
        case {"kind": "key", "key": key}:
            return f"special key {key}"
        case {Keys.KIND: "move", Keys.ID: ident, "to": {"x": x, "y": y}}:
            return f"move #{ident} to ({x}, {y})"
        case {"kind": kind, **rest} if not rest:
            return f"bare {kind}"
        case {"kind": _}:
            return "unknown kind"
        case {}:
            return f"mapping without kind ({len(event)} keys)"
        case _:
            return "not a mapping"


EVENTS = [
    {"kind": "click", "pos": (3, 4)},
    {"kind": "click", "pos": [5, 6], "button": 2, "shift": True},
    {"kind": "click", "pos": (1, 2, 3)},
    {"kind": "key", "key": "a"},
    {"kind": "key", "key": "Enter"},
    {"kind": "key", "key": 13},
    {"kind": "move", "id": 7, "to": {"x": 1, "y": -1, "z": 0}},
    {"kind": "move", "id": 8, "to": {"x": 1}},
    {"kind": "idle"},
    {"kind": "idle", "since": 3},
    {"other": 1, "more": 2},
    {},
    [("kind", "click")],
    collections.OrderedDict(kind="key", key="q"),
    collections.defaultdict(int, kind="idle"),
]

for event in EVENTS:
    print(describe(event))


class CountingGets(dict):
    """Mapping patterns look keys up with .get(); count those lookups."""

    gets = 0

    def get(self, key, default=None):
        CountingGets.gets += 1
        return super().get(key, default)


match CountingGets(a=1, b=2, c=3):
    case {"a": 1, "b": 2, **others}:
        print("others:", others, "type", type(others).__name__, "gets", CountingGets.gets)

defaulted = collections.defaultdict(list)
match defaulted:
    case {"missing": _}:
        print("matched a missing key?")
    case _:
        print("defaultdict not extended by matching:", dict(defaulted))


def merge_config(config):
    match config:
        case {"version": 1, "name": str(name), **settings}:
            return {"name": name, **settings, "upgraded": True}
        case {"version": 2, "meta": {"name": name, **meta}, **settings}:
            return {"name": name, **meta, **settings}
        case {"version": v}:
            raise ValueError(f"unsupported version {v}")
    return None


print(merge_config({"version": 1, "name": "a", "debug": True}))
print(merge_config({"version": 2, "meta": {"name": "b", "owner": "me"}, "level": 3}))
print(merge_config({"nothing": 0}))
try:
    merge_config({"version": 9})
except ValueError as error:
    print("error:", error)

dup = "kind"
try:
    match {"kind": 1}:
        case {Keys.KIND: 1, "other": 2}:
            pass
        case _:
            print("no duplicate check when a key is missing early")
    match {"kind": 1, "x": 2}:
        case {"kind": 1, Keys.KIND: 2}:
            pass
except ValueError as error:
    print("ValueError:", error)
