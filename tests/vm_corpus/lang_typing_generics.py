"""typing at run time: generics, Protocol, TypedDict, NamedTuple, overload, get_type_hints, cast."""

from typing import (Any, Callable, ClassVar, Generic, Iterator, NamedTuple, Optional, Protocol, TypedDict, TypeVar,
                    Union, cast, get_args, get_origin, get_type_hints, overload, runtime_checkable)

T = TypeVar("T")
K = TypeVar("K")


class Stack(Generic[T]):
    def __init__(self) -> None:
        self._items: list[T] = []

    def push(self, item: T) -> "Stack[T]":
        self._items.append(item)
        return self

    def pop(self) -> T:
        return self._items.pop()

    def __iter__(self) -> Iterator[T]:
        return reversed(self._items)


class Pair(Generic[K, T]):
    def __init__(self, key: K, value: T) -> None:
        self.key, self.value = key, value


@runtime_checkable
class Drawable(Protocol):
    def draw(self) -> str: ...


class Square:
    def draw(self) -> str:
        return "[]"


class Point(NamedTuple):
    x: int
    y: int = 0

    def moved(self, dx: int) -> "Point":
        return self._replace(x=self.x + dx)


class Movie(TypedDict, total=False):
    title: str
    year: int


class Config:
    retries: ClassVar[int] = 3
    name: str
    timeout: Optional[float]


@overload
def double(value: int) -> int: ...
@overload
def double(value: str) -> str: ...
def double(value: Union[int, str]) -> Union[int, str]:
    return value * 2


def apply(fn: Callable[[int], int], value: int) -> int:
    return fn(value)


stack: Stack[int] = Stack[int]().push(1).push(2).push(3)
print(list(stack), stack.pop(), Stack[str].__origin__ is Stack if hasattr(Stack[str], "__origin__") else None)
pair = Pair("k", 1.5)
print(pair.key, pair.value, Pair[str, float].__args__)
print(isinstance(Square(), Drawable), isinstance(3, Drawable))
p = Point(1)
print(p, p.moved(4), p._asdict(), Point._fields, Point._field_defaults)
movie: Movie = {"title": "Heat"}
print(movie, Movie.__total__, sorted(Movie.__annotations__))
hints = get_type_hints(Config)
print(sorted((k, str(v).replace("typing.", "")) for k, v in hints.items()))
print(get_origin(list[int]), get_args(dict[str, list[int]]), get_origin(Optional[int]) is Union)
print(double(4), double("ab"), apply(lambda v: v + 1, 9), cast(str, 5))
print(double.__name__, apply.__annotations__["fn"])
print(Union[int, str] == Union[str, int], int | None, (int | str).__args__)
print(Stack.__parameters__, Generic in Stack.__mro__)
Stack[int, str]
