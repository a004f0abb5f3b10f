"""Annotated classes: dataclasses, NamedTuple, TypedDict, module annotations, field defaults and ordering."""
import dataclasses
import typing
from dataclasses import dataclass, field

counter: int = 0
label: str
print(__annotations__)


@dataclass(order=True)
class Item:
    priority: int
    name: str = field(compare=False)
    tags: list[str] = field(default_factory=list, compare=False)

    def tagged(self, tag: str) -> "Item":
        return dataclasses.replace(self, tags=self.tags + [tag])


@dataclass(frozen=True)
class Point:
    x: float
    y: float = 0.0

    @property
    def norm(self) -> float:
        return (self.x ** 2 + self.y ** 2) ** 0.5


class Pair(typing.NamedTuple):
    left: int
    right: int = 0

    def total(self) -> int:
        return self.left + self.right


class Movie(typing.TypedDict):
    title: str
    year: int


items = sorted([Item(3, "c"), Item(1, "a"), Item(2, "b")])
print(items[0], items[-1].tagged("urgent"), Item(1, "x") == Item(1, "y"))
p = Point(3, 4)
print(p, p.norm, dataclasses.asdict(p), hash(p) == hash(Point(3.0, 4.0)))
try:
    p.x = 1
except dataclasses.FrozenInstanceError as e:
    print("frozen:", e)
print(Pair(1, 2).total(), Pair(5), Pair._fields, Pair.__annotations__)
print(Movie(title="x", year=1), Movie.__annotations__, Item.__annotations__)
print(typing.get_type_hints(Point), [f.name for f in dataclasses.fields(Item)])


def annotated(a: int, b: "str" = "x", *args: float, key: bool = False, **rest: dict) -> list:
    return [a, b]


print(annotated.__annotations__)
