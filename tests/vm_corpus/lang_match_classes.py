"""match: class patterns with __match_args__, keywords, dataclasses, builtin self-matching."""

from dataclasses import dataclass


@dataclass
class Point:
    x: float
    y: float


@dataclass
class Circle:
    center: Point
    radius: float


@dataclass
class Rect:
    corner: Point
    width: float
    height: float


class Segment:
    __match_args__ = ("start", "end")

    def __init__(self, start, end):
        self.start = start
        self.end = end


class Tracked:
    """Attribute reads are logged: class patterns read lazily, left to right."""

    __match_args__ = ("a", "b")
    log = []

    @property
    def a(self):
        Tracked.log.append("a")
        return 1

    @property
    def b(self):
        Tracked.log.append("b")
        return 2


def area(shape):
    match shape:
        case Circle(Point(0, 0), r):
            return f"centered circle r={r}"
        case Circle(center=Point(x=cx), radius=r) if r > 10:
            return f"big circle at x={cx}"
        case Circle(_, r):
            return round(3.14159 * r * r, 2)
        case Rect(_, w, h) if w == h:
            return f"square {w * w}"
        case Rect(Point(x, y), width=w, height=h):
            return f"rect from ({x},{y}) area {w * h}"
        case Segment(Point(x1, y1), Point(x2, y2)):
            return f"segment length^2 {(x2 - x1) ** 2 + (y2 - y1) ** 2}"
        case Point(x=0, y=0):
            return "origin"
        case Point(x, y=0):
            return f"on x axis at {x}"
        case Point():
            return "some point"
        case _:
            return "unknown"


SHAPES = [Circle(Point(0, 0), 2), Circle(Point(1, 1), 11), Circle(Point(1, 2), 1), Rect(Point(0, 0), 3, 3),
          Rect(Point(1, 2), 3, 4), Segment(Point(0, 0), Point(3, 4)), Point(0, 0), Point(5, 0), Point(1, 1),
          "circle"]
for shape in SHAPES:
    print(area(shape))


def builtin_kind(value):
    match value:
        case bool(b):
            return f"bool {b}"
        case int(i):
            return f"int {i}"
        case float(f) | complex(f):
            return f"number {f}"
        case str(s):
            return f"str {s}"
        case bytes(b) | bytearray(b):
            return f"binary {len(b)}"
        case list([x, *_]):
            return f"list starting {x}"
        case tuple((x, y)):
            return f"2-tuple {x}+{y}"
        case dict({"k": v}):
            return f"dict k={v}"
        case set() | frozenset():
            return f"set of {len(value)}"
        case _:
            return "other"


class MyInt(int):
    pass


for item in [True, 3, MyInt(4), 2.5, 1j, "s", b"ab", bytearray(3), [9, 8], (1, 2), {"k": 0}, {1}, frozenset(),
             None, [], (1, 2, 3)]:
    print(repr(item), builtin_kind(item))

match Tracked():
    case Tracked(5, _):
        print("no")
    case Tracked(1, 3):
        print("no")
    case Tracked(a=1, b=2):
        print("yes, log:", Tracked.log)


class NoArgs:
    pass


class BadArgs:
    __match_args__ = ["x"]
    x = 1


for subject, pattern_kind in [(NoArgs(), "positional"), (BadArgs(), "list"), (Point(1, 2), "too many"),
                              (3, "not a type")]:
    try:
        match subject:
            case NoArgs(x) if pattern_kind == "positional":
                print("matched", x)
            case BadArgs(x):
                print("matched", x)
            case Point(a, b, c):
                print("matched", a, b, c)
            case len():
                print("len?")
    except TypeError as error:
        print(pattern_kind, "->", error)

match Point(1, 2):
    case Point(1, y=2, x=3):
        print("unreachable")
