"""Complex numbers under the JIT (``jit/complexes.py``, ``jit/cmath_calls.py``): Python
``complex``, ``np.complex64`` and ``np.complex128`` as arguments, array elements, locals
and results, their arithmetic and ``cmath``, each against CPython (and NumPy) bit for
bit, including where CPython raises or NumPy warns (the compiled code deoptimises)."""

from __future__ import annotations

import cmath
import math
import struct
import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dxpy
from dxpy.jit import Dispatcher
from dxpy.jit.types import JitFallbackWarning
from tests.jit_paths import dispatch_path  # noqa: F401 - autouse: C and Python paths

EDGES = [0.0, -0.0, 1.0, -1.0, 0.5, 2.0, 1e-310, 1e300, -1e300, 1e-20, 3.0e38, 1e-45,
         math.inf, -math.inf, math.nan, 0.7071, 1.2, 710.0, -745.0]
FLOATS = st.one_of(st.sampled_from(EDGES), st.floats(allow_nan=True, allow_infinity=True),
                   st.floats(-50, 50))
COMPLEXES = st.builds(complex, FLOATS, FLOATS)
REALS = st.one_of(FLOATS, st.integers(-(2**63), 2**63 - 1), st.integers(-5, 5), st.booleans())


def _operand(kind: str, z: complex, x: Any) -> Any:
    return {"complex": z, "c128": np.complex128(z), "c64": np.complex64(z),
            "real": x, "f64": np.float64(float(x)), "f32": np.float32(float(x)),
            "i8": np.int8(int(x) % 256 - 128) if not isinstance(x, float) else np.int8(3)}[kind]


KINDS = st.sampled_from(["complex", "c128", "c64", "real", "f64", "f32", "i8"])


def _float_bits(x: float) -> bytes:
    return b"nan" if math.isnan(x) else struct.pack("<d", x)  # any NaN (payloads vary)


def _bits(x: Any) -> Any:
    """A result as comparable data: its type and the exact bits of its parts."""
    if isinstance(x, (tuple, list)):
        return tuple(_bits(v) for v in x)
    if isinstance(x, (complex, np.complexfloating)):
        c = complex(x)
        return type(x).__name__, _float_bits(c.real), _float_bits(c.imag)
    if isinstance(x, (float, np.floating)):
        return type(x).__name__, _float_bits(float(x))
    return type(x).__name__, x


def outcome(fn: Any, *args: Any) -> tuple[Any, ...]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result: Any = ("ok", _bits(fn(*args)))
        except Exception as exc:  # noqa: BLE001 - the exception is part of the result
            result = ("raise", type(exc).__name__, str(exc))
    kinds = sorted({w.category.__name__ for w in caught
                    if not issubclass(w.category, JitFallbackWarning)})
    return result + (kinds,)


def assert_same(fn: Any, *args: Any) -> None:
    assert outcome(fn, *args) == outcome(fn.py_func, *args), args


@dxpy.jit
def add(a, b):
    return a + b


@dxpy.jit
def sub(a, b):
    return a - b


@dxpy.jit
def mul(a, b):
    return a * b


@dxpy.jit
def div(a, b):
    return a / b


@dxpy.jit
def equal(a, b):
    return a == b, a != b


@dxpy.jit
def unary(z):
    return -z, +z, abs(z), bool(z), not z, z.real, z.imag, z.conjugate()


@dxpy.jit
def build(x, y):
    return complex(x, y), complex(x), np.complex64(x), np.complex128(y)


@given(KINDS, KINDS, COMPLEXES, COMPLEXES, REALS, REALS)
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_arithmetic_like_cpython_and_numpy(ka: str, kb: str, za: complex, zb: complex,
                                           xa: Any, xb: Any) -> None:
    a, b = _operand(ka, za, xa), _operand(kb, zb, xb)
    if not any(isinstance(v, (complex, np.complexfloating)) for v in (a, b)):
        b = zb
    for fn in (add, sub, mul, div, equal):
        assert_same(fn, a, b)


@given(st.sampled_from(["complex", "c128", "c64"]), COMPLEXES)
@settings(max_examples=200, deadline=None)
def test_unary_parts_and_abs(kind: str, z: complex) -> None:
    assert_same(unary, _operand(kind, z, 0))


@given(REALS, FLOATS)
@settings(max_examples=150, deadline=None)
def test_construction(x: Any, y: float) -> None:
    assert_same(build, x, y)


def test_compiles_and_returns_the_types_cpython_does() -> None:
    fn = Dispatcher(add.py_func)
    assert fn(1 + 2j, 3) == 4 + 2j and type(fn(1 + 2j, 3)) is complex
    assert type(fn(np.complex64(1j), np.complex64(2))) is np.complex64
    assert type(fn(np.complex128(1j), 2.0)) is np.complex128
    assert type(fn(np.complex64(1j), np.float64(2.0))) is np.complex128
    assert all(s["compiled"] for s in fn.stats()["signatures"]), fn.inspect_types()
    assert _bits(unary(np.complex64(3 - 4j))) == _bits(unary.py_func(np.complex64(3 - 4j)))
    assert all(s["compiled"] for s in unary.stats()["signatures"]), unary.inspect_types()


def test_numpy_reals_with_python_complex_numbers_are_left_to_numpy() -> None:
    """``np.float64(x) * 1j`` takes NumPy's own loop (its signed zeros differ from a
    complex multiply): refused by name, CPython's result."""
    fn = Dispatcher(mul.py_func)
    with pytest.warns(JitFallbackWarning, match="NumPy real with a Python complex"):
        assert _bits(fn(np.float64(-5.95e-73), 1e-310j)) == _bits(
            mul.py_func(np.float64(-5.95e-73), 1e-310j))


@dxpy.jit
def cm(z):
    return (cmath.sqrt(z), cmath.exp(z), cmath.log(z), cmath.log10(z), cmath.sin(z),
            cmath.cos(z), cmath.sinh(z), cmath.cosh(z), cmath.phase(z),
            cmath.isfinite(z), cmath.isnan(z), cmath.isinf(z))


@dxpy.jit
def cm_polar(z):
    r, phi = cmath.polar(z)
    return r, phi


@dxpy.jit
def cm_sqrt(z):
    return cmath.sqrt(z)


@dxpy.jit
def cm_exp(z):
    return cmath.exp(z)


@dxpy.jit
def cm_log(z):
    return cmath.log(z)


@dxpy.jit
def cm_trig(z):
    return cmath.sin(z), cmath.cos(z), cmath.sinh(z), cmath.cosh(z)


@dxpy.jit
def cm_rect(r, phi):
    return cmath.rect(r, phi)


@given(st.one_of(COMPLEXES, st.builds(complex, st.floats(-3, 3), st.floats(-3, 3)),
                 st.builds(cmath.rect, st.floats(0.69, 1.75), st.floats(-4, 4))),
       st.sampled_from(["complex", "c128", "c64"]))
@settings(max_examples=400, deadline=None)
def test_cmath_like_cpython(z: complex, kind: str) -> None:
    """Each function alone (one that raises does not hide the others), and together."""
    arg = _operand(kind, z, 0)
    for fn in (cm_sqrt, cm_exp, cm_log, cm_trig, cm_polar, cm):
        assert_same(fn, arg)


@given(REALS, FLOATS)
@settings(max_examples=150, deadline=None)
def test_cmath_rect_and_real_arguments(r: Any, phi: float) -> None:
    assert_same(cm_rect, r, phi)
    assert_same(cm_sqrt, r)
    assert_same(cm_log, phi)


def test_cmath_compiles() -> None:
    assert cm(1 + 1j) == cm.py_func(1 + 1j)
    assert cm.stats()["signatures"][0]["compiled"], cm.inspect_types()


@dxpy.jit
def total(a):
    s = 0j
    for i in range(len(a)):
        s += a[i] * a[i].conjugate()
    return s, abs(s)


@dxpy.jit
def scale_into(a, out, w):
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            out[i, j] = a[i, j] * w + 1
    return out[0, 0]


@dxpy.jit
def mean_real(a):
    s = 0.0
    for z in a:
        s += float(z.real)  # Python floats: NumPy float warnings are not in question here
    return s / len(a)


@given(st.sampled_from(["complex64", "complex128"]), st.lists(COMPLEXES, min_size=1,
                                                                max_size=12),
       st.sampled_from([1 + 1j, 2.0, np.complex64(0.5j), 0]), st.booleans())
@settings(max_examples=150, deadline=None)
def test_arrays_of_complex(dtype: str, values: list[complex], w: Any, strided: bool) -> None:
    with np.errstate(all="ignore"):
        a = np.array(values * 2, dtype=dtype).reshape(2, -1)
    if strided:
        a = a[:, ::2]
    out1, out2 = np.zeros(a.shape, dtype), np.zeros(a.shape, dtype)
    assert outcome(scale_into, a, out1, w) == outcome(scale_into.py_func, a, out2, w)
    assert out1.tobytes() == out2.tobytes()
    assert_same(total, a[0])
    assert_same(mean_real, a[1])


def test_array_elements_are_read_and_written_in_place() -> None:
    a = np.arange(6, dtype=np.complex128).reshape(2, 3) * (1 + 1j)
    out = np.zeros((2, 3), np.complex64)
    fn = Dispatcher(scale_into.py_func)
    assert fn(a, out, 2j) == scale_into.py_func(a, np.zeros((2, 3), np.complex64), 2j)
    assert out[1, 2] == np.complex64(a[1, 2] * 2j + 1)
    assert fn.stats()["signatures"][0]["compiled"], fn.inspect_types()
    summed = Dispatcher(total.py_func)
    assert summed(a[0]) == total.py_func(a[0])
    assert summed.stats()["signatures"][0]["compiled"], summed.inspect_types()


@dxpy.jit
def power(z):
    return z ** 2


@dxpy.jit
def total64(a):
    s = 0j
    for x in a:
        s += x
    return s


def test_what_is_not_compiled_runs_in_cpython_and_says_why() -> None:
    """``**`` on complex numbers and a local holding a complex or an np.complex64 (two
    precisions): CPython's results, one JitFallbackWarning naming the construct."""
    for fn, arg, words in ((power, 1 + 2j, "**"), (total64, np.ones(3, np.complex64),
                                                   "np.complex64")):
        fresh = Dispatcher(fn.py_func)  # warnings come once per function and reason
        with pytest.warns(JitFallbackWarning, match=words.replace("*", r"\*")):
            assert _bits(fresh(arg)) == _bits(fn.py_func(arg))


def test_ordering_complex_numbers_raises_as_cpython() -> None:
    @dxpy.jit
    def less(a, b):
        return a < b

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", JitFallbackWarning)
        with pytest.raises(TypeError):
            less(1j, 2j)
