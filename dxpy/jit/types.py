"""The JIT's type lattice and the mapping from Python values to it.

Why a ``np`` flag on scalars: CPython gives Python ``int``/``float`` and
NumPy scalars different semantics (``1.0 / 0.0`` raises, ``np.float64(1) /
0.0`` is ``inf``; Python ints never overflow, ``np.int8`` wraps) and
different result types.  A NumPy scalar carries its dtype (``int8`` ...
``uint64``, ``float32``, ``float64``, ``bool``).  A value read from an array
is a NumPy scalar, and ``s = 0.0; s += a[i]`` turns a Python float into one,
so a local can hold either: its ``np`` is then ``None`` and the generated
code carries a one-bit runtime tag beside the unboxed value (``int`` or
``np.int32``, ``float`` or ``np.float32``: one Python type, one dtype).
Mixing ``int`` with ``float`` (or ``bool`` with ``int``, or two dtypes) in
one variable is *not* unified: CPython would return different types, so
such code is rejected and runs in Python.

Representation: every integer dtype lives in an i64 (a ``uint64`` value of
2**63 or more deoptimises where it is read), ``float32`` in an LLVM float
(a tagged one in a double: it may hold a Python float), Python floats and
``float64`` in a double, bools in an i1, a complex in a pair of doubles (of
floats for ``complex64``; ``complexes``).
"""

from __future__ import annotations

import operator
import warnings
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1


class JitTypeError(Exception):
    """The code is outside the compiled subset for this signature (it then runs in Python)."""


class JitFallbackWarning(RuntimeWarning):
    """A ``@dxpy.jit`` signature runs in CPython (same results, CPython's speed): the
    message names the construct.  Issued once per function and reason."""


@dataclass(frozen=True)
class DType:
    """What the JIT needs of a NumPy dtype: kind, storage bits, signedness, value range."""

    name: str
    kind: str  # "bool" | "int" | "float" | "complex"
    bits: int
    signed: bool = True

    @property
    def lo(self) -> int:
        return -(1 << (self.bits - 1)) if self.signed else 0

    @property
    def hi(self) -> int:
        """The largest value the JIT holds (uint64 stops at int64's maximum)."""
        return min((1 << (self.bits - 1 if self.signed else self.bits)) - 1, INT64_MAX)

    @property
    def mantissa(self) -> int:
        """Significand bits of a float dtype: integers up to 2**mantissa convert exactly."""
        return {32: 24, 64: 53}[self.bits]


DTYPES: dict[str, DType] = {d.name: d for d in (
    DType("bool", "bool", 8), DType("int8", "int", 8), DType("int16", "int", 16),
    DType("int32", "int", 32), DType("int64", "int", 64),
    DType("uint8", "int", 8, False), DType("uint16", "int", 16, False),
    DType("uint32", "int", 32, False), DType("uint64", "int", 64, False),
    DType("float32", "float", 32), DType("float64", "float", 64),
    DType("complex64", "complex", 64), DType("complex128", "complex", 128))}
#: the dtype of a NumPy scalar that may be tagged against the Python type of its kind.
DEFAULT_DTYPE = {"int": "int64", "float": "float64", "bool": "bool", "complex": "complex128"}


@dataclass(frozen=True)
class Scalar:
    """An unboxed scalar: ``kind`` is int/float/bool; ``np`` True/False, or None (runtime
    tag); ``dtype`` names the NumPy alternative (empty for a Python-only scalar)."""

    kind: str
    np: bool | None = False
    dtype: str = ""

    def __post_init__(self) -> None:
        if self.np is False:
            object.__setattr__(self, "dtype", "")
        elif not self.dtype:
            object.__setattr__(self, "dtype", DEFAULT_DTYPE[self.kind])

    def __str__(self) -> str:
        if self.np is False:
            return self.kind
        if self.np is None:
            return f"{self.kind}|np.{self.dtype}"
        return f"np.{self.dtype}"

    @property
    def info(self) -> DType | None:
        """The NumPy dtype's details (None for a Python scalar)."""
        return DTYPES[self.dtype] if self.dtype else None

    @property
    def single(self) -> bool:
        """Whether this is a ``float32`` (stored in an LLVM float)."""
        return self.np is True and self.dtype == "float32"


@dataclass(frozen=True)
class Array:
    """A strided NumPy array: data pointer, shape and strides, never copied."""

    dtype: str  # a DTYPES name
    ndim: int
    contig: bool = False  # C-contiguous: index arithmetic without strides (vectorises)

    def __str__(self) -> str:
        return f"array({self.dtype}, {self.ndim}d{', C' if self.contig else ''})"

    @property
    def element(self) -> Scalar:
        return Scalar(DTYPES[self.dtype].kind, True, self.dtype)


@dataclass(frozen=True)
class Tuple:
    """A tuple of scalars (return values, ``a.shape``, unpacking): one register each."""

    items: tuple[Scalar, ...]

    def __str__(self) -> str:
        return "(" + ", ".join(map(str, self.items)) + ")"


@dataclass(frozen=True)
class List:
    """A list local of fixed length holding scalars of one type (``[0.0] * 4``,
    ``[a, b, c]``), read and written by index, iterated, ``len``-ed, and never leaving
    the function (``lists``): it lives on the stack, or in registers where its indices
    are constants, and is never allocated."""

    item: Scalar
    size: int

    def __str__(self) -> str:
        return f"list[{self.item}] * {self.size}"


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
COMPLEX = Scalar("complex")
BOOL = Scalar("bool")
NONE = NoneType()
BOTTOM = Bottom()

JitType = Scalar | Array | Tuple | List | NoneType | Bottom

MAX_NDIM = 3
#: NumPy scalar type -> JIT type, for every dtype the JIT compiles.
_NP_SCALARS: dict[type, Scalar] = {np.dtype(name).type: Scalar(d.kind, True, name)
                                   for name, d in DTYPES.items()}
#: (dtype, ndim, C-contiguous) -> Array: every array type there is, made once (building
#: one per call cost more than the lookup).
_ARRAY_TYPES = {(np.dtype(name), ndim, contig): Array(name, ndim, contig)
                for name in DTYPES for ndim in range(1, MAX_NDIM + 1)
                for contig in (False, True)}


def typeof(value: Any) -> JitType | None:
    """The JIT type of an argument, or None when it must run in Python."""
    cls = type(value)
    if cls is int:
        return INT if INT64_MIN <= value <= INT64_MAX else None
    if cls is float:
        return FLOAT
    if cls is complex:
        return COMPLEX
    if cls is bool:
        return BOOL
    scalar = _NP_SCALARS.get(cls)
    if scalar is not None:
        return scalar
    if cls is np.ndarray:
        flags = value.flags
        if not flags.aligned:
            return None  # loads of the dtype's natural alignment would be wrong
        return _ARRAY_TYPES.get((value.dtype, value.ndim, flags.c_contiguous))
    return None


def scalar_of_numpy_type(cls: type) -> Scalar:
    """The JIT type of a NumPy scalar type (JitTypeError for complex and friends)."""
    scalar = _NP_SCALARS.get(cls)
    if scalar is None:
        raise JitTypeError(f"NumPy type {cls.__name__}")
    return scalar


def unify(a: JitType, b: JitType, what: str) -> JitType:
    """The type a variable holding either ``a`` or ``b`` gets, or JitTypeError."""
    if isinstance(a, Bottom):
        return b
    if isinstance(b, Bottom) or a == b:
        return a
    if isinstance(a, Scalar) and isinstance(b, Scalar) and a.kind == b.kind:
        dtypes = {t.dtype for t in (a, b) if t.np is not False}
        # a Python scalar or a NumPy one of one dtype (complex: only complex128, which
        # has the Python complex's representation; complex64 computes in float32)
        if len(dtypes) == 1 and dtypes != {"complex64"}:
            return Scalar(a.kind, None, dtypes.pop())
    if isinstance(a, List) and isinstance(b, List) and a.size == b.size:
        return List(unify(a.item, b.item, what), a.size)  # type: ignore[arg-type]
    if isinstance(a, Tuple) and isinstance(b, Tuple) and len(a.items) == len(b.items):
        return Tuple(tuple(unify(x, y, what) for x, y in zip(a.items, b.items)))  # type: ignore[misc]
    raise JitTypeError(f"{what} would hold both {a} and {b}")


def alternatives(t: Scalar) -> list[Scalar]:
    """The static types a scalar may have at run time (two for a tagged one)."""
    if t.np is None:
        return [Scalar(t.kind), Scalar(t.kind, True, t.dtype)]
    return [t]


def _python_result(op: str, a: Scalar, b: Scalar) -> Scalar:
    if "complex" in (a.kind, b.kind):
        return COMPLEX
    if op == "/":
        return FLOAT
    return FLOAT if "float" in (a.kind, b.kind) else INT


def sample(t: Scalar) -> Any:
    """A value of type ``t`` (one), to ask NumPy what an operation on it returns."""
    if t.np is False:
        return {"int": 1, "float": 1.0, "bool": True, "complex": 1j}[t.kind]
    return np.dtype(t.dtype).type(1)


ARITH: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
    "//": operator.floordiv, "%": operator.mod, "**": operator.pow}


def _static_result(op: str, a: Scalar, b: Scalar) -> Scalar:
    if a.np is False and b.np is False:
        return _python_result(op, a, b)
    for x, y in ((a, b), (b, a)):  # NumPy takes another loop for these (signed zeros
        if x.np is not False and x.kind != "complex" and y.np is False \
                and y.kind == "complex":  # differ): left to it
            raise JitTypeError(f"{a} {op} {b}: a NumPy real with a Python complex")
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            value = ARITH[op](sample(a), sample(b))
        except TypeError as exc:
            raise JitTypeError(f"{a} {op} {b}: {exc}") from exc
    return scalar_of_numpy_type(type(value))


def binop_result(op: str, a: Scalar, b: Scalar) -> Scalar:
    """The type of ``a <op> b`` as CPython and NumPy (NEP 50: Python scalars are weak)
    give it; for tagged operands every combination must agree up to the tag.  On
    complex operands only + - * / compile (``//`` and ``%`` raise TypeError; ``**`` has
    CPython's own algorithm, left to it)."""
    if "complex" in (a.kind, b.kind) and op not in ("+", "-", "*", "/"):
        raise JitTypeError(f"{a} {op} {b} on complex numbers")
    results = {_static_result(op, x, y) for x in alternatives(a) for y in alternatives(b)}
    out: JitType = BOTTOM
    for r in results:
        out = unify(out, r, f"the result of {a} {op} {b}")
    assert isinstance(out, Scalar)
    return out


def compare_domain(a: Scalar, b: Scalar) -> DType | None:
    """Where NumPy compares ``a`` with ``b``: None for exact comparison (Python scalars,
    and NumPy integers against Python ints), else the dtype both are converted to."""
    if a.np is not True and b.np is not True:
        return None
    if a.np is True and b.np is True:
        common = np.result_type(np.dtype(a.dtype), np.dtype(b.dtype))
        if common.kind != "f":
            return None  # integers and bools of any widths: exact in i64
        return DTYPES[common.name if "float" in (a.kind, b.kind) else "float64"]
    numpy_side, python_side = (a, b) if a.np is True else (b, a)
    if numpy_side.kind == "float":
        return DTYPES[numpy_side.dtype]  # the weak Python scalar becomes that float
    return DTYPES["float64"] if python_side.kind == "float" else None
