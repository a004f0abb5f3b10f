"""Small fixed arrays: ``np.zeros``/``np.ones``/``np.empty`` of a constant shape, local.

    acc = np.zeros(8)                  # or np.ones((3, 3), np.int32), dtype=np.float32
    for x in a:
        acc[int(x) % 8] += 1.0
    return acc.sum() ... acc[0]        # reads, writes, len, .shape, loops, sum/min/max

Why on the stack: the array is made in the function and cannot leave it (an array
is never returned, a local name cannot be rebound to another array, and a compiled
callee it is passed to cannot keep it), so its storage is an ``alloca`` of the
exact byte size, described to the rest of the lowering as an ordinary C-contiguous
``ArrayVal`` (constant shape and strides): element reads and writes keep NumPy's
dtype semantics, and nothing is allocated.  Why a constant shape and at most
``MAX_BYTES``: the stack slot's size is fixed at compile time, and the stack is
small.  ``np.empty`` is zero-filled (its contents are unspecified in NumPy: zeros
are one of them, and an uninitialised slot would let LLVM assume anything).

The name must be assigned once, by a statement of the function's own top level
that comes before every use, so the array always exists where it is used.
"""

from __future__ import annotations

import ast
from typing import Any, Callable

import numpy as np
from llvmlite import ir

from .elements import ArrayVal, store_element
from .ops import ELEMENT_TYPES, I8, I64, Ops, Val
from .types import DTYPES, Array, JitTypeError, Scalar

CONSTRUCTORS = ("zeros", "ones", "empty")
MAX_BYTES = 1 << 16
#: the builtins NumPy accepts as a dtype: their dtypes.
_BUILTIN_DTYPES = {"float": "float64", "int": "int64", "bool": "bool"}


def constructor(e: ast.expr, globals_: dict[str, Any]) -> tuple[str, tuple[int, ...], str] | None:
    """``(kind, shape, dtype)`` when ``e`` is ``np.zeros/ones/empty(shape[, dtype])`` on
    the real ``numpy`` module; JitTypeError if it is one but not a compilable one."""
    if not (isinstance(e, ast.Call) and isinstance(e.func, ast.Attribute)
            and isinstance(e.func.value, ast.Name) and globals_.get(e.func.value.id) is np
            and e.func.attr in CONSTRUCTORS):
        return None
    dtype_nodes = list(e.args[1:]) + [k.value for k in e.keywords if k.arg == "dtype"]
    if not e.args or len(e.args) > 2 or any(k.arg != "dtype" for k in e.keywords) \
            or len(dtype_nodes) > 1:
        raise JitTypeError(f"np.{e.func.attr}() other than (shape[, dtype])")
    shape = _shape(e.args[0])
    dtype = _dtype(dtype_nodes[0], globals_) if dtype_nodes else "float64"
    size = int(np.prod(shape)) * max(1, DTYPES[dtype].bits // 8)
    if size > MAX_BYTES:
        raise JitTypeError(f"np.{e.func.attr}{shape}: {size} bytes on the stack (at most "
                           f"{MAX_BYTES})")
    return e.func.attr, shape, dtype


def _shape(node: ast.expr) -> tuple[int, ...]:
    items = node.elts if isinstance(node, ast.Tuple) else [node]
    shape = []
    for item in items:
        if not (isinstance(item, ast.Constant) and type(item.value) is int and item.value >= 0):
            raise JitTypeError("a local array's shape must be constant non-negative ints")
        shape.append(item.value)
    if not 1 <= len(shape) <= 3:
        raise JitTypeError(f"a {len(shape)}-d local array")
    return tuple(shape)


def _dtype(node: ast.expr, globals_: dict[str, Any]) -> str:
    """The dtype named by ``float``/``int``/``bool`` (unshadowed) or ``np.<name>``."""
    if isinstance(node, ast.Name) and node.id in _BUILTIN_DTYPES and node.id not in globals_:
        return _BUILTIN_DTYPES[node.id]
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
            and globals_.get(node.value.id) is np:
        try:
            name = np.dtype(getattr(np, node.attr)).name
        except (AttributeError, TypeError):
            name = ""
        if name in DTYPES:
            return name
    raise JitTypeError(f"a local array's dtype must be np.<dtype> or float/int/bool, "
                       f"not {ast.unparse(node)}")


def check_single_assignment(fn: ast.FunctionDef, name: str) -> None:
    """Refuse a local array name assigned twice, below the top level, or used before
    its assignment (see the module docstring)."""
    stores = [n for n in ast.walk(fn) if isinstance(n, ast.Name) and n.id == name
              and isinstance(n.ctx, ast.Store)]
    top = [s for s in fn.body if isinstance(s, ast.Assign) and len(s.targets) == 1
           and isinstance(s.targets[0], ast.Name) and s.targets[0].id == name]
    if len(stores) != 1 or len(top) != 1:
        raise JitTypeError(f"local array {name!r} must be assigned once, at the function's "
                           "top level")
    first_use = min((n.lineno, n.col_offset) for n in ast.walk(fn) if isinstance(n, ast.Name)
                    and n.id == name and isinstance(n.ctx, ast.Load)) \
        if any(isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load)
               for n in ast.walk(fn)) else None
    end = (top[0].end_lineno or top[0].lineno, top[0].end_col_offset or 0)
    if first_use is not None and first_use < end:
        raise JitTypeError(f"local array {name!r} used before its assignment")


def storage(alloca: Callable[[ir.Type, str], ir.Value], b: ir.IRBuilder, t: Array,
            shape: tuple[int, ...], name: str) -> ArrayVal:
    """The stack slot of a local array and its description as an ``ArrayVal``."""
    itemsize = max(1, DTYPES[t.dtype].bits // 8)
    count = int(np.prod(shape))
    slot = alloca(ir.ArrayType(I8, max(1, count * itemsize)), name)
    slot.align = 16
    data = b.bitcast(slot, ir.PointerType(I8))
    strides = [int(np.prod(shape[k + 1:])) * itemsize for k in range(len(shape))]
    return ArrayVal(t, data, [ir.Constant(I64, n) for n in shape],
                    [ir.Constant(I64, s) for s in strides])


def fill(ops: Ops, arr: ArrayVal, kind: str, shape: tuple[int, ...]) -> None:
    """Give a local array its initial contents: zeros (``zeros``/``empty``) or ones."""
    b = ops.b
    count = int(np.prod(shape))
    memset = ops.intrinsic("llvm.memset.p0.i64", ir.VoidType(),
                           [ir.PointerType(I8), I8, I64, ir.IntType(1)])
    b.call(memset, [arr.data, ir.Constant(I8, 0),
                    ir.Constant(I64, count * max(1, DTYPES[arr.t.dtype].bits // 8)),
                    ir.Constant(ir.IntType(1), 0)])
    if kind != "ones" or count == 0:
        return
    base = b.bitcast(arr.data, ir.PointerType(ELEMENT_TYPES[arr.t.dtype]))
    one = Val(ir.Constant(I64, 1), Scalar("int"), ir.Constant(ir.IntType(1), 0))
    pre = b.block
    loop = b.append_basic_block("ones")
    done = b.append_basic_block("ones.done")
    b.branch(loop)
    b.position_at_end(loop)
    k = b.phi(I64)
    k.add_incoming(ir.Constant(I64, 0), pre)
    store_element(ops, arr.t, b.gep(base, [k]), one)
    step = b.add(k, ir.Constant(I64, 1))
    k.add_incoming(step, b.block)
    b.cbranch(b.icmp_unsigned("<", step, ir.Constant(I64, count)), loop, done)
    b.position_at_end(done)
