"""Assignment expressions in realistic spots: loops reading chunks, comprehensions with filters, guards, regex."""

import re
from io import StringIO

stream = StringIO("alpha beta\ngamma\n\ndelta epsilon zeta\n")
lines = []
while (line := stream.readline()):
    if (stripped := line.strip()):
        lines.append((len(stripped.split()), stripped))
print(lines)

data = [3, 8, 1, 9, 4, 7]
print([y for x in data if (y := x * x) > 10], y)
print({name: length for name in ["ann", "bob", "clementine"] if (length := len(name)) > 3})
running = 0
prefix = [running := running + x for x in data]
print(prefix, running)
PATTERNS = [re.compile(r"(\d+)-(\d+)"), re.compile(r"#(\w+)"), re.compile(r"@(\w+)")]
for text in ["range 10-20 here", "tag #python", "mention @guido", "nothing"]:
    for pattern in PATTERNS:
        if (match := pattern.search(text)) is not None:
            print(f"{text!r}: {pattern.pattern} -> {match.groups()}")
            break
    else:
        print(f"{text!r}: no pattern")


def first_prime_over(limit):
    n = limit
    while not all((n % (d := k)) for k in range(2, int(n ** 0.5) + 1)):
        n += 1
    return n


print(first_prime_over(90), first_prime_over(1000))
values = iter([5, 0, 3, -1, 8])
total = 0
while (value := next(values, None)) is not None and value >= 0:
    total += value
print(total, value)
if (n := len(data)) > 5:
    print(f"list is long ({n} elements)")
print((z := 10) + z, z)


def scoped():
    [inner := i for i in range(3)]
    return inner


print(scoped())
chunks = []
source = list(range(11))
while batch := source[:4]:
    chunks.append(sum(batch))
    source = source[4:]
print(chunks)
print([w := 1, w + 1], w)
print(undefined_after_walrus if (flag := False) else "flag was", flag)
[leak for leak in range(1) if (bad := 1 / leak)]
