"""A mix: handlers in functions, else/finally ordering, generators with try/finally."""
import sys


def f(x):
    try:
        return 10 / x
    except ZeroDivisionError as e:
        print("caught", type(e).__name__, sys.exc_info()[1] is e)
        return -1
    else:
        print("else")
    finally:
        print("finally", x)


print(f(2), f(0))


def g():
    for i in range(5):
        try:
            if i == 1:
                continue
            if i == 3:
                break
            print("body", i)
        finally:
            print("fin", i)
    return i


print(g())


def gen():
    try:
        x = yield 1
        print("got", x)
        yield from [2, 3]
        r = yield from sub()
        print("r", r)
    finally:
        print("gen closing")


def sub():
    yield "s"
    return "subret"


print(list(gen()))
it = gen()
print(next(it), it.send("hi"), next(it))
it.close()
print(sum(x * x for x in range(10)))


def deep(n):
    for i in range(3):
        try:
            if i == n:
                return i * 10
        except Exception:
            pass
    return None


print(deep(1), deep(7))
