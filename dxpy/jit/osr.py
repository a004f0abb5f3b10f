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

A loop nested in other loops (through ``for``/``while`` bodies and ``else``
clauses and ``if`` branches, nothing else) is resumed level by level, given
the enclosing ``for`` loops' iterators (the VM's ``iterators=``)::

    def f(...):
        <the hot loop, re-entered at its next iteration>
        <the rest of the enclosing loop's body: this iteration only>
        <the enclosing loop, re-entered at its next iteration (whole body, else)>
        ...                                  (and so on outwards)
        <the statements after the outermost loop>

A ``break``/``continue`` of an enclosing loop in a lifted rest of its body is
kept exact by running that rest in a one-iteration ``for`` (where
``continue`` ends it) and setting a flag before each ``break`` that skips the
loop's remaining iterations and its ``else``.  Any other statement on the way
(``try``, ``with``, ``match``) declines: the frame's state there is more
than its locals and iterators.

Which functions: one that creates no closures (its cells would have to
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
BROKE = "__dxpy_broke"  # set when the lifted rest of an outer iteration breaks that loop


@dataclass
class EntryPlan:
    """An entry function for one hot loop, and the arguments that resume it."""

    node: ast.FunctionDef
    params: list[str]
    args: list[Any]
    kind: str  # the hot loop's: "while", "for-range" or "for-iterator"
    tier2_ok: bool = True  # False: a loop walks an arbitrary iterator, only tier 1 can
    depth: int = 1  # loops resumed: 1 for a top-level loop, 2 for a loop in a loop, ...


@dataclass
class _Level:
    """One block on the way from the function body down to the hot loop.

    ``block[index]`` is the statement that holds (or is) the hot loop;
    ``loop`` is the enclosing loop whose *body* ``block`` is (None for the
    function body, an ``if`` branch or a loop's ``else``, which have no
    iteration to resume).
    """

    block: list[ast.stmt]
    index: int
    loop: ast.For | ast.While | None


def plan_entry(src: FunctionSource, globals_: dict[str, Any], line: int, names: list[str],
               values: list[Any], iterator: Any | None,
               iterators: list[Any] | None = None) -> EntryPlan:
    """Build the entry function for the loop whose header is at ``line``; TierError declines.

    ``iterators`` are the iterators of the enclosing ``for`` loops, outermost
    first (the hot loop's own last when it is a ``for``); without them only a
    top-level loop can be entered.
    """
    node = src.node
    _check_function(node)
    if src.class_name is not None and any(_is_private(n.id) for n in ast.walk(node)
                                          if isinstance(n, ast.Name)):
        # The frame's names are mangled (_Class__x) and the source's are not.
        raise TierError("a method with private (mangled) local names")
    if globals_.get("range", range) is not range:
        raise TierError("`range` is redefined in the module (the entry function uses it)")
    levels, loop = _loop_path(node, line)
    if iterators is None and any(level.loop is not None for level in levels):
        raise TierError(f"line {line}: a loop nested in another loop")
    _check_pure(node.body[levels[0].index:], globals_, src.locals)
    loop_iterators = _iterators_by_loop(levels, loop, iterator, iterators)
    body, extra_params, extra_args = _resume(levels, loop, loop_iterators)
    bound = dict(zip(names, values))
    reads = _reads(body)
    unbound = sorted(n for n in reads - _assigned(body) - bound.keys()
                     if n in src.locals or n in src.frees)
    if unbound:
        raise TierError(f"the rest of the function reads {', '.join(unbound)}, unbound here")
    params = [n for n in names if n in reads]
    entry = ast.FunctionDef(node.name, _arguments(params + extra_params), body, [], None)
    entry = ast.copy_location(entry, node)
    kinds = [_kind(it) for it in loop_iterators.values()]
    kind = "while" if isinstance(loop, ast.While) else _kind(loop_iterators[id(loop)])
    return EntryPlan(entry, params + extra_params, [bound[n] for n in params] + extra_args, kind,
                     tier2_ok="for-iterator" not in kinds,
                     depth=1 + sum(level.loop is not None for level in levels))


def _kind(iterator: Any) -> str:
    return "for-range" if type(iterator).__name__ in _RANGE_ITERATORS else "for-iterator"


def _loop_path(node: FunctionNode, line: int) -> tuple[list[_Level], ast.For | ast.While]:
    """The blocks from the function body down to the loop whose header spans ``line``.

    Only ``for``/``while`` bodies and ``else`` clauses and ``if`` branches are
    walked into: inside anything else (``try``, ``with``, ``match``) the
    frame's state is more than its locals and loop iterators.
    """
    levels: list[_Level] = []
    block: list[ast.stmt] = node.body
    container: ast.For | ast.While | None = None
    while True:
        index, stmt = _statement_at(block, line, bool(levels))
        levels.append(_Level(block, index, container))
        if isinstance(stmt, (ast.For, ast.While)):
            header = stmt.test if isinstance(stmt, ast.While) else stmt.iter
            if stmt.lineno <= line <= (header.end_lineno or header.lineno):
                return levels, stmt
            in_body = _spans(stmt.body, line)
            block, container = (stmt.body, stmt) if in_body else (stmt.orelse, None)
        elif isinstance(stmt, ast.If):
            block, container = (stmt.body if _spans(stmt.body, line) else stmt.orelse), None
        else:
            raise TierError(f"line {line}: the loop is inside a `{type(stmt).__name__}` statement")


def _statement_at(block: list[ast.stmt], line: int, nested: bool) -> tuple[int, ast.stmt]:
    for index, stmt in enumerate(block):
        if stmt.lineno <= line <= (stmt.end_lineno or stmt.lineno):
            return index, stmt
    where = "of the block" if nested else "of the function"
    raise TierError(f"no statement {where} at line {line}")


def _spans(block: list[ast.stmt], line: int) -> bool:
    return bool(block) and block[0].lineno <= line <= (block[-1].end_lineno or block[-1].lineno)


def _iterators_by_loop(levels: list[_Level], loop: ast.For | ast.While, iterator: Any | None,
                       iterators: list[Any] | None) -> dict[int, Any]:
    """Each ``for`` loop being resumed (by ``id``) with its iterator, checked against the source."""
    fors = [level.loop for level in levels if isinstance(level.loop, ast.For)]
    if isinstance(loop, ast.For):
        fors.append(loop)
    if iterators is None:  # the five-argument hook: a top-level loop, its own iterator at most
        iterators = [iterator] if iterator is not None else []
    if len(iterators) != len(fors):
        raise TierError(f"{len(fors)} enclosing `for` loops but {len(iterators)} values on the "
                        "frame's stack")
    if not all(hasattr(type(it), "__next__") for it in iterators):
        raise TierError("a value on the frame's stack is not an iterator")
    return {id(for_loop): it for for_loop, it in zip(fors, iterators)}


def _resume(levels: list[_Level], loop: ast.For | ast.While,
            loop_iterators: dict[int, Any]) -> tuple[list[ast.stmt], list[str], list[Any]]:
    """The entry function's body: the hot loop, then each enclosing level's rest, inside out.

    At a level that is a loop's body, what follows the inner statement runs
    for the current iteration only (lifted out of the loop: see
    ``_finish_iteration`` for its ``break``/``continue``), then the loop itself
    resumes at its next iteration, running its whole body and its ``else``.
    """
    params: list[str] = []
    args: list[Any] = []
    count = iter(range(len(levels) + 1))

    def resumed(target: ast.For | ast.While) -> ast.stmt:
        clone, extra_params, extra_args = _resume_loop(target, loop_iterators.get(id(target)),
                                                       next(count))
        params.extend(extra_params)
        args.extend(extra_args)
        return clone

    body: list[ast.stmt] = [resumed(loop)]
    for depth, level in enumerate(reversed(levels)):
        body += copy.deepcopy(level.block[level.index + 1:])
        if level.loop is not None:
            body = _finish_iteration(body, resumed(level.loop), f"{BROKE}{depth}")
    return body, params, args


def _finish_iteration(rest: list[ast.stmt], loop: ast.stmt, flag: str) -> list[ast.stmt]:
    """``rest`` of the current iteration of ``loop`` (lifted out of it), then ``loop`` resumed.

    A ``break``/``continue`` of ``loop`` in ``rest`` would now be outside it:
    then ``rest`` runs in a one-iteration loop (``continue`` ends it, as it
    ends the iteration) and each such ``break`` also sets ``flag``, which
    skips the remaining iterations and the ``else`` clause.
    """
    marker = _LooseJumps(flag)
    rest = marker.visit(ast.Module(rest, [])).body  # (a Module: a bare `break` becomes two stmts)
    if not marker.found:
        return rest + [loop]
    once = ast.For(ast.Name(f"{flag}_once", ast.Store()),
                   ast.Call(ast.Name("range", ast.Load()), [ast.Constant(1)], []), rest, [])
    skip = ast.If(ast.UnaryOp(ast.Not(), ast.Name(flag, ast.Load())), [loop], [])
    made = [ast.Assign([ast.Name(flag, ast.Store())], ast.Constant(False)), once, skip]
    for stmt in made:
        ast.copy_location(stmt, rest[0])
    return [ast.fix_missing_locations(stmt) for stmt in made]


class _LooseJumps(ast.NodeTransformer):
    """Finds the ``break``/``continue`` statements that leave the statements visited.

    Those are the ones not inside a loop of their own (a loop's ``else`` is
    not inside it); each ``break`` is preceded by ``flag = True``.
    """

    def __init__(self, flag: str) -> None:
        self.flag = flag
        self.found = False

    def _loop(self, node: ast.For | ast.While) -> ast.AST:
        body, node.body = node.body, []  # its body's jumps are its own
        self.generic_visit(node)
        node.body = body
        return node

    visit_For = visit_While = _loop

    def visit_Continue(self, node: ast.Continue) -> ast.AST:
        self.found = True
        return node

    def visit_Break(self, node: ast.Break) -> list[ast.stmt]:
        self.found = True
        flag = ast.copy_location(ast.Assign([ast.Name(self.flag, ast.Store())], ast.Constant(True)),
                                 node)
        return [ast.fix_missing_locations(flag), node]


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


def _resume_loop(loop: ast.For | ast.While, iterator: Any | None,
                 number: int) -> tuple[ast.stmt, list[str], list[Any]]:
    """``loop`` as it continues from its next iteration, with its extra parameters.

    ``number`` tells apart the parameters of the loops of one entry function.
    """
    if isinstance(loop, ast.While):
        return copy.deepcopy(loop), [], []
    if iterator is None:
        raise TierError("a `for` loop without its iterator")
    clone = copy.deepcopy(loop)
    suffix = str(number) if number else ""
    if type(iterator).__name__ in _RANGE_ITERATORS:
        _, (whole,), done = iterator.__reduce__()
        left = whole[done:]
        bounds = [START + suffix, STOP + suffix, STEP + suffix]
        clone.iter = ast.copy_location(ast.Call(ast.Name("range", ast.Load()), [
            ast.Name(name, ast.Load()) for name in bounds], []), loop.iter)
        ast.fix_missing_locations(clone)
        return clone, bounds, [left.start, left.stop, left.step]
    clone.iter = ast.copy_location(ast.Name(ITERATOR + suffix, ast.Load()), loop.iter)
    return clone, [ITERATOR + suffix], [iterator]


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
