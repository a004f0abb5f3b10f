"""A loop of global and builtin loads: what the LOAD_GLOBAL inline caches are for."""

LIMIT = 7


def loads(n):
    total = 0
    for _ in range(n):
        total += LIMIT + LIMIT
        total -= len()
        total += abs(LIMIT) + min(LIMIT, LIMIT)
    return total


def len():  # noqa: A001 - a global shadowing a builtin, as programs do
    return 3


print(loads(100000))
