"""Functions as objects: attributes, pickling and copying by reference, weak references, wraps, descriptors."""

import copy
import functools
import pickle
import weakref


def area(width, height=1, *, unit="m"):
    """Area of a rectangle."""
    return f"{width * height}{unit}2"


def make_adder(n):
    def add(x):
        return x + n
    return add


class Registry:
    def __init__(self):
        self.callbacks = weakref.WeakValueDictionary()

    def register(self, name, fn):
        self.callbacks[name] = fn

    def names(self):
        return sorted(self.callbacks)


area.calls = 0
area.tags = ["geometry"]
print(area.__name__, area.__qualname__, area.__doc__, area.__defaults__, area.__kwdefaults__, area.__module__)
print(area.calls, area.tags, area(3, 4), area(2, unit="cm"))
print(pickle.loads(pickle.dumps(area)) is area, copy.copy(area) is area, copy.deepcopy([area])[0] is area)
config = {"handler": area, "values": [1, 2]}
clone = copy.deepcopy(config)
print(clone["handler"] is area, clone["values"] is not config["values"])
try:
    pickle.dumps(make_adder(1))
except (pickle.PicklingError, AttributeError) as error:
    print(type(error).__name__, error)
ref = weakref.ref(area)
print(ref() is area)
registry = Registry()
temporary = make_adder(5)
registry.register("temp", temporary)
registry.register("area", area)
print(registry.names())
del temporary
print(registry.names())
finalized = []
adder = make_adder(2)
weakref.finalize(adder, finalized.append, "adder collected")
del adder
print(finalized)


@functools.wraps(area)
def wrapped(*args, **kwargs):
    return "wrapped " + area(*args, **kwargs)


print(wrapped.__name__, wrapped.__doc__, wrapped.__wrapped__ is area, wrapped(5), wrapped.tags)


class Shape:
    scale = staticmethod(area)
    method = area

    def __init__(self, w):
        self.w = w

    def __mul__(self, other):
        return self.w * other


s = Shape(7)
print(Shape.scale(2), s.scale(3), s.method(), Shape.method(9), s.method.__self__ is s, s.method.__func__ is area)
print(type(s.method).__name__, callable(area), area.__get__(s)(), [f(1) for f in map(make_adder, range(3))])
print(sorted(k for k in dir(area) if k in ("__call__", "__get__", "__name__", "__doc__")))
pickle.dumps(make_adder(3))
