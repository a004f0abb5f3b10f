"""functools: lru_cache, partial, reduce, singledispatch, wraps, cached_property, cmp_to_key, total_ordering."""

import functools
from functools import cache, cached_property, cmp_to_key, lru_cache, partial, reduce, singledispatch, wraps


@lru_cache(maxsize=32)
def binomial(n, k):
    if k in (0, n):
        return 1
    return binomial(n - 1, k - 1) + binomial(n - 1, k)


@cache
def partitions(n, largest):
    if n == 0:
        return 1
    return sum(partitions(n - part, part) for part in range(1, min(n, largest) + 1))


def logged(prefix):
    def decorate(fn):
        @wraps(fn)
        def wrapper(*args, **kwargs):
            result = fn(*args, **kwargs)
            calls.append(f"{prefix}{fn.__name__}{args}={result}")
            return result
        return wrapper
    return decorate


calls = []


@logged("> ")
def area(w, h=1):
    """Rectangle area."""
    return w * h


@singledispatch
def render(value):
    return f"object:{value!r}"


@render.register
def _(value: int):
    return f"int:{value:+d}"


@render.register(list)
@render.register(tuple)
def _(value):
    return "seq[" + ", ".join(render(v) for v in value) + "]"


@render.register
def _(value: dict):
    return "map{" + ", ".join(f"{k}={render(v)}" for k, v in value.items()) + "}"


class Dataset:
    def __init__(self, values):
        self.values = values
        self.computations = 0

    @cached_property
    def stats(self):
        self.computations += 1
        mean = sum(self.values) / len(self.values)
        return mean, max(self.values) - min(self.values)


def compare_versions(a, b):
    pa, pb = [int(x) for x in a.split(".")], [int(x) for x in b.split(".")]
    return (pa > pb) - (pa < pb)


print([binomial(10, k) for k in range(11)], binomial.cache_info().hits > 0)
print(partitions(20, 20), partitions.cache_info().currsize > 10)
print(area(3, h=4), area(5), area.__name__, area.__doc__, area.__wrapped__(2, 2), calls)
print(render(5), render([1, (2, "x")]), render({"a": [3]}), render(2.5))
base2 = partial(int, base=2)
print(base2("1011"), base2.keywords, partial(pow, 2)(10), partial(partial(max, 1), 5)(3))
print(reduce(lambda acc, x: acc * 10 + x, [1, 2, 3, 4]), reduce(max, [], "empty"))
d = Dataset([4, 8, 15, 16, 23, 42])
print(d.stats, d.stats, d.computations)
print(sorted(["1.10", "1.2", "0.9.1", "1.2.0"], key=cmp_to_key(compare_versions)))
binomial.cache_clear()
print(binomial.cache_info())
print(functools.reduce(lambda a, b: a + b, ["x"] * 3), [f.__name__ for f in (area, render)])
reduce(lambda a, b: a + b, [])
