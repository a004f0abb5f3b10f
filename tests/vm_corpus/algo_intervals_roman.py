"""Intervals and numerals: merge/insert intervals, meeting rooms, Roman numeral conversion both ways, base changes."""

import heapq


def merge(intervals):
    merged = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return merged


def rooms_needed(meetings):
    ends, peak = [], 0
    for start, end in sorted(meetings):
        while ends and ends[0] <= start:
            heapq.heappop(ends)
        heapq.heappush(ends, end)
        peak = max(peak, len(ends))
    return peak


NUMERALS = [(1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"), (40, "XL"),
            (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]


def to_roman(n):
    if not 0 < n < 4000:
        raise ValueError(f"{n} cannot be written in Roman numerals")
    out = []
    for value, symbol in NUMERALS:
        count, n = divmod(n, value)
        out.append(symbol * count)
    return "".join(out)


def from_roman(text):
    values = {s: v for v, s in NUMERALS if len(s) == 1}
    total = 0
    for a, b in zip(text, text[1:] + " "):
        v = values[a]
        total += -v if b != " " and values[b] > v else v
    if to_roman(total) != text:
        raise ValueError(f"{text!r} is not canonical")
    return total


def to_base(n, base, digits="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"):
    if n == 0:
        return "0"
    sign, n, out = "-" if n < 0 else "", abs(n), []
    while n:
        n, r = divmod(n, base)
        out.append(digits[r])
    return sign + "".join(reversed(out))


print(merge([(1, 3), (2, 6), (8, 10), (15, 18), (17, 20), (9, 9)]), merge([]))
print(rooms_needed([(0, 30), (5, 10), (15, 20), (10, 15), (25, 35)]), rooms_needed([(1, 2)]))
years = [1987, 2024, 3999, 444, 1, 49]
romans = [to_roman(y) for y in years]
print(romans, [from_roman(r) for r in romans] == years)
print([to_base(n, b) for n, b in [(255, 16), (255, 2), (-42, 7), (0, 3), (123456789, 36)]], int("21I3V9", 36))
for bad in ["IIII", "VX", "MMMM"]:
    try:
        from_roman(bad)
    except (ValueError, KeyError) as error:
        print(f"{bad}: {type(error).__name__} {error}")
to_roman(0)
