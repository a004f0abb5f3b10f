"""json round trips of nested data, custom encoders and decoder hooks."""
import json
from decimal import Decimal

DATA = {
    "name": "dxpy", "version": [1, 2, 3], "nested": {"a": [1.5, None, True, False], "b": {"c": "é\n\"q\""}},
    "numbers": list(range(10)), "empty": {}, "unicode": "\u2603 snow",
}


class Encoder(json.JSONEncoder):
    def default(self, o):
        if isinstance(o, Decimal):
            return {"__decimal__": str(o)}
        if isinstance(o, set):
            return sorted(o)
        return super().default(o)


def hook(obj):
    if "__decimal__" in obj:
        return Decimal(obj["__decimal__"])
    return obj


for indent in (None, 2):
    text = json.dumps(DATA, indent=indent, sort_keys=True)
    assert json.loads(text) == DATA
    print(len(text))
special = {"price": Decimal("9.99"), "tags": {"b", "a"}}
text = json.dumps(special, cls=Encoder, sort_keys=True)
print(text, json.loads(text, object_hook=hook))
for bad in ("{", "[1,]", '{"a" 1}'):
    try:
        json.loads(bad)
    except json.JSONDecodeError as e:
        print(type(e).__name__, e.msg, e.pos)
try:
    json.dumps(object())
except TypeError as e:
    print(e)
