"""Number theory with big ints: sieve, Miller-Rabin, modular inverse, CRT, toy RSA, continued fractions."""


def sieve(limit):
    flags = bytearray([1]) * (limit + 1)
    flags[0:2] = b"\x00\x00"
    for p in range(2, int(limit ** 0.5) + 1):
        if flags[p]:
            flags[p * p::p] = bytes(len(range(p * p, limit + 1, p)))
    return [i for i, f in enumerate(flags) if f]


def is_probable_prime(n, bases=(2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37)):
    if n < 2:
        return False
    for p in bases:
        if n % p == 0:
            return n == p
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for a in bases:
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def extended_gcd(a, b):
    if b == 0:
        return a, 1, 0
    g, x, y = extended_gcd(b, a % b)
    return g, y, x - (a // b) * y


def crt(remainders, moduli):
    total, product = 0, 1
    for m in moduli:
        product *= m
    for r, m in zip(remainders, moduli):
        partial = product // m
        total += r * partial * pow(partial, -1, m)
    return total % product


def continued_fraction(numerator, denominator):
    terms = []
    while denominator:
        q, r = divmod(numerator, denominator)
        terms.append(q)
        numerator, denominator = denominator, r
    return terms


primes = sieve(200)
print(len(primes), primes[-5:], sum(primes))
mersenne = [p for p in range(2, 130) if is_probable_prime(p) and is_probable_prime(2 ** p - 1)]
print("mersenne exponents", mersenne)
print(is_probable_prime(2 ** 89 - 1), is_probable_prime(2 ** 89 + 1), is_probable_prime(561))
print(extended_gcd(240, 46), pow(17, -1, 3120), crt([2, 3, 2], [3, 5, 7]))
p, q = 2 ** 61 - 1, 2 ** 31 - 1
n, phi, e = p * q, (p - 1) * (q - 1), 65537
d = pow(e, -1, phi)
message = int.from_bytes(b"hi VM", "big")
cipher = pow(message, e, n)
print(cipher.bit_length() <= n.bit_length(), pow(cipher, d, n).to_bytes(5, "big"))
print(continued_fraction(415, 93), continued_fraction(355, 113))
factorial = 1
for k in range(1, 60):
    factorial *= k
print(len(str(factorial)), str(factorial).rstrip("0")[-6:], factorial.bit_count() if hasattr(int, "bit_count") else 0)
print((10 ** 40 + 7) // 3, -(10 ** 30) % 97, divmod(-7, 2), (-7).__floordiv__(2), 7 ** 0.5 ** 2)
pow(6, -1, 9)
