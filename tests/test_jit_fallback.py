"""What the JIT does with code it cannot compile: CPython's result, one warning naming the
construct, a report; a compiler bug never escapes into the call."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import dxpy
from dxpy.jit import JitFallbackWarning
from dxpy.jit import dispatcher as dispatcher_module


def _compiled(fn) -> bool:  # type: ignore[no-untyped-def]
    sigs = fn.stats()["signatures"]
    return bool(sigs) and all(s["compiled"] for s in sigs)


def test_tuple_valued_conditional_compiles() -> None:
    @dxpy.jit
    def spread(a):
        s = 0
        for i in range(len(a) - 1):
            x = a[i]
            y = a[i + 1]
            lo, hi = (x, y) if x < y else (y, x)
            s += hi - lo
        return s
    a = np.array([5, 1, 9, 9, -3, 4])
    assert spread(a) == spread.py_func(a) and _compiled(spread)


def test_unsupported_construct_warns_once_and_runs_in_cpython() -> None:
    @dxpy.jit
    def with_set(n):
        return len({n, n + 1})
    with pytest.warns(JitFallbackWarning, match=r"with_set\(int\) runs in CPython: .*Set"):
        assert with_set(3) == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert with_set(4) == 2  # a new signature? no: same one, no second warning
        assert with_set(5) == 2


def test_internal_compiler_error_completes_on_cpython(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> object:
        raise AssertionError("lowering bug")
    monkeypatch.setattr(dispatcher_module, "compile_signature", broken)

    @dxpy.jit
    def double(x):
        return 2 * x
    with pytest.warns(JitFallbackWarning, match="internal compiler error: AssertionError"):
        assert double(21) == 42
    sig = double.stats()["signatures"][0]
    assert not sig["compiled"] and "lowering bug" in sig["reason"]


def test_inspect_types_reports_types_and_reasons() -> None:
    @dxpy.jit
    def mean(a):
        s = 0.0
        for i in range(len(a)):
            s += a[i]
        return s / len(a)
    assert mean(np.arange(4, dtype=np.float32)) == np.float32(1.5)
    report = mean.inspect_types()
    assert "(array(float32, 1d, C)) -> float|np.float32: machine code" in report or \
        "(array(float32, 1d, C)) -> np.float32" in report, report
    assert "s: float|np.float32" in report

    @dxpy.jit
    def sized(n):
        return len({n})
    with pytest.warns(JitFallbackWarning):
        sized(1)
    assert "(int): runs in CPython: expression Set" in sized.inspect_types()
