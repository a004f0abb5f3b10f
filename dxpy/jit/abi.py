"""The calling conventions of compiled code, and how NumPy arrays cross them.

Three conventions, one body each function:
- the *body*, ``{i8 status, results...} f.body(params..., i64* err)`` (internal,
  ``fastcc``): what compiled functions call; results come back in registers.
- the *entry*, ``i32 f(params..., i64* ret)``: what the cffi fallback calls, one
  C parameter per flattened argument.
- the *packed entry*, ``i32 f.packed(i64* args, i64* ret)``: what the C dispatcher
  (``_dispatch.c``) calls: one 64-bit word per argument (an int, a double's bits,
  or a NumPy array object's address), whatever the signature, so one C call site
  serves every compiled function.
The status is 0 (result in ``ret``), 1 (deoptimise: re-run the call in CPython)
or 2 (raise IndexError, details in ``ret``); the result occupies two i64 slots
per scalar (value bits, NumPy tag).

Parameters are flattened the same way everywhere: an int or bool is an i64, a
float a double (a float32 is narrowed inside: exact, it was one), a scalar whose
NumPy tag is decided at run time adds an i1 tag, and an array is ``(i8* data,
shape..., strides...)`` per axis (byte strides straight from NumPy, no copy).
"""

from __future__ import annotations

import ctypes
from typing import Callable

import numpy as np
from llvmlite import ir

from .ops import AXIS_SHIFT, F64, I1, I8, I32, I64, STATUS, Val, llvm_type
from .types import Array, JitType, JitTypeError, Scalar, Tuple

I8P = ir.PointerType(I8)


def abi_params(t: JitType) -> list[ir.Type]:
    """The flattened LLVM parameters for one argument of type ``t`` (entry and body)."""
    if isinstance(t, Array):
        return [I8P] + [I64] * (2 * t.ndim)
    if isinstance(t, Scalar):
        if t.kind == "complex":
            return [F64, F64]
        base = F64 if t.kind == "float" else I64
        return [base, I1] if t.np is None else [base]
    raise JitTypeError(f"parameter of type {t}")


def flat_params(argtypes: tuple[JitType, ...]) -> list[ir.Type]:
    params: list[ir.Type] = []
    for t in argtypes:
        params.extend(abi_params(t))
    return params


def function_type(argtypes: tuple[JitType, ...]) -> ir.FunctionType:
    """The entry point's type: its parameters (arrays as objects), then the result pointer."""
    params: list[ir.Type] = []
    for t in argtypes:
        by_object = isinstance(t, Array) and ARRAY_LAYOUT is not None
        params.extend([I8P] if by_object else abi_params(t))
    return ir.FunctionType(I32, params + [ir.PointerType(I64)])


PACKED_TYPE = ir.FunctionType(I32, [ir.PointerType(I64), ir.PointerType(I64)])


def packable(argtypes: tuple[JitType, ...]) -> bool:
    """Whether the packed entry can take these arguments: one word each (no tagged
    scalars, which arguments never are; arrays only as objects)."""
    return ARRAY_LAYOUT is not None and all(
        isinstance(t, Array) or (isinstance(t, Scalar) and t.np is not None
                                 and t.kind != "complex")  # a complex takes two words
        for t in argtypes)


def _array_layout() -> tuple[int, int, int] | None:
    """Byte offsets of ``data``, ``dimensions`` and ``strides`` in a NumPy array object.

    Why: the entry point then takes each array as the object itself and reads these
    fields in machine code, instead of the dispatcher computing ``ndarray.ctypes.data``,
    shape and strides in Python (~6 us a call for two arrays).  The fields follow
    ``PyObject_HEAD`` in ``PyArrayObject_fields`` (NumPy's C ABI: ``char *data; int nd;
    npy_intp *dimensions; npy_intp *strides``); the offsets are found and checked on a
    probe array, and None (arrays passed field by field) if anything does not match.
    """
    probe = np.zeros((3, 5))[:, ::2]  # shape (3, 3), strides (40, 16): all distinct
    words = (ctypes.c_uint64 * 12).from_address(id(probe))
    for slot in range(2, 8):
        if words[slot] != probe.ctypes.data:
            continue
        data, nd, dims, strides = (8 * (slot + k) for k in range(4))
        if ctypes.c_int.from_address(id(probe) + nd).value != probe.ndim:
            return None
        for offset, want in ((dims, probe.shape), (strides, probe.strides)):
            pointer = words[offset // 8]
            if not pointer or tuple((ctypes.c_int64 * 2).from_address(pointer)) != want:
                return None
        return data, dims, strides
    return None


ARRAY_LAYOUT = _array_layout()


def entry_cdecl(argtypes: tuple[JitType, ...]) -> list[str]:
    """The C parameter types of an entry point (before the result pointer), for cffi.

    An array is one ``intptr_t``, its object's address (``id``), when the entry
    reads the ``PyArrayObject`` itself; otherwise its data pointer (also passed as
    an ``intptr_t``: the same register as ``i8*``), shape and byte strides."""
    out: list[str] = []
    for t in argtypes:
        if isinstance(t, Array):
            out += ["intptr_t"] if ARRAY_LAYOUT else ["intptr_t"] + ["int64_t"] * (2 * t.ndim)
        elif isinstance(t, Scalar) and t.kind == "complex":
            out += ["double", "double"]
        elif isinstance(t, Scalar):
            out.append("double" if t.kind == "float" else "int64_t")
    return out


def entry_flattener(argtypes: tuple[JitType, ...]
                    ) -> Callable[[tuple[object, ...]], list] | None:
    """Argument objects -> entry point arguments when arrays go field by field (pointer,
    shape, byte strides: their layout is unknown); None when the entry takes scalars as
    they are and arrays as their addresses (``id``, written in by the dispatcher)."""
    arrays = frozenset(i for i, t in enumerate(argtypes) if isinstance(t, Array))
    complexes = frozenset(i for i, t in enumerate(argtypes)
                          if isinstance(t, Scalar) and t.kind == "complex")
    if not complexes and (not arrays or ARRAY_LAYOUT is not None):
        return None

    def flatten(args: tuple[object, ...]) -> list:
        out: list = []
        for i, a in enumerate(args):
            if i in complexes:
                out += [a.real, a.imag]  # type: ignore[attr-defined]
            elif i not in arrays:
                out.append(a)
            elif ARRAY_LAYOUT is not None:
                out.append(id(a))
            else:
                out += [a.ctypes.data, *a.shape, *a.strides]  # type: ignore[attr-defined]
        return out
    return flatten


def result_scalars(t: JitType) -> list[Scalar]:
    """The scalars a function returns, in order (none for ``None``)."""
    if isinstance(t, Tuple):
        return list(t.items)
    return [t] if isinstance(t, Scalar) else []


def body_result_type(t: JitType) -> ir.LiteralStructType:
    """``{i8 status, value (, i1 tag if decided at run time)...}``: returned in registers."""
    fields: list[ir.Type] = [STATUS]
    for item in result_scalars(t):
        fields.append(llvm_type(item))
        if item.np is None:
            fields.append(I1)
    return ir.LiteralStructType(fields)


def unbox_array(b: ir.IRBuilder, obj: ir.Value, ndim: int) -> list[ir.Value]:
    """``(data, shape..., strides...)`` read from a NumPy array object."""
    assert ARRAY_LAYOUT is not None
    data_at, dims_at, strides_at = ARRAY_LAYOUT
    i64p = ir.PointerType(I64)

    def field(offset: int, ty: ir.Type) -> ir.Value:
        return b.load(b.bitcast(b.gep(obj, [ir.Constant(I64, offset)]), ir.PointerType(ty)))

    data = field(data_at, I8P)
    dims, strides = field(dims_at, i64p), field(strides_at, i64p)
    shape = [b.load(b.gep(dims, [ir.Constant(I64, k)])) for k in range(ndim)]
    steps = [b.load(b.gep(strides, [ir.Constant(I64, k)])) for k in range(ndim)]
    return [data, *shape, *steps]


def unpack_results(b: ir.IRBuilder, packed: ir.Value, rt: JitType) -> list[Val]:
    """The scalars of a body's ``{i8 status, results...}`` as values with their tags."""
    vals = []
    field = 1
    for t in result_scalars(rt):
        value = b.extract_value(packed, field)
        field += 1
        tag: ir.Value = ir.Constant(I1, 1 if t.np else 0)
        if t.np is None:
            tag = b.extract_value(packed, field)
            field += 1
        vals.append(Val(value, t, tag))
    return vals


def index_error(index: int, packed: int) -> IndexError:
    """NumPy's IndexError from the two error slots an entry point filled (status 2)."""
    axis, size = packed >> AXIS_SHIFT, packed & ((1 << AXIS_SHIFT) - 1)
    return IndexError(f"index {index} is out of bounds for axis {axis} with size {size}")


def result_slots(t: Scalar) -> int:
    """How many i64 result slots scalar ``t`` takes: (value, tag), or for a complex
    (real part, imaginary part, tag)."""
    return 3 if t.kind == "complex" else 2


def write_result(b: ir.IRBuilder, ptr: ir.Value, slot: int, val: Val) -> None:
    """Store a scalar of an entry point's result from i64 slot ``slot`` on: value bits
    (both parts' for a complex), then its NumPy tag."""
    def put(k: int, bits: ir.Value) -> None:
        b.store(bits, b.gep(ptr, [ir.Constant(I64, slot + k)]))

    bits = val.v
    if val.t.kind == "complex":
        for k in range(2):
            part = b.extract_value(val.v, k)
            put(k, b.bitcast(b.fpext(part, F64) if part.type != F64 else part, I64))
        put(2, b.zext(val.tag, I64))
        return
    if val.t.kind == "float":
        bits = b.bitcast(b.fpext(bits, F64) if val.t.single else bits, I64)
    elif val.t.kind == "bool":
        bits = b.zext(bits, I64)
    put(0, bits)
    put(1, b.zext(val.tag, I64))
