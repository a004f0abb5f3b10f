"""Lazy infinite streams with generators: primes, Hamming numbers, sliding windows, stream merging and tee."""

import itertools


def naturals(start=1):
    n = start
    while True:
        yield n
        n += 1


def primes():
    composites = {}
    for n in naturals(2):
        if n not in composites:
            yield n
            composites[n * n] = [n]
        else:
            for p in composites.pop(n):
                composites.setdefault(n + p, []).append(p)


def hamming():
    def merge(a, b):
        x, y = next(a), next(b)
        while True:
            if x < y:
                yield x
                x = next(a)
            elif y < x:
                yield y
                y = next(b)
            else:
                yield x
                x, y = next(a), next(b)

    def scaled(k, stream):
        return (k * v for v in stream)

    def generate():
        yield 1
        t2, t3, t5 = itertools.tee(output, 3)
        yield from merge(scaled(2, t2), merge(scaled(3, t3), scaled(5, t5)))

    output = generate()
    result, copy = itertools.tee(output)
    output = copy
    return result


def moving_average(stream, size):
    window, total = [], 0
    for value in stream:
        window.append(value)
        total += value
        if len(window) > size:
            total -= window.pop(0)
        if len(window) == size:
            yield total / size


def collatz(n):
    while n != 1:
        yield n
        n = n // 2 if n % 2 == 0 else 3 * n + 1
    yield 1


def take(n, stream):
    return list(itertools.islice(stream, n))


print(take(15, primes()))
print(take(20, hamming()))
print(take(5, moving_average(naturals(), 3)), take(4, moving_average(primes(), 2)))
print(list(collatz(27))[:12], len(list(collatz(27))), max(collatz(27)))
longest = max(range(1, 200), key=lambda n: sum(1 for _ in collatz(n)))
print("longest collatz below 200:", longest)
evens = (n for n in naturals() if n % 2 == 0)
squares = (n * n for n in evens)
print(take(5, squares), take(3, squares))
pairs = zip(primes(), itertools.islice(primes(), 1, None))
twins = ((p, q) for p, q in pairs if q - p == 2)
print(take(6, twins))
gen = primes()
print(next(gen), gen.__name__, gen.__qualname__, type(gen).__name__)
gen.close()
print(next(gen, "closed"))
exhausted = iter(take(0, naturals()))
next(exhausted)
