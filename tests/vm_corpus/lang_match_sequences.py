"""match: sequence patterns with and without stars, nested, and what is not a sequence."""

import collections
import array


def shape(value):
    match value:
        case []:
            return "empty"
        case [x]:
            return f"one {x!r}"
        case [x, y] if x == y:
            return f"pair of equal {x!r}"
        case [x, y]:
            return f"pair {x!r},{y!r}"
        case [first, *_, last] if first == last:
            return f"bookends {first!r} (len {len(value)})"
        case [0, *rest]:
            return f"zero then {rest}"
        case [*init, 0]:
            return f"{init} then zero"
        case [first, *middle, last]:
            return f"{first!r} {middle} {last!r}"
        case str() | bytes():
            return "text"
        case _:
            return "not a sequence"


SAMPLES = [[], [1], (2,), [3, 3], (4, 5), [6, 7, 6], [0, 1, 2], [1, 2, 0], [1, 2, 3, 4],
           "ab", b"xy", bytearray(b"z"), range(3), range(5, 9), collections.deque([9, 8]),
           array.array("i", [1, 2, 3]), {1: 2}, {1, 2}, 42, iter([1, 2])]

for sample in SAMPLES:
    print(type(sample).__name__, "->", shape(sample))


def nested(value):
    match value:
        case [(a, b), [c, *d]]:
            return ("tuple-list", a, b, c, d)
        case [[[x]]]:
            return ("deep", x)
        case [int() | float() as n, str(s)]:
            return ("number and string", n, s)
        case [*_, [*_, [*_, z]]]:
            return ("tail of tail", z)
        case _:
            return None


for sample in [[(1, 2), [3]], [(1, 2), [3, 4, 5]], [[[7]]], [1.5, "s"], [2, "t"],
               [0, [0, [1, 2, 3]]], [(1, 2, 3), [4]]]:
    print(nested(sample))


def star_positions(items):
    out = []
    for item in items:
        match item:
            case [*a, b, c]:
                out.append(("end2", a, b, c))
            case [a, *b]:
                out.append(("start1", a, b))
            case [*a]:
                out.append(("all", a))
    return out


print(star_positions([[1, 2, 3, 4], [1, 2], [1], []]))


class Seq(collections.abc.Sequence):
    """A user sequence: matched through __len__ and __getitem__."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self.n))]
        if index < 0:
            index += self.n
        if not 0 <= index < self.n:
            raise IndexError(index)
        return index * index


for n in range(5):
    print(n, shape(Seq(n)))


def tokens(words):
    match words.split():
        case ["go", direction]:
            return f"going {direction}"
        case ["go", *_]:
            return "go where?"
        case ["take", *objects] if objects:
            return "taking " + " and ".join(objects)
        case ["quit" | "exit"]:
            return "bye"
        case []:
            return "say something"
        case [verb, *_]:
            return f"unknown verb {verb}"


for line in ["go north", "go", "go a b", "take lamp key", "take", "quit", "exit", "", "dance now"]:
    print(repr(line), "->", tokens(line))
