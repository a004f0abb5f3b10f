"""On-stack replacement: leave the interpreter in the middle of a hot loop.

A function called once that spends its time in one long loop never reaches
a call threshold; the interpreter instead reports the loop (``on_hot_loop``)
with the frame's bound variables and, for a ``for`` loop, its iterator.  The
*entry function* built here continues the function from that point:

    def f(<the live variables the rest reads>):
        <the loop, re-entered at its next iteration>
        <the statements after the loop>

A ``while`` loop is re-entered as it is (the back-edge sits just before its
test).  A ``for`` loop over a ``range`` becomes ``for x in range(start, stop,
step)`` over the iterations left, read from the range iterator's
``__reduce__`` (the loop stays a JIT-compilable ``range`` loop); over any
other iterator it becomes ``for x in <that very iterator>`` (tier 1 only).

Which loops: a loop that is a top-level statement of the function body (an
inner loop's state includes its enclosing loops', which the frame does not
hand over), in a function that creates no closures (its cells would have to
be shared), and whose remaining code has no effects beyond its locals: calls
only to ``math``, pure builtins and ``@jit`` functions, no attribute or
global stores, no ``global``/``nonlocal``, ``yield`` or ``await``.  That last
rule is what makes a deopt exact: the entry function is a pure function of
its arguments (array stores aside, which the dispatcher snapshots), so when
tier-2 code bails out, re-running the entry in tier 1 from the same
arguments is the CPython result.  Everything else is declined and keeps
running in the interpreter.
"""

from __future__ import annotations

import ast
import builtins
import copy
import math
from dataclasses import dataclass
from typing import Any

from .pipeline import is_dispatcher
from .source import FunctionNode, FunctionSource, TierError, own_nodes

#: builtins without effects on anything but their result (on numbers and containers).
PURE_BUILTINS = frozenset({"abs", "min", "max", "int", "float", "bool", "len", "range", "round",
                           "divmod", "pow", "complex", "sum", "isinstance", "tuple"})
_RANGE_ITERATORS = frozenset({"range_iterator", "longrange_iterator"})
_NESTED_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, ast.ListComp,
                  ast.SetComp, ast.DictComp, ast.GeneratorExp)
START, STOP, STEP, ITERATOR = "__dxpy_start", "__dxpy_stop", "__dxpy_step", "__dxpy_iterator"


@dataclass
class EntryPlan:
    """An entry function for one hot loop, and the arguments that resume it."""

    node: ast.FunctionDef
    params: list[str]
    args: list[Any]
    kind: str  # "while", "for-range" or "for-iterator"
    tier2_ok: bool = True  # False: the loop walks an arbitrary iterator, only tier 1 can


def plan_entry(src: FunctionSource, globals_: dict[str, Any], line: int, names: list[str],
               values: list[Any], iterator: Any | None) -> EntryPlan:
    """Build the entry function for the loop whose header is at ``line``; TierError declines."""
    node = src.node
    _check_function(node)
    if src.class_name is not None and any(_is_private(n.id) for n in ast.walk(node)
                                          if isinstance(n, ast.Name)):
        # The frame's names are mangled (_Class__x) and the source's are not.
        raise TierError("a method with private (mangled) local names")
    index, loop = _top_level_loop(node, line)
    rest = node.body[index + 1:]
    _check_pure([loop] + rest, globals_, src.locals)
    bound = dict(zip(names, values))
    new_loop, extra_params, extra_args, kind = _resume_loop(loop, iterator)
    reads = _reads([new_loop] + rest)
    assigned = _assigned([new_loop] + rest)
    unbound = sorted(n for n in reads - assigned - bound.keys()
                     if n in src.locals or n in src.frees)
    if unbound:
        raise TierError(f"the rest of the function reads {', '.join(unbound)}, unbound here")
    params = [n for n in names if n in reads]
    entry = ast.FunctionDef(node.name, _arguments(params + extra_params), [new_loop] + rest, [],
                            None)
    entry = ast.copy_location(entry, node)
    return EntryPlan(entry, params + extra_params, [bound[n] for n in params] + extra_args, kind,
                     tier2_ok=kind != "for-iterator")


def _is_private(name: str) -> bool:
    return name.startswith("__") and not name.endswith("__")


def _check_function(node: FunctionNode) -> None:
    if isinstance(node, ast.AsyncFunctionDef):
        raise TierError("async function")
    for child in own_nodes(node):
        if isinstance(child, (ast.Yield, ast.YieldFrom, ast.Await)):
            raise TierError("generator")
        if isinstance(child, _NESTED_SCOPES):
            raise TierError("the function creates a closure or comprehension (shared cells)")
        if isinstance(child, (ast.Global, ast.Nonlocal)):
            raise TierError(f"`{type(child).__name__.lower()}` declaration")


def _top_level_loop(node: FunctionNode, line: int) -> tuple[int, ast.For | ast.While]:
    """The top-level loop whose header spans ``line`` (a nested loop's header declines)."""
    for index, stmt in enumerate(node.body):
        if not stmt.lineno <= line <= (stmt.end_lineno or stmt.lineno):
            continue
        if isinstance(stmt, (ast.For, ast.While)):
            header = stmt.test if isinstance(stmt, ast.While) else stmt.iter
            if stmt.lineno <= line <= (header.end_lineno or header.lineno):
                return index, stmt
            raise TierError(f"line {line}: a loop nested in another loop")
        raise TierError(f"line {line}: the loop is not a top-level statement of the function")
    raise TierError(f"no statement of the function at line {line}")


def _check_pure(stmts: list[ast.stmt], globals_: dict[str, Any], local_names: frozenset[str]) -> None:
    """TierError unless ``stmts`` can only change the function's own locals."""
    for stmt in stmts:
        for child in ast.walk(stmt):
            reason = _effect(child, globals_, local_names)
            if reason:
                raise TierError(f"line {getattr(child, 'lineno', '?')}: {reason}")


def _effect(node: ast.AST, globals_: dict[str, Any], local_names: frozenset[str]) -> str | None:
    """Why ``node`` may affect state beyond the locals (None: it cannot)."""
    if isinstance(node, ast.Call):
        return _call_effect(node.func, globals_, local_names)
    if isinstance(node, ast.Attribute) and isinstance(node.ctx, (ast.Store, ast.Del)):
        return "stores an attribute"
    if isinstance(node, ast.Subscript) and isinstance(node.ctx, (ast.Store, ast.Del)):
        if not (isinstance(node.value, ast.Name) and node.value.id in local_names):
            return "stores into a container that is not a local variable"
    if isinstance(node, (ast.Import, ast.ImportFrom, ast.With, ast.AsyncWith, ast.AsyncFor)):
        return f"`{type(node).__name__}` statement"
    return None


def _call_effect(func: ast.expr, globals_: dict[str, Any], local_names: frozenset[str]) -> str | None:
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        if func.value.id not in local_names and globals_.get(func.value.id) is math:
            return None
        return f"calls {func.value.id}.{func.attr}"
    if not isinstance(func, ast.Name):
        return "calls a computed callee"
    name = func.id
    if name in local_names:
        return f"calls the local {name!r}"
    if name in globals_:
        return None if is_dispatcher(globals_[name]) else f"calls {name!r}"
    if name in PURE_BUILTINS and getattr(builtins, name, None) is not None:
        return None
    return f"calls {name!r}"


def _resume_loop(loop: ast.For | ast.While,
                 iterator: Any | None) -> tuple[ast.stmt, list[str], list[Any], str]:
    """The loop as it continues from its next iteration, with its extra parameters."""
    if isinstance(loop, ast.While):
        return copy.deepcopy(loop), [], [], "while"
    if iterator is None:
        raise TierError("a `for` loop without its iterator")
    clone = copy.deepcopy(loop)
    if type(iterator).__name__ in _RANGE_ITERATORS:
        _, (whole,), done = iterator.__reduce__()
        left = whole[done:]
        clone.iter = ast.copy_location(ast.Call(ast.Name("range", ast.Load()), [
            ast.Name(START, ast.Load()), ast.Name(STOP, ast.Load()), ast.Name(STEP, ast.Load())],
            []), loop.iter)
        ast.fix_missing_locations(clone)
        return clone, [START, STOP, STEP], [left.start, left.stop, left.step], "for-range"
    clone.iter = ast.copy_location(ast.Name(ITERATOR, ast.Load()), loop.iter)
    return clone, [ITERATOR], [iterator], "for-iterator"


def _arguments(names: list[str]) -> ast.arguments:
    return ast.arguments([], [ast.arg(n) for n in names], None, [], [], None, [])


def _reads(stmts: list[ast.stmt]) -> set[str]:
    """Names ``stmts`` read (augmented assignment and ``del`` targets included)."""
    out: set[str] = set()
    for stmt in stmts:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Load, ast.Del)):
                out.add(node.id)
            elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
                out.add(node.target.id)
    return out


def _assigned(stmts: list[ast.stmt]) -> set[str]:
    """Names ``stmts`` bind."""
    return {node.id for stmt in stmts for node in ast.walk(stmt)
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)}
