"""Real context managers: files, tempdirs, locks, redirect_stdout, ExitStack, nested exceptions."""
import contextlib
import io
import os
import tempfile
import threading

with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "data.txt")
    with open(path, "w") as f:
        for i in range(3):
            f.write(f"line {i}\n")
    with open(path) as f:
        print(f.read().splitlines(), f.closed)
    print(f.closed)
    try:
        with open(os.path.join(tmp, "missing.txt")) as f:
            pass
    except FileNotFoundError as e:
        print(type(e).__name__, e.errno)
print(os.path.exists(tmp))
lock = threading.Lock()
with lock:
    print("locked", lock.locked())
print("unlocked", lock.locked())
buffer = io.StringIO()
with contextlib.redirect_stdout(buffer):
    print("captured")
print(repr(buffer.getvalue()))
log = []


@contextlib.contextmanager
def step(name):
    log.append(f"open {name}")
    try:
        yield name
    except KeyError:
        log.append(f"{name} saw KeyError")
        raise
    finally:
        log.append(f"close {name}")


with contextlib.ExitStack() as stack:
    names = [stack.enter_context(step(n)) for n in "abc"]
    log.append("using " + "".join(names))
print(log)
log.clear()
try:
    with step("x"), step("y"):
        raise KeyError("boom")
except KeyError as e:
    print("outer caught", e)
print(log)


class Transaction:
    def __init__(self):
        self.committed = False

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        self.committed = kind is None
        print("commit" if self.committed else f"rollback ({kind.__name__})")
        return isinstance(value, ArithmeticError)


with Transaction() as t:
    pass
with Transaction() as t:
    1 / 0
print("survived", t.committed)
with Transaction():
    raise IndexError("not suppressed")
