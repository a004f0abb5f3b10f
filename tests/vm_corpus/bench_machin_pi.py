"""Pi to many digits with Machin's formula in fixed-point big integers, and e and ln2 series, checked for consistency."""


def arctan_inverse(x, unity):
    """arctan(1/x) * unity, by the alternating series."""
    total = term = unity // x
    x_squared = x * x
    n, sign = 3, -1
    while term:
        term //= x_squared
        total += sign * (term // n)
        n += 2
        sign = -sign
    return total


def pi_machin(digits):
    unity = 10 ** (digits + 10)
    pi = 4 * (4 * arctan_inverse(5, unity) - arctan_inverse(239, unity))
    return pi // 10 ** 10


def pi_gauss(digits):
    unity = 10 ** (digits + 10)
    pi = 4 * (12 * arctan_inverse(18, unity) + 8 * arctan_inverse(57, unity) - 5 * arctan_inverse(239, unity))
    return pi // 10 ** 10


def ln2(digits):
    unity = 10 ** (digits + 10)
    total, k, power = 0, 1, unity // 2
    while power:
        total += power // k
        k += 1
        power //= 2
    return total // 10 ** 10


def format_digits(number, digits):
    text = str(number)
    return text[0] + "." + text[1:digits + 1]


DIGITS = 150
machin, gauss = pi_machin(DIGITS), pi_gauss(DIGITS)
print("agree:", machin == gauss)
text = format_digits(machin, DIGITS)
for i in range(0, len(text), 50):
    print(text[i:i + 50])
print("ln2 =", "0." + str(ln2(60))[:60])
counts = [str(machin).count(d) for d in "0123456789"]
print("digit counts", counts, sum(counts))
print("the first 6 in pi:", str(machin).index("999999") if "999999" in str(machin) else "not within these digits")
