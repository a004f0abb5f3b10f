"""Closures, nonlocal, decorators with functools.wraps, lru_cache, partial, sorting keys."""
import functools


def counter():
    count = 0

    def bump(step=1):
        nonlocal count
        count += step
        return count
    return bump


c = counter()
print(c(), c(), c(5))


def trace(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        result = func(*args, **kwargs)
        print(f"{func.__name__}{args} -> {result}")
        return result
    return wrapper


@trace
def add(a, b=0):
    """Add two numbers."""
    return a + b


add(1, 2)
add(3, b=4)
print(add.__name__, add.__doc__, add.__wrapped__.__name__)


@functools.lru_cache(maxsize=None)
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


print(fib(80), fib.cache_info().hits > 0)
double = functools.partial(lambda x, y: x * y, 2)
print(double(21), functools.reduce(lambda a, b: a * b, range(1, 10)))
people = [("ann", 31), ("bob", 25), ("cy", 31)]
print(sorted(people, key=lambda p: (-p[1], p[0])), max(people, key=lambda p: p[1]))


def make_multipliers():
    return [lambda x, i=i: x * i for i in range(4)]


print([m(10) for m in make_multipliers()])


def outer():
    values = []

    def add_value(v):
        values.append(v)
        return inner_len()

    def inner_len():
        return len(values)
    return add_value


a = outer()
print(a("x"), a("y"))


def retry(times):
    def decorate(func):
        def run(*args):
            for attempt in range(times):
                try:
                    return func(attempt, *args)
                except ValueError as e:
                    print("retry after", e)
            raise RuntimeError("gave up")
        return run
    return decorate


@retry(3)
def flaky(attempt, x):
    if attempt < 2:
        raise ValueError(f"attempt {attempt}")
    return x * 2


print(flaky(21))


@retry(2)
def hopeless(attempt):
    raise ValueError("never")


try:
    hopeless()
except RuntimeError as e:
    print(e, type(e.__context__).__name__)
