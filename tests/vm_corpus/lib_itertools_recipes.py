"""itertools in practice: grouping, windows, combinatorics, chaining, accumulate, and a few recipes."""

import itertools
import operator
from itertools import (accumulate, chain, combinations, combinations_with_replacement, compress, count, cycle,
                       dropwhile, filterfalse, groupby, islice, pairwise, permutations, product, repeat, starmap,
                       takewhile, tee, zip_longest)


def window(iterable, size):
    iterators = tee(iterable, size)
    for skip, iterator in enumerate(iterators):
        for _ in range(skip):
            next(iterator, None)
    return zip(*iterators)


def chunked(iterable, size):
    iterator = iter(iterable)
    while batch := tuple(islice(iterator, size)):
        yield batch


def unique_everseen(iterable, key=None):
    seen = set()
    for element in iterable:
        marker = element if key is None else key(element)
        if marker not in seen:
            seen.add(marker)
            yield element


def roundrobin(*iterables):
    active = len(iterables)
    nexts = cycle(iter(it).__next__ for it in iterables)
    while active:
        try:
            for step in nexts:
                yield step()
        except StopIteration:
            active -= 1
            nexts = cycle(islice(nexts, active))


words = ["apple", "avocado", "banana", "blueberry", "cherry", "apricot", "kiwi"]
for letter, group in groupby(sorted(words), key=operator.itemgetter(0)):
    print(letter, list(group))
print(list(window(range(6), 3)), list(chunked("abcdefg", 3)))
print(list(unique_everseen("AAAABBBCCDAABBB")), list(unique_everseen("ABbCcAD", str.lower)))
print(list(roundrobin("ABC", "D", "EF")))
print(list(accumulate([3, 1, 4, 1, 5], max)), list(accumulate(range(1, 6), operator.mul, initial=1)))
print(list(combinations("abcd", 2))[:4], len(list(permutations(range(4), 3))), list(product("ab", repeat=2)))
print(list(combinations_with_replacement("xy", 2)), list(compress("abcdef", [1, 0, 1, 0, 1, 1])))
print(list(islice(count(10, 5), 4)), list(repeat("z", 3)), list(starmap(pow, [(2, 5), (3, 2)])))
print(list(takewhile(lambda x: x < 4, [1, 3, 5, 1])), list(dropwhile(lambda x: x < 4, [1, 3, 5, 1])))
print(list(filterfalse(str.isdigit, "a1b2c3")), list(zip_longest("ab", "xyz", fillvalue="-")))
print(list(pairwise("abcd")), list(chain.from_iterable(["ab", "cd"])), list(chain([1], (2,), {3: 0})))
a, b = tee(iter([1, 2, 3]))
print(list(a), list(b), sum(1 for _ in itertools.permutations(range(5))))
totals = {k: sum(v for _, v in g) for k, g in groupby([("x", 1), ("x", 2), ("y", 5), ("x", 7)], key=lambda p: p[0])}
print(totals)
print(list(islice(cycle("ab"), 5)), next(islice(count(), 3, None)))
print(list(islice(range(10), 2, 8, 3)), list(itertools.batched(range(5), 2)) if hasattr(itertools, "batched") else "no batched")
list(islice("abc", -1))
