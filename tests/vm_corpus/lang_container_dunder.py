"""Container protocols: __getitem__ iteration, __iter__/__next__, __reversed__, __contains__, __missing__, __len__."""


class Countdown:
    def __init__(self, start):
        self.start = start

    def __iter__(self):
        n = self.start
        while n > 0:
            yield n
            n -= 1

    def __reversed__(self):
        return iter(range(1, self.start + 1))

    def __len__(self):
        return self.start


class Squares:
    """Iterable only through __getitem__ (the old sequence protocol)."""

    def __getitem__(self, index):
        if index >= 5:
            raise IndexError(index)
        return index * index


class Fibonacci:
    def __init__(self, limit):
        self.a, self.b, self.limit = 0, 1, limit

    def __iter__(self):
        return self

    def __next__(self):
        if self.a > self.limit:
            raise StopIteration
        value = self.a
        self.a, self.b = self.b, self.a + self.b
        return value


class DefaultingDict(dict):
    def __missing__(self, key):
        value = self[key] = f"<{key}>"
        return value


class Interval:
    def __init__(self, low, high):
        self.low, self.high = low, high

    def __contains__(self, value):
        return self.low <= value < self.high

    def __iter__(self):
        return iter(range(self.low, self.high))


class Matrix:
    def __init__(self, rows):
        self.rows = rows

    def __getitem__(self, key):
        if isinstance(key, tuple):
            r, c = key
            if isinstance(r, slice):
                return [row[c] for row in self.rows[r]]
            return self.rows[r][c]
        return self.rows[key]

    def __setitem__(self, key, value):
        r, c = key
        self.rows[r][c] = value

    def __delitem__(self, key):
        del self.rows[key]

    def __len__(self):
        return len(self.rows)


print(list(Countdown(4)), list(reversed(Countdown(4))), len(Countdown(7)), sum(Countdown(10)))
print(list(Squares()), 9 in Squares(), 10 in Squares(), list(enumerate(Squares(), 1))[:2])
print(list(Fibonacci(100)), max(Fibonacci(50)), list(Fibonacci(0)))
fib = Fibonacci(10)
print(next(fib), next(fib), list(fib), list(fib))
d = DefaultingDict(a=1)
print(d["a"], d["zz"], sorted(d.items()), d.get("other", "get does not call __missing__"))
interval = Interval(3, 8)
print(5 in interval, 8 in interval, 2.5 in interval, list(interval), sorted(interval, reverse=True)[:2])
m = Matrix([[1, 2, 3], [4, 5, 6], [7, 8, 9]])
m[1, 1] = 50
print(m[1, 1], m[0], m[:, 2] if False else m[0:2, 2], len(m))
del m[0]
print(m.rows, bool(Matrix([])), [row for row in m])
it = iter([1, 2])
print(next(it), next(it), next(it, "exhausted"))
print(list(zip(Countdown(3), Squares())), dict(zip("ab", Fibonacci(5))))
next(iter(Countdown(0)))
