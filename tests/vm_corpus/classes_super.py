"""Zero-argument super(), __class__, properties, class methods, dunder protocols, exceptions as classes."""


class Base:
    def __init__(self, name):
        self.name = name

    def describe(self):
        return f"Base({self.name})"

    @classmethod
    def make(cls, name):
        return cls(name)


class Child(Base):
    def __init__(self, name, extra):
        super().__init__(name)
        self.extra = extra

    def describe(self):
        return "Child+" + super().describe()

    @classmethod
    def make(cls, name):
        obj = super().make(name) if False else cls(name, "made")
        return obj

    def which(self):
        return __class__.__name__


class Grand(Child):
    def describe(self):
        inner = lambda: super(Grand, self).describe()
        return "Grand+" + super().describe() + "|" + inner()


class MyError(ValueError):
    def __init__(self, code):
        super().__init__(f"code={code}")
        self.code = code

    def __str__(self):
        return "MyError: " + super().__str__()


print(Base("a").describe(), Child("b", 1).describe(), Grand("c", 2).describe())
print(Child.make("d").extra, Grand("e", 3).which(), type(Grand.make("f")).__name__)
try:
    raise MyError(5)
except ValueError as e:
    print(e, e.code, repr(e))


class Vector:
    __slots__ = ("x", "y")

    def __init__(self, x, y):
        self.x, self.y = x, y

    def __add__(self, other):
        return Vector(self.x + other.x, self.y + other.y)

    def __eq__(self, other):
        return (self.x, self.y) == (other.x, other.y)

    def __hash__(self):
        return hash((self.x, self.y))

    def __repr__(self):
        return f"Vector({self.x}, {self.y})"

    def __iter__(self):
        yield self.x
        yield self.y

    @property
    def norm2(self):
        return self.x ** 2 + self.y ** 2


v = Vector(1, 2) + Vector(3, 4)
print(v, v.norm2, list(v), {v: 1}[Vector(4, 6)], [*v])


class Registry(dict):
    def __missing__(self, key):
        value = self[key] = len(self)
        return value

    def __setitem__(self, key, value):
        super().__setitem__(key, value * 10)


r = Registry()
print(r["a"], r["b"], r)
