"""Exceptions crossing generators and with blocks: cleanup order, exceptions in __exit__, StopIteration conversion."""

import contextlib


class Resource:
    def __init__(self, name, log, fail_on_exit=False):
        self.name, self.log, self.fail_on_exit = name, log, fail_on_exit

    def __enter__(self):
        self.log.append(f"enter {self.name}")
        return self

    def __exit__(self, kind, value, tb):
        self.log.append(f"exit {self.name} ({kind.__name__ if kind else 'clean'})")
        if self.fail_on_exit:
            raise RuntimeError(f"{self.name} failed to close")
        return False


def reader(log):
    with Resource("file", log):
        yield 1
        yield 2
        raise ValueError("corrupt record")


def bad_generator():
    yield 1
    raise StopIteration("not allowed")


log = []
try:
    for item in reader(log):
        log.append(f"item {item}")
except ValueError as error:
    log.append(f"caught {error}")
print(log)

log = []
gen = reader(log)
next(gen)
gen.close()
print(log)

log = []
try:
    with Resource("outer", log), Resource("inner", log, fail_on_exit=True):
        raise KeyError("body")
except RuntimeError as error:
    print(log, "|", error, "| context:", repr(error.__context__))

try:
    list(bad_generator())
except RuntimeError as error:
    print("RuntimeError:", error, "| cause:", repr(error.__cause__))


@contextlib.contextmanager
def converting():
    try:
        yield
    except KeyError as error:
        raise LookupError(f"converted {error}") from error


try:
    with converting():
        {}["k"]
except LookupError as error:
    print("LookupError:", error, type(error.__cause__).__name__)


@contextlib.contextmanager
def no_yield_on_error():
    yield
    yield


try:
    with no_yield_on_error():
        pass
except RuntimeError as error:
    print("RuntimeError:", error)
with Resource("last", log, fail_on_exit=True):
    print("body runs, exit fails")
