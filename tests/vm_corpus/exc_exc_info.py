"""sys.exc_info() and sys.exception() in, after and between handlers."""
import sys


def show(tag):
    kind, value, tb = sys.exc_info()
    print(tag, kind.__name__ if kind else None, value, tb is not None, sys.exception() is value)


show("start")
try:
    raise KeyError("k")
except KeyError:
    show("in handler")
    try:
        raise ValueError("v")
    except ValueError:
        show("nested")
    show("back to outer")
show("after")


def returns_from_handler():
    try:
        raise OSError("o")
    except OSError:
        show("before return")
        return 1


returns_from_handler()
show("after return from handler")

for i in range(3):
    try:
        raise IndexError(i)
    except IndexError:
        if i == 1:
            continue
        if i == 2:
            break
    show("loop")
show("after loop")

try:
    raise TypeError("t")
except TypeError:
    def helper():
        show("called from handler")
    helper()

try:
    try:
        raise RuntimeError("r")
    finally:
        show("finally during exception")
except RuntimeError:
    pass
try:
    pass
finally:
    show("finally without exception")
