"""__slots__ and operator overloading: a Fraction-like rational, a sparse vector, reflected ops, in-place ops."""

import math
import functools


@functools.total_ordering
class Rational:
    __slots__ = ("num", "den")

    def __init__(self, num, den=1):
        if den == 0:
            raise ZeroDivisionError("zero denominator")
        g = math.gcd(num, den) * (-1 if den < 0 else 1)
        self.num, self.den = num // g, den // g

    @staticmethod
    def lift(value):
        return value if isinstance(value, Rational) else Rational(value) if isinstance(value, int) else None

    def __add__(self, other):
        other = self.lift(other)
        if other is None:
            return NotImplemented
        return Rational(self.num * other.den + other.num * self.den, self.den * other.den)

    __radd__ = __add__

    def __sub__(self, other):
        other = self.lift(other)
        return NotImplemented if other is None else self + (-other)

    def __rsub__(self, other):
        return (-self) + other

    def __mul__(self, other):
        other = self.lift(other)
        return NotImplemented if other is None else Rational(self.num * other.num, self.den * other.den)

    __rmul__ = __mul__

    def __truediv__(self, other):
        other = self.lift(other)
        return NotImplemented if other is None else Rational(self.num * other.den, self.den * other.num)

    def __rtruediv__(self, other):
        return Rational.lift(other) / self

    def __neg__(self):
        return Rational(-self.num, self.den)

    def __abs__(self):
        return Rational(abs(self.num), self.den)

    def __pow__(self, exponent):
        if exponent < 0:
            return Rational(self.den ** -exponent, self.num ** -exponent)
        return Rational(self.num ** exponent, self.den ** exponent)

    def __eq__(self, other):
        other = self.lift(other)
        return NotImplemented if other is None else (self.num, self.den) == (other.num, other.den)

    def __lt__(self, other):
        other = self.lift(other)
        return NotImplemented if other is None else self.num * other.den < other.num * self.den

    def __hash__(self):
        return hash((self.num, self.den))

    def __float__(self):
        return self.num / self.den

    def __bool__(self):
        return self.num != 0

    def __repr__(self):
        return f"{self.num}/{self.den}" if self.den != 1 else str(self.num)


class SparseVector:
    __slots__ = ("data", "size")

    def __init__(self, size, data=None):
        self.size = size
        self.data = {i: v for i, v in (data or {}).items() if v}

    def __getitem__(self, index):
        if not -self.size <= index < self.size:
            raise IndexError("sparse index out of range")
        return self.data.get(index % self.size, 0)

    def __setitem__(self, index, value):
        if value:
            self.data[index] = value
        else:
            self.data.pop(index, None)

    def __len__(self):
        return self.size

    def __matmul__(self, other):
        return sum(v * other[i] for i, v in self.data.items())

    def __iadd__(self, other):
        for i, v in other.data.items():
            self[i] = self[i] + v
        return self

    def __contains__(self, value):
        return value in self.data.values() or (value == 0 and len(self.data) < self.size)

    def __repr__(self):
        return f"SparseVector({self.size}, {dict(sorted(self.data.items()))})"


h = sum(Rational(1, n) for n in range(1, 8))
print(h, float(h), Rational(3, -6), 1 - Rational(1, 3), 2 / Rational(4, 5), Rational(2, 3) ** -2)
print(sorted([Rational(1, 2), Rational(1, 3), 1, Rational(5, 4)]), Rational(1, 2) >= Rational(2, 4))
print(Rational(6, 3) == 2, {Rational(1, 2): "half"}[Rational(2, 4)], bool(Rational(0)), abs(Rational(-3, 4)))
try:
    Rational(1, 2).extra = 5
except AttributeError as error:
    print("AttributeError:", error)
v = SparseVector(6, {0: 2, 3: 5})
w = SparseVector(6, {3: 1, 5: 4})
v += w
print(v, v @ w, v[-3], 0 in v, 9 in v, len(v))
v[3] = 0
print(v, Rational(1, 2) + 0.5 if False else "skip float")
try:
    print(Rational(1, 2) + 0.5)
except TypeError as error:
    print("TypeError:", error)
v[10]
