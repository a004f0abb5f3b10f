"""Numbers: fractions, decimals, complex, integer edge cases, float formatting, math errors."""
import math
from decimal import Decimal, getcontext
from fractions import Fraction

print(Fraction(1, 3) + Fraction(1, 6), Fraction("0.125"), sum(Fraction(1, n) for n in range(1, 6)))
getcontext().prec = 30
print(Decimal(1) / Decimal(7), Decimal("1.10") + Decimal("2.20"), round(Decimal("2.675"), 2))
z = complex(3, 4)
print(abs(z), z.conjugate(), z ** 2, (1j) ** 2)
print(2 ** 200, -(2 ** 63) // 7, (-7) % 3, divmod(-7, 2), int("ff", 16), bin(37), 10 ** -2)
print(f"{math.pi:.10f} {1e-7:g} {123456789:,} {0.1 + 0.2!r} {float('inf')} {-0.0}")
for expr in (lambda: 1 / 0, lambda: math.sqrt(-1), lambda: 10 ** 400 * 1.0, lambda: int("x"), lambda: 1 % 0):
    try:
        expr()
    except (ArithmeticError, ValueError) as e:
        print(type(e).__name__, e)


def newton_sqrt(x, tolerance=1e-12):
    guess = x / 2 or 1.0
    while abs(guess * guess - x) > tolerance:
        guess = (guess + x / guess) / 2
    return guess


print([round(newton_sqrt(v), 9) for v in (2, 9, 0.25)], math.isclose(newton_sqrt(2) ** 2, 2))
print(sum(1 / math.factorial(n) for n in range(20)), math.gcd(84, 36), math.comb(10, 3))
