"""Generator pipelines over text: reading, filtering, grouping, coroutine-style consumers."""
import io
import itertools
from collections import Counter, defaultdict

TEXT = """alpha beta gamma
# comment line
beta delta
gamma gamma epsilon

zeta alpha
"""


def lines(stream):
    for line in stream:
        yield line.rstrip("\n")


def non_comments(source):
    for line in source:
        if line and not line.startswith("#"):
            yield line


def words(source):
    for line in source:
        yield from line.split()


def numbered(source, start=1):
    n = start
    for item in source:
        yield n, item
        n += 1


def averager():
    total = count = 0
    average = None
    while True:
        value = yield average
        total += value
        count += 1
        average = total / count


pipeline = numbered(words(non_comments(lines(io.StringIO(TEXT)))))
collected = list(pipeline)
print(collected[:4], len(collected))
counts = Counter(w for _, w in collected)
print(counts.most_common(3))
groups = defaultdict(list)
for n, w in collected:
    groups[w[0]].append(n)
print(dict(groups))
avg = averager()
next(avg)
print([avg.send(v) for v in (10, 20, 60)])
print([(k, len(list(g))) for k, g in itertools.groupby(sorted(counts.elements()))])
chained = itertools.chain.from_iterable((c * 2 for c in w) for w in ["ab", "c"])
print("".join(chained))


def take(n, iterable):
    it = iter(iterable)
    return [next(it) for _ in range(n)]


def naturals():
    n = 0
    while True:
        yield n
        n += 1


def primes():
    seen = []
    for n in naturals():
        if n > 1 and all(n % p for p in seen):
            seen.append(n)
            yield n


print(take(10, primes()), take(3, (x for x in naturals() if x % 7 == 3)))
