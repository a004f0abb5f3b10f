"""Class machinery: __getattr__/__getattribute__, __call__, __class_getitem__, class decorators, diamond MRO."""


def register(cls):
    cls.registered = True
    REGISTRY.append(cls.__name__)
    return cls


REGISTRY = []


class Proxy:
    def __init__(self, target):
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_reads", [])

    def __getattr__(self, name):
        self._reads.append(name)
        return getattr(self._target, name)

    def __setattr__(self, name, value):
        if name.startswith("_"):
            raise AttributeError(f"cannot set private {name}")
        setattr(self._target, name, value)

    def __dir__(self):
        return sorted(set(dir(self._target)) | {"_target"})


class Audited:
    def __init__(self):
        self.value = 1

    def __getattribute__(self, name):
        if name == "secret":
            raise AttributeError("secret is hidden")
        return super().__getattribute__(name)


class Polynomial:
    def __init__(self, *coefficients):
        self.coefficients = coefficients

    def __call__(self, x):
        result = 0
        for c in reversed(self.coefficients):
            result = result * x + c
        return result

    def __class_getitem__(cls, item):
        return f"{cls.__name__} over {item.__name__}"

    def __len__(self):
        return len(self.coefficients)

    def __bool__(self):
        return any(self.coefficients)


@register
class Base:
    def who(self):
        return ["Base"]


class Left(Base):
    def who(self):
        return ["Left"] + super().who()


class Right(Base):
    def who(self):
        return ["Right"] + super().who()


@register
class Diamond(Left, Right):
    def who(self):
        return ["Diamond"] + super().who()


class Point:
    __match_args__ = ("x", "y")

    def __init__(self, x, y):
        self.x, self.y = x, y

    def __eq__(self, other):
        return isinstance(other, Point) and (self.x, self.y) == (other.x, other.y)

    def __hash__(self):
        return hash((self.x, self.y))

    def __repr__(self):
        return f"Point({self.x}, {self.y})"

    def __str__(self):
        return f"({self.x}, {self.y})"

    @classmethod
    def origin(cls):
        return cls(0, 0)

    @staticmethod
    def distance(a, b):
        return abs(a.x - b.x) + abs(a.y - b.y)


class Data:
    pass


p = Proxy(Data())
p.name = "proxied"
print(p.name, p._reads, "name" in dir(p))
try:
    p._hidden = 1
except AttributeError as error:
    print("AttributeError:", error)
a = Audited()
print(a.value, hasattr(a, "secret"), getattr(a, "secret", "default"))
poly = Polynomial(1, 0, 2)
print(poly(3), len(poly), bool(Polynomial(0, 0)), Polynomial[int], callable(poly))
print(Diamond().who(), [k.__name__ for k in Diamond.__mro__], REGISTRY, Diamond.registered)
print({Point(1, 2), Point(1, 2), Point.origin()} == {Point(0, 0), Point(1, 2)}, str(Point(3, 4)), [Point(5, 6)])
print(Point.distance(Point(1, 1), Point(4, 5)), Point(1, 2) == (1, 2), Point(1, 2) != Point(1, 3))
print(type(p).__name__, type(Diamond), isinstance(Diamond(), Right), issubclass(Diamond, (int, Left)))
print(vars(Point(7, 8)), Point.__dict__["origin"].__class__.__name__, Point.origin.__self__ is Point)
print(getattr(Data(), "nothing", None), setattr(Data, "added", 5), Data.added, hasattr(Data(), "added"))


class Broken(Left, Base, Right):
    pass
