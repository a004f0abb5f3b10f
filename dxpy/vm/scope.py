"""Compiler layer 1: module tables, one scope's emission state, name resolution.

The compiler is three layers, one module each, each building on the last:

* ``scope`` (this module): ``ModuleBuilder`` (interned names, deduplicated
  constants, code objects numbered in preorder) and ``ScopeEmitter``
  (emitting into an ``Assembler``, resolving a name to its load, store or
  delete opcode through ``symtable``, assignment and ``del`` targets);
* ``codegen``: statement and expression visitors that need only a scope;
* ``compiler``: the entry points and every construct that opens a new scope
  (functions, lambdas, classes, comprehensions).
"""

from __future__ import annotations

import ast
import struct
import symtable
from typing import NamedTuple

from dxpy.vm.assembler import Assembler, Label
from dxpy.vm.constants import Constant
from dxpy.vm.errors import DpbCompileError
from dxpy.vm.format import CodeObject, DpbModule
from dxpy.vm.opcodes import Opcode as Op

# (scope kind, operation) -> opcode; see ScopeEmitter._name_op.
NAME_OPS = {
    ("fast", "load"): Op.LOAD_FAST, ("fast", "store"): Op.STORE_FAST, ("fast", "del"): Op.DELETE_FAST,
    ("deref", "load"): Op.LOAD_DEREF, ("deref", "store"): Op.STORE_DEREF,
    ("deref", "del"): Op.DELETE_DEREF, ("classderef", "load"): Op.LOAD_CLASSDEREF,
    ("classderef", "store"): Op.STORE_DEREF, ("classderef", "del"): Op.DELETE_DEREF,
    ("global", "load"): Op.LOAD_GLOBAL, ("global", "store"): Op.STORE_GLOBAL,
    ("global", "del"): Op.DELETE_GLOBAL, ("name", "load"): Op.LOAD_NAME,
    ("name", "store"): Op.STORE_NAME, ("name", "del"): Op.DELETE_NAME,
}
DESCRIPTIONS = {
    "GeneratorExp": "generator expression", "Yield": "yield", "YieldFrom": "yield from",
    "Await": "await", "AsyncFunctionDef": "async def", "AsyncFor": "async for",
    "AsyncWith": "async with", "Try": "try statement",
    "With": "with statement", "Starred": "* unpacking here",
}


def _key(value: Constant) -> object:
    """Pool identity by type and bits: 1, 1.0 and True, or 0.0 and -0.0, stay apart."""
    if type(value) is float:
        return float, struct.pack("<d", value)
    if type(value) is complex:
        return complex, struct.pack("<dd", value.real, value.imag)  # type: ignore[union-attr]
    if type(value) is tuple:
        return tuple, tuple(_key(item) for item in value)  # type: ignore[union-attr]
    return type(value), value


def _taken_from_outside(table: symtable.SymbolTable) -> set[str]:
    """The names whose cells a scope receives from enclosing function scopes (its closure).

    Its free variables, and for a class body also the names it binds itself
    that scopes nested in it use (CPython's DEF_FREE_CLASS): a class body's
    own names are namespace entries, not cells, so ``x = 2`` in the class and
    ``return x`` in a method mean the class attribute and the enclosing
    function's ``x``, whose cell the class passes through to the method.
    """
    own = {s.get_name(): s for s in table.get_symbols()}
    names = {n for n, s in own.items() if s.is_free()}
    if table.get_type() == "class":
        for child in table.get_children():
            names |= {n for n in _taken_from_outside(child) if n != "__class__" and n in own and own[n].is_local()}
    return names


class FBlock(NamedTuple):
    """A block a jump may leave: what to undo when leaving it early."""

    kind: str  # "loop", "try", "finally", "handler", "handler_name", "with", "async_with", "pop_value"
    top: Label | None = None
    done: Label | None = None
    holds_iterator: bool = False
    extra: object = None  # finally: its body; handler_name: the bound name


class ModuleBuilder:
    """The module-wide tables: interned names, deduplicated constants, code objects."""

    def __init__(self, future_annotations: bool) -> None:
        self.future_annotations = future_annotations
        self.names: dict[str, int] = {}
        self.constants: list[Constant] = []
        self._constant_keys: dict[object, int] = {}
        self.codes: list[CodeObject | None] = []

    def name(self, name: str) -> int:
        return self.names.setdefault(name, len(self.names))

    def constant(self, value: Constant) -> int:
        key = _key(value)
        if key not in self._constant_keys:
            self._constant_keys[key] = len(self.constants)
            self.constants.append(value)
        return self._constant_keys[key]

    def reserve(self) -> int:
        """Number a code object before its children are compiled (preorder)."""
        self.codes.append(None)
        return len(self.codes) - 1

    def module(self) -> DpbModule:
        # Every reserved slot was filled by its compiler's _finish (an error
        # aborts the whole compilation before this is reached).
        codes = tuple(self.codes)
        return DpbModule(codes, tuple(self.constants), tuple(self.names))  # type: ignore[arg-type]


class ScopeEmitter(ast.NodeVisitor):
    """The state of one scope being compiled, and the primitives every visitor uses."""

    def __init__(self, builder: ModuleBuilder, table: symtable.SymbolTable, filename: str,
                 qualname: str, node: ast.AST, private: str | None) -> None:
        self.builder = builder
        self.private = private
        self.table = table
        self.filename = filename
        self.qualname = qualname
        self.kind = str(table.get_type())
        self.index = builder.reserve()
        self.asm = Assembler()
        self.line = getattr(node, "lineno", 1)
        self.children = list(table.get_children())
        self.nested: list[int] = []
        self.consts: dict[int, int] = {}
        self.fblocks: list[FBlock] = []  # innermost last
        child_frees = {n for c in self.children for n in _taken_from_outside(c)}
        own = {s.get_name(): s for s in table.get_symbols()}
        self.cells = sorted(n for n in child_frees if self.kind == "function" and own[n].is_local())
        if self.kind == "class" and "__class__" in child_frees:
            self.cells = ["__class__"]  # filled by type.__new__ from __classcell__ (zero-argument super())
        self.frees = sorted(_taken_from_outside(table))
        self.varnames: list[str] = []
        self._slots: dict[str, int] = {}
        self._slots_cover = 0  # how many varnames _slots was built from

    # -- emitting ----------------------------------------------------------
    def emit(self, opcode: Op, arg: int | Label = 0) -> None:
        self.asm.emit(opcode, arg, self.line)

    def const_index(self, value: Constant) -> int:
        """Index of ``value`` in this code object's ``consts`` (added on first use)."""
        return self.consts.setdefault(self.builder.constant(value), len(self.consts))

    def load_const(self, value: Constant) -> None:
        self.emit(Op.LOAD_CONST, self.const_index(value))

    def name_index(self, name: str) -> int:
        return self.builder.name(name)

    def mangle(self, name: str) -> str:
        """CPython's private-name mangling: ``__x`` in class ``C`` means ``_C__x``.

        Applies to identifiers, attribute names, parameter names and the keys
        of kw-defaults and annotation dicts, in the class body and every
        scope nested in it; symtable reports names already mangled.
        """
        if (self.private is None or not name.startswith("__") or name.endswith("__")
                or "." in name or not self.private.lstrip("_")):
            return name
        return f"_{self.private.lstrip('_')}{name}"

    def visit(self, node: ast.AST) -> None:
        """Track the source line of the node being compiled for the line table."""
        saved = self.line
        self.line = getattr(node, "lineno", self.line)
        super().visit(node)
        self.line = saved

    def generic_visit(self, node: ast.AST) -> None:
        kind = type(node).__name__
        raise DpbCompileError(self.filename, self.line, DESCRIPTIONS.get(kind, f"{kind} node"))

    def body(self, statements: list[ast.stmt]) -> None:
        for statement in statements:
            self.visit(statement)

    # -- names -------------------------------------------------------------
    def _name_op(self, name: str, operation: str) -> None:
        """Emit the load/store/delete of ``name`` as its scope dictates."""
        name = self.mangle(name)
        if self.kind == "module":
            self.emit(NAME_OPS["name", operation], self.name_index(name))
            return
        symbol = self.table.lookup(name)
        if self.kind == "class" and symbol.is_free():
            # A class body's own ``__class__`` is a free variable even when the class has the
            # implicit cell its methods' super() uses (that cell is theirs, not the body's).
            self.emit(NAME_OPS["classderef", operation], len(self.cells) + self.frees.index(name))
        elif self.kind == "class":
            scope = "global" if symbol.is_declared_global() else "name"
            self.emit(NAME_OPS[scope, operation], self.name_index(name))
        elif name in self.cells or symbol.is_free():
            self.emit(NAME_OPS["deref", operation], self._deref_index(name))
        elif symbol.is_global():
            self.emit(NAME_OPS["global", operation], self.name_index(name))
        else:
            self.emit(NAME_OPS["fast", operation], self._local_slot(name))

    def _local_slot(self, name: str) -> int:
        """``varnames.index(name)`` through a dict rebuilt when ``varnames`` grows (a list scan per
        name made functions with tens of thousands of locals take minutes to compile)."""
        if self._slots_cover != len(self.varnames):
            self._slots = {}
            for slot, variable in enumerate(self.varnames):
                self._slots.setdefault(variable, slot)
            self._slots_cover = len(self.varnames)
        return self._slots[name]

    def _deref_index(self, name: str) -> int:
        if name in self.cells:
            return self.cells.index(name)
        return len(self.cells) + self.frees.index(name)

    def visit_Name(self, node: ast.Name) -> None:
        self._name_op(node.id, "load")

    def _store(self, target: ast.expr) -> None:
        """Pop TOS into ``target``."""
        if isinstance(target, ast.Name):
            self._name_op(target.id, "store")
        elif isinstance(target, ast.Attribute):
            self.visit(target.value)
            self.emit(Op.STORE_ATTR, self.name_index(self.mangle(target.attr)))
        elif isinstance(target, ast.Subscript):
            self.visit(target.value)
            self.visit(target.slice)
            self.emit(Op.STORE_SUBSCR)
        elif isinstance(target, (ast.Tuple, ast.List)):
            self._unpack(target.elts)
        else:
            self.generic_visit(target)

    def _unpack(self, targets: list[ast.expr]) -> None:
        stars = [i for i, t in enumerate(targets) if isinstance(t, ast.Starred)]
        if stars:
            before = stars[0]
            after = len(targets) - before - 1
            if before > 0xFF or after > 0xFFFF:
                raise DpbCompileError(self.filename, self.line, "star-unpacking into this many targets")
            self.emit(Op.UNPACK_EX, before | after << 8)
        else:
            self.emit(Op.UNPACK_SEQUENCE, len(targets))
        for target in targets:
            self._store(target.value if isinstance(target, ast.Starred) else target)

    def _delete(self, target: ast.expr) -> None:
        if isinstance(target, ast.Name):
            self._name_op(target.id, "del")
        elif isinstance(target, ast.Attribute):
            self.visit(target.value)
            self.emit(Op.DELETE_ATTR, self.name_index(self.mangle(target.attr)))
        elif isinstance(target, ast.Subscript):
            self.visit(target.value)
            self.visit(target.slice)
            self.emit(Op.DELETE_SUBSCR)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self._delete(element)
        else:
            self.generic_visit(target)
