"""divmod, pow, round, and for loops over arrays (plain, enumerate, zip), against CPython."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import dxpy
from tests.jit_paths import dispatch_path  # noqa: F401 - autouse: C and Python paths


@dxpy.jit
def arith_builtins(a, b):
    return divmod(a, b)


@dxpy.jit
def power(a, b):
    return pow(a, b)


@dxpy.jit
def rounding(x):
    return round(x)


@dxpy.jit
def walk(a, b):
    s = 0.0
    for x in a:
        s += x
    for i, x in enumerate(a):
        s += i * x
    for x, y in zip(a, b):
        s -= x * y
    return s


@dxpy.jit
def walk_back(n):
    total = 0
    for i in range(n, -n, -3):
        total += i * i
    return total


def outcome(fn: Any, *args: Any) -> tuple[Any, ...]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            r = fn(*args)
        except Exception as exc:  # noqa: BLE001 - the exception is part of the result
            return ("raise", type(exc).__name__, str(exc))
    return ("ok", _canon(r))


def _canon(r: Any) -> Any:
    if isinstance(r, tuple):
        return tuple(map(_canon, r))
    if isinstance(r, float) and math.isnan(r):
        return (type(r).__name__, "nan")
    if isinstance(r, float):
        return (type(r).__name__, r, math.copysign(1.0, r))
    return (type(r).__name__, r)


def same(fn: Any, *args: Any) -> None:
    assert outcome(fn, *args) == outcome(fn.py_func, *args), args


NUMBERS = st.one_of(st.integers(-(2**63), 2**63 - 1), st.integers(-20, 20),
                    st.floats(allow_nan=True), st.sampled_from([0, 0.0, -0.0, 2.5, -3.5]))


@given(NUMBERS, NUMBERS)
@settings(max_examples=200, deadline=None)
def test_divmod_and_pow(a: Any, b: Any) -> None:
    same(arith_builtins, a, b)
    if not isinstance(b, int) or -70 <= b <= 70:  # CPython's big-int powers take forever
        same(power, a, b)


@given(st.one_of(st.floats(), st.sampled_from([0.5, 1.5, 2.5, -0.5, -2.5, math.inf, math.nan,
                                                9.3e18]), st.integers(-99, 99)))
@settings(max_examples=200, deadline=None)
def test_round_half_to_even(x: Any) -> None:
    same(rounding, x)


@given(st.lists(st.floats(-1e6, 1e6), max_size=20), st.integers(0, 25),
       st.sampled_from(["float64", "float32", "int32", "uint8"]), st.integers(1, 3))
@settings(max_examples=100, deadline=None)
def test_loops_over_arrays(xs: list[float], nb: int, dtype: str, step: int) -> None:
    a = np.array(xs)[::step]
    b = (np.arange(nb) % 7).astype(dtype)
    same(walk, a, b)


@given(st.integers(-50, 50))
@settings(max_examples=50, deadline=None)
def test_negative_range_steps(n: int) -> None:
    same(walk_back, n)


def test_they_compile() -> None:
    for fn, args in ((arith_builtins, (7, 2)), (arith_builtins, (7.5, 2.0)), (power, (3, 4)),
                     (power, (2.0, 0.5)), (rounding, (2.5,)),
                     (walk, (np.arange(3.0), np.arange(3))), (walk_back, (9,))):
        # A fresh dispatcher: the property tests above may have blacklisted a signature
        # of the shared one (most of their pow(int, int) calls overflow and deopt).
        fresh = dxpy.jit.Dispatcher(fn.py_func)
        assert fresh.compile_for(*args), fresh.stats()
