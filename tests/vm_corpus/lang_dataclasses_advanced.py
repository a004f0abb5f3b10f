"""dataclasses: ordering, frozen, post_init, field options, replace, inheritance, slots and kw_only."""

import dataclasses
from dataclasses import dataclass, field, replace, fields, astuple, InitVar


@dataclass(order=True)
class Version:
    major: int
    minor: int = 0
    patch: int = 0
    label: str = field(default="", compare=False)

    def __str__(self):
        return f"{self.major}.{self.minor}.{self.patch}{'-' + self.label if self.label else ''}"


@dataclass(frozen=True)
class Money:
    cents: int
    currency: str = "EUR"

    def __add__(self, other):
        if self.currency != other.currency:
            raise ValueError("currency mismatch")
        return Money(self.cents + other.cents, self.currency)

    def __str__(self):
        return f"{self.cents // 100}.{self.cents % 100:02d} {self.currency}"


@dataclass
class Inventory:
    items: dict = field(default_factory=dict)
    log: list = field(default_factory=list, repr=False)
    discount: InitVar[float] = 0.0

    def __post_init__(self, discount):
        self.rate = 1.0 - discount
        self.log.append(f"created with {len(self.items)} items")


@dataclass
class Base:
    ident: int
    tags: tuple = ()


@dataclass
class Derived(Base):
    extra: str = "x"


@dataclass(slots=True, kw_only=True)
class Options:
    verbose: bool = False
    depth: int = 3


versions = [Version(1, 2, 3), Version(1, 10), Version(0, 9, 9, "beta"), Version(1, 2, 3, "rc1"), Version(1)]
print(sorted(str(v) for v in versions))
print(sorted(versions)[0], max(versions), Version(1, 2, 3) == Version(1, 2, 3, "other"))
print(repr(Version(2)))
total = Money(150) + Money(275)
print(total, hash(Money(1)) == hash(Money(1)), total == Money(425))
try:
    total.cents = 5
except dataclasses.FrozenInstanceError as error:
    print("frozen:", type(error).__name__, error)
inventory = Inventory({"apple": 3}, discount=0.25)
print(inventory, inventory.rate, inventory.log)
derived = Derived(7, ("a",))
print(derived, [f.name for f in fields(derived)], astuple(derived))
print(replace(derived, extra="y"), dataclasses.is_dataclass(derived), dataclasses.is_dataclass(5))
options = Options(depth=5)
print(options, hasattr(options, "__dict__"), Options.__slots__)
try:
    Options(True)
except TypeError as error:
    print("TypeError:", error)
print(dataclasses.asdict(Inventory({"pear": 1})))
Money(1, "USD") + Money(2)
