"""Every NumPy real dtype through compiled code, against CPython + NumPy (hypothesis).

Scalars of every dtype (and Python scalars beside them) meet in arithmetic,
comparisons and conversions; arrays of every dtype and any strides are read,
written and reduced.  "Same" is the type and value of the result (NaN matches
NaN, 0.0 does not match -0.0) or the exception's type and message, and the
arrays' contents afterwards.  NumPy's warnings are not compared: a compiled
call that would wrap or overflow re-runs in CPython, which warns itself, but a
float32/float64 overflow to inf on the fast path does not warn (see
``docs/architecture.md``).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dxpy
from tests.jit_paths import dispatch_path  # noqa: F401 - autouse: C and Python paths
from dxpy.jit.types import DTYPES

NAMES = sorted(DTYPES)
INT_NAMES = [n for n in NAMES if DTYPES[n].kind == "int"]
#: what the compile-for-every-dtype tests cover: complex numbers have no ordering, ``%``,
#: ``//`` or compiled ``**`` (their own compile tests are in test_jit_complex.py)
REAL_NAMES = [n for n in NAMES if DTYPES[n].kind != "complex"]


def _edges(name: str) -> list[Any]:
    info = np.iinfo(name) if DTYPES[name].kind == "int" else None
    if info is not None:
        return [info.min, info.max, 0, 1, -1 if info.min < 0 else 2, info.max // 2]
    if name == "bool":
        return [True, False]
    return [0.0, -0.0, 1.5, -2.5, math.inf, -math.inf, math.nan, 1e30, 3.0e38]


def numpy_scalars(name: str) -> st.SearchStrategy[Any]:
    dtype = np.dtype(name)
    if DTYPES[name].kind == "int":
        info = np.iinfo(dtype)
        values = st.one_of(st.integers(int(info.min), int(info.max)), st.integers(-9, 9).filter(
            lambda v: info.min <= v <= info.max), st.sampled_from(_edges(name)))
    elif name == "bool":
        values = st.booleans()
    elif DTYPES[name].kind == "complex":
        part = st.one_of(st.floats(width=DTYPES[name].bits // 2),
                         st.sampled_from(_edges("float64")))
        values = st.builds(complex, part, part)
    else:
        values = st.one_of(st.floats(width=DTYPES[name].bits), st.sampled_from(_edges(name)))
    return values.map(dtype.type)


PYTHON_SCALARS = st.one_of(st.integers(-(2**63), 2**63 - 1), st.integers(-300, 300),
                           st.floats(), st.booleans())
ANY_SCALAR = st.one_of(st.sampled_from(NAMES).flatmap(numpy_scalars), PYTHON_SCALARS)


def _canon(r: Any) -> Any:
    if isinstance(r, tuple):
        return tuple(_canon(x) for x in r)
    if isinstance(r, (float, np.floating)) and math.isnan(r):
        return (type(r).__name__, "nan")
    if isinstance(r, (float, np.floating)):
        return (type(r).__name__, float(r), math.copysign(1.0, r))
    if isinstance(r, (complex, np.complexfloating)):
        return (type(r).__name__, _canon(complex(r).real), _canon(complex(r).imag))
    return (type(r).__name__, r)


def outcome(fn: Any, *args: Any) -> tuple[Any, ...]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            r = fn(*args)
        except Exception as exc:  # noqa: BLE001 - the exception is part of the result
            return ("raise", type(exc).__name__, str(exc))
    arrays = tuple(a.tolist() for a in args if isinstance(a, np.ndarray))
    return ("ok", _canon(r), _canon_lists(arrays))


def _canon_lists(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return tuple(_canon_lists(v) for v in value)
    return _canon(value)


def assert_same(fn: Any, *args: Any) -> None:
    copies = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    assert outcome(fn, *args) == outcome(fn.py_func, *copies), args


@dxpy.jit
def arith(a, b):
    return a + b, a - b, a * b


@dxpy.jit
def div_ops(a, b):
    return a / b, a // b, a % b


@dxpy.jit
def power(a, b):
    return a ** b


@dxpy.jit
def compare(a, b):
    return a < b, a <= b, a == b, a != b, a > b, a >= b


@dxpy.jit
def unary(a):
    return -a, abs(a), float(a), int(a), bool(a), not a


@dxpy.jit
def to_dtypes(x):
    return (np.int8(x), np.uint8(x), np.int16(x), np.int32(x), np.uint32(x), np.int64(x),
            np.uint64(x), np.float32(x), np.float64(x), np.bool_(x))


@given(ANY_SCALAR, ANY_SCALAR)
@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_scalar_arithmetic_and_comparisons(a: Any, b: Any) -> None:
    for fn in (arith, div_ops, compare):
        assert_same(fn, a, b)


@given(ANY_SCALAR, st.one_of(st.integers(-3, 12), st.sampled_from(INT_NAMES).flatmap(
    numpy_scalars), st.floats(-4, 4)))
@settings(max_examples=200, deadline=None)
def test_power(a: Any, b: Any) -> None:
    assert_same(power, a, b)


@given(ANY_SCALAR)
@settings(max_examples=300, deadline=None)
def test_unary_and_conversions(a: Any) -> None:
    assert_same(unary, a)
    assert_same(to_dtypes, a)


@dxpy.jit
def tagged_local(x, k, flag):
    s = k  # a Python scalar, or (below) a NumPy one: one tagged local
    if flag:
        s = x
    t = s + k
    return t, s * 2, s - x, s < x, s == k, -s, abs(s), t < 0.5


@given(st.sampled_from([n for n in NAMES if n != "bool"]).flatmap(numpy_scalars),
       st.one_of(st.integers(-300, 300), st.floats(-1e6, 1e6), st.integers()), st.booleans())
@settings(max_examples=200, deadline=None)
def test_locals_holding_a_python_or_a_numpy_scalar(x: Any, k: Any, flag: bool) -> None:
    assert_same(tagged_local, x, k, flag)


def test_tagged_locals_compile_for_every_dtype() -> None:
    for name in REAL_NAMES:
        if name != "bool":
            kind = DTYPES[name].kind
            example = 3 if kind == "int" else 2.5
            assert tagged_local.compile_for(np.dtype(name).type(1), example, True), name


def test_every_dtype_compiles_in_these_kernels() -> None:
    """The differential tests above compare compiled code, not CPython with itself."""
    for name in REAL_NAMES:
        one = np.dtype(name).type(1)
        for other in (one, 1, 2.5, True):
            assert compare.compile_for(one, other), (name, other)
            assert to_dtypes.compile_for(one), name
            if name != "bool" and type(other) is not bool:
                assert unary.compile_for(one), name
                assert arith.compile_for(one, other) and div_ops.compile_for(one, other)
                assert power.compile_for(one, 3)


# -- arrays ---------------------------------------------------------------------------

@dxpy.jit
def sum_max_count(x):
    s = x[0] - x[0]
    m = x[0]
    nonzero = 0
    for i in range(len(x)):
        s += x[i]
        if x[i] > m:
            m = x[i]
        if x[i]:
            nonzero += 1
    return s, m, nonzero


@dxpy.jit
def store_all(out, value):
    for i in range(len(out)):
        out[i] = value
    return len(out)


@dxpy.jit
def store_cast(dst, src):
    for i in range(len(src)):
        dst[i] = src[i]
    return 0


@dxpy.jit
def bump_2d(a, k):
    n, m = a.shape
    for i in range(n):
        for j in range(m):
            a[i, j] += k
    return a[n - 1, m - 1]


@dxpy.jit
def corner_3d(a):
    p, q, r = a.shape
    return a[0, 0, 0], a[p - 1, q - 1, r - 1], a[-1, 0, -1]


def arrays(name: str) -> st.SearchStrategy[np.ndarray]:
    return st.lists(numpy_scalars(name), min_size=1, max_size=24).map(
        lambda xs: np.array(xs, dtype=name))


LAYOUTS = st.sampled_from(["plain", "strided", "reversed"])


def _layout(a: np.ndarray, layout: str) -> np.ndarray:
    if layout == "strided":
        return np.repeat(a, 2)[::2]
    return a[::-1].copy()[::-1] if layout == "reversed" else a


@given(st.sampled_from([n for n in NAMES if n != "bool"]).flatmap(arrays), LAYOUTS)
@settings(max_examples=200, deadline=None)
def test_reductions_over_every_dtype_and_layout(x: np.ndarray, layout: str) -> None:
    assert_same(sum_max_count, _layout(x, layout))


@given(st.sampled_from(NAMES), st.sampled_from(NAMES).flatmap(arrays), LAYOUTS)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_stores_cast_like_numpy(dst_name: str, src: np.ndarray, layout: str) -> None:
    dst = _layout(np.zeros(len(src), dtype=dst_name), layout)
    assert_same(store_cast, dst, src)


@given(st.sampled_from(NAMES), ANY_SCALAR)
@settings(max_examples=300, deadline=None)
def test_scalar_stores_cast_like_numpy(name: str, value: Any) -> None:
    assert_same(store_all, np.zeros(3, dtype=name), value)


@pytest.mark.parametrize("name", [n for n in NAMES if n != "bool"])
def test_2d_and_3d_arrays_of_every_dtype(name: str) -> None:
    grid = (np.arange(24) % 7).astype(name).reshape(4, 6)
    for view in (grid, grid.T, grid[:, ::2], grid[::-1, 1:]):
        assert_same(bump_2d, view.copy(), 1)
        assert_same(bump_2d, view.copy(), np.dtype(name).type(2))
    cube = (np.arange(60) % 11).astype(name).reshape(3, 4, 5)
    for view in (cube, cube.transpose(2, 0, 1), cube[::2, :, ::-1]):
        assert_same(corner_3d, view)
    assert all(s["compiled"] for s in bump_2d.stats()["signatures"])
    assert all(s["compiled"] for s in corner_3d.stats()["signatures"])
