"""Boolean logic: short-circuit side effects, and/or returning operands, chained comparisons, truthiness rules."""

calls = []


def probe(name, value):
    calls.append(name)
    return value


print(probe("a", 0) and probe("b", 1), calls)
calls.clear()
print(probe("a", 0) or probe("b", "") or probe("c", "fallback"), calls)
calls.clear()
print(probe("x", 1) < probe("y", 2) < probe("z", 0), calls)
calls.clear()
print(probe("x", 3) < probe("y", 2) < probe("z", 0), calls)
values = [0, 0.0, 0j, "", b"", [], (), {}, set(), range(0), None, False, "0", [0], (None,), -1, 0.1]
print([bool(v) for v in values])
print([v for v in values if not v] == values[:12])
print(1 < 2 < 3 > 2 == 2 != 5, 1 == 1.0 == True, "a" < "b" < "c", (1, 2) < (1, 3) < (2,))
print(None is None, [] is not [], 1 in [1, 2] in [[1, 2]], "ab" in "cabd", not not "x")
x = 5
print(0 < x <= 5, not 0 < x < 5, x if x > 3 else -x, (x > 3) + (x > 4) + (x > 5))
print(True + True, True * 10, sum([True, False, True]), int(False), str(True).upper(), bool("False"))
print(any([]), all([]), any(x > 2 for x in [1, 3]), all(isinstance(v, int) for v in [1, True]))
default = None
name = default or "anonymous"
count = 0
count = count or 10
print(name, count, [] or {} or 0 or "last", 1 and [] and "never", "a" and "b" and "c")


class Weird:
    def __bool__(self):
        calls.append("bool")
        return False

    def __len__(self):
        calls.append("len")
        return 3


class OnlyLen:
    def __len__(self):
        return 0


calls.clear()
print(bool(Weird()), not Weird(), bool(OnlyLen()), calls)
flags = 0b1010
print(flags & 0b10 != 0, bool(flags & 0b100), flags | 1, flags ^ 0b1111, ~flags, flags >> 1, flags << 3)
print(min(3, 1, 2) == 1, (lambda: 1 if [] else 2)(), [i for i in range(5) if i % 2 or i == 0])


class BadBool:
    def __bool__(self):
        return "yes"


if BadBool():
    print("unreachable")
