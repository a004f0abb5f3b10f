"""abc and properties: abstract methods, abstract properties, virtual subclasses, validating setters."""

from abc import ABC, ABCMeta, abstractmethod
import collections.abc


class Shape(ABC):
    @property
    @abstractmethod
    def area(self):
        ...

    @abstractmethod
    def scale(self, factor):
        ...

    def describe(self):
        return f"{type(self).__name__} with area {self.area:.2f}"


class Rectangle(Shape):
    def __init__(self, width, height):
        self.width = width
        self.height = height

    @property
    def width(self):
        return self._width

    @width.setter
    def width(self, value):
        if value <= 0:
            raise ValueError(f"width must be positive, got {value}")
        self._width = value

    @property
    def area(self):
        return self.width * self.height

    def scale(self, factor):
        return Rectangle(self.width * factor, self.height * factor)


class Circle(Shape):
    def __init__(self, radius):
        self.radius = radius

    area = property(lambda self: 3.14159 * self.radius ** 2, doc="computed area")

    def scale(self, factor):
        return Circle(self.radius * factor)


class Temperature:
    def __init__(self):
        self._celsius = 0.0
        self.changes = 0

    def _get(self):
        return self._celsius

    def _set(self, value):
        self.changes += 1
        self._celsius = value

    def _delete(self):
        self._celsius = None

    celsius = property(_get, _set, _delete, "degrees Celsius")

    @property
    def fahrenheit(self):
        return self._celsius * 9 / 5 + 32

    @fahrenheit.setter
    def fahrenheit(self, value):
        self.celsius = (value - 32) * 5 / 9


class Sized(metaclass=ABCMeta):
    @classmethod
    def __subclasshook__(cls, other):
        if cls is Sized:
            return any("__len__" in vars(k) for k in other.__mro__)
        return NotImplemented


class Plugin(ABC):
    pass


Plugin.register(int)

for shape in [Rectangle(2, 3), Circle(1), Rectangle(1, 1).scale(3), Circle(2).scale(0.5)]:
    print(shape.describe())
try:
    Shape()
except TypeError as error:
    print("TypeError:", error)


class Partial(Shape):
    def scale(self, factor):
        return self


try:
    Partial()
except TypeError as error:
    print("TypeError:", error)
t = Temperature()
t.fahrenheit = 212
print(t.celsius, t.fahrenheit, t.changes, Temperature.celsius.__doc__, Circle.area.__doc__)
del t.celsius
print(t.celsius)
print(isinstance([], Sized), isinstance(5, Sized), issubclass(dict, Sized), isinstance(7, Plugin))
print(issubclass(Rectangle, Shape), Shape.__abstractmethods__ == frozenset({"area", "scale"}))
print(isinstance(range(3), collections.abc.Sequence), isinstance({}, collections.abc.MutableMapping))
r = Rectangle(5, 5)
r.area = 10
