"""``math`` functions in compiled code against CPython: results and errors, one function
per kernel so each error is that function's own (argument-only error tests included)."""

from __future__ import annotations

import math
import re
from typing import Any, Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dxpy

EXP_LIMIT = float.fromhex("0x1.62e42fefa39efp+9")  # the largest double with a finite exp
EDGES = [0.0, -0.0, 1.0, -1.0, math.inf, -math.inf, math.nan, 5e-324, -5e-324,
         EXP_LIMIT, math.nextafter(EXP_LIMIT, math.inf), -745.2, -745.1, 1e308, -1e308,
         math.pi / 2, 1e22, -1e22]
FLOATS = st.one_of(st.floats(allow_nan=True), st.sampled_from(EDGES))
NUMBERS = st.one_of(FLOATS, st.integers(-(2**63), 2**63 - 1), st.integers(-3, 3))


def _source_kernels() -> dict[str, Any]:
    """Each function in its own compiled kernel (the JIT reads ``math.<name>`` from the
    source, so the kernels are written out)."""
    @dxpy.jit
    def k_sin(x):
        return math.sin(x)

    @dxpy.jit
    def k_cos(x):
        return math.cos(x)

    @dxpy.jit
    def k_tan(x):
        return math.tan(x)

    @dxpy.jit
    def k_exp(x):
        return math.exp(x)

    @dxpy.jit
    def k_sqrt(x):
        return math.sqrt(x)

    @dxpy.jit
    def k_log(x):
        return math.log(x)

    @dxpy.jit
    def k_log2(x):
        return math.log2(x)

    @dxpy.jit
    def k_log10(x):
        return math.log10(x)

    @dxpy.jit
    def k_sum_sin_exp(n, h):
        s = 0.0
        for i in range(n):
            x = i * h
            s += math.sin(x) * math.exp(-x)
        return s
    return {name[2:]: fn for name, fn in locals().items() if name.startswith("k_")}


KERNELS = _source_kernels()
ONE_ARG = ["sin", "cos", "tan", "exp", "sqrt", "log", "log2", "log10"]


def outcome(fn: Callable[..., Any], *args: Any) -> tuple[Any, ...]:
    try:
        r = fn(*args)
    except Exception as exc:  # noqa: BLE001 - the exception is part of the result
        return ("raise", type(exc).__name__, str(exc))
    if isinstance(r, float) and math.isnan(r):
        return ("ok", "nan")
    return ("ok", type(r).__name__, r, math.copysign(1.0, r) if isinstance(r, float) else 0)


@pytest.mark.parametrize("name", ONE_ARG)
def test_edges_like_cpython(name: str) -> None:
    fn = KERNELS[name]
    for x in EDGES:
        assert outcome(fn, x) == outcome(getattr(math, name), x), (name, x)
    assert fn.stats()["signatures"][0]["compiled"]


@given(st.sampled_from(ONE_ARG), NUMBERS)
@settings(max_examples=400, deadline=None)
def test_math_functions_like_cpython(name: str, x: Any) -> None:
    assert outcome(KERNELS[name], x) == outcome(getattr(math, name), x), (name, x)


@given(st.integers(0, 50), FLOATS)
@settings(max_examples=150, deadline=None)
def test_math_in_a_loop_like_cpython(n: int, h: float) -> None:
    fn = KERNELS["sum_sin_exp"]
    assert outcome(fn, n, h) == outcome(fn.py_func, n, h), (n, h)


def test_argument_tested_functions_test_before_the_call() -> None:
    """sin's and exp's errors are decided by their argument: the optimised IR compares
    the argument and never the call's result (no ``fcmp`` on it: see ``ops``)."""
    text = KERNELS["exp"].inspect_ir(1.0)
    call = next(line for line in text.splitlines() if "@llvm.exp.f64(" in line
                and "declare" not in line)
    result = call.split("=")[0].strip()
    assert not re.search(rf"fcmp [^\n]*{re.escape(result)}\b", text)
