"""Python source -> DPB module, for a stated subset of the language.

Pipeline, each step testable alone:

1. CPython's ``compile()`` checks the source, so every SyntaxError (including
   those only its bytecode compiler finds, such as ``return`` outside a
   function) is CPython's own, word for word.
2. ``ast.parse`` and the stdlib ``symtable`` classify every name of every
   scope (local, global, free, cell): scoping rules are never re-derived here.
3. ``_ScopeCompiler`` walks one scope's AST into an ``Assembler``; nested
   scopes get their own compiler, and code objects are numbered in preorder
   (a parent before its children), as the format requires.

Supported today (everything else raises ``DpbCompileError`` naming
file:line and the construct, at compile time):

* statements: expression, assignment (names, attributes, subscripts, tuple
  and list targets, one starred target), augmented assignment, annotated
  assignment inside functions, ``del``, ``pass``, ``if``, ``while`` and
  ``for`` (with ``else``, ``break``, ``continue``), ``return``, ``raise``
  (``from``), ``assert``, ``global``, ``nonlocal``, ``import`` and ``from
  ... import`` (absolute, relative, ``*``), ``def`` (positional-only,
  defaults, keyword-only, ``*args``, ``**kwargs``, annotations, decorators,
  docstrings, closures), ``class`` (bases, keywords, decorators,
  zero-argument ``super()`` through a ``__class__`` cell);
* expressions: constants, names, attributes, subscripts and slices, unary,
  binary, boolean and (chained) comparison operators, calls with positional,
  keyword, ``*`` and ``**`` arguments, tuple/list/set/dict displays (with
  ``*``/``**``), conditional
  expressions, ``lambda``, the walrus operator, f-strings, list/set/dict
  comprehensions (nested ``for``, ``if`` filters; compiled as CPython 3.11
  does, to a nested function called with the outermost iterator ``.0``).

Exception handling (``try``/``except``/``except*``/``finally``), ``with``,
``yield``/``yield from``, generator expressions, ``async def`` (coroutines
and async generators), ``await``, ``async for`` and ``async with`` are
compiled by ``handlers``; ``match`` (every pattern kind) by ``matching``;
annotations everywhere (evaluated, or strings
under ``from __future__ import annotations``), with ``__annotations__`` in
module and class bodies.

Still refused: star-unpacking with more than 65535 targets after the star
(UNPACK_EX's field for them is 16 bits wide).
"""

from __future__ import annotations

import ast
import symtable
import tokenize

from dxpy.vm.assembler import Label
from dxpy.vm.codegen import columns_of
from dxpy.vm.constants import CodeRef
from dxpy.vm.errors import DpbCompileError
from dxpy.vm.format import CodeFlags, CodeObject, DpbModule
from dxpy.vm.matching import MatchCodegen, _PatternState
from dxpy.vm.opcodes import Opcode as Op
from dxpy.vm.scope import ModuleBuilder

Comprehension = ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp
COMPREHENSION_BUILD = {ast.ListComp: Op.BUILD_LIST, ast.SetComp: Op.BUILD_SET, ast.DictComp: Op.BUILD_MAP}


def compile_file(path: str) -> DpbModule:
    """Compile a source file, honouring its encoding declaration."""
    with tokenize.open(path) as file:
        return compile_source(file.read(), path)


def compile_source(source: str, filename: str = "<string>") -> DpbModule:
    """Compile module source; SyntaxError as CPython reports it, DpbCompileError for the unsupported."""
    compile(source, filename, "exec", dont_inherit=True)
    tree = ast.parse(source, filename)
    table = symtable.symtable(source, filename, "exec")
    builder = ModuleBuilder(_future_annotations(tree))
    _ScopeCompiler(builder, table, filename, "<module>", tree, None).compile_module(tree)
    return builder.module()


class _ScopeCompiler(MatchCodegen):
    """Compiles one scope (module, class body, function, lambda, comprehension) to a code object."""

    def _pattern(self, pattern: ast.pattern, state: _PatternState) -> None:
        """A pattern's instructions (MATCH_CLASS raising, say) are at the pattern's position."""
        with self.located(pattern):
            super()._pattern(pattern, state)

    # -- whole scopes ------------------------------------------------------
    def compile_module(self, tree: ast.Module) -> None:
        self._setup_annotations(tree.body)
        self.body(self._store_docstring(tree.body))
        self._return_none(tree.body)
        self._finish("<module>", 1)

    def compile_class(self, node: ast.ClassDef) -> None:
        self.emit(Op.LOAD_NAME, self.name_index("__name__"))
        self.emit(Op.STORE_NAME, self.name_index("__module__"))
        self.load_const(self.qualname)
        self.emit(Op.STORE_NAME, self.name_index("__qualname__"))
        self._setup_annotations(node.body)
        self.body(self._store_docstring(node.body))
        if self.cells:
            self.emit(Op.LOAD_CLOSURE, 0)
            self.emit(Op.STORE_NAME, self.name_index("__classcell__"))
        self._return_none(node.body)
        self._finish(node.name, _first_line(node))

    def compile_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda, name: str) -> None:
        args = node.args
        self.varnames = [self.mangle(a.arg) for a in args.posonlyargs + args.args + args.kwonlyargs]
        flags = 0
        for extra, flag in ((args.vararg, CodeFlags.VARARGS), (args.kwarg, CodeFlags.VARKEYWORDS)):
            if extra is not None:
                self.varnames.append(self.mangle(extra.arg))
                flags |= flag
        taken = set(self.cells + self.varnames)
        for symbol in self.table.get_symbols():
            if symbol.is_local() and symbol.get_name() not in taken:
                self.varnames.append(symbol.get_name())
                taken.add(symbol.get_name())
        if isinstance(node, ast.AsyncFunctionDef):
            flags |= CodeFlags.ASYNC_GENERATOR if _is_generator(node) else CodeFlags.COROUTINE
        elif _is_generator(node):
            flags |= CodeFlags.GENERATOR
        if isinstance(node, ast.Lambda):
            self.visit(node.body)
            self.emit(Op.RETURN_VALUE)
        else:
            statements = node.body
            doc = _docstring(statements)
            if doc is not None:
                self.const_index(doc)  # the first constant: consts[0]
                flags |= CodeFlags.HAS_DOCSTRING
                statements = statements[1:]
            self.body(statements)
            self._return_none(node.body)
        self._finish(name, _first_line(node), args, flags)

    def compile_comprehension(self, node: Comprehension, name: str) -> None:
        """The comprehension's function: one parameter, ``.0``, the outermost iterator.

        A generator expression's function is a generator that yields each
        element and returns None; the others build and return a container.
        """
        self.varnames = [".0"] + [s.get_name() for s in self.table.get_symbols()
                                  if s.is_local() and s.get_name() not in self.cells + [".0"]]
        is_generator = isinstance(node, ast.GeneratorExp)
        self.columns = columns_of(node)  # CPython's default position in the comprehension's code
        if not is_generator:
            self.emit(COMPREHENSION_BUILD[type(node)], 0)
        self._comprehension_loop(node, 0)
        if is_generator:
            self.load_const(None)
        self.emit(Op.RETURN_VALUE)
        implicit = ast.arguments(posonlyargs=[], args=[ast.arg(".0")], kwonlyargs=[], kw_defaults=[],
                                 defaults=[])
        if _is_async_comprehension(node):
            flags = CodeFlags.ASYNC_GENERATOR if is_generator else CodeFlags.COROUTINE
        else:
            flags = CodeFlags.GENERATOR if is_generator else 0
        self._finish(name, node.lineno, implicit, flags)

    def _comprehension_loop(self, node: Comprehension, index: int) -> None:
        """One ``for`` clause; the innermost adds the element to the result below the iterators."""
        generator = node.generators[index]
        top, done, stop = Label(), Label(), Label()
        if index == 0:
            self.emit(Op.LOAD_FAST, 0)
        else:
            self.visit(generator.iter)
            self.emit(Op.GET_AITER if generator.is_async else Op.GET_ITER)
        self.asm.mark(top)
        if generator.is_async:  # as ``async for``: END_ASYNC_FOR at ``stop`` ends the loop
            self.emit(Op.SETUP_FINALLY, stop)
            self.emit(Op.GET_ANEXT)
            self._delegate()
            self.emit(Op.POP_BLOCK)
        else:
            self.emit(Op.FOR_ITER, done)
        self._store(generator.target)
        for condition in generator.ifs:
            self.visit(condition)
            self.emit(Op.POP_JUMP_IF_FALSE, top)
        if index + 1 < len(node.generators):
            self._comprehension_loop(node, index + 1)
        elif isinstance(node, ast.DictComp):
            self.visit(node.key)
            self.visit(node.value)
            self.emit(Op.MAP_ADD, len(node.generators) + 1)
        elif isinstance(node, ast.GeneratorExp):
            self.visit(node.elt)
            self.emit(Op.YIELD_VALUE)
            self.emit(Op.POP_TOP)
        else:
            self.visit(node.elt)
            self.emit(Op.LIST_APPEND if isinstance(node, ast.ListComp) else Op.SET_ADD,
                      len(node.generators) + 1)
        self.emit(Op.JUMP, top)
        if generator.is_async:
            self.asm.mark(stop)
            self.emit(Op.END_ASYNC_FOR)
        self.asm.mark(done)

    def _setup_annotations(self, statements: list[ast.stmt]) -> None:
        """``__annotations__ = {}`` when the body annotates a name (CPython's SETUP_ANNOTATIONS)."""
        pending: list[ast.AST] = list(statements)
        while pending:
            current = pending.pop()
            if isinstance(current, ast.AnnAssign):  # unless the namespace has one already
                present = Label()
                self.load_const("__annotations__")
                self.emit(Op.LOAD_NAME, self.name_index("locals"))
                self.emit(Op.CALL_FRAME_BUILTIN)  # the namespace itself (a ``__prepare__`` mapping)
                self.emit(Op.CONTAINS_OP)
                self.emit(Op.POP_JUMP_IF_TRUE, present)
                self.emit(Op.BUILD_MAP, 0)
                self.emit(Op.STORE_NAME, self.name_index("__annotations__"))
                self.asm.mark(present)
                return
            if not isinstance(current, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.expr)):
                pending.extend(ast.iter_child_nodes(current))

    def _return_none(self, statements: list[ast.stmt]) -> None:
        """The implicit ``return None``, on the body's last line as CPython reports it."""
        if statements:
            self.line = statements[-1].lineno
        self.load_const(None)
        self.emit(Op.RETURN_VALUE)

    def _store_docstring(self, statements: list[ast.stmt]) -> list[ast.stmt]:
        """Module and class docstrings become ``__doc__``; returns the remaining statements."""
        doc = _docstring(statements)
        if doc is None:
            return statements
        self.load_const(doc)
        self.emit(Op.STORE_NAME, self.name_index("__doc__"))
        return statements[1:]

    def _finish(self, name: str, firstline: int, args: ast.arguments | None = None,
                flags: int = 0) -> None:
        code, linetable, positions = self.asm.assemble()
        positional = len(args.posonlyargs) + len(args.args) if args else 0
        localnames = tuple(self.name_index(n) for n in self.varnames)
        self.builder.codes[self.index] = CodeObject(
            name=self.name_index(name), qualname=self.name_index(self.qualname),
            argcount=positional, posonly=len(args.posonlyargs) if args else 0,
            kwonly=len(args.kwonlyargs) if args else 0, flags=int(flags),
            nlocals=len(localnames), localnames=localnames,
            cellnames=tuple(self.name_index(n) for n in self.cells),
            freenames=tuple(self.name_index(n) for n in self.frees),
            firstline=firstline, instructions=code, linetable=linetable,
            consts=tuple(self.consts), nested=tuple(self.nested), positions=positions)

    # -- nested scopes -----------------------------------------------------
    def _child(self, name: str, lineno: int, skip: int = 0) -> symtable.SymbolTable:
        """The symbol table of the nested scope defined at ``lineno`` with ``name`` (after ``skip`` such)."""
        for position, table in enumerate(self.children):
            if table.get_name() == name and table.get_lineno() == lineno:
                if skip:
                    skip -= 1
                    continue
                return self.children.pop(position)
        raise DpbCompileError(self.filename, lineno, f"scope {name!r} (no symbol table found)")

    def _child_qualname(self, name: str, may_be_global: bool = False) -> str:
        """CPython's ``__qualname__`` rule: a def or class whose name the enclosing scope
        declares ``global`` is named as if at module level."""
        if self.kind == "module":
            return name
        if may_be_global:
            try:
                if self.table.lookup(self.mangle(name)).is_declared_global():
                    return name
            except KeyError:
                pass
        return f"{self.qualname}.<locals>.{name}" if self.kind == "function" else f"{self.qualname}.{name}"

    def _make_function(self, compiler: _ScopeCompiler, flags: int) -> None:
        """Push the closure (if any) and the code reference, then MAKE_FUNCTION."""
        if compiler.frees:
            for name in compiler.frees:
                self.emit(Op.LOAD_CLOSURE, self._deref_index(name))
            self.emit(Op.BUILD_TUPLE, len(compiler.frees))
            flags |= 8
        self.nested.append(compiler.index)
        self.load_const(CodeRef(compiler.index))
        self.emit(Op.MAKE_FUNCTION, flags)

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda, name: str) -> None:
        args = node.args
        flags = 0
        if args.defaults:
            for default in args.defaults:
                self.visit(default)
            self.emit(Op.BUILD_TUPLE, len(args.defaults))
            flags |= 1
        kwdefaults = [(a.arg, d) for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None]
        if kwdefaults:
            for arg_name, default in kwdefaults:
                self.load_const(self.mangle(arg_name))
                self.visit(default)
            self.emit(Op.BUILD_MAP, len(kwdefaults))
            flags |= 2
        if self._annotations(node):
            flags |= 4
        lambda_ = isinstance(node, ast.Lambda)
        table = self._child("lambda" if lambda_ else name, node.lineno)
        compiler = _ScopeCompiler(self.builder, table, self.filename,
                                  self._child_qualname(name, not lambda_), node, self.private)
        compiler.compile_function(node, name)
        self._make_function(compiler, flags)

    def _annotations(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> bool:
        """Push a dict of the parameter and return annotations, if there are any."""
        if isinstance(node, ast.Lambda):
            return False
        args = node.args
        # CPython's order: positional, *args, keyword-only, **kwargs, return.
        every = args.posonlyargs + args.args + ([args.vararg] if args.vararg else [])
        every += args.kwonlyargs + ([args.kwarg] if args.kwarg else [])
        pairs = [(a.arg, a.annotation) for a in every if a.annotation is not None]
        if node.returns is not None:
            pairs.append(("return", node.returns))
        for name, annotation in pairs:
            self.load_const(self.mangle(name))
            self.annotation(annotation)
        if pairs:
            self.emit(Op.BUILD_MAP, len(pairs))
        return bool(pairs)

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for decorator in node.decorator_list:
            self.visit(decorator)
        self._function(node, node.name)
        self._apply_decorators(node.decorator_list)
        self._name_op(node.name, "store")

    def _apply_decorators(self, decorators: list[ast.expr]) -> None:
        """Call the decorators, innermost first, each call at its decorator's position (as CPython)."""
        for decorator in reversed(decorators):
            with self.located(decorator):
                self.emit(Op.CALL, 1)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._function(node, "<lambda>")

    def _comprehension(self, node: Comprehension, kind: str) -> None:
        """Make the comprehension's function and call it on ``iter()`` of the outermost iterable."""
        outermost = node.generators[0].iter
        # symtable lists the scopes nested in the outermost iterable (which this
        # scope evaluates) before the comprehension's own: skip those that share its name and line.
        skip = sum(1 for scope in _scopes_evaluated_in(outermost)
                   if _scope_name(scope) == kind and scope.lineno == node.lineno)
        table = self._child(kind, node.lineno, skip)
        name = f"<{kind}>"
        compiler = _ScopeCompiler(self.builder, table, self.filename, self._child_qualname(name), node,
                                  self.private)
        compiler.compile_comprehension(node, name)
        self._make_function(compiler, 0)
        self.visit(outermost)
        self.emit(Op.GET_AITER if node.generators[0].is_async else Op.GET_ITER)
        self.emit(Op.CALL, 1)
        if _is_async_comprehension(node) and not isinstance(node, ast.GeneratorExp):
            self.emit(Op.GET_AWAITABLE, 0)  # the comprehension is a coroutine: await its result
            self._delegate()

    def visit_ListComp(self, node: ast.ListComp) -> None:
        self._comprehension(node, "listcomp")

    def visit_SetComp(self, node: ast.SetComp) -> None:
        self._comprehension(node, "setcomp")

    def visit_DictComp(self, node: ast.DictComp) -> None:
        self._comprehension(node, "dictcomp")

    def visit_GeneratorExp(self, node: ast.GeneratorExp) -> None:
        self._comprehension(node, "genexpr")

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for decorator in node.decorator_list:
            self.visit(decorator)
        self.emit(Op.LOAD_BUILD_CLASS)
        table = self._child(node.name, node.lineno)
        compiler = _ScopeCompiler(self.builder, table, self.filename,
                                  self._child_qualname(node.name, True), node, node.name)
        compiler.compile_class(node)
        self._make_function(compiler, 0)
        self.load_const(node.name)
        self._call_arguments(node.bases, node.keywords, already=2)
        self._apply_decorators(node.decorator_list)
        self._name_op(node.name, "store")


def _scope_name(node: ast.AST) -> str:
    """The name symtable gives the scope ``node`` opens."""
    if isinstance(node, ast.Lambda):
        return "lambda"
    return {ast.ListComp: "listcomp", ast.SetComp: "setcomp", ast.DictComp: "dictcomp",
            ast.GeneratorExp: "genexpr"}[type(node)]


def _scopes_evaluated_in(expression: ast.expr) -> list[ast.expr]:
    """Scope-opening nodes of ``expression`` whose symbol tables are children of the scope evaluating it.

    A comprehension's outermost iterable and a lambda's defaults are
    evaluated by the enclosing scope, so scopes inside them count too.
    """
    found: list[ast.expr] = []
    pending: list[ast.AST] = [expression]
    while pending:
        current = pending.pop()
        if isinstance(current, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            found.append(current)
            pending.append(current.generators[0].iter)
        elif isinstance(current, ast.Lambda):
            found.append(current)
            pending.extend(current.args.defaults + [d for d in current.args.kw_defaults if d is not None])
        else:
            pending.extend(ast.iter_child_nodes(current))
    return found


def _is_async_comprehension(node: Comprehension) -> bool:
    """``async for`` clauses, an ``await``, or a nested asynchronous list/set/dict comprehension
    (which it awaits) make a comprehension asynchronous, as CPython's symtable decides; a
    nested generator expression is only an object (its first iterable still counts)."""
    if any(g.is_async for g in node.generators):
        return True
    pending: list[ast.AST] = list(ast.iter_child_nodes(node))
    while pending:
        current = pending.pop()
        if isinstance(current, ast.Await):
            return True
        if isinstance(current, (ast.ListComp, ast.SetComp, ast.DictComp)):
            if _is_async_comprehension(current):
                return True
        elif isinstance(current, ast.GeneratorExp):
            pending.append(current.generators[0].iter)
        elif not isinstance(current, ast.Lambda):
            pending.extend(ast.iter_child_nodes(current))
    return False


def _is_generator(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> bool:
    """Whether ``yield`` occurs in the function's own scope (not in nested ones)."""
    pending: list[ast.AST] = [node.body] if isinstance(node, ast.Lambda) else list(node.body)
    while pending:
        current = pending.pop()
        if isinstance(current, (ast.Yield, ast.YieldFrom)):
            return True
        if isinstance(current, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            pending.extend(getattr(current, "decorator_list", []))
            continue
        if isinstance(current, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            pending.append(current.generators[0].iter)
            continue
        pending.extend(ast.iter_child_nodes(current))
    return False


def _future_annotations(tree: ast.Module) -> bool:
    """Whether the module turns annotations into strings (PEP 563)."""
    return any(isinstance(node, ast.ImportFrom) and node.module == "__future__"
               and any(alias.name == "annotations" for alias in node.names) for node in tree.body)


def _docstring(statements: list[ast.stmt]) -> str | None:
    """The docstring a body starts with, as CPython recognises it."""
    if statements and isinstance(statements[0], ast.Expr):
        value = statements[0].value
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            return value.value
    return None


def _first_line(node: ast.AST) -> int:
    """CPython's ``co_firstlineno``: the first decorator's line if there are decorators, else the node's."""
    return min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", ())])  # type: ignore[attr-defined]
