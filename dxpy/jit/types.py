"""The JIT's type lattice and the mapping from Python values to it.

Why a ``np`` flag on scalars: CPython gives Python ``int``/``float`` and
NumPy ``int64``/``float64`` different semantics (``1.0 / 0.0`` raises,
``np.float64(1) / 0.0`` is ``inf``; Python ints never overflow, ``np.int64``
wraps) and different result types.  A value read from an array is a NumPy
scalar, and ``s = 0.0; s += a[i]`` turns a Python float into one, so a local
can hold either: its ``np`` is then ``None`` and the generated code carries a
one-bit runtime tag beside the unboxed value.  Mixing ``int`` with ``float``
(or ``bool`` with ``int``) in one variable is *not* unified: CPython would
return different types, so such code is rejected and runs in Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1


class JitTypeError(Exception):
    """The code is outside the compiled subset for this signature (it then runs in Python)."""


class JitFallbackWarning(RuntimeWarning):
    """A ``@dxpy.jit`` signature runs in CPython (same results, CPython's speed): the
    message names the construct.  Issued once per function and reason."""


@dataclass(frozen=True)
class Scalar:
    """An unboxed scalar: ``kind`` is int/float/bool; ``np`` True/False, or None (runtime tag)."""

    kind: str
    np: bool | None = False

    def __str__(self) -> str:
        tag = {False: "", True: "np.", None: "?"}[self.np]
        return f"{tag}{self.kind}"


@dataclass(frozen=True)
class Array:
    """A strided NumPy array argument: data pointer, shape and strides, never copied."""

    dtype: str  # "int" or "float" (int64 / float64)
    ndim: int
    contig: bool = False  # C-contiguous: index arithmetic without strides (vectorises)

    def __str__(self) -> str:
        return f"array({self.dtype}64, {self.ndim}d{', C' if self.contig else ''})"

    @property
    def element(self) -> Scalar:
        return Scalar(self.dtype, True)


@dataclass(frozen=True)
class Tuple:
    """A tuple of scalars (return values and ``a.shape``)."""

    items: tuple[Scalar, ...]

    def __str__(self) -> str:
        return "(" + ", ".join(map(str, self.items)) + ")"


@dataclass(frozen=True)
class NoneType:
    """The value of a function without ``return <expr>``."""

    def __str__(self) -> str:
        return "None"


@dataclass(frozen=True)
class Bottom:
    """Not yet known (a recursive call whose return type is still being inferred)."""

    def __str__(self) -> str:
        return "?"


INT = Scalar("int")
FLOAT = Scalar("float")
BOOL = Scalar("bool")
NONE = NoneType()
BOTTOM = Bottom()

JitType = Scalar | Array | Tuple | NoneType | Bottom

_ARRAY_KINDS = {np.dtype(np.float64): "float", np.dtype(np.int64): "int"}


def typeof(value: Any) -> JitType | None:
    """The JIT type of an argument, or None when it must run in Python."""
    cls = type(value)
    if cls is int:
        return INT if INT64_MIN <= value <= INT64_MAX else None
    if cls is float:
        return FLOAT
    if cls is bool:
        return BOOL
    if cls is np.float64:
        return Scalar("float", True)
    if cls is np.int64:
        return Scalar("int", True)
    if cls is np.ndarray:
        return _ARRAY_TYPES.get((value.dtype, value.ndim, value.flags.c_contiguous))
    return None


#: every array type there is, made once: building one per call cost more than the lookup.
_ARRAY_TYPES = {(dtype, ndim, contig): Array(kind, ndim, contig)
                for dtype, kind in _ARRAY_KINDS.items() for ndim in (1, 2)
                for contig in (False, True)}


def unify(a: JitType, b: JitType, what: str) -> JitType:
    """The type a variable holding either ``a`` or ``b`` gets, or JitTypeError."""
    if isinstance(a, Bottom):
        return b
    if isinstance(b, Bottom) or a == b:
        return a
    if isinstance(a, Scalar) and isinstance(b, Scalar) and a.kind == b.kind:
        return Scalar(a.kind, None)
    if isinstance(a, Tuple) and isinstance(b, Tuple) and len(a.items) == len(b.items):
        return Tuple(tuple(unify(x, y, what) for x, y in zip(a.items, b.items)))  # type: ignore[misc]
    raise JitTypeError(f"{what} would hold both {a} and {b}")


def numeric_result(a: Scalar, b: Scalar) -> Scalar:
    """The type of ``a <arith> b`` for + - * // % (bools count as ints; NumPy wins)."""
    kind = "float" if "float" in (a.kind, b.kind) else "int"
    if a.np is True or b.np is True:
        npflag: bool | None = True
    elif a.np is None or b.np is None:
        npflag = None
    else:
        npflag = False
    return Scalar(kind, npflag)
