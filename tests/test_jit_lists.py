"""Local lists and tuples in compiled code (``jit/lists.py``): CPython's results, and
escape analysis -- a list or tuple that never leaves the function is never allocated.

The escape property test generates whole functions (random sequences of list and
tuple operations), compiles each, and checks the result against CPython's and that
the optimised code holds no call but LLVM intrinsics (no allocation) and, since every
index is a constant, no stack slot either: the list lives in registers."""

from __future__ import annotations

import linecache
import re
import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dxpy
from dxpy.jit import Dispatcher, JitFallbackWarning


@dxpy.jit
def ring_max(a, w):
    """The best sum of 4 consecutive scaled items, through a ring buffer."""
    buf = [0.0] * 4
    s = 0.0
    best = 0.0
    for i in range(len(a)):
        s -= buf[i % 4]
        buf[i % 4] = a[i] * w
        s += buf[i % 4]
        if s > best:
            best = s
    return best, len(buf)


@dxpy.jit
def sort_small(x0, x1, x2, x3, x4):
    v = [x0, x1, x2, x3, x4]
    for i in range(len(v)):
        for j in range(len(v) - 1 - i):
            if v[j] > v[j + 1]:
                v[j], v[j + 1] = v[j + 1], v[j]
    weighted = 0
    for k, x in enumerate(v):
        weighted += k * x
    return v[0], v[-1], v[2], weighted


@dxpy.jit
def pick(i, j, flag):
    xs = [10, 20, 30]
    if flag:
        ys = [1.5, 2.5]
    xs[j] += 7
    return xs[i] + ys[-1]


@dxpy.jit
def zip_with_array(a):
    coeffs = [1, -2, 3]
    total = 0
    for c, x in zip(coeffs, a):
        total += c * int(x)
    counts = [False] * 3
    for x in a:
        counts[int(x) % 3] = True
    return total, counts[0], counts[1], counts[2]


@dxpy.jit
def escapes_by_return(n):
    xs = [n, n]
    return xs


@dxpy.jit
def escapes_by_alias(n):
    xs = [n, n]
    ys = xs
    ys[0] = 1
    return xs[0]


@dxpy.jit
def returns_a_display(n):
    return [n, n + 1]


@dxpy.jit
def grows(n):
    xs = [n]
    xs.append(n)
    return xs[0]


def outcome(fn: Any, *args: Any) -> tuple[Any, ...]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            r = fn(*args)
        except Exception as exc:  # noqa: BLE001 - the exception is part of the result
            return ("raise", type(exc).__name__, str(exc))
    return ("ok", repr(r))


def same(fn: Any, *args: Any) -> None:
    assert outcome(fn, *args) == outcome(fn.py_func, *args), args


INTS = st.one_of(st.integers(-50, 50), st.integers(-(2**63), 2**63 - 1))


@given(st.lists(st.floats(-1e6, 1e6), max_size=30), st.floats(-3, 3))
@settings(max_examples=60, deadline=None)
def test_ring_buffer_like_cpython(xs: list[float], w: float) -> None:
    same(ring_max, np.array(xs, dtype=np.float64), w)


@given(st.lists(INTS, min_size=5, max_size=5))
@settings(max_examples=150, deadline=None)
def test_sorting_a_list_like_cpython(xs: list[int]) -> None:
    same(sort_small, *xs)


@given(st.integers(-5, 5), st.integers(-5, 5), st.booleans())
@settings(max_examples=100, deadline=None)
def test_indices_and_unassigned_lists_like_cpython(i: int, j: int, flag: bool) -> None:
    same(pick, i, j, flag)  # IndexError out of range, UnboundLocalError without ys


@given(st.lists(st.integers(-100, 100), max_size=10), st.sampled_from(["int8", "int64"]))
@settings(max_examples=60, deadline=None)
def test_lists_with_arrays_like_cpython(xs: list[int], dtype: str) -> None:
    same(zip_with_array, np.array(xs, dtype=dtype))


def test_lists_compile() -> None:
    for fn, args in ((ring_max, (np.ones(3), 1.0)), (sort_small, (3, 1, 2, 5, 4)),
                     (pick, (0, 1, True)), (zip_with_array, (np.arange(4),))):
        fn(*args)
        assert all(s["compiled"] for s in fn.stats()["signatures"]), fn


@pytest.mark.parametrize("fn, construct", [(escapes_by_return, "list 'xs' used as a value"),
                                           (escapes_by_alias, "list 'xs' used as a value"),
                                           (returns_a_display, "expression List"),
                                           (grows, "xs.append")])
def test_a_list_that_escapes_runs_in_cpython_and_says_why(fn: Any, construct: str) -> None:
    fresh = Dispatcher(fn.py_func)
    with pytest.warns(JitFallbackWarning, match=re.escape(construct)):
        assert fresh(3) == fn.py_func(3)
    assert not fresh.stats()["signatures"][0]["compiled"]


def packed_body(fn: Any, *args: Any) -> str:
    text = fn.inspect_ir(*args)
    return text[text.index(".packed("):]


def test_a_ring_buffer_is_a_stack_slot_not_an_allocation() -> None:
    body = packed_body(ring_max, np.ones(8), 2.0)
    calls = set(re.findall(r"call [^@]*@([\w.]+)\(", body))
    assert all(c.startswith("llvm.") for c in calls), calls


# -- escape analysis: generated functions -----------------------------------------------
SIZE = 4
_counter = iter(range(10**9))


def _index(draw: Any) -> int:
    k = draw(st.integers(0, SIZE - 1))
    return k - SIZE if draw(st.booleans()) else k  # negative indices too


@st.composite
def list_programs(draw: Any) -> str:
    """Source of ``f(a, b, c)``: a list ``v`` and a tuple ``(p, q)`` updated by random
    statements (item stores, augmented stores, swaps through tuples, rotations,
    conditional picks, a loop over the list), all with constant indices."""
    lines = ["def f(a, b, c):", "    v = [a, b, c, a - b]", "    p, q = (b, c)", "    acc = 0"]
    for _ in range(draw(st.integers(1, 8))):
        i, j = _index(draw), _index(draw)
        c = draw(st.integers(-9, 9))
        lines.append("    " + draw(st.sampled_from([
            f"v[{i}] = v[{j}] + {c}",
            f"v[{i}] -= v[{j}] * {c}",
            f"v[{i}], v[{j}] = v[{j}], v[{i}]",
            f"p, q = q, p + v[{i}]",
            f"v[{i}] = v[{i}] if v[{i}] > v[{j}] else v[{j}]",
            f"t = (v[{i}], p, {c})\n    acc += t[0] - t[1] + t[2]",
            "for x in v:\n        acc += x",
            f"v = [q, v[{i}], p, {c}]",
        ])))
    lines.append("    return acc, v[0], v[-1], p, q")
    return "\n".join(lines) + "\n"


def compile_source(source: str) -> Any:
    """``f`` from ``source``, its source findable by ``inspect`` (the JIT reads it)."""
    filename = f"<dxpy-escape-{next(_counter)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict[str, Any] = {}
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - generated test code
    return dxpy.jit(namespace["f"])


@given(list_programs(), INTS, INTS, st.integers(-100, 100))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_escape_analysis_keeps_local_lists_and_tuples_in_registers(
        source: str, a: int, b: int, c: int) -> None:
    fn = compile_source(source)
    assert outcome(fn, a, b, c) == outcome(fn.py_func, a, b, c), source
    assert fn.stats()["signatures"][0]["compiled"], source
    body = packed_body(fn, a, b, c)
    calls = set(re.findall(r"call [^@]*@([\w.]+)\(", body))
    assert all(name.startswith("llvm.") for name in calls), (source, calls)
    assert " alloca " not in body, source  # SROA: every item is a register


# -- small fixed arrays (``jit/local_arrays.py``) -----------------------------------------
@dxpy.jit
def bucket_counts(a):
    acc = np.zeros(8)
    for x in a:
        acc[int(x) % 8] += 1.0
    best = 0.0
    for k in range(len(acc)):
        if acc[k] > best:
            best = acc[k]
    return best, acc[3], acc.shape[0], sum(acc)


@dxpy.jit
def small_grid(n):
    g = np.ones((3, 4), np.int32)
    flags = np.empty(5, dtype=np.bool_)
    h = np.zeros(2, np.float32)
    for i in range(3):
        for j in range(4):
            g[i, j] += i * n + j
    flags[n % 5] = True
    h[0] = n * 0.1
    h[1] += h[0] * 3
    return g[2, 3], g[0, 0], g[1, -1], flags[n % 5], h[1]  # (np.empty: only what was set)


@dxpy.jit
def array_made_twice(n):
    acc = np.zeros(3)
    acc = np.zeros(4)
    return acc[0] + n


@dxpy.jit
def array_made_in_a_loop(n):
    s = 0.0
    for _ in range(n):
        acc = np.zeros(3)
        s += acc[0]
    return s


@dxpy.jit
def array_of_variable_size(n):
    acc = np.zeros(n)
    return acc[0]


@dxpy.jit
def array_too_big(n):
    acc = np.zeros(100000)
    return acc[n]


@given(st.lists(st.integers(-128, 127), max_size=40), st.sampled_from(["int8", "float64"]))
@settings(max_examples=60, deadline=None)
def test_local_array_like_cpython(xs: list[int], dtype: str) -> None:
    same(bucket_counts, np.array(xs, dtype=dtype))


@given(st.one_of(st.integers(-10, 10), st.integers(-(2**40), 2**40)))
@settings(max_examples=80, deadline=None)
def test_local_array_dtypes_like_cpython(n: int) -> None:
    same(small_grid, n)  # int32 overflow: NumPy's wrap and warning, through CPython


def test_local_arrays_compile_to_stack_slots() -> None:
    for fn, args in ((bucket_counts, (np.arange(9),)), (small_grid, (3,))):
        fn(*args)
        assert all(s["compiled"] for s in fn.stats()["signatures"]), fn
        calls = set(re.findall(r"call [^@]*@([\w.]+)\(", packed_body(fn, *args)))
        assert all(c.startswith("llvm.") for c in calls), calls


@pytest.mark.parametrize("fn, reason", [
    (array_made_twice, "assigned once"), (array_made_in_a_loop, "assigned once"),
    (array_of_variable_size, "shape must be constant"), (array_too_big, "on the stack")])
def test_other_local_arrays_run_in_cpython_and_say_why(fn: Any, reason: str) -> None:
    fresh = Dispatcher(fn.py_func)
    with pytest.warns(JitFallbackWarning, match=reason):
        assert fresh(1) == fn.py_func(1)
