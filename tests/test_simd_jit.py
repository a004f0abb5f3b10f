"""``@dxpy.jit`` lowers ``sum``/``min``/``max`` of 1-d int64/float64 arrays to a loop over the
storage (``dxpy/jit/simd_calls.py``): the compiled result equals CPython's -- value, NumPy
scalar type, overflow warnings, NaN and signed zeros, empty arrays -- and it is compiled."""

from __future__ import annotations

import warnings
from typing import Any, Callable

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import arrays

import dxpy
from dxpy.jit.types import JitFallbackWarning


@dxpy.jit
def array_sum(a):
    return sum(a)


@dxpy.jit
def array_min(a):
    return min(a)


@dxpy.jit
def array_max(a):
    return max(a)


PAIRS = [(array_sum, sum), (array_min, min), (array_max, max)]
int64s = st.one_of(st.integers(-5, 5), st.integers(-(1 << 63), (1 << 63) - 1))
floats = st.one_of(st.sampled_from([0.0, -0.0, float("nan"), float("inf"), -float("inf")]), st.floats())


def outcome(call: Callable[[], Any]) -> Any:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value = call()
        except Exception as exc:  # noqa: BLE001 - the exception is the outcome
            return ("raised", type(exc), str(exc))
    messages = sorted(str(w.message) for w in caught if not issubclass(w.category, JitFallbackWarning))
    return (type(value), repr(value), messages)


@settings(max_examples=60, deadline=None)
@given(data=st.one_of(arrays(np.int64, st.integers(0, 70), elements=int64s),
                      arrays(np.float64, st.integers(0, 70), elements=floats)),
       step=st.sampled_from([1, 2, -1]))
def test_compiled_reductions_equal_cpython(data: np.ndarray, step: int) -> None:
    view = data[::step]
    for compiled, builtin in PAIRS:
        assert outcome(lambda: compiled(view)) == outcome(lambda: builtin(view))


@pytest.mark.parametrize("compiled,builtin", PAIRS)
def test_the_call_is_compiled(compiled: Any, builtin: Any) -> None:
    values = np.arange(1000, dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error", JitFallbackWarning)
        assert compiled(values) == builtin(values)
        assert compiled(values.astype(np.int64)) == builtin(values.astype(np.int64))


def test_overflow_wraps_and_warns_as_numpy_does() -> None:
    big = np.array([2 ** 62, 2 ** 62, 2 ** 62], dtype=np.int64)
    assert outcome(lambda: array_sum(big)) == outcome(lambda: sum(big))
    assert outcome(lambda: array_sum(big))[2], "NumPy's overflow warning is shown"


def test_other_dtypes_and_shapes_run_in_cpython() -> None:
    for data in (np.arange(5, dtype=np.int32), np.ones((2, 2)), np.array([True, False])):
        assert outcome(lambda: array_sum(data))[:2] == outcome(lambda: sum(data))[:2]
