"""Deferred and pre-checked overflow (``jit/speculation.py``): accumulators, if-converted
statements.  Results must stay CPython's when the checks fire late or up front."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import dxpy
from dxpy.jit import Dispatcher
from tests.jit_paths import dispatch_path  # noqa: F401 - autouse: C and Python paths


@dxpy.jit
def total_from(a, start):
    total = start
    for i in range(len(a)):
        total += a[i]
    return total


@dxpy.jit
def absdiff_from(a, b, start):
    total = start
    for i in range(len(a)):
        total -= abs(int(a[i]) - int(b[i]))
    return total


@dxpy.jit
def count_while(n, step):
    steps = 0
    x = n
    while x > 0:
        x -= 1
        steps += step
    return steps


@dxpy.jit
def collatz_steps(n):
    steps = 0
    while n != 1:
        if n % 2 == 0:
            n //= 2
        else:
            n = 3 * n + 1
        steps += 1
    return steps


@dxpy.jit
def converted_unbound(flag, x):
    if flag:
        y = x * 3
    else:
        z = x - 1  # noqa: F841 - y stays unbound on this path
    return y  # noqa: F821 - UnboundLocalError is CPython's answer


def outcome(fn: Any, *args: Any) -> tuple[Any, ...]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            r = fn(*args)
        except Exception as exc:  # noqa: BLE001 - the exception is part of the result
            return ("raise", type(exc).__name__, str(exc))
    return ("ok", type(r).__name__, r)


def same(fn: Any, *args: Any) -> None:
    assert outcome(fn, *args) == outcome(fn.py_func, *args), args


BIG = st.one_of(st.integers(-(2**63), 2**63 - 1), st.sampled_from(
    [2**63 - 1, -(2**63), 2**63 - 300, -(2**63) + 300, 0]))


@given(st.sampled_from(["int8", "uint8", "int16", "int32", "int64", "uint32"]), BIG,
       st.integers(0, 40))
@settings(max_examples=150, deadline=None)
def test_accumulators_overflow_like_cpython(dtype: str, start: int, n: int) -> None:
    info = np.iinfo(dtype)
    a = np.linspace(info.min, min(info.max, 2**62), max(n, 1)).astype(dtype)[:n]
    same(total_from, a, start)
    same(total_from, a, np.int32(max(-(2**31), min(2**31 - 1, start))))
    b = a[::-1].copy()
    if dtype == "int8":
        same(absdiff_from, a, b, start)


def test_narrow_increments_are_prechecked_and_vectorise() -> None:
    """int8 increments over a counted loop: one check before the loop, none inside, so
    LLVM vectorises it; a start the pre-check cannot clear deoptimises, exactly."""
    a = np.arange(-100, 100, dtype=np.int8)
    b = a[::-1].copy()
    assert absdiff_from(a, b, 5) == absdiff_from.py_func(a, b, 5)
    assert " x i64>" in absdiff_from.inspect_ir(a, b, 5)  # a vector reduction
    fn = Dispatcher(absdiff_from.py_func)
    assert fn(a, b, -(2**63) + 10) == absdiff_from.py_func(a, b, -(2**63) + 10)
    assert fn.stats()["signatures"][0]["deopts"] == 1


@given(st.integers(0, 60), st.one_of(st.integers(-5, 5), BIG))
@settings(max_examples=100, deadline=None)
def test_sticky_accumulator_in_while_loop(n: int, step: int) -> None:
    same(count_while, n, step)


@given(st.one_of(st.integers(1, 10**6), st.integers(2**60, 2**63 - 1)))
@settings(max_examples=100, deadline=None)
def test_if_converted_arms_overflow_like_cpython(n: int) -> None:
    same(collatz_steps, n)


def test_if_converted_statement_keeps_unbound_locals_unbound() -> None:
    same(converted_unbound, True, 4)
    same(converted_unbound, False, 4)
    assert converted_unbound.stats()["signatures"][0]["compiled"]


@dxpy.jit
def count_from(start, n, down):
    """A counter (``+= 1`` / ``-= 1`` only) from any start, left by break or by the test."""
    c = start
    i = 0
    while i < n:
        i += 1
        if i == 1000:
            break
        if down:
            c -= 1
        else:
            c -= -1 if i < 0 else 1  # not a counter: a non-constant step
    d = start
    j = 0
    while j < n:
        j += 1
        if j % 3 == 0:
            continue
        d += 1
    return c, d


@dxpy.jit
def nested_count(start, n, m):
    total = start
    for _ in range(n):
        j = 0
        while j < m:
            total += 1
            j += 1
    return total


@given(st.one_of(BIG, st.integers(-5, 5)), st.integers(0, 40), st.booleans())
@settings(max_examples=150, deadline=None)
def test_counters_overflow_like_cpython(start: int, n: int, down: bool) -> None:
    same(count_from, start, n, down)
    same(nested_count, start, n, n // 2)


@dxpy.jit
def affine_forms(x, y):
    return 3 * x + 1, x * -5 - 7, 9 - 4 * x, -(2**61) + x * 2, 7 * (x + y) - 2, 2 * y + 0


@given(BIG, BIG)
@settings(max_examples=200, deadline=None)
def test_affine_expressions_overflow_like_cpython(x: int, y: int) -> None:
    same(affine_forms, x, y)
    same(affine_forms, x // 5, y // 3)


def test_collatz_step_has_no_per_step_overflow_intrinsic() -> None:
    """``3 * n + 1`` is one range test of ``n`` and ``steps += 1`` a counter checked at
    the loop's exit: the optimised loop keeps no ``llvm.s*.with.overflow`` call."""
    assert "with.overflow" not in collatz_steps.inspect_ir(27)
    assert collatz_steps(27) == collatz_steps.py_func(27) == 111


@dxpy.jit
def histogram(data, bins, step):
    for i in range(len(data)):
        bins[data[i]] += step
    return bins[0]


@dxpy.jit
def histogram_down(data, bins):
    for x in data:
        if x > 0:
            bins[x] -= 1
        else:
            bins[-x] -= 2
    return 0


def same_arrays(fn: Any, *args: Any) -> None:
    """``fn``'s outcome and what it left in its array arguments equal CPython's."""
    mine = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    theirs = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    assert outcome(fn, *mine) == outcome(fn.py_func, *theirs), args
    for x, y in zip(mine, theirs):
        if isinstance(x, np.ndarray):
            assert x.tobytes() == y.tobytes(), args


ELEMENT_DTYPES = ["int8", "uint8", "int16", "uint16", "int32", "uint32", "int64"]


@given(st.sampled_from(ELEMENT_DTYPES), st.integers(0, 60), st.integers(0, 4),
       st.sampled_from([1, 3, -1]), st.integers(0, 2**64), st.booleans())
@settings(max_examples=200, deadline=None)
def test_element_updates_overflow_like_cpython(dtype: str, n: int, nbins: int, step: int,
                                               seed: int, strided: bool) -> None:
    """``bins[data[i]] += step`` pre-checked from the array's min and max: counts near
    either end of the dtype, steps that wrap, strided bins, and data that is bins."""
    info = np.iinfo(dtype)
    rng = np.random.default_rng(seed)
    base = rng.choice([info.min, info.max, info.max - n, info.min + n, 0], 2 * nbins + 2)
    bins = base.astype(dtype)[::2] if strided else base.astype(dtype)
    data = rng.integers(-len(bins), len(bins) + 1, n).astype(np.int32)  # with IndexErrors
    same_arrays(histogram, data, bins, step)
    same_arrays(histogram_down, data, bins)
    small = np.zeros(4, dtype)
    same_arrays(histogram, small, small, 1)  # indices read from the counts themselves


def test_element_precheck_picks_the_checked_loop_instead_of_deoptimising() -> None:
    """Counts the pre-check cannot clear run the checked updates (no deopt); a count that
    really wraps deoptimises and CPython wraps and warns, as NumPy does."""
    fn = Dispatcher(histogram.py_func)
    data = np.zeros(1000, np.int32)
    bins = np.array([2**31 - 1001, 0], np.int32)  # 1000 more fit, the pre-check says no
    assert fn(data, bins, 1) == 2**31 - 1
    assert fn(data, np.zeros(2, np.int32), 1) == 1000
    assert fn.stats()["signatures"][0]["deopts"] == 0
    bins = np.array([2**31 - 1000, 0], np.int32)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert fn(data, bins, 1) == -(2**31)
    assert any(issubclass(w.category, RuntimeWarning) for w in caught)
    assert fn.stats()["signatures"][0]["deopts"] == 1
