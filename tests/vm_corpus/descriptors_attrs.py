"""Descriptors, __getattr__/__setattr__, __slots__ errors, properties with setters, class and static methods."""


class Positive:
    def __set_name__(self, owner, name):
        self.name = "_" + name

    def __get__(self, instance, owner):
        if instance is None:
            return self
        return getattr(instance, self.name)

    def __set__(self, instance, value):
        if value <= 0:
            raise ValueError(f"{self.name[1:]} must be positive, got {value}")
        setattr(instance, self.name, value)


class Box:
    width = Positive()
    height = Positive()

    def __init__(self, width, height):
        self.width = width
        self.height = height

    @property
    def area(self):
        return self.width * self.height

    @area.setter
    def area(self, value):
        self.width = value / self.height

    @staticmethod
    def unit():
        return Box(1, 1)

    @classmethod
    def square(cls, side):
        return cls(side, side)


b = Box(2, 3)
b.area = 12
print(b.width, b.area, Box.unit().area, Box.square(4).area, type(Box.__dict__["width"]).__name__)
try:
    Box(0, 1)
except ValueError as e:
    print(e)


class Lazy:
    def __init__(self):
        self.loaded = []

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        self.loaded.append(name)
        value = name.upper()
        setattr(self, name, value)
        return value


lazy = Lazy()
print(lazy.foo, lazy.foo, lazy.bar, lazy.loaded, hasattr(lazy, "_private"))


class Frozen:
    __slots__ = ("x",)

    def __init__(self, x):
        object.__setattr__(self, "x", x)

    def __setattr__(self, name, value):
        raise AttributeError(f"{type(self).__name__} is frozen")


f = Frozen(1)
for attempt in (lambda: setattr(f, "x", 2), lambda: setattr(f, "y", 2), lambda: f.missing):
    try:
        attempt()
    except AttributeError as e:
        print("AttributeError:", e)
print(f.x, getattr(f, "missing", "default"), vars(Box(1, 2)))
