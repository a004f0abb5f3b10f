"""global, del and name resolution: module counters, deleting names/attributes/items/slices, builtins shadowing."""

import builtins

registry = {}
hits = 0


def record(name):
    global hits
    hits += 1
    registry[name] = hits
    return hits


def reset():
    global registry, hits
    registry, hits = {}, 0


def define_global():
    global created_later
    created_later = "made inside a function"


def shadow_builtin():
    len = lambda x: -1
    return len("abc"), builtins.len("abc")


for word in ["a", "b", "c"]:
    record(word)
print(registry, hits)
reset()
print(registry, hits)
define_global()
print(created_later)
print(shadow_builtin())
len = lambda x: "module-level shadow"
print(len([1, 2]))
del len
print(len([1, 2]))


class Box:
    def __init__(self):
        self.a, self.b = 1, 2


box = Box()
del box.a
print(vars(box), hasattr(box, "a"))
items = list(range(10))
del items[0], items[-1]
del items[::3]
print(items)
mapping = {"x": 1, "y": 2, "z": 3}
del mapping["y"]
print(mapping)
first, second = 1, 2
del first, second
print("first" in dir(), "registry" in globals())
try:
    del first
except NameError as error:
    print("NameError:", error)
try:
    del box.missing
except AttributeError as error:
    print("AttributeError:", error)


def local_del():
    value = [1]
    alias = value
    del value
    return alias, "value" in locals()


print(local_del())


def uses_global_before_assignment():
    return hits + 1


print(uses_global_before_assignment())
x = 10


def nested_global():
    x = 5

    def inner():
        global x
        x += 1
        return x
    return inner(), x


print(nested_global(), x)
del mapping["nope"]
