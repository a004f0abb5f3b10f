"""Array elements: where ``a[i, j]`` is, and loading and storing it as its dtype.

Why stores deoptimise instead of converting in every case: NumPy's item
assignment converts a value the way ``int()``/``float()`` would and then
refuses (OverflowError) or warns where it does not fit the dtype; the
compiled store does the conversions that are exact or rounded the same way
(ints that fit, floats truncated to ints in range, floats rounded to float32
without overflow, truth values into bool arrays) and leaves the rest to
CPython, which then raises or warns exactly as NumPy does.
"""

from __future__ import annotations

from dataclasses import dataclass

from llvmlite import ir

from . import complexes
from .ops import ELEMENT_TYPES, F32, F64, I8, I64, TRUE, Ops, Val
from .types import DTYPES, Array, JitTypeError, Scalar


@dataclass
class ArrayVal:
    """An array: data pointer and per-axis shape and byte strides."""

    t: Array
    data: ir.Value
    shape: list[ir.Value]
    strides: list[ir.Value]


def element_address(ops: Ops, arr: ArrayVal, raw: list[ir.Value], exact: bool) -> ir.Value:
    """Address of the element at indices ``raw`` (already evaluated, as CPython does
    before checking any): negative indices wrap; out of bounds raises IndexError (in
    place when ``exact``, else by deoptimising)."""
    b = ops.b
    idx = [ops.check_index(i, size, axis, exact)
           for axis, (i, size) in enumerate(zip(raw, arr.shape))]
    elem = ir.PointerType(ELEMENT_TYPES[arr.t.dtype])
    if arr.t.contig:  # row-major flat index: no strides, so loops vectorise
        flat = idx[0]
        for i, size in zip(idx[1:], arr.shape[1:]):
            flat = b.add(b.mul(flat, size), i)
        return b.gep(b.bitcast(arr.data, elem), [flat], inbounds=True)
    offset: ir.Value = ir.Constant(I64, 0)
    for i, stride in zip(idx, arr.strides):
        offset = b.add(offset, b.mul(i, stride))
    return b.bitcast(b.gep(arr.data, [offset], inbounds=True), elem)


def load_element(ops: Ops, arr: Array, ptr: ir.Value) -> Val:
    """The element at ``ptr`` as the NumPy scalar it is (integers widened to i64; a
    uint64 of 2**63 or more deoptimises: the JIT keeps unsigned values in an i64)."""
    return widen(ops, arr.dtype, ops.b.load(ptr))


def widen(ops: Ops, dtype: str, raw: ir.Value) -> Val:
    """A value of ``dtype``'s memory type as the NumPy scalar the JIT holds."""
    b = ops.b
    info = DTYPES[dtype]
    if info.kind == "complex":
        return Val(raw, Scalar("complex", True, dtype), TRUE)
    if info.kind == "bool":
        value = b.icmp_unsigned("!=", raw, ir.Constant(I8, 0))
    elif info.kind == "int" and info.bits < 64:
        value = b.sext(raw, I64) if info.signed else b.zext(raw, I64)
    elif info.kind == "int" and not info.signed:
        ops.guard(b.icmp_signed("<", raw, ir.Constant(I64, 0)))
        value = raw
    else:
        value = raw
    return Val(value, Scalar(info.kind, True, dtype), TRUE)


def convert(ops: Ops, val: Val, dtype: str) -> Val:
    """``np.<dtype>(val)``: the conversion an element store does, as a scalar."""
    return widen(ops, dtype, element_value(ops, dtype, val))


def store_element(ops: Ops, arr: Array, ptr: ir.Value, val: Val) -> None:
    """``a[...] = val`` with NumPy's conversion, or a deopt where it would not fit."""
    ops.b.store(element_value(ops, arr.dtype, val), ptr)


def element_value(ops: Ops, dtype: str, val: Val) -> ir.Value:
    """``val`` converted to an element of ``dtype`` (its memory type)."""
    b = ops.b
    info = DTYPES[dtype]
    ty = ELEMENT_TYPES[dtype]
    if info.kind == "complex":
        return complexes.convert(ops, val, dtype).v
    if val.t.kind == "complex":  # NumPy raises TypeError or drops the imaginary part
        raise JitTypeError(f"a complex number stored as {dtype}")
    if info.kind == "bool":
        return b.zext(ops.truth(val), I8)
    if info.kind == "int":
        if val.t.kind == "float":  # int(x): truncation; NaN and out of range deoptimise
            x = ops.to_float(val)
            above = b.fcmp_ordered(">", x, ir.Constant(F64, float(info.lo) - 1.0))
            below = b.fcmp_ordered("<", x, ir.Constant(F64, float(info.hi) + 1.0))
            ops.guard(b.not_(b.and_(above, below)))
            i = b.fptosi(x, I64)
        else:
            i = ops.to_int(val)
            if not (val.t.np is True and val.t.dtype == dtype):  # else in range already
                ops.guard(b.not_(ops.in_range(i, info)))
        return b.trunc(i, ty) if info.bits < 64 else i
    if val.t.kind == "float":
        if info.bits == 64 or val.t.single:
            return ops.to_float(val) if info.bits == 64 else val.v
        narrow = b.fptrunc(val.v, F32)  # rounds as NumPy's cast; overflow warns there
        ops.guard(b.and_(ops.is_finite(val.v), b.not_(ops.is_finite(narrow))))
        return narrow
    if val.t.kind == "bool":
        return b.uitofp(val.v, ty)
    if info.bits == 32:  # an integer beyond 2**24 would round twice in NumPy's conversion
        ops.guard(b.not_(ops.int_fits_mantissa(val.v, 24)))
    return b.sitofp(val.v, ty)


def max_dim(dtype: str) -> int:
    """An upper bound of any axis of an array of ``dtype``: NumPy refuses arrays of more
    than PY_SSIZE_T_MAX bytes ("array is too big", checked even when another axis is 0).
    Told to LLVM, it lets it drop overflow and bounds checks on index arithmetic."""
    return ((1 << 63) - 1) // max(1, DTYPES[dtype].bits // 8)

