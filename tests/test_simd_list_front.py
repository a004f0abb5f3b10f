"""SimdList's C methods for small lists (dxpy/simd/_listfront.c) against its Python methods.

Not forcing an engine, lists shorter than the dispatcher's limits run in C;
every result (value, type, sign of zero, NaN) and every exception must be
the Python method's, and the builtin's on the same list.  The other
SimdList tests force engines, which sends every call to the Python methods.
"""

from __future__ import annotations

import inspect
import os
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import dxpy.simd as simd
from dxpy.simd import SimdList, engines, list_front
from tests.test_simd_list import any_lists, outcome, scalars

pytestmark = pytest.mark.skipif(list_front._listfront is None,
                                reason=f"dxpy.simd._listfront not built: {list_front.WHY_PURE}")
CHECK = settings(max_examples=int(os.environ.get("SIMD_EXAMPLES", "25")) * 4, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow])
BUILTIN = {"sum": sum, "min": min, "max": max}


def _same(items: list[Any], name: str, *args: Any, **kwargs: Any) -> None:
    ours = SimdList(items)
    compiled = outcome(lambda: getattr(ours, name)(*args, **kwargs))
    assert compiled == outcome(lambda: list_front.PURE[name](ours, *args, **kwargs)), (items, name, args)
    if name in BUILTIN:
        assert compiled == outcome(lambda: BUILTIN[name](items, *args, **kwargs)), (items, name, args)
    elif not any(isinstance(a, float) and a != a for a in args):  # list finds a NaN by identity
        assert compiled == outcome(lambda: getattr(items, name)(*args, **kwargs)), (items, name, args)


@CHECK
@given(items=any_lists, value=scalars)
def test_small_methods_equal_python(items: list[Any], value: Any) -> None:
    with simd.forced(None):
        for name in ("sum", "min", "max"):
            _same(items, name)
        _same(items, "sum", value)
        _same(items, "min", default=value)
        _same(items, "index", value)
        _same(items, "count", value)
        _same(items, "index", value, 1)
        if items:
            _same(items, "index", items[-1])
            _same(items, "count", items[0])


COMPARISONS = ("<", "<=", "==", "!=", ">", ">=")
ARITHMETIC = ("+", "-", "*", "/", "//", "%", "**")


def _same_list(items: list[Any], name: str, *args: Any, **kwargs: Any) -> None:
    """A SimdList-returning method: the C result equals the Python method's, as values and
    storage, and the list idiom's."""
    ours = SimdList(items)
    compiled = outcome(lambda: getattr(ours, name)(*args, **kwargs))
    pure = outcome(lambda: list_front.PURE[name](ours, *args, **kwargs))
    assert compiled == pure, (items, name, args, kwargs)
    if isinstance(compiled, SimdList) and compiled:
        assert compiled.storage == pure.storage, (items, name, args, kwargs)
        assert [str(x) for x in compiled] == [str(x) for x in pure]  # -0.0 and NaN as Python gives them


@CHECK
@given(items=any_lists, value=scalars)
def test_small_filter_and_map_equal_python(items: list[Any], value: Any) -> None:
    with simd.forced(None):
        for op in COMPARISONS:
            _same_list(items, "filter", op, value)
            _same_list(items, "filter", op, value, indices=True)
        for op in ARITHMETIC:
            _same_list(items, "map", op, value)


def test_filter_and_map_edges() -> None:
    with simd.forced(None):
        top = SimdList([2 ** 63 - 1, 1])
        assert top.map("+", 1) == [2 ** 63, 2] and top.map("+", 1).storage == "object"  # overflow: exact ints
        assert top.map("*", -1) == [-(2 ** 63 - 1), -1] and top.map("*", -1).storage == "int64"
        assert SimdList([3, 2 ** 60]).map("/", 3) == [1.0, 2 ** 60 / 3]  # beyond 2**53: Python's rounding
        assert SimdList([1.5, -0.0]).map("*", 2).storage == "float64"
        assert str(SimdList([-0.0]).map("+", 0)[0]) == str(-0.0 + 0)
        assert SimdList([1, 2, 3]).map("*", 0.5) == [0.5, 1.0, 1.5]
        assert SimdList([1.0, float("nan")]).filter("!=", 1.0, indices=True) == [1]
        assert SimdList([5, 6]).filter(">", 9) == [] and SimdList([5, 6]).filter(">", 4, indices=False) == [5, 6]
        assert SimdList([5, 6]).filter(">", True) == [5, 6]  # bool: the Python path
        assert SimdList([2 ** 53 + 1.0]).filter("==", 2 ** 53 + 1) == []  # float vs int compares exactly
        with pytest.raises(ZeroDivisionError):
            SimdList([1, 2]).map("/", 0)
        with pytest.raises(ZeroDivisionError):
            SimdList([1.0]).map("/", 0.0)
        with pytest.raises(ValueError, match="unknown"):
            SimdList([1, 2]).map("<<", 1)
        with pytest.raises(ValueError):
            SimdList([1, 2]).filter("=>", 1)
        with pytest.raises(TypeError):
            SimdList([1, 2]).filter(">", 1, index=True)
        with pytest.raises(TypeError):
            SimdList([1, 2]).map("+")


def test_results_are_independent_lists() -> None:
    """A result built in C is a full SimdList: it grows, exports views, pickles."""
    import pickle

    with simd.forced(None):
        made = SimdList([4, 8, 15, 16]).filter(">", 5)
        made.append(23)
        made[0] = -1
        view = made.to_numpy()
        assert view.tolist() == [-1, 15, 16, 23] and made.sum() == 53
        with pytest.raises(BufferError):
            made.append(42)
        del view
        assert pickle.loads(pickle.dumps(made)) == made
        grown = SimdList([1.5]).map("*", 2)
        grown.extend([2.5] * 20)
        assert len(grown) == 21 and grown.storage == "float64"


def test_storage_is_read_from_numpy_fields() -> None:
    """The install probes found NumPy's layout and C API here (otherwise: the buffer protocol
    and numpy.empty, the same results)."""
    assert list_front._listfront.fields_read() and list_front._listfront.numpy_api()


def test_int_sums_beyond_int64_are_exact() -> None:
    with simd.forced(None):
        assert SimdList([2 ** 62, 2 ** 62, 2 ** 62]).sum() == 3 * 2 ** 62
        assert SimdList([-2 ** 63, -1]).sum() == -2 ** 63 - 1
        assert SimdList([0.1, 0.2, 0.3]).sum() == sum([0.1, 0.2, 0.3])
        assert str(SimdList([-0.0]).sum()) == "0.0" and str(SimdList([-0.0, -0.0]).min()) == "-0.0"


def test_wrong_calls_raise_what_python_raises() -> None:
    ours = SimdList([1, 2, 3])
    with simd.forced(None):
        with pytest.raises(ValueError, match="4 is not in list"):
            ours.index(4)
        with pytest.raises(TypeError):
            ours.count()
        with pytest.raises(TypeError):
            ours.sum(1, 2, 3)
        with pytest.raises(RuntimeError, match="installed once"):
            list_front._listfront.install(SimdList, {}, {}, np.empty, np.dtype(np.int64), np.dtype(np.float64), None)
        with pytest.raises(ValueError, match="unknown operation"):
            list_front._listfront.set_limits("median", 1, 1)


def test_views_and_growth_are_seen() -> None:
    """The C methods read the live storage: writes through to_numpy(), appends, promotion."""
    with simd.forced(None):
        ours = SimdList([5, 1, 7])
        view = ours.to_numpy()
        view[1] = -9
        assert ours.min() == -9 and ours.sum() == 3 and ours.index(-9) == 1
        del view
        ours.append(100)
        assert ours.max() == 100 and ours.count(100) == 1
        ours.append("x")
        assert ours.storage == "object" and ours.count("x") == 1
        assert SimdList(np.arange(5, dtype=np.int64)[::-1].tolist()).index(0) == 4


def test_limits_follow_the_dispatcher() -> None:
    size = engines.limit_of("list_sum") * list_front.C_SCAN_REACH["sum"]
    big = SimdList(list(range(size)))
    with simd.forced("scalar"):
        assert big.sum() == sum(range(size)) and SimdList([1, 2]).sum() == 3
    assert big.sum() == sum(range(size))


def test_methods_look_like_methods() -> None:
    assert str(inspect.signature(SimdList.sum)) == "(self, /, start=0)"
    assert SimdList.index.__doc__.startswith("``list.index``")
    assert list_front.implementation() == "compiled"
