"""try/except* (PEP 654): splitting groups, naked exceptions, re-raise vs new, else/finally, invalid types."""

import sys

def raise_group():
    raise ExceptionGroup("batch", [ValueError("v1"), TypeError("t1"), ExceptionGroup("inner", [ValueError("v2"), KeyError("k")])])

def show(label, exc):
    if isinstance(exc, BaseExceptionGroup):
        print(label, type(exc).__name__, repr(exc.message), [show_leaf(e) for e in exc.exceptions])
    else:
        print(label, repr(exc))

def show_leaf(e):
    return repr(e) if not isinstance(e, BaseExceptionGroup) else (e.message, [show_leaf(x) for x in e.exceptions])

try:
    raise_group()
except* ValueError as eg:
    show("values:", eg)
    print("handled now:", type(sys.exception()).__name__)
except* TypeError:
    print("types handled")
except* KeyError as eg:
    show("keys:", eg)

def partial():
    try:
        raise_group()
    except* (ValueError, KeyError) as eg:
        show("partial:", eg)

try:
    partial()
except ExceptionGroup as rest:
    show("rest:", rest)

def naked():
    try:
        raise OSError("disk")
    except* OSError as eg:
        show("naked wrapped:", eg)
        print(eg.exceptions[0].__traceback__ is not None)
naked()

def reraise_and_new():
    try:
        raise_group()
    except* ValueError:
        raise
    except* TypeError as eg:
        raise RuntimeError("converted") from eg
try:
    reraise_and_new()
except ExceptionGroup as combined:
    show("combined:", combined)
    for e in combined.exceptions:
        show("  part:", e)

def no_match_naked():
    try:
        raise KeyError("x")
    except* ValueError:
        print("no")
try:
    no_match_naked()
except KeyError as e:
    print("naked passes through:", repr(e))

def single_new():
    try:
        raise ValueError("only")
    except* ValueError:
        raise IndexError("replacement")
try:
    single_new()
except Exception as e:
    show("single new:", e)
    print("context:", repr(e.__context__)[:40])

for kinds in (ExceptionGroup, (ValueError, BaseExceptionGroup), int):
    try:
        try:
            raise ValueError(1)
        except* kinds:
            pass
    except TypeError as e:
        print("TypeError:", e)

def with_else_finally():
    log = []
    for fail in (False, True):
        try:
            if fail:
                raise ExceptionGroup("g", [ValueError()])
        except* ValueError:
            log.append("handled")
        else:
            log.append("else")
        finally:
            log.append("finally")
    return log
print(with_else_finally())

def handler_loop():
    out = []
    try:
        raise ExceptionGroup("g", [ValueError(i) for i in range(3)])
    except* ValueError as eg:
        for e in eg.exceptions:
            if e.args[0] == 1:
                continue
            out.append(e.args[0])
    return out
print(handler_loop())
try:
    raise ExceptionGroup("uncaught", [ZeroDivisionError("z"), ValueError("v")])
except* ZeroDivisionError:
    print("z handled")
