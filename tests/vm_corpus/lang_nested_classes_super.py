"""Nested classes, super() in many forms, classmethod factories through inheritance, __init_subclass__ hooks."""


class Shape:
    registry = {}

    class Meta:
        sides = 0

    def __init_subclass__(cls, sides=None, **kwargs):
        super().__init_subclass__(**kwargs)
        if sides is not None:
            cls.Meta = type("Meta", (Shape.Meta,), {"sides": sides})
        Shape.registry[cls.__name__] = cls

    def __init__(self, name):
        self.name = name

    @classmethod
    def create(cls, *args):
        return cls(*args)

    def describe(self):
        return f"{self.name} with {self.Meta.sides} sides"


class Polygon(Shape, sides=3):
    def __init__(self, name, size):
        super().__init__(name)
        self.size = size

    def describe(self):
        return super().describe() + f" of size {self.size}"


class Square(Polygon, sides=4):
    def __init__(self, size):
        super(Square, self).__init__("square", size)

    def describe(self):
        base = super().describe()
        return f"[{base}]"


class Outer:
    class Inner:
        class Deepest:
            def where(self):
                return type(self).__qualname__

        def make(self):
            return self.Deepest()

    def build(self):
        return self.Inner().make().where()


class LoggingDict(dict):
    def __setitem__(self, key, value):
        self.log = getattr(self, "log", [])
        self.log.append(key)
        super().__setitem__(key, value)

    def get(self, key, default=None):
        return super().get(key, f"no {key}")


class Counter:
    count = 0

    def __new__(cls, *args):
        cls.count += 1
        instance = super().__new__(cls)
        instance.serial = cls.count
        return instance


class SubCounter(Counter):
    pass


print(Polygon.create("triangle", 2).describe())
print(Square.create(5).describe(), Square.Meta.sides, Polygon.Meta.sides, Shape.Meta.sides)
print(sorted(Shape.registry), Square.__mro__[1].__name__, Outer().build(), Outer.Inner.Deepest.__qualname__)
d = LoggingDict()
d["a"] = 1
d["b"] = 2
print(d, d.log, d.get("zz"), d.get("a"))
c1, c2, s1 = Counter(), Counter(), SubCounter()
print(c1.serial, c2.serial, s1.serial, Counter.count, SubCounter.count)
print(super(Square, Square(1)).describe())


class Unbound:
    def method(self):
        return super().missing()


Unbound().method()
