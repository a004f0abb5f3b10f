"""pidigits: a spigot for the digits of pi with big integers, plus e and sqrt(2) by integer arithmetic."""


def pi_digits(count):
    """Gibbons' unbounded spigot (linear fractional transformations on ints)."""
    q, r, t, k, n, l = 1, 0, 1, 1, 3, 3
    produced = 0
    while produced < count:
        if 4 * q + r - t < n * t:
            yield n
            produced += 1
            q, r, n = 10 * q, 10 * (r - n * t), (10 * (3 * q + r)) // t - 10 * n
        else:
            q, r, t, k, n, l = q * k, (2 * q + r) * l, t * l, k + 1, (q * (7 * k + 2) + r * l) // (t * l), l + 2


def e_digits(count):
    """e = sum 1/k!, computed as a fixed-point integer with guard digits."""
    scale = 10 ** (count + 10)
    total, term, k = 0, scale, 0
    while term:
        total += term
        k += 1
        term //= k
    return str(total)[:count]


def isqrt_newton(n):
    if n < 2:
        return n
    x = 1 << ((n.bit_length() + 1) // 2)
    while True:
        y = (x + n // x) // 2
        if y >= x:
            return x
        x = y


def chunks(text, width):
    return [text[i:i + width] for i in range(0, len(text), width)]


digits = "".join(map(str, pi_digits(120)))
for index, line in enumerate(chunks(digits, 30)):
    print(f"{line}\t:{(index + 1) * 30}")
print("e    ", e_digits(60))
root = isqrt_newton(2 * 10 ** 120)
print("sqrt2", str(root)[:60], root * root <= 2 * 10 ** 120 < (root + 1) ** 2)
big = 3 ** 200 - 2 ** 300
print(big.bit_length(), big % 1000000007, -big // 7 ** 40, divmod(big, -12345678901234567890))
print(f"{2 ** 100:,}", f"{-(10 ** 25):_x}", int("1" * 50) * int("9" * 50))
