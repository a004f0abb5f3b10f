"""The C dispatcher's glue (``_dispatch.c``): NumPy's layout, and each version's entry.

``BASE`` is the dispatcher's base class: the C ``DispatcherBase`` when the
extension was built and NumPy's structs are where the probes below find them,
else ``PythonDispatcherBase``, which does in Python what the C one does on a
miss (count the call, hand it to ``_slow_call``: the cffi path).  Either way
the semantics are the Python side's; C only makes matching calls cheaper.
``DXPY_JIT_DISPATCH=python`` (or ``set_enabled(False)``) sends every call the
Python way, which is how the tests run both paths.
"""

from __future__ import annotations

import ctypes
import os
from typing import Any

import numpy as np

from .abi import ARRAY_LAYOUT
from .types import DTYPES, Array, JitType, NoneType, Scalar, Tuple

try:
    from . import _dispatch  # type: ignore[attr-defined]
except ImportError as exc:  # not built (no compiler at install): the cffi path only
    _dispatch = None
    UNAVAILABLE = f"not built: {exc}"
else:
    UNAVAILABLE = ""

#: NumPy's public flag bits (ndarraytypes.h), checked against ``flags.num`` by the probe.
C_CONTIGUOUS, ALIGNED, WRITEABLE = 0x0001, 0x0100, 0x0400
_SCALAR_AT = ctypes.sizeof(ctypes.c_ssize_t) * 2  # after PyObject_HEAD: NumPy's ``obval``


class PythonDispatcherBase:
    """The C base's behaviour without C: count the call, then the Python path."""

    calls = 0
    _centries: list[Any] | None = None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return self._slow_call(args, kwargs)  # type: ignore[attr-defined]


def _array_offsets() -> tuple[int, int, int] | None:
    """Offsets of ``nd``, ``descr`` and ``flags`` in ``PyArrayObject_fields`` (after
    ``data``: ``int nd; npy_intp *dimensions, *strides; PyObject *base; PyArray_Descr
    *descr; int flags``), checked on two arrays; None if anything differs."""
    if ARRAY_LAYOUT is None:
        return None
    data_at = ARRAY_LAYOUT[0]
    nd_at, descr_at, flags_at = data_at + 8, data_at + 40, data_at + 48
    plain = np.zeros((2, 3), np.int32)
    view = np.arange(10.0)[::2]
    view.flags.writeable = False
    for a in (plain, view):
        if (ctypes.c_int.from_address(id(a) + nd_at).value != a.ndim
                or ctypes.c_void_p.from_address(id(a) + descr_at).value != id(a.dtype)
                or ctypes.c_int.from_address(id(a) + flags_at).value != a.flags.num):
            return None
    bits = plain.flags.num, view.flags.num
    if not (bits[0] & C_CONTIGUOUS and bits[0] & WRITEABLE and bits[0] & ALIGNED
            and not bits[1] & C_CONTIGUOUS and not bits[1] & WRITEABLE):
        return None
    return nd_at, descr_at, flags_at


def _scalars_where_expected() -> bool:
    """Whether every NumPy scalar type keeps its value right after ``PyObject_HEAD``."""
    for name in DTYPES:
        value = np.dtype(name).type(1 if name == "bool" else 3)
        size = np.dtype(name).itemsize
        if ctypes.string_at(id(value) + _SCALAR_AT, size) != np.array(value).tobytes():
            return False
    return True


def _configure() -> str:
    """Hand NumPy's layout to the C module; the reason it cannot be used, or ""."""
    if _dispatch is None:
        return UNAVAILABLE
    offsets = _array_offsets()
    if offsets is None or not _scalars_where_expected():
        return "NumPy's object layout is not the one the C dispatcher reads"
    _dispatch.configure(np.ndarray, np.True_, np.False_, _SCALAR_AT, *offsets)
    return ""


REASON = _configure()
_enabled = not REASON and os.environ.get("DXPY_JIT_DISPATCH", "").strip().lower() != "python"
if not REASON:
    _dispatch.set_enabled(_enabled)
BASE: type = _dispatch.DispatcherBase if not REASON else PythonDispatcherBase


def available() -> bool:
    """Whether calls can take the C fast path (it may still be switched off)."""
    return not REASON


def enabled() -> bool:
    """Whether calls take the C fast path now."""
    return _enabled


def set_enabled(on: bool) -> None:
    """Switch the C fast path on or off (off: every call takes the Python path)."""
    global _enabled
    if not REASON:
        _dispatch.set_enabled(on)
        _enabled = bool(on)


_CODES: dict[str, str] = {"bool": "A_NP_BOOL", "int8": "A_NP_I8", "int16": "A_NP_I16",
                          "int32": "A_NP_I32", "int64": "A_NP_I64", "uint8": "A_NP_U8",
                          "uint16": "A_NP_U16", "uint32": "A_NP_U32", "uint64": "A_NP_U64",
                          "float32": "A_NP_F32", "float64": "A_NP_F64"}
_PYTHON_CODES = {"int": "A_INT", "float": "A_FLOAT", "bool": "A_BOOL"}


def _code(name: str) -> int:
    return getattr(_dispatch, name)


def _guard(t: JitType, stored: bool) -> tuple[int, Any, int, int, int]:
    if isinstance(t, Array):
        required = ALIGNED | (C_CONTIGUOUS if t.contig else 0) | (WRITEABLE if stored else 0)
        return (_code("A_ARRAY"), np.dtype(t.dtype), t.ndim, required,
                0 if t.contig else C_CONTIGUOUS)
    assert isinstance(t, Scalar) and t.np is not None
    if t.np is False:
        return _code(_PYTHON_CODES[t.kind]), None, 0, 0, 0
    return _code(_CODES[t.dtype]), np.dtype(t.dtype).type, 0, 0, 0


def _result(t: Scalar) -> tuple[int, int, int, Any]:
    np_mode = {False: 0, True: 1, None: 2}[t.np]
    if not np_mode:
        return _code(_PYTHON_CODES[t.kind]), 0, 0, None
    return (_code(_PYTHON_CODES[t.kind]), np_mode, _code(_CODES[t.dtype]),
            np.dtype(t.dtype).type)


def make_entry(version: Any, argtypes: tuple[JitType, ...], stored: list[int],
               nogil: bool) -> Any | None:
    """The C entry for a compiled version, or None where only Python can call it (no
    packed entry point, arrays to snapshot before the call, too many arguments, a
    complex result)."""
    result = version.result
    if REASON or result.packed_address is None or version.snapshot is not None:
        return None
    rt = result.typed.return_type
    scalars = list(rt.items) if isinstance(rt, Tuple) else [rt] if isinstance(rt, Scalar) else []
    if any(t.kind == "complex" for t in scalars):  # boxed by the Python path only
        return None
    if len(argtypes) > _dispatch.MAX_ARGS or len(scalars) > _dispatch.MAX_RESULTS:
        return None
    guards = tuple(_guard(t, i in stored) for i, t in enumerate(argtypes))
    return _dispatch.Entry(version, result.packed_address, guards,
                           tuple(map(_result, scalars)), isinstance(rt, Tuple),
                           isinstance(rt, NoneType), nogil)
