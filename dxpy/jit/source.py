"""Tier 1 (baseline): a VM function's own source, compiled by CPython's ``compile()``.

Why CPython's compiler is the baseline tier: the DPB interpreter is a
pure-Python dispatch loop (~150x slower than CPython), so the cheapest big
step up is to hand the function's ``ast`` to ``compile()`` and run it as an
ordinary Python function -- milliseconds to produce, exact CPython semantics
by construction, and the very function tier 2 (LLVM) deoptimises back to.

A ``VMFunction`` carries no CPython code object, so its ``ast`` is found
again in its source file (parsed once per file): the ``def`` or ``lambda``
whose first line (decorators included, as ``co_firstlineno``) and qualified
name match -- exactly one, or the function stays where it is.  Its free
variables come from ``symtable`` (the compiler's own analysis), never from
guessing.  Comprehensions and generator expressions are not tiered.
The function is compiled inside a synthetic scope that binds its free
variables (and, for methods, inside a class of the same name so private
names are mangled and ``super()`` gets its ``__class__`` cell); the code
object is then taken out of that scope and given the VM function's own
globals, defaults and closure *cells*, so both tiers read and write the very
same variables.  Nothing in the synthetic scope is ever executed: decorators,
defaults and annotations are not evaluated a second time.
"""

from __future__ import annotations

import ast
import copy
import os
import symtable
import threading
import types
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Iterator

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef
_SCOPE = "__dxpy_tier1_scope__"
TICK_MARK = "\0dxpy tier-1 call counter\0"


class TierError(Exception):
    """Why a function (or a loop) stays on a lower tier; the message is shown in stats."""


@dataclass(frozen=True)
class FunctionSource:
    """A function's definition as found in its file."""

    node: FunctionNode
    filename: str
    class_name: str | None  # innermost enclosing class: name mangling and ``__class__``
    frees: tuple[str, ...]  # free variables (symtable's view, the compiler's truth)
    locals: frozenset[str]  # parameters and every name the function binds


class SourceIndex:
    """Parsed source files, cached: one ``ast`` and one ``symtable`` per file."""

    def __init__(self) -> None:
        self._files: dict[str, tuple[ast.Module, symtable.SymbolTable]] = {}
        self._lock = threading.Lock()

    def _parsed(self, filename: str) -> tuple[ast.Module, symtable.SymbolTable]:
        with self._lock:
            if filename not in self._files:
                if not filename or not os.path.isfile(filename):
                    raise TierError(f"no source file ({filename!r})")
                with open(filename, "rb") as handle:
                    source = handle.read()
                try:
                    tree = ast.parse(source, filename)
                    table = symtable.symtable(source.decode("utf-8", "surrogateescape"),
                                              filename, "exec")
                except (SyntaxError, ValueError) as exc:
                    raise TierError(f"source of {filename} does not parse: {exc}") from exc
                self._files[filename] = (tree, table)
            return self._files[filename]

    def find(self, filename: str, firstline: int, qualname: str) -> FunctionSource:
        """The ``def`` (or ``lambda``) of ``qualname`` starting at ``firstline`` in ``filename``."""
        tree, table = self._parsed(filename)
        found = [f for f in _functions(tree.body, "", None, ())
                 if f.firstline == firstline and f.qualname == qualname]
        if len(found) != 1:
            what = "no" if not found else "more than one"
            raise TierError(f"{what} definition of {qualname} at {filename}:{firstline}")
        scope = _symbol_table(table, found[0].path)
        node = found[0].node
        if isinstance(node, ast.Lambda):
            node = ast.copy_location(ast.FunctionDef(
                "<lambda>", node.args, [ast.copy_location(ast.Return(node.body), node.body)],
                [], None), node)
        return FunctionSource(node, filename, found[0].class_name, tuple(scope.get_frees()),
                              frozenset(scope.get_locals()))


@dataclass(frozen=True)
class _Found:
    """A function in a file: its node, names, and the symtable path to its scope."""

    node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
    qualname: str
    class_name: str | None
    path: tuple[tuple[str, int], ...]  # (symtable name, line) of each enclosing scope

    @property
    def firstline(self) -> int:
        decorators = getattr(self.node, "decorator_list", [])
        return min([self.node.lineno] + [d.lineno for d in decorators])


_COMPREHENSIONS = {ast.ListComp: "listcomp", ast.SetComp: "setcomp", ast.DictComp: "dictcomp",
                   ast.GeneratorExp: "genexpr"}
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, *_COMPREHENSIONS)


def _functions(nodes: list[Any], prefix: str, class_name: str | None,
               path: tuple[tuple[str, int], ...]) -> Iterator[_Found]:
    """Every function and lambda in the scope made of ``nodes``, and in the scopes in it.

    Qualified names follow CPython's rules: ``f.<locals>.g``, ``C.m``,
    ``f.<locals>.<listcomp>.<locals>.<lambda>``.  ``class_name`` is the
    innermost enclosing class: private names are mangled with it at any depth.
    """
    for node in _scope_nodes(nodes):
        if isinstance(node, ast.ClassDef):
            yield from _functions(node.body, f"{prefix}{node.name}.", node.name,
                                  path + ((node.name, node.lineno),))
            continue
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            name, table_name, inner = node.name, node.name, node.body
        elif isinstance(node, ast.Lambda):
            name, table_name, inner = "<lambda>", "lambda", [node.body]
        else:
            table_name = _COMPREHENSIONS[type(node)]
            name, inner = f"<{table_name}>", _comprehension_inner(node)
        qualname = prefix + name
        scope_path = path + ((table_name, node.lineno),)
        if not isinstance(node, tuple(_COMPREHENSIONS)):
            yield _Found(node, qualname, class_name, scope_path)
        yield from _functions(inner, f"{qualname}.<locals>.", class_name, scope_path)


def _scope_nodes(nodes: list[Any]) -> Iterator[ast.AST]:
    """The scopes opened directly in the code ``nodes`` (not those nested in them)."""
    stack = list(reversed(nodes))
    while stack:
        node = stack.pop()
        if isinstance(node, _SCOPES):
            yield node
            stack.extend(reversed(_outer_parts(node)))
        else:
            stack.extend(reversed(list(ast.iter_child_nodes(node))))


def _outer_parts(node: ast.AST) -> list[ast.AST]:
    """The parts of a scope-opening node evaluated in the *enclosing* scope."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        args = node.args
        parts = [*args.defaults, *[d for d in args.kw_defaults if d is not None]]
        if not isinstance(node, ast.Lambda):
            parts += node.decorator_list
        return parts
    if isinstance(node, ast.ClassDef):
        return [*node.decorator_list, *node.bases, *node.keywords]
    return [node.generators[0].iter]  # type: ignore[attr-defined]


def _comprehension_inner(node: Any) -> list[ast.AST]:
    """A comprehension's own scope: all but its first iterable."""
    first, *rest = node.generators
    heads = [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
    return [*heads, first.target, *first.ifs, *rest]


def _symbol_table(table: symtable.SymbolTable,
                  path: tuple[tuple[str, int], ...]) -> symtable.SymbolTable:
    """The symbol table at ``path``; TierError if it is not exactly one (frees would be wrong)."""
    current = table
    for name, line in path:
        matches = [c for c in current.get_children()
                   if c.get_name() == name and c.get_lineno() == line]
        if len(matches) != 1:
            raise TierError(f"cannot tell the scope {name!r} at line {line} apart")
        current = matches[0]
    return current


def own_nodes(node: ast.AST) -> Iterator[ast.AST]:
    """The nodes of a function body, not descending into nested scopes."""
    stack = list(ast.iter_child_nodes(node))
    while stack:
        child = stack.pop()
        yield child
        if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
                                  ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp,
                                  ast.GeneratorExp)):
            stack.extend(ast.iter_child_nodes(child))


def is_generator(node: FunctionNode) -> bool:
    """Whether the body yields (the function then returns a generator)."""
    return any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in own_nodes(node))


def plain_copy(node: FunctionNode) -> FunctionNode:
    """A copy without decorators, annotations or defaults: what the JIT's parser sees.

    Defaults come from the live function object (``__defaults__``), never from
    re-evaluating their expressions.
    """
    clone = copy.deepcopy(node)
    clone.decorator_list = []
    clone.returns = None
    for arg in clone.args.posonlyargs + clone.args.args + clone.args.kwonlyargs:
        arg.annotation = None
    for arg in (clone.args.vararg, clone.args.kwarg):
        if arg is not None:
            arg.annotation = None
    clone.args.defaults = []
    clone.args.kw_defaults = [None] * len(clone.args.kwonlyargs)
    return clone


def build_function(src: FunctionSource, node: FunctionNode, globals_: dict[str, Any],
                   cells: dict[str, types.CellType], qualname: str,
                   defaults: tuple[Any, ...] | None = None,
                   kwdefaults: dict[str, Any] | None = None) -> types.FunctionType:
    """Compile ``node`` (``src``'s def or an entry built from it) into a CPython function."""
    return make_function(compile_code(src, node, qualname), globals_, cells, qualname,
                         defaults, kwdefaults)


def compile_code(src: FunctionSource, node: FunctionNode, qualname: str,
                 tick: bool = False) -> types.CodeType:
    """The CPython code object of ``node``, its free variables those ``src`` has.

    ``tick``: the body starts (after its docstring) by calling a placeholder
    constant that ``with_tick`` replaces with a callable.  This is how tier
    1 counts calls without a wrapper: a wrapper would add a Python frame per
    call -- per level of recursion -- and a constant adds no name anywhere
    (``locals()``, globals) the program could see.
    """
    node = plain_copy(node)
    if tick:
        call = ast.Expr(ast.Call(ast.Constant(TICK_MARK), [], []))
        first = node.body[0]
        docstring = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
            and isinstance(first.value.value, str)
        node.body.insert(1 if docstring else 0, ast.copy_location(call, first))
    binders: list[ast.stmt] = [
        ast.Assign([ast.Name(name, ast.Store())], ast.Constant(None))
        for name in src.frees if name != "__class__"]
    bound_here = node.name if src.class_name is None else src.class_name
    if bound_here not in src.frees and bound_here.isidentifier():
        # The ``def`` (or the method's synthetic ``class``) below binds its name in the
        # synthetic scope; without this a recursive call, or a method naming its own
        # class, would read that binding instead of the global.
        binders.insert(0, ast.Global([bound_here]))
    inner: ast.stmt = node
    if src.class_name is not None:
        inner = ast.ClassDef(src.class_name, [], [], [node], [])
    scope = ast.FunctionDef(_SCOPE, ast.arguments([], [], None, [], [], None, []),
                            binders + [inner, ast.Return(ast.Constant(None))], [], None)
    module = ast.fix_missing_locations(ast.Module([scope], []))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)  # "'str' object is not callable"
            code = compile(module, src.filename, "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise TierError(f"CPython refuses the body: {exc}") from exc
    return _find_code(code, node.name).replace(co_qualname=qualname)


def make_function(code: types.CodeType, globals_: dict[str, Any],
                  cells: dict[str, types.CellType], qualname: str,
                  defaults: tuple[Any, ...] | None = None,
                  kwdefaults: dict[str, Any] | None = None) -> types.FunctionType:
    """A function running ``code`` with the VM function's globals, defaults and cells.

    ``cells`` maps free variable names to the cells the VM's closure holds; a
    free variable without one raises :class:`TierError`.
    """
    missing = [name for name in code.co_freevars if name not in cells]
    if missing:
        raise TierError(f"closure cells not readable: {', '.join(missing)}")
    closure = tuple(cells[name] for name in code.co_freevars) or None
    function = types.FunctionType(code, globals_, code.co_name, defaults or None, closure)
    function.__kwdefaults__ = kwdefaults or None
    function.__qualname__ = qualname
    return function


def with_tick(code: types.CodeType, tick: Callable[[], Any]) -> types.CodeType:
    """``code`` (compiled with ``tick=True``) calling ``tick`` where the placeholder was."""
    consts = tuple(tick if type(c) is str and c == TICK_MARK else c for c in code.co_consts)
    return code.replace(co_consts=consts)


def _find_code(code: types.CodeType, name: str) -> types.CodeType:
    """The code object named ``name`` nested (at any depth) in ``code``'s constants."""
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            if const.co_name == name and const.co_name != _SCOPE:
                return const
            try:
                return _find_code(const, name)
            except LookupError:
                continue
    raise LookupError(name)
