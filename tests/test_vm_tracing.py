"""``sys.settrace`` line events from VM code (``dxpy.vm.tracing``), against CPython running the
same source: test_patma's tracing tests, loops, handlers, generators, and a tracer that fails."""

from __future__ import annotations

from .test_vm_language_corners import same_as_cpython

TRACER = """
import sys
def traced(func, *args):
    lines = []
    def trace(frame, event, arg):
        if event == "line" and frame.f_code.co_name == func.__name__:
            lines.append(frame.f_lineno - func.__code__.co_firstlineno)
        return trace
    old = sys.gettrace()
    sys.settrace(trace)
    try:
        func(*args)
    finally:
        sys.settrace(old)
    return lines
"""


def test_match_cases_report_cpythons_lines() -> None:
    printed = same_as_cpython(TRACER + """
def f(command):
    match command.split():
        case ["go", direction] if direction in "nesw":
            return f"go {direction}"
        case ["go", _]:
            return "no go"
def g(command):
    match command:
        case 1:
            if False:
                return 1
        case _:
            if False:
                return 0
for word in ("go n", "go x", "spam"):
    print(traced(f, word))
print(traced(g, 1), traced(g, 0))
""")
    assert "[1, 2, 4, 5]" in printed


def test_loops_handlers_and_backward_jumps() -> None:
    same_as_cpython(TRACER + """
def loops(n):
    total = 0
    for i in range(n):
        total += i
    try:
        1 / 0
    except ZeroDivisionError:
        total = -1
    for i in range(3): total += 1
    return total
print(traced(loops, 3))
""")


def test_generator_lines_and_untraced_callees() -> None:
    """A generator's lines across its suspensions; functions the tracer does not follow
    (its ``call`` event returns None) report nothing."""
    same_as_cpython(TRACER + """
def gen():
    x = 1
    yield x
    x += 1
    yield x
def consume():
    return [v for v in gen()]
def only_consume(frame, event, arg):
    return only_consume if frame.f_code.co_name == "consume" else None
seen = []
def recorder(frame, event, arg):
    if event == "line":
        seen.append((frame.f_code.co_name, frame.f_lineno - consume.__code__.co_firstlineno))
    return only_consume(frame, event, arg) and recorder
sys.settrace(recorder)
consume()
sys.settrace(None)
print(seen)
print(traced(lambda: list(gen())))
g_lines = []
def gen_tracer(frame, event, arg):
    if event == "line" and frame.f_code.co_name == "gen":
        g_lines.append(frame.f_lineno - gen.__code__.co_firstlineno)
    return gen_tracer
sys.settrace(gen_tracer)
list(gen())
sys.settrace(None)
print(g_lines)
""")


def test_a_failing_tracer_stops_tracing_and_raises_in_the_traced_code() -> None:
    same_as_cpython(TRACER + """
def work():
    a = 1
    b = 2
    return a + b
def bad(frame, event, arg):
    if event == "line" and frame.f_code.co_name == "work" and frame.f_lineno > work.__code__.co_firstlineno + 1:
        raise KeyError("tracer")
    return bad
sys.settrace(bad)
try:
    work()
except KeyError as exc:
    print("raised", exc, sys.gettrace())
print(work())
""")
