"""Compiler layer 2: statements and expressions that stay within one scope.

``Codegen`` adds to ``ScopeEmitter`` the visitors for every supported
statement and expression that does not open a new scope; constructs that do
(functions, lambdas, classes, comprehensions) are in ``compiler``.  Stack
discipline of each opcode is documented on ``Opcode``.
"""

from __future__ import annotations

import ast
import contextlib
from typing import Iterator

from dxpy.vm.assembler import Columns, Label
from dxpy.vm.opcodes import Opcode as Op
from dxpy.vm.scope import FBlock, ScopeEmitter

BINARY = {ast.Add: Op.BINARY_ADD, ast.Sub: Op.BINARY_SUBTRACT, ast.Mult: Op.BINARY_MULTIPLY,
          ast.Div: Op.BINARY_TRUE_DIVIDE, ast.FloorDiv: Op.BINARY_FLOOR_DIVIDE,
          ast.Mod: Op.BINARY_MODULO, ast.Pow: Op.BINARY_POWER, ast.MatMult: Op.BINARY_MATRIX_MULTIPLY,
          ast.LShift: Op.BINARY_LSHIFT, ast.RShift: Op.BINARY_RSHIFT, ast.BitAnd: Op.BINARY_AND,
          ast.BitOr: Op.BINARY_OR, ast.BitXor: Op.BINARY_XOR}
INPLACE = {ast.Add: Op.INPLACE_ADD, ast.Sub: Op.INPLACE_SUBTRACT, ast.Mult: Op.INPLACE_MULTIPLY,
           ast.Div: Op.INPLACE_TRUE_DIVIDE, ast.FloorDiv: Op.INPLACE_FLOOR_DIVIDE,
           ast.Mod: Op.INPLACE_MODULO, ast.Pow: Op.INPLACE_POWER, ast.MatMult: Op.INPLACE_MATRIX_MULTIPLY,
           ast.LShift: Op.INPLACE_LSHIFT, ast.RShift: Op.INPLACE_RSHIFT, ast.BitAnd: Op.INPLACE_AND,
           ast.BitOr: Op.INPLACE_OR, ast.BitXor: Op.INPLACE_XOR}
UNARY = {ast.USub: Op.UNARY_NEGATIVE, ast.UAdd: Op.UNARY_POSITIVE, ast.Invert: Op.UNARY_INVERT,
         ast.Not: Op.UNARY_NOT}
COMPARE = {ast.Lt: Op.COMPARE_LT, ast.LtE: Op.COMPARE_LE, ast.Eq: Op.COMPARE_EQ,
           ast.NotEq: Op.COMPARE_NE, ast.Gt: Op.COMPARE_GT, ast.GtE: Op.COMPARE_GE,
           ast.Is: Op.IS_OP, ast.IsNot: Op.IS_NOT_OP, ast.In: Op.CONTAINS_OP,
           ast.NotIn: Op.NOT_CONTAINS_OP}
FRAME_BUILTINS = frozenset({"globals", "locals", "vars", "dir", "super"})
"""Builtins that inspect their caller's frame: zero-argument calls go through CALL_FRAME_BUILTIN
(as do zero-argument calls of any ``x._getframe``, for ``sys._getframe()``)."""
CONVERSION = {-1: 0, ord("s"): 1, ord("r"): 2, ord("a"): 3}
"""f-string ``!s``/``!r``/``!a`` to FORMAT_VALUE's low bits; bit 2 marks a format spec."""


def _annotation_string(expression: ast.expr) -> str:
    """The string CPython stores for a postponed annotation (PEP 563), made by CPython itself.

    Under the future import annotations are never evaluated, so executing
    ``__a: <expression>`` only records CPython's own rendering of the AST.
    """
    namespace: dict[str, dict[str, str]] = {}
    exec(compile(f"from __future__ import annotations\n__a: {ast.unparse(expression)}\n",  # noqa: S102
                 "<annotation>", "exec", dont_inherit=True), namespace)
    return namespace["__annotations__"]["__a"]


METHOD_CALL_LIMIT = 30
"""CPython's STACK_USE_GUIDELINE: calls with this many stack items are not compiled as method calls."""


def _is_method_call(node: ast.Call) -> bool:
    """Whether CPython 3.11 compiles ``node`` as LOAD_METHOD + CALL, whose CALL it positions
    like an attribute operation (see ``Codegen.at_attribute_name``)."""
    keywords = len(node.keywords)
    return (isinstance(node.func, ast.Attribute)
            and len(node.args) + keywords + (keywords != 0) < METHOD_CALL_LIMIT
            and not any(isinstance(arg, ast.Starred) for arg in node.args)
            and all(keyword.arg is not None for keyword in node.keywords))


def _last_jump_comparison(test: ast.expr) -> ast.Compare | None:
    """The last Compare that CPython 3.11's ``compiler_jump_if`` reaches compiling ``test`` as a
    condition: it descends ``not``, ``and``/``or`` and conditional expressions, in that order."""
    if isinstance(test, ast.Compare):
        return test
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        parts: list[ast.expr] = [test.operand]
    elif isinstance(test, ast.BoolOp):
        parts = test.values
    elif isinstance(test, ast.IfExp):
        parts = [test.test, test.body, test.orelse]
    else:
        return None
    found = None
    for part in parts:
        found = _last_jump_comparison(part) or found
    return found


def columns_of(node: ast.AST) -> Columns | None:
    """(end line, column, end column) of ``node``, as CPython's ``co_positions()`` reports them."""
    end_line = getattr(node, "end_lineno", None)
    if end_line is None:
        return None
    return (end_line, getattr(node, "col_offset", None), getattr(node, "end_col_offset", None))


class Codegen(ScopeEmitter):
    """Statement and expression visitors (see the module docstring).

    Source positions follow CPython 3.11's compiler, so tracebacks can show
    the same carets: an instruction gets the position of the innermost
    statement or expression being compiled when it is emitted (a call's
    CALL the whole call, a BinOp's operator the whole BinOp...), and a store
    or delete that of its target.
    """

    columns: Columns | None = None
    """Columns of the node being compiled (with ``line``, its full position)."""

    # -- positions -----------------------------------------------------------
    def emit(self, opcode: Op, arg: int | Label = 0) -> None:
        self.asm.emit(opcode, arg, self.line, self.columns)

    def visit(self, node: ast.AST) -> None:
        """Compile ``node`` at its own position (nodes without one keep the enclosing position)."""
        saved = self.columns
        columns = columns_of(node)
        if columns is not None:
            self.columns = columns
        super().visit(node)
        self.columns = saved

    @contextlib.contextmanager
    def located(self, node: ast.AST) -> Iterator[None]:
        """Emit at ``node``'s position (for instructions CPython places at a node not visited)."""
        saved = self.line, self.columns
        self.line = getattr(node, "lineno", self.line)
        self.columns = columns_of(node) or self.columns
        try:
            yield
        finally:
            self.line, self.columns = saved

    @contextlib.contextmanager
    def at_attribute_name(self, node: ast.Attribute) -> Iterator[None]:
        """CPython 3.11's ``update_start_location_to_match_attr``: an attribute operation (and a
        method call) whose attribute name is on a later line than the current position starts at
        that name: ``a`` on one line and ``.b()`` on the next blames the second line."""
        saved = self.line, self.columns
        name_line = node.end_lineno
        if name_line is not None and name_line != self.line and self.columns is not None:
            end_line, _, end_column = self.columns
            start = -1 if node.end_col_offset is None else node.end_col_offset - len(node.attr)
            if start < 0:  # a hand-made AST: CPython drops the columns
                start = end_column = None
            end_line = max(name_line, end_line)
            if end_line == name_line and start is not None and end_column is not None:
                end_column = max(start, end_column)
            self.line, self.columns = name_line, (end_line, start, end_column)
        try:
            yield
        finally:
            self.line, self.columns = saved

    def _store(self, target: ast.expr) -> None:
        """CPython compiles a store target as an expression, at the target's position."""
        with self.located(target):
            if isinstance(target, ast.Attribute):
                self.visit(target.value)
                with self.at_attribute_name(target):
                    self.emit(Op.STORE_ATTR, self.name_index(self.mangle(target.attr)))
            else:
                super()._store(target)

    def _delete(self, target: ast.expr) -> None:
        with self.located(target):
            if isinstance(target, ast.Attribute):
                self.visit(target.value)
                with self.at_attribute_name(target):
                    self.emit(Op.DELETE_ATTR, self.name_index(self.mangle(target.attr)))
            else:
                super()._delete(target)

    # -- statements ----------------------------------------------------------
    def visit_Expr(self, node: ast.Expr) -> None:
        self.visit(node.value)
        self.emit(Op.POP_TOP)

    def visit_Pass(self, node: ast.Pass) -> None:
        self.emit(Op.NOP)

    def visit_Global(self, node: ast.Global) -> None:
        """Declarations only: symtable has already applied them."""

    visit_Nonlocal = visit_Global

    def visit_Assign(self, node: ast.Assign) -> None:
        self.visit(node.value)
        for target in node.targets[:-1]:
            self.emit(Op.COPY, 1)
            self._store(target)
        self._store(node.targets[-1])

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        """In a function only the value is stored (CPython never evaluates those annotations);
        in a module or class body a simple name's annotation goes into ``__annotations__``."""
        if node.value is not None:
            self.visit(node.value)
            self._store(node.target)
        if self.kind == "function":
            return
        if isinstance(node.target, ast.Name) and node.simple:
            self.annotation(node.annotation)
            self.emit(Op.LOAD_NAME, self.name_index("__annotations__"))
            self.load_const(self.mangle(node.target.id))
            self.emit(Op.STORE_SUBSCR)
        elif not self.builder.future_annotations:
            self.visit(node.annotation)
            self.emit(Op.POP_TOP)

    def annotation(self, expression: ast.expr) -> None:
        """Push an annotation's value: evaluated, or its string under ``from __future__ import annotations``."""
        if self.builder.future_annotations:
            self.load_const(_annotation_string(expression))
        else:
            self.visit(expression)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        """The target's load and store are at the target's position, the operation at the statement's."""
        target, opcode = node.target, INPLACE[type(node.op)]
        with self.located(target):
            self._augmented_load(target)
        self.visit(node.value)
        self.emit(opcode)
        with self.located(target):
            self._augmented_store(target)

    def _augmented_load(self, target: ast.expr) -> None:
        """Push what the store needs ([object] or [container, key]) and the current value."""
        if isinstance(target, ast.Name):
            self._name_op(target.id, "load")
        elif isinstance(target, ast.Attribute):
            self.visit(target.value)
            self.emit(Op.COPY, 1)
            with self.at_attribute_name(target):
                self.emit(Op.LOAD_ATTR, self.name_index(self.mangle(target.attr)))
        else:
            self.visit(target.value)  # type: ignore[attr-defined]
            self.visit(target.slice)  # type: ignore[attr-defined]
            self.emit(Op.COPY, 2)
            self.emit(Op.COPY, 2)
            self.emit(Op.LOAD_SUBSCR)

    def _augmented_store(self, target: ast.expr) -> None:
        if isinstance(target, ast.Name):
            self._name_op(target.id, "store")
        elif isinstance(target, ast.Attribute):
            with self.at_attribute_name(target):
                self.emit(Op.SWAP, 2)
                self.emit(Op.STORE_ATTR, self.name_index(self.mangle(target.attr)))
        else:
            self.emit(Op.SWAP, 3)
            self.emit(Op.SWAP, 2)
            self.emit(Op.STORE_SUBSCR)

    def visit_Delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            self._delete(target)

    def visit_Raise(self, node: ast.Raise) -> None:
        parts = [part for part in (node.exc, node.cause) if part is not None]
        for part in parts:
            self.visit(part)
        self.emit(Op.RAISE, len(parts))

    def visit_Assert(self, node: ast.Assert) -> None:
        """The raise is at the statement's position, or at that of the last comparison CPython's
        ``compiler_jump_if`` compiled for the test (it sets that position and never restores it)."""
        done = Label()
        self.visit(node.test)
        self.emit(Op.POP_JUMP_IF_TRUE, done)
        comparison = _last_jump_comparison(node.test)
        with self.located(comparison) if comparison is not None else contextlib.nullcontext():
            self.emit(Op.LOAD_ASSERTION_ERROR)
            if node.msg is not None:
                self.visit(node.msg)
                self.emit(Op.CALL, 1)
            self.emit(Op.RAISE, 1)
        self.asm.mark(done)

    def visit_If(self, node: ast.If) -> None:
        otherwise, done = Label(), Label()
        self.visit(node.test)
        self.emit(Op.POP_JUMP_IF_FALSE, otherwise)
        self.body(node.body)
        if node.orelse:
            self.emit(Op.JUMP, done)
        self.asm.mark(otherwise)
        self.body(node.orelse)
        self.asm.mark(done)

    def visit_While(self, node: ast.While) -> None:
        top, otherwise, done = Label(), Label(), Label()
        self.asm.mark(top)
        self.visit(node.test)
        self.emit(Op.POP_JUMP_IF_FALSE, otherwise)
        self._loop_rest(node, top, otherwise, done, holds_iterator=False)

    def visit_For(self, node: ast.For) -> None:
        top, otherwise, done = Label(), Label(), Label()
        self.visit(node.iter)
        self.emit(Op.GET_ITER)
        self.asm.mark(top)
        self.emit(Op.FOR_ITER, otherwise)
        self._store(node.target)
        self._loop_rest(node, top, otherwise, done, holds_iterator=True)

    def _loop_rest(self, node: ast.While | ast.For, top: Label, otherwise: Label, done: Label,
                   holds_iterator: bool) -> None:
        """Body (break/continue resolve through the loop's FBlock), jump back,
        then the ``else`` clause, which a break skips."""
        self.fblocks.append(FBlock("loop", top, done, holds_iterator))
        self.body(node.body)
        self.fblocks.pop()
        self.emit(Op.JUMP, top)
        self.asm.mark(otherwise)
        self.body(node.orelse)
        self.asm.mark(done)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.load_const(0)
            self.load_const(None)
            self.emit(Op.IMPORT_NAME, self.name_index(alias.name))
            if alias.asname is None:
                self._name_op(alias.name.partition(".")[0], "store")
                continue
            for part in alias.name.split(".")[1:]:
                self.emit(Op.IMPORT_FROM, self.name_index(part))
                self.emit(Op.SWAP, 2)
                self.emit(Op.POP_TOP)
            self._name_op(alias.asname, "store")

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        self.load_const(node.level)
        self.load_const(tuple(alias.name for alias in node.names))
        self.emit(Op.IMPORT_NAME, self.name_index(node.module or ""))
        if node.names[0].name == "*":
            self.emit(Op.IMPORT_STAR)
            return
        for alias in node.names:
            self.emit(Op.IMPORT_FROM, self.name_index(alias.name))
            self._name_op(alias.asname or alias.name, "store")
        self.emit(Op.POP_TOP)

    # -- expressions -------------------------------------------------------
    def visit_Constant(self, node: ast.Constant) -> None:
        self.load_const(node.value)

    def visit_BinOp(self, node: ast.BinOp) -> None:
        self.visit(node.left)
        self.visit(node.right)
        self.emit(BINARY[type(node.op)])

    def visit_UnaryOp(self, node: ast.UnaryOp) -> None:
        self.visit(node.operand)
        self.emit(UNARY[type(node.op)])

    def visit_BoolOp(self, node: ast.BoolOp) -> None:
        done = Label()
        jump = Op.JUMP_IF_FALSE_OR_POP if isinstance(node.op, ast.And) else Op.JUMP_IF_TRUE_OR_POP
        for value in node.values[:-1]:
            self.visit(value)
            self.emit(jump, done)
        self.visit(node.values[-1])
        self.asm.mark(done)

    def visit_Compare(self, node: ast.Compare) -> None:
        """``a < b < c`` evaluates b once and stops at the first false link."""
        self.visit(node.left)
        cleanup, done = Label(), Label()
        links = list(zip(node.ops, node.comparators))
        for operator, right in links[:-1]:
            self.visit(right)
            self.emit(Op.SWAP, 2)
            self.emit(Op.COPY, 2)
            self.emit(COMPARE[type(operator)])
            self.emit(Op.JUMP_IF_FALSE_OR_POP, cleanup)
        operator, right = links[-1]
        self.visit(right)
        self.emit(COMPARE[type(operator)])
        if len(links) > 1:
            self.emit(Op.JUMP, done)
            self.asm.mark(cleanup)
            self.emit(Op.SWAP, 2)
            self.emit(Op.POP_TOP)
            self.asm.mark(done)

    def visit_Call(self, node: ast.Call) -> None:
        self.visit(node.func)
        if (isinstance(node.func, ast.Name) and node.func.id in FRAME_BUILTINS
                or isinstance(node.func, ast.Attribute) and node.func.attr == "_getframe") \
                and not (node.args or node.keywords):
            self.emit(Op.CALL_FRAME_BUILTIN)
            return
        if _is_method_call(node):
            with self.at_attribute_name(node.func):  # type: ignore[arg-type]
                self._call_arguments(node.args, node.keywords, already=0)
            return
        self._call_arguments(node.args, node.keywords, already=0)

    def _call_arguments(self, args: list[ast.expr], keywords: list[ast.keyword], already: int) -> None:
        """Push arguments and call; ``already`` arguments are on the stack."""
        if any(isinstance(a, ast.Starred) for a in args) or any(k.arg is None for k in keywords):
            self._call_unpacking(args, keywords, already)
            return
        for arg in args:
            self.visit(arg)
        for keyword in keywords:
            self.visit(keyword.value)
        count = already + len(args) + len(keywords)
        if keywords:
            self.load_const(tuple(k.arg for k in keywords))  # type: ignore[misc]
            self.emit(Op.CALL_KW, count)
        else:
            self.emit(Op.CALL, count)

    def _call_unpacking(self, args: list[ast.expr], keywords: list[ast.keyword], already: int) -> None:
        """``f(*a, **k)``: a positional tuple and a keyword dict, then CALL_EX.

        Every keyword goes through DICT_MERGE so a name given twice (``f(**d,
        x=1)``) raises CPython's TypeError at run time.
        """
        self.emit(Op.BUILD_LIST, already)
        self._sequence_items(args, Op.LIST_APPEND, Op.LIST_EXTEND)
        self.emit(Op.LIST_TO_TUPLE)
        if keywords:
            self.emit(Op.BUILD_MAP, 0)
            for keyword in keywords:
                if keyword.arg is None:
                    self.visit(keyword.value)
                else:
                    self.load_const(keyword.arg)
                    self.visit(keyword.value)
                    self.emit(Op.BUILD_MAP, 1)
                self.emit(Op.DICT_MERGE, 1)
        self.emit(Op.CALL_EX, 1 if keywords else 0)

    def _sequence_items(self, elements: list[ast.expr], add: Op, extend: Op) -> None:
        """Add each element (``add``) or each starred iterable's items (``extend``) to the container on TOS."""
        for element in elements:
            if isinstance(element, ast.Starred):
                self.visit(element.value)
                self.emit(extend, 1)
            else:
                self.visit(element)
                self.emit(add, 1)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        self.visit(node.value)
        with self.at_attribute_name(node):
            self.emit(Op.LOAD_ATTR, self.name_index(self.mangle(node.attr)))

    def visit_Subscript(self, node: ast.Subscript) -> None:
        self.visit(node.value)
        self.visit(node.slice)
        self.emit(Op.LOAD_SUBSCR)

    def visit_Slice(self, node: ast.Slice) -> None:
        parts = [node.lower, node.upper] + ([node.step] if node.step is not None else [])
        for part in parts:
            if part is None:
                self.load_const(None)
            else:
                self.visit(part)
        self.emit(Op.BUILD_SLICE, len(parts))

    def _display(self, elements: list[ast.expr], opcode: Op) -> None:
        if any(isinstance(e, ast.Starred) for e in elements):
            is_set = opcode == Op.BUILD_SET
            self.emit(Op.BUILD_SET if is_set else Op.BUILD_LIST, 0)
            self._sequence_items(elements, Op.SET_ADD if is_set else Op.LIST_APPEND,
                                 Op.SET_UPDATE if is_set else Op.LIST_EXTEND)
            if opcode == Op.BUILD_TUPLE:
                self.emit(Op.LIST_TO_TUPLE)
            return
        for element in elements:
            self.visit(element)
        self.emit(opcode, len(elements))

    def visit_Tuple(self, node: ast.Tuple) -> None:
        self._display(node.elts, Op.BUILD_TUPLE)

    def visit_List(self, node: ast.List) -> None:
        self._display(node.elts, Op.BUILD_LIST)

    def visit_Set(self, node: ast.Set) -> None:
        self._display(node.elts, Op.BUILD_SET)

    def visit_Dict(self, node: ast.Dict) -> None:
        if any(key is None for key in node.keys):
            self.emit(Op.BUILD_MAP, 0)
            for key, value in zip(node.keys, node.values):
                if key is None:
                    self.visit(value)
                    self.emit(Op.DICT_UPDATE, 1)
                else:
                    self.visit(key)
                    self.visit(value)
                    self.emit(Op.MAP_ADD, 1)
            return
        for key, value in zip(node.keys, node.values):
            self.visit(key)  # type: ignore[arg-type]
            self.visit(value)
        self.emit(Op.BUILD_MAP, len(node.keys))

    def visit_IfExp(self, node: ast.IfExp) -> None:
        otherwise, done = Label(), Label()
        self.visit(node.test)
        self.emit(Op.POP_JUMP_IF_FALSE, otherwise)
        self.visit(node.body)
        self.emit(Op.JUMP, done)
        self.asm.mark(otherwise)
        self.visit(node.orelse)
        self.asm.mark(done)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.visit(node.value)
        self.emit(Op.COPY, 1)
        self._store(node.target)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        for value in node.values:
            self.visit(value)
        self.emit(Op.BUILD_STRING, len(node.values))

    def visit_FormattedValue(self, node: ast.FormattedValue) -> None:
        self.visit(node.value)
        flags = CONVERSION[node.conversion]
        if node.format_spec is not None:
            self.visit(node.format_spec)
            flags |= 4
        self.emit(Op.FORMAT_VALUE, flags)
