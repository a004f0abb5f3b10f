"""``sum``/``min``/``max`` of a 1-d int64 or float64 array, lowered to a loop over its storage.

CPython runs ``sum(a)`` by boxing every element into a NumPy scalar and
adding (``0 + a[0] + a[1] ...``); ``min``/``max`` keep the first extreme
(``x < cur``).  The compiled loop reads the elements unboxed, with the same
semantics:

* ``sum`` of int64: NumPy scalar addition wraps (and warns) on overflow, so
  an overflow anywhere deoptimises and CPython does exactly that; float64
  adds left to right from ``0.0`` (what ``0 + np.float64(x)`` starts with),
  never reassociated -- the same rounding as the builtin, and what
  ``dxpy.simd`` does for floats.  A total that is not finite deoptimises:
  NumPy may have warned on the way (inf from finite numbers, NaN from numbers).
* ``min``/``max``: compare-and-select in order, so NaN and ``-0.0``/``0.0``
  ties come out as the builtin's scan gives them.
* an empty array deoptimises: CPython's ``sum`` then returns the int ``0``
  and ``min``/``max`` raise.

The int64 ``min``/``max`` loops have no loop-carried dependence beyond the
select, which LLVM's vectoriser turns into SIMD compare-and-blend; the
float sum stays scalar by design (reassociation would change the result).
Other dtypes, ``start`` arguments and n-d arrays are not lowered here (the
call then runs in CPython).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from llvmlite import ir

from .elements import ArrayVal
from .ops import ELEMENT_TYPES, F64, FALSE, I1, I64, TRUE, Val
from .types import Array, JitType, Scalar

if TYPE_CHECKING:  # pragma: no cover
    from .lower import FunctionLowering

NAMES = frozenset({"sum", "min", "max"})
_KINDS = {"int64": "int", "float64": "float"}


def result_type(name: str, args: list[JitType]) -> Scalar | None:
    """The NumPy scalar ``name(array)`` returns, when this module lowers the call; else None."""
    if name not in NAMES or len(args) != 1:
        return None
    arr = args[0]
    if not isinstance(arr, Array) or arr.ndim != 1 or arr.dtype not in _KINDS:
        return None
    return Scalar(_KINDS[arr.dtype], True, arr.dtype)


def lower(lowering: FunctionLowering, name: str, arr: ArrayVal, t: Scalar) -> Val:
    """Emit the loop for ``name(arr)`` (``result_type`` said yes) and return its value."""
    ops, b = lowering.ops, lowering.b
    n = arr.shape[0]
    ops.guard(b.icmp_signed("<=", n, ir.Constant(I64, 0)))  # CPython: 0, or ValueError
    is_float = t.kind == "float"
    first = b.load(_address(b, arr, ir.Constant(I64, 0)))
    if name == "sum":
        start = b.fadd(ir.Constant(F64, 0.0), first) if is_float else first
    else:
        start = first
    pre = b.block
    head = lowering.fn.append_basic_block("simd.head")
    body = lowering.fn.append_basic_block("simd.body")
    end = lowering.fn.append_basic_block("simd.end")
    b.branch(head)
    b.position_at_end(head)
    i = b.phi(I64, "i")
    acc = b.phi(F64 if is_float else I64, "acc")
    overflow = b.phi(I1, "overflow")
    i.add_incoming(ir.Constant(I64, 1), pre)
    acc.add_incoming(start, pre)
    overflow.add_incoming(FALSE, pre)
    b.cbranch(b.icmp_signed("<", i, n), body, end)
    b.position_at_end(body)
    x = b.load(_address(b, arr, i))
    if name == "sum":
        nxt, flag = _add(lowering, acc, x, is_float)
    else:
        nxt, flag = _extreme(b, name, acc, x, is_float), FALSE
    acc.add_incoming(nxt, body)
    overflow.add_incoming(b.or_(overflow, flag), body)
    i.add_incoming(b.add(i, ir.Constant(I64, 1), flags=["nsw"]), body)
    b.branch(head)
    b.position_at_end(end)
    if is_float and name == "sum":
        # NumPy warns where a step makes inf from finite numbers or NaN from numbers; inf
        # and NaN never turn finite again, so a finite total means no step did: otherwise
        # CPython redoes the sum, warnings and all (inputs holding inf/NaN included).
        overflow = b.or_(overflow, b.not_(ops.is_finite(acc)))
    ops.guard(overflow)  # NumPy wraps or warns: CPython shows that
    return Val(acc, t, TRUE)


def _address(b: ir.IRBuilder, arr: ArrayVal, i: ir.Value) -> ir.Value:
    """Address of element ``i`` (in bounds by construction: the loop runs below the length)."""
    elem = ir.PointerType(ELEMENT_TYPES[arr.t.dtype])
    if arr.t.contig:
        return b.gep(b.bitcast(arr.data, elem), [i], inbounds=True)
    return b.bitcast(b.gep(arr.data, [b.mul(i, arr.strides[0])], inbounds=True), elem)


def _add(lowering: FunctionLowering, acc: ir.Value, x: ir.Value, is_float: bool) -> tuple[ir.Value, ir.Value]:
    b = lowering.b
    if is_float:  # checked once after the loop (see lower)
        return b.fadd(acc, x), FALSE
    fn = lowering.ops.intrinsic("llvm.sadd.with.overflow.i64", ir.LiteralStructType([I64, I1]), [I64, I64])
    packed = b.call(fn, [acc, x])
    return b.extract_value(packed, 0), b.extract_value(packed, 1)


def _extreme(b: ir.IRBuilder, name: str, cur: ir.Value, x: ir.Value, is_float: bool) -> ir.Value:
    """The builtin's step: ``x`` replaces ``cur`` only when strictly better (ordered for floats)."""
    op = "<" if name == "min" else ">"
    better = b.fcmp_ordered(op, x, cur) if is_float else b.icmp_signed(op, x, cur)
    return b.select(better, x, cur)
