"""typing in practice: TypeVar bounds, ParamSpec decorators, Literal/Final/Annotated, NewType, dataclass generics."""

from dataclasses import dataclass
from typing import (Annotated, Callable, Final, Generic, Literal, NewType, ParamSpec, Protocol, TypeVar,
                    get_args, get_type_hints)

P = ParamSpec("P")
R = TypeVar("R")
N = TypeVar("N", int, float)
UserId = NewType("UserId", int)
MAX_USERS: Final = 3
Mode = Literal["r", "w"]


def traced(fn: Callable[P, R]) -> Callable[P, R]:
    calls: list[str] = []

    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        calls.append(f"{fn.__name__}{args}")
        return fn(*args, **kwargs)
    wrapper.calls = calls
    return wrapper


@traced
def scale(value: N, factor: N) -> N:
    return value * factor


class Comparable(Protocol):
    def __lt__(self, other: "Comparable") -> bool: ...


C = TypeVar("C", bound=Comparable)


def smallest(items: list[C]) -> C:
    best = items[0]
    for item in items[1:]:
        if item < best:
            best = item
    return best


@dataclass
class Box(Generic[R]):
    content: R
    label: Annotated[str, "shown to users"] = "box"

    def map(self, fn: Callable[[R], N]) -> "Box[N]":
        return Box(fn(self.content), self.label)


def open_file(name: str, mode: Mode = "r") -> str:
    if mode not in get_args(Mode):
        raise ValueError(f"mode must be one of {get_args(Mode)}")
    return f"{name}:{mode}"


print(scale(3, 4), scale(1.5, 2.0), scale.calls)
print(smallest([5, 2, 9]), smallest(["pear", "apple"]), smallest([(2, "b"), (1, "z")]))
uid = UserId(42)
print(uid, type(uid).__name__, UserId.__name__, MAX_USERS)
box = Box(21, "answer").map(lambda v: v * 2)
print(box, Box[int].__origin__ is Box, get_type_hints(Box, include_extras=True)["label"])
print(open_file("a.txt"), open_file("b.txt", "w"), get_args(Annotated[int, "meta"]))
print(P.__name__, N.__constraints__, C.__bound__.__name__, R.__name__)
open_file("c.txt", "x")
