"""Numbers: statistics, decimal contexts and rounding, fractions, math functions, float formatting corner cases."""

import math
import statistics
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, getcontext, localcontext
from fractions import Fraction

samples = [2.5, 3.1, 4.7, 4.7, 5.0, 6.2, 7.9, 8.8]
print(statistics.mean(samples), statistics.median(samples), statistics.mode(samples))
print(round(statistics.stdev(samples), 6), round(statistics.pvariance(samples), 6), statistics.median_low([1, 3, 5, 7]))
print(statistics.quantiles([1, 2, 3, 4, 5, 6, 7, 8, 9], n=4), statistics.harmonic_mean([1, 2, 4]))
print(statistics.fmean([1, 2, 3]), statistics.geometric_mean([1, 10, 100]) if hasattr(statistics, "geometric_mean") else 0)

with localcontext() as wide:  # a local context: the process-wide one is left alone
    wide.prec = 30
    print(Decimal(1) / Decimal(7), Decimal("0.1") + Decimal("0.2"), Decimal(0.1), getcontext().prec)
with localcontext() as ctx:
    ctx.prec = 5
    print(Decimal(2).sqrt(), Decimal("123.456789") * 1)
prices = [Decimal("2.675"), Decimal("1.005"), Decimal("0.125")]
print([p.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) for p in prices],
      [p.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN) for p in prices])
print(sum(prices), max(prices), Decimal("1e3").normalize(), Decimal("-0"), Decimal("3.50").as_tuple())
print(round(2.675, 2), round(0.5), round(1.5), round(2.5), round(-0.5), round(1234.5678, -2))
f = Fraction(3, 4) + Fraction(5, 6)
print(f, f.limit_denominator(5), Fraction("0.125"), Fraction(1.5), Fraction(22, 7) - Fraction(math.pi).limit_denominator(1000))
print(math.isclose(0.1 + 0.2, 0.3), 0.1 + 0.2 == 0.3, math.fsum([0.1] * 10), sum([0.1] * 10))
print(math.comb(10, 3), math.perm(5, 2), math.prod(range(1, 6)), math.isqrt(10 ** 12 + 1), math.lcm(4, 6, 10))
print(math.floor(-2.5), math.ceil(-2.5), math.trunc(-2.7), math.copysign(3, -0.0), math.hypot(3, 4))
print(math.log(1024, 2), math.log10(0.001), math.exp(0), math.degrees(math.pi), round(math.sin(math.pi / 6), 12))
print(float("1e308") * 10, -float("inf"), math.isnan(float("nan")), float.fromhex("0x1.8p1"), (0.1).hex())
print(1e16 + 1, 2 ** 53 + 1.0, 7 // -2, 7 % -2, -7 % 2, divmod(7.5, 2), 2 ** -1, (-8) ** (1 / 3))
print(int("0x1f", 16), int("0b101", 0), int("  42  "), float(" -3.5e2 "), complex("1+2j") * 1j, abs(-3 + 4j))
print(f"{1 / 3:.17f}", repr(1 / 3), str(1e22), str(1e-5), 1.0.is_integer(), (2.5).as_integer_ratio())
print(statistics.mean([]))
