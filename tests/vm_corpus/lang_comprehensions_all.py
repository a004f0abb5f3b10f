"""Comprehensions of every kind: nested, filtered, dict/set, generator expressions, scoping and walrus inside."""

matrix = [[r * 4 + c for c in range(4)] for r in range(3)]
print(matrix)
print([[row[i] for row in matrix] for i in range(4)])
print([x for row in matrix for x in row if x % 3 == 0])
print([(r, c) for r in range(3) for c in range(r)])
print({x % 5 for x in range(20)}, sorted({w[0] for w in ["apple", "avocado", "banana"]}))
inverted = {v: k for k, v in {"a": 1, "b": 2, "c": 1}.items()}
print(inverted, {k: len(k) for k in "one two three".split() if len(k) > 3})
print(sum(x * x for x in range(10)), max((len(w), w) for w in ["aa", "b", "ccc"]), any(x > 8 for x in range(10)))
print(list(zip(*((i, i * i) for i in range(4)))))
print([y for x in range(6) if (y := x * x) % 2 == 0], y)
print([f"{a}{b}" for a in "xy" for b in "12" if (a, b) != ("y", "1")])
gen = (n for n in range(3))
print(next(gen), list(gen), list(gen))
x = "outer x"
print([x for x in range(3)], x)
print({(i, j): i * j for i in range(3) for j in range(3) if i <= j})
print([[c for c in word if c not in "aeiou"] for word in ("banana", "kiwi")])


class Grid:
    size = 3
    cells = [(i, j) for i in range(3) for j in range(3)]
    diagonal = [c for c in cells if c[0] == c[1]]


print(Grid.diagonal, len(Grid.cells))
flat = [item for sub in [[1, [2]], [3], []] for item in sub]
print(flat)
primes = [n for n in range(2, 50) if all(n % d for d in range(2, int(n ** 0.5) + 1))]
print(primes)
pythagorean = [(a, b, c) for c in range(1, 30) for b in range(1, c) for a in range(1, b) if a * a + b * b == c * c]
print(pythagorean)
counts = {}
[counts.__setitem__(ch, counts.get(ch, 0) + 1) for ch in "mississippi"]
print(counts)
print(sorted(set(w.lower() for w in "The the THE a A".split())))
lazy = (1 / n for n in (1, 2, 0))
print(next(lazy), next(lazy))
next(lazy)
