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
            list_front._listfront.install(SimdList, {}, {})
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
    size = engines.limit_of("list_sum") * list_front.C_SCAN_REACH
    big = SimdList(list(range(size)))
    with simd.forced("scalar"):
        assert big.sum() == sum(range(size)) and SimdList([1, 2]).sum() == 3
    assert big.sum() == sum(range(size))


def test_methods_look_like_methods() -> None:
    assert str(inspect.signature(SimdList.sum)) == "(self, /, start=0)"
    assert SimdList.index.__doc__.startswith("``list.index``")
    assert list_front.implementation() == "compiled"
