"""Context managers: class-based, contextlib.contextmanager, ExitStack, suppress, nested and suppressing exits."""

import contextlib
import io


class Transaction:
    def __init__(self, log, name):
        self.log, self.name = log, name

    def __enter__(self):
        self.log.append(f"begin {self.name}")
        return self

    def __exit__(self, kind, value, traceback):
        if kind is None:
            self.log.append(f"commit {self.name}")
        else:
            self.log.append(f"rollback {self.name}: {kind.__name__}")
        return kind is KeyError  # swallow KeyError only


@contextlib.contextmanager
def tag(log, name):
    log.append(f"<{name}>")
    try:
        yield name.upper()
    except ValueError as error:
        log.append(f"handled {error}")
    finally:
        log.append(f"</{name}>")


@contextlib.contextmanager
def temporary(mapping, **changes):
    saved = {k: mapping[k] for k in changes if k in mapping}
    mapping.update(changes)
    try:
        yield mapping
    finally:
        for k in changes:
            if k in saved:
                mapping[k] = saved[k]
            else:
                del mapping[k]


log = []
with Transaction(log, "a") as t:
    log.append(f"inside {t.name}")
with Transaction(log, "b"):
    {}["missing"]
try:
    with Transaction(log, "c"):
        raise RuntimeError("boom")
except RuntimeError:
    log.append("propagated")
with tag(log, "div") as upper, tag(log, "span"):
    log.append(upper)
    raise ValueError("inner problem")
print("\n".join(log))

settings = {"debug": False}
with temporary(settings, debug=True, level=3) as current:
    print("during", sorted(current.items()))
print("after", settings)

with contextlib.suppress(ZeroDivisionError, KeyError):
    print("before")
    1 / 0
print("suppressed")

with contextlib.ExitStack() as stack:
    files = [stack.enter_context(contextlib.closing(io.StringIO(f"file {i}"))) for i in range(3)]
    stack.callback(print, "callback ran last-in-first-out")
    print([f.read() for f in files])
print([f.closed for f in files])

buffer = io.StringIO()
with contextlib.redirect_stdout(buffer):
    print("captured text")
print(repr(buffer.getvalue()))


class Reentrant:
    depth = 0

    def __enter__(self):
        Reentrant.depth += 1
        return Reentrant.depth

    def __exit__(self, *exc):
        Reentrant.depth -= 1


r = Reentrant()
with r as one:
    with r as two:
        print("depths", one, two)


def early_exit():
    for i in range(3):
        with Transaction(log, f"loop{i}"):
            if i == 1:
                return i
    return None


log.clear()
print(early_exit(), log)
with Transaction(log, "final"):
    raise TypeError("escapes the with")
