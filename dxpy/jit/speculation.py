"""Where an overflow check may wait: loop accumulators and if-converted statements.

Why: every int operation checks for overflow (Python ints do not wrap, NumPy's
warn), and a check is a branch to the function's exit.  Two shapes are common
in numeric code and pay for those branches far more than for the check itself:
- an *accumulator*, ``total += v`` in a loop that reads ``total`` nowhere else:
  its per-iteration exit stops LLVM from vectorising the loop.  Its checks can
  be OR-ed into one flag tested when the loop ends, because a wrong (wrapped)
  ``total`` cannot influence anything before that test;
- an ``if``/``else`` whose arms only compute scalars (``x = x // 2`` or
  ``x = 3 * x + 1``): with the check branches inside, LLVM cannot turn it into
  a select, and a data-dependent branch mispredicts about half the time.
  Both arms are then computed, their checks joined and tested after the
  statement, and the results selected.
Either way the checks still run; a failure deoptimises as before (the whole
call re-runs in CPython), only later.  Only checks that are harmless to run
past are deferred (``Ops.guard(..., deferrable=True)``): never an index check
or a division by zero, which would fault.
"""

from __future__ import annotations

import ast
from typing import Any, Iterator

#: the most AST nodes both arms of an if-converted statement may have together:
#: both are computed every time, so they must be cheap.
MAX_CONVERTED_NODES = 24

_SAFE_EXPRS = (ast.BinOp, ast.UnaryOp, ast.Name, ast.Constant, ast.Compare, ast.BoolOp,
               ast.operator, ast.unaryop, ast.cmpop, ast.boolop, ast.expr_context)


def accumulators(loop: ast.For | ast.While, candidates: set[str]) -> frozenset[str]:
    """The ``candidates`` (int locals) that ``loop`` only updates by ``+=``/``-=`` of an
    expression not reading them, and reads nowhere else (test and body included)."""
    if loop.orelse:  # an else clause runs before the loop's exit test: keep it simple
        return frozenset()
    updated: set[str] = set()
    read: set[str] = set()
    parts: list[ast.AST] = [*loop.body, loop.test if isinstance(loop, ast.While) else loop.iter]
    if isinstance(loop, ast.For):
        read |= _names(loop.target)
    for part in parts:
        for node in ast.walk(part):
            if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name) \
                    and isinstance(node.op, (ast.Add, ast.Sub)):
                updated.add(node.target.id)
                read |= _names(node.value)
            elif isinstance(node, ast.Name) and not _is_aug_target(node, part):
                read.add(node.id)
    return frozenset((updated & candidates) - read)


def counters(loop: ast.For | ast.While, names: frozenset[str]) -> dict[str, int]:
    """The accumulators among ``names`` that ``loop`` only steps by ``+= 1`` (sign 1) or
    only by ``-= 1`` (sign -1): counters.

    Why they need no per-step check: such a value moves monotonically, one unit per
    executed step, so it overflowed in the loop exactly when its wrapped final value
    is on the wrong side of its value at the loop's entry -- as long as fewer than
    2**64 steps ran, which holds even where LLVM computes the loop in closed form:
    a loop's trip count fits in 64 bits (its own controlling ints are checked).  One
    compare at the exit replaces the sticky flag's per-step overflow test and ``or``
    (collatz_search: the inner loop's ``steps += 1``)."""
    signs: dict[str, set[int]] = {}
    for node in ast.walk(loop):
        if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name) \
                and node.target.id in names:
            unit = isinstance(node.value, ast.Constant) and type(node.value.value) is int \
                and node.value.value == 1 and isinstance(node.op, (ast.Add, ast.Sub))
            signs.setdefault(node.target.id, set()).add(
                (1 if isinstance(node.op, ast.Add) else -1) if unit else 0)
    return {name: next(iter(found)) for name, found in signs.items()
            if len(found) == 1 and 0 not in found}


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _is_aug_target(name: ast.Name, root: ast.AST) -> bool:
    return any(isinstance(n, ast.AugAssign) and n.target is name for n in ast.walk(root))


def convertible(s: ast.If) -> bool:
    """Whether ``s`` is an if (else) whose arms only assign scalar locals from
    arithmetic that cannot fault (no calls, subscripts, divisions by anything but a
    constant other than 0 and -1, or nested statements: an ``elif`` is one), cheap
    enough to compute both."""
    if not s.body:
        return False
    size = 0
    for stmt in [*s.body, *s.orelse]:
        if isinstance(stmt, ast.Assign):
            if len(stmt.targets) != 1 or not isinstance(stmt.targets[0], ast.Name):
                return False
            value: ast.expr = stmt.value
        elif isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name):
            if not _safe_operator(stmt.op, stmt.value):
                return False
            value = stmt.value
        else:
            return False
        for node in ast.walk(value):
            size += 1
            if not isinstance(node, _SAFE_EXPRS) or (
                    isinstance(node, ast.BinOp) and not _safe_operator(node.op, node.right)):
                return False
    return size <= MAX_CONVERTED_NODES


def _safe_operator(op: ast.operator, right: ast.expr) -> bool:
    if isinstance(op, (ast.Add, ast.Sub, ast.Mult)):
        return True
    if isinstance(op, (ast.FloorDiv, ast.Mod)):
        return isinstance(right, ast.Constant) and type(right.value) is int \
            and right.value not in (0, -1)
    return False


def assigned(stmts: list[ast.stmt]) -> list[str]:
    """The names ``stmts`` (of a convertible arm) assign, in first-assignment order."""
    out: list[str] = []
    for stmt in stmts:
        target = stmt.targets[0] if isinstance(stmt, ast.Assign) else stmt.target  # type: ignore
        assert isinstance(target, ast.Name)
        if target.id not in out:
            out.append(target.id)
    return out


#: increments beyond this (in magnitude) are not worth bounding: the pre-check would fail.
_MAX_BOUND = 1 << 62


def delta_range(loop: ast.For, name: str, exprs: dict[ast.AST, Any]) -> tuple[int, int] | None:
    """Bounds of how much one iteration of ``loop`` changes accumulator ``name``, from
    the value ranges of its increments (narrow NumPy integers, bools, constants and
    arithmetic on them); None when some increment is unbounded or in a nested loop.

    Why: with a trip count, ``start + trips * bound`` checked once before the loop
    proves that no iteration overflows, so the loop needs no check at all and LLVM
    can vectorise it (a deferred check still reads the accumulator every iteration,
    which no vector reduction can)."""
    lo = hi = 0
    for stmt in _updates(loop.body, name):
        if stmt is None:
            return None
        bounds = value_range(stmt.value, exprs)
        if bounds is None:
            return None
        low, high = bounds if isinstance(stmt.op, ast.Add) else (-bounds[1], -bounds[0])
        lo, hi = lo + min(low, 0), hi + max(high, 0)  # an update may also be skipped
    return lo, hi


def _updates(stmts: list[ast.stmt], name: str) -> Iterator[ast.AugAssign | None]:
    """The ``name += / -=`` statements of one iteration (None for one in a nested loop)."""
    for stmt in stmts:
        if isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name) \
                and stmt.target.id == name:
            yield stmt
        elif isinstance(stmt, ast.If):
            yield from _updates(stmt.body, name)
            yield from _updates(stmt.orelse, name)
        elif isinstance(stmt, (ast.For, ast.While)) and name in _names(stmt):
            yield None


def value_range(e: ast.expr, exprs: dict[ast.AST, Any]) -> tuple[int, int] | None:
    """Bounds of the integer value of ``e`` (None when not known to be small)."""
    t = exprs.get(e)
    if isinstance(e, ast.Constant) and type(e.value) in (int, bool):
        bounds: tuple[int, int] | None = (int(e.value), int(e.value))
    elif getattr(t, "kind", None) == "bool":
        bounds = (0, 1)
    elif getattr(t, "np", False) is True and getattr(t, "kind", None) == "int" \
            and t.info.bits < 64:  # type: ignore[union-attr]
        bounds = (t.info.lo, t.info.hi)  # type: ignore[union-attr]
    elif isinstance(e, ast.BinOp) and isinstance(e.op, (ast.Add, ast.Sub, ast.Mult)):
        bounds = _combine(e.op, value_range(e.left, exprs), value_range(e.right, exprs))
    elif isinstance(e, ast.UnaryOp) and isinstance(e.op, (ast.USub, ast.UAdd)):
        inner = value_range(e.operand, exprs)
        bounds = inner and ((-inner[1], -inner[0]) if isinstance(e.op, ast.USub) else inner)
    elif isinstance(e, ast.IfExp):
        a, b = value_range(e.body, exprs), value_range(e.orelse, exprs)
        bounds = a and b and (min(a[0], b[0]), max(a[1], b[1]))
    elif isinstance(e, ast.Call) and isinstance(e.func, ast.Name) and len(e.args) == 1 \
            and e.func.id in ("abs", "int"):
        inner = value_range(e.args[0], exprs)
        if inner is not None and e.func.id == "abs":
            low = 0 if inner[0] <= 0 <= inner[1] else min(abs(inner[0]), abs(inner[1]))
            inner = (low, max(abs(inner[0]), abs(inner[1])))
        bounds = inner
    else:
        bounds = None
    if bounds is None or max(abs(bounds[0]), abs(bounds[1])) > _MAX_BOUND:
        return None
    return bounds


def _combine(op: ast.operator, a: tuple[int, int] | None,
             b: tuple[int, int] | None) -> tuple[int, int] | None:
    if a is None or b is None:
        return None
    if isinstance(op, ast.Add):
        return a[0] + b[0], a[1] + b[1]
    if isinstance(op, ast.Sub):
        return a[0] - b[1], a[1] - b[0]
    products = [x * y for x in a for y in b]
    return min(products), max(products)


def affine(e: ast.BinOp) -> tuple[int, ast.expr, int] | None:
    """``(c, x, d)`` when ``e`` is ``c * x + d`` written any way round (``x * c - d``,
    ``d - c * x``...) with int constants ``c`` (not 0 or 1) and ``d``; else None.

    Why: on Python ints only the result has to fit in 64 bits (the product may wrap
    on the way, an exact ``d`` brings it back), and that is one range test of ``x``,
    where a checked multiply then a checked add cost two tests and keep the add's
    flags alive (collatz_search's ``3 * x + 1``)."""
    if not isinstance(e.op, (ast.Add, ast.Sub)):
        return None
    for product, other, product_sign in ((e.left, e.right, 1),
                                         (e.right, e.left, -1 if isinstance(e.op, ast.Sub)
                                          else 1)):
        d = _int_constant(other)
        if d is None or not isinstance(product, ast.BinOp) \
                or not isinstance(product.op, ast.Mult):
            continue
        for factor, x in ((product.left, product.right), (product.right, product.left)):
            c = _int_constant(factor)
            if c is not None and c not in (0, 1) and _int_constant(x) is None:
                if product_sign == 1 and isinstance(e.op, ast.Sub):
                    d = -d  # c * x - d
                return c * product_sign, x, d
    return None


def _int_constant(e: ast.expr) -> int | None:
    return e.value if isinstance(e, ast.Constant) and type(e.value) is int else None


#: calls a loop may make and still have its element accumulators bounded: none of them
#: can store into an array (a compiled callee could, through an alias).
_PURE_CALLS = frozenset({"abs", "int", "float", "bool", "min", "max", "len", "round",
                         "range", "enumerate", "zip"})


def element_accumulators(loop: ast.For, exprs: dict[ast.AST, Any]) -> dict[str, tuple[int, int]]:
    """The array that ``loop`` writes only by ``a[...] += v`` / ``-= v`` with bounded ``v``
    (``value_range``), mapped to how much one iteration can move any of its elements.

    Why: ``bins[data[i]] += 1`` checks each new count against the dtype's range (NumPy
    warns where it wraps), and that check keeps load, add and store apart (no ``incl``
    to memory) and costs a branch per element.  Every element starts between the
    array's min and max and moves at most one bound per iteration, so ``max + trips *
    hi`` and ``min + trips * lo`` inside the dtype prove that no update overflows.  Only
    for a loop that stores into no other array and calls nothing that could (an alias
    of the array would move its elements too), and not for updates in a nested loop
    (they run more than once per iteration)."""
    stores: set[str] = set()
    for node in ast.walk(ast.Module(body=loop.body, type_ignores=[])):
        if isinstance(node, ast.Call) and not (
                isinstance(node.func, ast.Name) and node.func.id in _PURE_CALLS
                or isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name)
                and node.func.value.id in ("math", "np", "numpy")):
            return {}
        if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store):
            if not isinstance(node.value, ast.Name):
                return {}
            stores.add(node.value.id)
    if len(stores) != 1 or loop.orelse:
        return {}
    name = next(iter(stores))
    lo = hi = 0
    for stmt in _element_updates(loop.body, name):
        bounds = stmt and isinstance(stmt.op, (ast.Add, ast.Sub)) \
            and value_range(stmt.value, exprs)
        if not bounds:
            return {}
        low, high = bounds if isinstance(stmt.op, ast.Add) else (-bounds[1], -bounds[0])
        lo, hi = lo + min(low, 0), hi + max(high, 0)
    return {name: (lo, hi)} if (lo, hi) != (0, 0) else {}


def _element_updates(stmts: list[ast.stmt], name: str) -> Iterator[ast.AugAssign | None]:
    """The statements of one iteration that store into array ``name`` (None for any
    store but ``name[...] op= v``, or for one in a nested loop)."""
    for stmt in stmts:
        if isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Subscript) \
                and isinstance(stmt.target.value, ast.Name) and stmt.target.value.id == name:
            yield stmt
        elif isinstance(stmt, ast.If):
            yield from _element_updates(stmt.body, name)
            yield from _element_updates(stmt.orelse, name)
        elif name in _names(stmt):
            if isinstance(stmt, (ast.For, ast.While, ast.With, ast.Try)) or any(
                    isinstance(n, ast.Subscript) and isinstance(n.ctx, ast.Store)
                    for n in ast.walk(stmt)) or any(
                    isinstance(n, ast.Name) and n.id == name and not isinstance(n.ctx, ast.Load)
                    for n in ast.walk(stmt)):
                yield None
