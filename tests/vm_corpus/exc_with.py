"""with statements: enter/exit order, suppression, exceptions in __exit__, multiple items."""
import sys


class Manager:
    def __init__(self, name, suppress=False):
        self.name = name
        self.suppress = suppress

    def __enter__(self):
        print("enter", self.name)
        return self.name.upper()

    def __exit__(self, kind, value, tb):
        print("exit", self.name, kind.__name__ if kind else None, value, tb is not None,
              sys.exception() is value)
        return self.suppress


with Manager("a") as a, Manager("b") as b:
    print("body", a, b)

with Manager("outer", suppress=True):
    with Manager("inner"):
        raise KeyError("k")
print("after suppression")


def returns():
    with Manager("r"):
        return "returned"


def loops():
    for i in range(3):
        with Manager(f"l{i}"):
            if i == 0:
                continue
            break
    return i


print(returns(), loops())


class BadExit:
    def __enter__(self):
        return self

    def __exit__(self, *args):
        raise RuntimeError("exit failed")


try:
    with BadExit():
        raise ValueError("body failed")
except RuntimeError as e:
    print(e, "context:", repr(e.__context__))

try:
    with 42:
        pass
except TypeError as e:
    print(e)


class Unpack:
    def __enter__(self):
        return (1, 2)

    def __exit__(self, *args):
        return False


with Unpack() as (x, y):
    print(x + y)

import contextlib


@contextlib.contextmanager
def tag(name):
    print(f"<{name}>")
    try:
        yield name
    finally:
        print(f"</{name}>")


with tag("p") as t:
    print("inside", t)
with contextlib.suppress(ZeroDivisionError):
    1 / 0
print("suppressed by contextlib")
