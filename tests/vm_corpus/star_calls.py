"""* and ** in calls and displays, with CPython's errors."""


def show(*args, **kwargs):
    return f"{args} {sorted(kwargs.items())}"


def pair(a, b=2, *, c=3):
    return (a, b, c)


nums = [1, 2, 3]
opts = {"c": 30}
print(show(*nums), show(0, *nums, 4, *"ab"), show(**opts), show(1, *nums, x=1, **opts, y=2))
print(pair(*[10]), pair(*(1, 2), **opts), pair(**{"a": 5, "b": 6}))
print([*nums, *range(2)], (*nums,), {*nums, 5}, {**opts, "d": 4, **{"c": 0}}, [*"xy"])
print(max(*nums), list(zip(*[(1, 2), (3, 4)])), "{0}-{1}".format(*"ab"), dict(**opts, e=5))
for bad in (lambda: show(*5), lambda: show(**5), lambda: show(x=1, **{"x": 2}),
            lambda: [*None], lambda: {**[]}):
    try:
        bad()
    except TypeError as e:
        print("TypeError:", e)
first, *rest = [1, 2, 3]
print(first, rest)
