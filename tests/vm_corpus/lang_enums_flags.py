"""enum: Enum, IntEnum, Flag, StrEnum-like mixins, auto, aliases, members iteration and lookups."""

import enum
from enum import Enum, IntEnum, Flag, IntFlag, auto, unique


class Planet(Enum):
    MERCURY = (3.303e+23, 2.4397e6)
    EARTH = (5.976e+24, 6.37814e6)
    JUPITER = (1.9e+27, 7.1492e7)

    def __init__(self, mass, radius):
        self.mass = mass
        self.radius = radius

    @property
    def gravity(self):
        return 6.673e-11 * self.mass / (self.radius * self.radius)


class Priority(IntEnum):
    LOW = 1
    MEDIUM = 2
    HIGH = 3


class Perm(Flag):
    R = auto()
    W = auto()
    X = auto()
    RW = R | W


class Status(str, Enum):
    OK = "ok"
    FAIL = "fail"
    PASSED = "ok"  # an alias


@unique
class Weekday(Enum):
    MON = 1
    TUE = 2
    WED = 3

    @classmethod
    def from_name(cls, text):
        return cls[text.upper()[:3]]

    def next(self):
        members = list(type(self))
        return members[(members.index(self) + 1) % len(members)]


for planet in Planet:
    print(f"{planet.name:8} {planet.gravity:6.2f}")
print(sorted([Priority.HIGH, Priority.LOW, Priority.MEDIUM]), Priority.HIGH > 2, Priority(2).name)
print(Priority.LOW + 10, [p.value for p in Priority])
access = Perm.R | Perm.X
print(access, Perm.R in access, Perm.W in access, Perm.RW, bool(Perm(0)), list(Perm))
print(Status.PASSED is Status.OK, Status("fail"), Status.OK == "ok", list(Status), Status.__members__.keys())
print(Weekday.from_name("wednesday"), Weekday.WED.next(), Weekday(2), Weekday["MON"].value)
print(IntFlag("Mode", "A B C").C.value, repr(Perm.W))
Animal = Enum("Animal", ["CAT", "DOG"])
print(Animal.DOG.value, Animal(1), len(Animal))
try:
    class Duplicate(Enum):
        A = 1
        A = 2
except TypeError as error:
    print("TypeError:", error)
try:
    @unique
    class Aliased(Enum):
        X = 1
        Y = 1
except ValueError as error:
    print("ValueError:", error)
print(Priority(5))
