"""Argument-binding TypeErrors must read exactly as CPython's."""


def f(a, b):
    return a + b


def g(a, b=1, *, c, d=2):
    return a


def h(a, /, b):
    return a


def k(*args, key):
    return args


class C:
    def method(self, x):
        return x


calls = [
    lambda: f(1), lambda: f(), lambda: f(1, 2, 3), lambda: f(1, b=2, c=3), lambda: f(1, a=2),
    lambda: g(), lambda: g(1), lambda: g(1, 2, 3), lambda: g(1, 2, 3, c=4), lambda: g(1, e=5, c=1),
    lambda: h(a=1, b=2), lambda: k(1, 2), lambda: C().method(), lambda: C().method(1, 2),
    lambda: (lambda: 0)(1), lambda: (lambda x, y, z: 0)(), lambda: f(1, 2, **{"b": 3}),
]
for call in calls:
    try:
        call()
        print("no error")
    except TypeError as e:
        print(e)
