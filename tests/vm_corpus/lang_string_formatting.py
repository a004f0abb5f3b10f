"""String formatting: f-strings with specs and conversions, str.format, %-formatting, format_map, Template."""

import string
from decimal import Decimal
import datetime


class Money:
    def __init__(self, cents):
        self.cents = cents

    def __format__(self, spec):
        if spec.endswith("c"):
            return f"{self.cents}c"
        return format(self.cents / 100, spec or ".2f")

    def __repr__(self):
        return f"Money({self.cents})"

    def __str__(self):
        return f"${self.cents / 100:.2f}"


values = [0, 7, -42, 3.14159, 1234567.891, 1e-7, 2 ** 40, float("nan"), float("-inf")]
for v in values:
    print(f"{v!r:>14} | {v:10.3g} | {v:<12,.2f} | {v:+e}" if isinstance(v, float) else
          f"{v!r:>14} | {v:#06x} | {v:^10b} | {v:_d} | {v:+05d} | {v:o}")
width, precision = 12, 3
print(f"[{3.14159:{width}.{precision}f}] [{'left':<{width}}] [{'mid':*^{width}}] [{'r':>{width}}]")
m = Money(12345)
print(f"{m} {m!r} {m:c} {m:>10.1f} {m!s:>10}")
name, count = "widgets", 3
print(f"{name=} {count = } {count*2=:>4}")
print("{0} {1} {0}".format("a", "b"), "{x}-{y}".format(x=1, y=2), "{0[1]} {1.real}".format([5, 6], 3j))
print("{:,}".format(9876543210), "{:.2%}".format(0.4567), "{:>8}|{:<8}|".format("r", "l"))
print("%s has %d items costing %.2f (%5.1f%%)" % ("cart", 3, 19.999, 45.25))
print("%(name)s is %(age)03d" % {"name": "Ann", "age": 7}, "%x %X %o %e %r" % (255, 255, 8, 12345.678, "q"))
print("{a} and {b}".format_map({"a": "first", "b": "second"}))
template = string.Template("$who likes ${what}s, costs $$5")
print(template.substitute(who="Tim", what="kipper"), template.safe_substitute(who="X"))
print(format(Decimal("1.2350"), ".2f"), f"{Decimal('10') / 3:.5}", f"{datetime.date(2024, 3, 9):%Y/%m/%d %a}")
print(f"{'ñandú'!a} {'tab	'!r} {chr(9731)} {'x' * 3:>5}")
print("|".join(f"{i:2d}^2={i * i:<3}" for i in range(1, 6)))
print("a\tb".expandtabs(4), "Title Case".swapcase(), "centered".center(14, "."), "42".zfill(6), "-42".zfill(6))
print(f"{{literal braces}} {'nested ' f'{1 + 1}'}")
try:
    "{0} {1}".format("only one")
except IndexError as error:
    print("IndexError:", error)
try:
    "%d" % "not a number"
except TypeError as error:
    print("TypeError:", error)
print(f"{3:q}")
