"""Local lists: fixed-length lists of scalars that never leave the function.

    buf = [0.0] * 4          # or [a, b, c]: one item type, a constant length
    buf[i % 4] += x          # element reads, writes, augmented writes
    for v in buf: ...        # iteration (also enumerate/zip), len(buf)

Why only these: such a list is *escape-free* -- no other reference to it can
exist, because the inference refuses every use of its name except as a
subscript's base, ``len``'s argument or a loop's iterable (returning it,
passing it to a call, ``ys = buf``, storing it in a tuple all keep the function
in CPython, with a warning naming the list).  So it needs no object: it lives
in an ``alloca`` of its items, which LLVM's SROA turns into registers where the
indices are constants, and otherwise stays a few stack slots -- nothing is ever
allocated.  The length cannot change (no ``append``/``pop``: those are not
compiled), and an item keeps its type (storing a float into a list of ints is
refused, as CPython would then hold both), so the representation is exact.
An index out of range deoptimises: CPython then raises its own IndexError.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Callable

from llvmlite import ir

from .ops import FALSE, I1, I64, TRUE, Ops, Val, llvm_type
from .types import BOTTOM, Bottom, JitType, JitTypeError, List, Scalar, unify

#: the longest list compiled (its items are written one by one when it is made).
MAX_LIST = 256
#: makes an entry-block stack slot of a type, named
Allocator = Callable[[ir.Type, str], ir.Value]


def repeated_display(e: ast.BinOp) -> tuple[ast.List, int] | None:
    """``[x, ...] * n`` or ``n * [x, ...]`` with a constant int ``n``: (display, n)."""
    if not isinstance(e.op, ast.Mult):
        return None
    for display, count in ((e.left, e.right), (e.right, e.left)):
        if isinstance(display, ast.List) and isinstance(count, ast.Constant) \
                and type(count.value) is int:
            return display, max(count.value, 0)
    return None


def is_display(e: ast.expr) -> bool:
    """Whether ``e`` makes a list: ``[x, ...]`` or ``[x, ...] * n``."""
    return isinstance(e, ast.List) or isinstance(e, ast.BinOp) and repeated_display(e) is not None


def display_nodes(e: ast.expr) -> list[ast.expr]:
    """The item expressions of a list display (each evaluated once)."""
    display = e if isinstance(e, ast.List) else repeated_display(e)[0]  # type: ignore[arg-type,index]
    return list(display.elts)


def display_items(e: ast.expr, types: list[JitType]) -> tuple[list[JitType], int]:
    """(item types, repeat count) of a list display whose items have ``types``."""
    return types, 1 if isinstance(e, ast.List) else repeated_display(e)[1]  # type: ignore


def display_type(items: list[JitType], repeat: int = 1) -> JitType:
    """The type of a list display of ``items`` repeated ``repeat`` times: one item type
    (a Python scalar and NumPy scalars of one dtype make a tagged item, as a local)."""
    if any(isinstance(t, Bottom) for t in items):
        return BOTTOM
    size = len(items) * repeat
    if size > MAX_LIST:
        raise JitTypeError(f"a list of {size} items (at most {MAX_LIST} are compiled)")
    if not items:
        raise JitTypeError("an empty list (its item type is unknown)")
    item: JitType = BOTTOM
    for t in items:
        if not isinstance(t, Scalar):
            raise JitTypeError(f"a list of {t}")
        item = unify(item, t, "a list's items")
    return List(item, size)  # type: ignore[arg-type]


def stored_type(t: List, value: JitType) -> List:
    """The list type once ``value`` is stored into an item (a NumPy scalar stored into a
    list of Python floats makes its items tagged; a float into ints is refused)."""
    if isinstance(value, Bottom):
        return t
    if not isinstance(value, Scalar):
        raise JitTypeError(f"storing {value} into a {t}")
    return List(unify(t.item, value, f"an item of {t}"), t.size)  # type: ignore[arg-type]


@dataclass
class ListVal:
    """A local list: its items' stack slots and whether it has been assigned yet."""

    t: List
    items: ir.Value  # [size x item]*
    bound: ir.Value  # i1*
    tags: ir.Value | None  # [size x i1]*: each item's NumPy tag, when the item type has one


@dataclass
class ListInit:
    """The value of a list display: each item once (``[x] * n`` repeats the same Val)."""

    values: list[Val]


def new_list(b: ir.IRBuilder, alloca: Allocator, t: List, name: str) -> ListVal:
    """The storage of list local ``name`` (unassigned until its first assignment)."""
    items = alloca(ir.ArrayType(llvm_type(t.item), t.size), name)
    bound = alloca(I1, name + ".bound")
    tags = alloca(ir.ArrayType(I1, t.size), name + ".tags") if t.item.np is None else None
    b.store(FALSE, bound)
    return ListVal(t, items, bound, tags)


def fill(b: ir.IRBuilder, target: ListVal, init: ListInit,
         fit: Callable[[Val, Scalar], Val]) -> None:
    """Assign a new list to ``target`` (the old one has no other reference: reused);
    ``fit`` converts an item to the list's item type (as a local's store does)."""
    for k, val in enumerate(init.values):
        store_item(b, target, ir.Constant(I64, k), fit(val, target.t.item))
    b.store(TRUE, target.bound)


def checked_index(ops: Ops, lv: ListVal, index: ir.Value) -> ir.Value:
    """The item number of ``lv[index]``: negative indices wrap; out of range (or a list
    not yet assigned) deoptimises, so CPython raises its IndexError (UnboundLocalError)."""
    b = ops.b
    ops.guard(b.not_(b.load(lv.bound)))
    size = ir.Constant(I64, lv.t.size)
    wrapped = b.select(b.icmp_signed("<", index, ir.Constant(I64, 0)), b.add(index, size), index)
    ops.guard(b.icmp_unsigned(">=", wrapped, size))
    return wrapped


def _slot(b: ir.IRBuilder, array: ir.Value, k: ir.Value) -> ir.Value:
    return b.gep(array, [ir.Constant(I64, 0), k], inbounds=True)


def load_item(b: ir.IRBuilder, lv: ListVal, k: ir.Value) -> Val:
    """Item ``k`` (in range) with its tag."""
    if lv.tags is not None:
        tag = b.load(_slot(b, lv.tags, k))
    else:
        tag = TRUE if lv.t.item.np else FALSE
    return Val(b.load(_slot(b, lv.items, k)), lv.t.item, tag)


def store_item(b: ir.IRBuilder, lv: ListVal, k: ir.Value, val: Val) -> None:
    """Store ``val`` (already of the item type) and its tag as item ``k`` (in range)."""
    b.store(val.v, _slot(b, lv.items, k))
    if lv.tags is not None:
        b.store(val.tag, _slot(b, lv.tags, k))
