"""Uncaught-exception traceback shapes through generators, lambdas, comprehensions, properties, decorators and dunders."""

import functools


def logged(fn):
    @functools.wraps(fn)
    def wrapper(*args):
        return fn(*args)
    return wrapper


class Account:
    def __init__(self, balance):
        self._balance = balance

    @property
    def balance(self):
        return self._check(self._balance)

    def _check(self, value):
        if value < 0:
            raise ValueError(f"negative balance {value}")
        return value

    def __add__(self, other):
        return Account(self.balance + other.balance)

    def __iter__(self):
        yield from (self.balance // d for d in (1, 2, 0))


@logged
def total(accounts):
    return sum((a for a in accounts), Account(0)).balance


def stages():
    results = []
    for label, action in [("ok", lambda: total([Account(1), Account(2)])),
                          ("property", lambda: total([Account(1), Account(-5)])),
                          ("generator", lambda: list(Account(6))),
                          ("comprehension", lambda: [1 // x for x in (1, 0)])]:
        try:
            results.append((label, action()))
        except (ValueError, ZeroDivisionError) as error:
            results.append((label, type(error).__name__, str(error)))
    return results


for entry in stages():
    print(entry)


def outer():
    return middle()


def middle():
    values = {k: v for k, v in [("a", 1)]}
    return sorted(values, key=lambda k: values[k] / (values[k] - 1))


outer()
