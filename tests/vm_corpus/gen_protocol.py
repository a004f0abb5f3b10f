"""Generator protocol: send, throw, close, return values, PEP 479, delegation."""
import inspect
import itertools
import sys


def counter(n):
    total = 0
    for i in range(n):
        received = yield i
        if received is not None:
            total += received
    return total


g = counter(3)
print(inspect.isgenerator(g), g.__name__, g.__qualname__)
print(next(g), g.send(10), g.send(5))
try:
    g.send(1)
except StopIteration as stop:
    print("returned", stop.value)
try:
    counter(2).send(3)
except TypeError as e:
    print(e)


def catcher():
    while True:
        try:
            yield "waiting"
        except ValueError as e:
            print("caught in gen", e, sys.exception() is e)
            yield "recovered"


c = catcher()
print(next(c), c.throw(ValueError("boom")), next(c))
try:
    c.throw(KeyError("not caught"))
except KeyError as e:
    print("propagated", e)
print(next(c, "exhausted"))


def stubborn():
    try:
        yield 1
    except GeneratorExit:
        yield 2


s = stubborn()
next(s)
try:
    s.close()
except RuntimeError as e:
    print(e)


def leaks_stop():
    yield 1
    raise StopIteration("oops")


try:
    list(leaks_stop())
except RuntimeError as e:
    print(e, type(e.__cause__).__name__)


def inner():
    try:
        got = yield "inner-1"
        print("inner got", got)
        yield "inner-2"
    except ValueError:
        print("inner handled ValueError")
        yield "inner-after-throw"
    finally:
        print("inner finally")
    return "inner-result"


def outer():
    result = yield from inner()
    print("outer got", result)
    yield "outer-end"


o = outer()
print(next(o), o.send("hello"), o.throw(ValueError), next(o))
o = outer()
next(o)
o.close()
print("closed outer")
print(list(itertools.islice(itertools.count(), 3)), list(zip(counter(3), "ab")))


def fib():
    a, b = 0, 1
    while True:
        yield a
        a, b = b, a + b


print(list(itertools.takewhile(lambda x: x < 50, fib())))
squares = (x * x for x in range(5) if x != 2)
print(type(squares).__name__, next(squares), list(squares))
print(sorted((y for y in "hello"), reverse=True), any(z > 3 for z in [1, 5]), dict((k, k * 2) for k in "ab"))
matrix = [[1, 2], [3, 4]]
print(list(v for row in matrix for v in row))


def exc_state_across_yield():
    try:
        raise KeyError("held")
    except KeyError:
        yield sys.exception()
        yield sys.exception()


e = exc_state_across_yield()
first = next(e)
print("outside", sys.exception())
print(repr(first), repr(next(e)))


def gen_returning_early(items):
    for item in items:
        if item is None:
            return
        yield item


print(list(gen_returning_early([1, 2, None, 3])))
