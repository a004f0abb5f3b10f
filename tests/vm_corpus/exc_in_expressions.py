"""Exceptions raised inside comprehensions, generator expressions, lambdas and f-strings."""


def safe(func, *args):
    try:
        return func(*args)
    except Exception as e:
        return f"{type(e).__name__}: {e}"


print(safe(lambda: [1 / x for x in (1, 0)]))
print(safe(lambda: {k: v for k, v in [(1, 2), (3,)]}))
print(safe(lambda: sum(int(s) for s in "12x")))
print(safe(lambda: f"{undefined_name}"))
print(safe(lambda: [y for y in range(3)][5]))
print(safe(lambda: {}.setdefault([], 1)))
print(safe(lambda: "a" + 1))
print(safe(lambda: None.attribute))
print(safe(lambda: int("12") + int("3.5")))
gen = (10 // x for x in (5, 0, 2))
print(next(gen), safe(next, gen), safe(next, gen))


def first_negative(values):
    try:
        return next(v for v in values if v < 0)
    except StopIteration:
        return None


print(first_negative([3, -1, -5]), first_negative([1, 2]))
results = []
for text in ("1", "two", "3"):
    try:
        results.append(int(text))
    except ValueError:
        results.append(None)
        continue
    finally:
        results.append("|")
print(results)
