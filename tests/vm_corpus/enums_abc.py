"""Classes built by metaclasses: enum.Enum, abc.ABC, custom metaclass with __prepare__, __init_subclass__."""
import abc
import enum


class Color(enum.Enum):
    RED = 1
    GREEN = 2
    BLUE = 3

    def describe(self):
        return f"{self.name.lower()}={self.value}"


class Perm(enum.IntFlag):
    R = 4
    W = 2
    X = 1


print(Color.RED, Color(2), Color["BLUE"].describe(), [c.name for c in Color], Color.RED in Color)
print(Perm.R | Perm.W, int(Perm.R | Perm.X), Perm(6) & Perm.W)
try:
    Color(7)
except ValueError as e:
    print(e)


class Shape(abc.ABC):
    @abc.abstractmethod
    def area(self):
        raise NotImplementedError

    def describe(self):
        return f"{type(self).__name__} with area {self.area():.2f}"


class Square(Shape):
    def __init__(self, side):
        self.side = side

    def area(self):
        return self.side ** 2


print(Square(3).describe(), isinstance(Square(1), Shape))
try:
    Shape()
except TypeError as e:
    print(e)


class Recording(type):
    @classmethod
    def __prepare__(mcs, name, bases, **kwargs):
        return {"order": []}

    def __new__(mcs, name, bases, namespace, **kwargs):
        namespace["fields"] = [k for k in namespace if not k.startswith("__") and k != "order"]
        return super().__new__(mcs, name, bases, namespace)


class Record(metaclass=Recording):
    b = 2
    a = 1

    def total(self):
        return self.a + self.b


print(Record.fields, Record().total())


class Plugin:
    registry = []

    def __init_subclass__(cls, name=None, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.registry.append(name or cls.__name__)


class Alpha(Plugin, name="alpha"):
    pass


class Beta(Plugin):
    pass


print(Plugin.registry)
