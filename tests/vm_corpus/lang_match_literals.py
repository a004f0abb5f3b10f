"""match: literal, singleton, value, capture, wildcard patterns and guards."""

import enum


class Color(enum.Enum):
    RED = 1
    GREEN = 2
    BLUE = 3


class Limits:
    LOW = 10
    HIGH = 100


def classify(value):
    match value:
        case 0:
            return "zero"
        case 1 | 2 | 3:
            return "small"
        case -1:
            return "minus one"
        case 2.5:
            return "two and a half"
        case 3j:
            return "imaginary"
        case "hello":
            return "greeting"
        case b"bytes":
            return "raw"
        case True:
            return "true"  # never reached for 1: 1 matched first
        case None:
            return "nothing"
        case Limits.LOW:
            return "low limit"
        case Limits.HIGH:
            return "high limit"
        case Color.RED:
            return "red"
        case Color.GREEN | Color.BLUE as c:
            return f"cool {c.name.lower()}"
        case int(n) if n < 0:
            return f"negative {n}"
        case int(n) if n % 2 == 0:
            return f"even {n}"
        case str() as s if len(s) > 3:
            return f"long string {s!r}"
        case other:
            return f"other {other!r}"


def singletons(value):
    match value:
        case True:
            return "T"
        case False:
            return "F"
        case None:
            return "N"
        case _:
            return "?"


VALUES = [0, 1, 2, 3, -1, 2.5, 3j, "hello", b"bytes", True, None, 10, 100, Color.RED,
          Color.GREEN, Color.BLUE, -7, 8, 9, "abcdef", "ab", 1.0, 0.0, False, (1, 2)]

for item in VALUES:
    print(repr(item), "->", classify(item))

print([singletons(v) for v in (True, False, None, 1, 0, "", [])])

guarded = []
for n in range(12):
    match n:
        case x if x % 3 == 0 and x % 2 == 0:
            guarded.append("six")
        case x if x % 3 == 0:
            guarded.append("three")
        case x if x % 2 == 0:
            guarded.append("two")
        case x:
            guarded.append(str(x))
print(" ".join(guarded))
print("x after loop:", x)

# A failed guard still binds the capture (CPython binds before the guard runs).
match 5:
    case y if y > 10:
        print("big")
    case _:
        print("y bound by failed guard:", y)

# No case matches: the statement does nothing.
match "unmatched":
    case "a" | "b":
        print("impossible")
print("after no-match")


def counter():
    calls = []

    def subject():
        calls.append(len(calls))
        return len(calls)
    match subject():
        case 5:
            pass
        case 6:
            pass
        case 1:
            print("subject evaluated once:", calls)


counter()
