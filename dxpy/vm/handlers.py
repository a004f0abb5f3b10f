"""Compiler layer 2b: ``try`` (and ``except*``), ``with``, ``yield``, ``await``, ``async for``/``with``, early exits.

The code shapes follow CPython 3.11 (with its exception table replaced by
``SETUP_FINALLY``/``POP_BLOCK`` blocks, which record the value-stack depth to
restore).  A handler runs with ``[previous exception, exception]`` on the
stack after ``PUSH_EXC_INFO``; every handler is itself covered by a
*cleanup* block that restores the previous exception (``POP_EXCEPT``)
before re-raising, so ``sys.exc_info()`` is right however a handler ends.

``return``, ``break`` and ``continue`` leave blocks through ``_unwind``:
the compiler knows every block between the statement and its target
(``self.fblocks``) and emits what each needs: ``POP_BLOCK``, popping a
loop's iterator, ``POP_EXCEPT`` for a handler, clearing an ``except ... as``
name, calling ``__exit__(None, None, None)``, or a copy of a ``finally``
body.  A return value stays on top throughout (``SWAP 2`` before each pop).
"""

from __future__ import annotations

import ast
from dxpy.vm.assembler import Label
from dxpy.vm.codegen import Codegen
from dxpy.vm.opcodes import Opcode as Op
from dxpy.vm.scope import FBlock


class HandlerCodegen(Codegen):
    """Exception handling, ``with``, ``yield`` and early exits (see the module docstring)."""

    # -- leaving blocks ------------------------------------------------------
    def _unwind(self, preserve_top: bool, to_loop: bool) -> FBlock | None:
        """Emit the exits of every block up to (not including) the innermost loop if ``to_loop``."""
        saved = self.fblocks
        try:
            for position in range(len(saved) - 1, -1, -1):
                block = saved[position]
                if block.kind == "loop" and to_loop:
                    return block
                self.fblocks = saved[:position]  # a copied finally body sees only the outer blocks
                self._exit_block(block, preserve_top)
        finally:
            self.fblocks = saved
        return None

    def _pop_under(self, preserve_top: bool, opcode: Op = Op.POP_TOP) -> None:
        if preserve_top:
            self.emit(Op.SWAP, 2)
        self.emit(opcode)

    def _exit_block(self, block: FBlock, preserve_top: bool) -> None:
        if block.kind == "loop":
            if block.holds_iterator:
                self._pop_under(preserve_top)
            return
        if block.kind == "pop_value":  # the value a copied finally body runs above
            self._pop_under(preserve_top)
            return
        self.emit(Op.POP_BLOCK)
        if block.kind == "finally":
            if preserve_top:  # a break/continue/return inside drops the value being returned
                self.fblocks.append(FBlock("pop_value"))
            self.body(block.extra)  # type: ignore[arg-type]
            if preserve_top:
                self.fblocks.pop()
        elif block.kind == "handler":
            self._pop_under(preserve_top)
            self._pop_under(preserve_top, Op.POP_EXCEPT)
        elif block.kind == "handler_name":
            self._clear_name(block.extra)  # type: ignore[arg-type]
        elif block.kind in ("with", "async_with"):
            if preserve_top:
                self.emit(Op.SWAP, 2)
            self._call_exit_none(block.kind == "async_with")

    def visit_Return(self, node: ast.Return) -> None:
        if node.value is None:
            self.load_const(None)
        else:
            self.visit(node.value)
        self._unwind(preserve_top=True, to_loop=False)
        self.emit(Op.RETURN_VALUE)

    def visit_Break(self, node: ast.Break) -> None:
        loop = self._unwind(preserve_top=False, to_loop=True)
        assert loop is not None and loop.done is not None  # CPython's compile() rejected a stray break
        if loop.holds_iterator:
            self.emit(Op.POP_TOP)
        self.emit(Op.JUMP, loop.done)

    def visit_Continue(self, node: ast.Continue) -> None:
        loop = self._unwind(preserve_top=False, to_loop=True)
        assert loop is not None and loop.top is not None
        self.emit(Op.JUMP, loop.top)

    # -- try -----------------------------------------------------------------
    def visit_Try(self, node: ast.Try) -> None:
        if node.finalbody:
            self._try_finally(node)
        else:
            self._try_except(node)

    def _try_finally(self, node: ast.Try) -> None:
        handler, end = Label(), Label()
        self.emit(Op.SETUP_FINALLY, handler)
        self.fblocks.append(FBlock("finally", extra=node.finalbody))
        if node.handlers:
            (self._try_star if isinstance(node, ast.TryStar) else self._try_except)(node)  # type: ignore[arg-type]
        else:
            self.body(node.body)
        self.fblocks.pop()
        self.emit(Op.POP_BLOCK)
        self.body(node.finalbody)
        self.emit(Op.JUMP, end)
        self.asm.mark(handler)
        cleanup = self._enter_handler()
        self.body(node.finalbody)
        self.fblocks.pop()
        self._reraise_handled()
        self._cleanup(cleanup)
        self.asm.mark(end)

    def _enter_handler(self) -> Label:
        """At a handler's start ([exc]): make exc current and cover the rest with a cleanup block."""
        cleanup = Label()
        self.emit(Op.PUSH_EXC_INFO)
        self.emit(Op.SETUP_FINALLY, cleanup)
        self.fblocks.append(FBlock("handler"))
        return cleanup

    def _reraise_handled(self) -> None:
        """[prev, exc] -> raise exc, keeping it on the stack so the cleanup block finds [prev, exc, exc]."""
        self.emit(Op.COPY, 1)
        self.emit(Op.RERAISE)

    def _cleanup(self, label: Label) -> None:
        """[prev, exc, exc2]: restore prev as the handled exception, re-raise exc2."""
        self.asm.mark(label)
        self.emit(Op.SWAP, 2)
        self.emit(Op.POP_TOP)
        self.emit(Op.SWAP, 2)
        self.emit(Op.POP_EXCEPT)
        self.emit(Op.RERAISE)

    def _protected_body(self, node: ast.Try | ast.TryStar, handler: Label, end: Label) -> None:
        """``try`` body under ``handler``, then ``else`` and a jump to ``end``;
        the handler's code is emitted next, at ``handler``."""
        self.emit(Op.SETUP_FINALLY, handler)
        self.fblocks.append(FBlock("try"))
        self.body(node.body)
        self.fblocks.pop()
        self.emit(Op.POP_BLOCK)
        self.body(node.orelse)
        self.emit(Op.JUMP, end)
        self.asm.mark(handler)

    def _try_except(self, node: ast.Try) -> None:
        handler, end = Label(), Label()
        self._protected_body(node, handler, end)
        cleanup = self._enter_handler()
        for clause in node.handlers:
            self.line = clause.lineno
            after = Label()
            if clause.type is not None:
                self.visit(clause.type)
                self.emit(Op.CHECK_EXC_MATCH)
                self.emit(Op.POP_JUMP_IF_FALSE, after)
            if clause.name is None:
                self.body(clause.body)
            else:
                self._named_handler_body(clause)
            self.fblocks.pop()
            self.emit(Op.POP_BLOCK)
            self.emit(Op.POP_TOP)
            self.emit(Op.POP_EXCEPT)
            self.emit(Op.JUMP, end)
            self.fblocks.append(FBlock("handler"))
            self.asm.mark(after)
        self.fblocks.pop()
        self._reraise_handled()
        self._cleanup(cleanup)
        self.asm.mark(end)

    def _named_handler_body(self, clause: ast.ExceptHandler) -> None:
        """``except E as name``: the name is cleared however the body ends, as CPython does."""
        name = clause.name
        assert name is not None
        self.emit(Op.COPY, 1)
        self._name_op(name, "store")
        cleanup, done = Label(), Label()
        self.emit(Op.SETUP_FINALLY, cleanup)
        self.fblocks.append(FBlock("handler_name", extra=name))
        self.body(clause.body)
        self.fblocks.pop()
        self.emit(Op.POP_BLOCK)
        self._clear_name(name)
        self.emit(Op.JUMP, done)
        self.asm.mark(cleanup)
        self._clear_name(name)
        self.emit(Op.RERAISE)
        self.asm.mark(done)

    def _clear_name(self, name: str) -> None:
        self.load_const(None)
        self._name_op(name, "store")
        self._name_op(name, "del")

    def visit_TryStar(self, node: ast.TryStar) -> None:
        if node.finalbody:
            self._try_finally(node)  # type: ignore[arg-type]
        else:
            self._try_star(node)

    def _try_star(self, node: ast.TryStar) -> None:
        """``try``/``except*`` (PEP 654), shaped like CPython 3.11's code.

        The handler keeps ``[prev, orig, raised, rest]``: each clause splits
        ``rest`` with CHECK_EG_MATCH and runs on the matching part; whatever
        a clause raises is appended to ``raised`` (a ``SETUP_FINALLY`` around
        its body), the unmatched rest last, and PREP_RERAISE_STAR turns the
        list into the exception to re-raise (None: everything was handled).
        CPython's compile() has already rejected ``break``, ``continue`` and
        ``return`` in these clauses, so nothing jumps out of them.
        """
        handler, end, reraise = Label(), Label(), Label()
        self._protected_body(node, handler, end)
        cleanup = self._enter_handler()
        self.line = node.handlers[0].lineno
        self.emit(Op.COPY, 1)
        self.emit(Op.BUILD_LIST, 0)
        self.emit(Op.SWAP, 2)
        for clause in node.handlers:
            self._star_clause(clause)
        self.emit(Op.LIST_APPEND, 1)  # the part no clause matched (or None)
        self.emit(Op.PREP_RERAISE_STAR)
        self._jump_if_none(reraise, none=False)
        self.emit(Op.POP_TOP)
        self.fblocks.pop()
        self.emit(Op.POP_BLOCK)
        self.emit(Op.POP_EXCEPT)
        self.emit(Op.JUMP, end)
        self.asm.mark(reraise)
        self.emit(Op.POP_BLOCK)
        self.emit(Op.SWAP, 2)
        self.emit(Op.POP_EXCEPT)
        self.emit(Op.RERAISE)
        self._cleanup(cleanup)
        self.asm.mark(end)

    def _jump_if_none(self, target: Label, none: bool) -> None:
        """Jump to ``target`` if TOS is (``none``) or is not None; TOS stays."""
        self.emit(Op.COPY, 1)
        self.load_const(None)
        self.emit(Op.IS_OP)
        self.emit(Op.POP_JUMP_IF_TRUE if none else Op.POP_JUMP_IF_FALSE, target)

    def _star_clause(self, clause: ast.ExceptHandler) -> None:
        """One ``except* T [as name]`` clause: [prev, orig, raised, rest] -> [prev, orig, raised, rest']."""
        self.line = clause.lineno
        no_match, raised, done = Label(), Label(), Label()
        assert clause.type is not None  # the grammar requires a type after except*
        self.visit(clause.type)
        self.emit(Op.CHECK_EG_MATCH)
        self._jump_if_none(no_match, none=True)
        if clause.name is None:
            self.emit(Op.POP_TOP)
        else:
            self._name_op(clause.name, "store")
        self.emit(Op.SETUP_FINALLY, raised)
        self.body(clause.body)
        self.emit(Op.POP_BLOCK)
        if clause.name is not None:
            self._clear_name(clause.name)
        self.emit(Op.JUMP, done)
        self.asm.mark(raised)
        if clause.name is not None:
            self._clear_name(clause.name)
        self.emit(Op.LIST_APPEND, 2)  # what the clause raised joins the list
        self.emit(Op.JUMP, done)
        self.asm.mark(no_match)
        self.line = clause.lineno
        self.emit(Op.POP_TOP)
        self.asm.mark(done)

    # -- with ------------------------------------------------------------------
    def visit_With(self, node: ast.With) -> None:
        self._with_items(node, 0, is_async=False)

    def visit_AsyncWith(self, node: ast.AsyncWith) -> None:
        self._with_items(node, 0, is_async=True)

    def _with_items(self, node: ast.With | ast.AsyncWith, index: int, is_async: bool) -> None:
        """One context manager per level; ``async with`` awaits ``__aenter__`` and ``__aexit__``."""
        item = node.items[index]
        handler, suppress, end = Label(), Label(), Label()
        self.visit(item.context_expr)
        if is_async:
            self.emit(Op.BEFORE_ASYNC_WITH)
            self.emit(Op.GET_AWAITABLE, 1)
            self._delegate()
        else:
            self.emit(Op.BEFORE_WITH)
        if item.optional_vars is None:
            self.emit(Op.POP_TOP)
        else:
            self._store(item.optional_vars)
        self.emit(Op.SETUP_FINALLY, handler)
        self.fblocks.append(FBlock("async_with" if is_async else "with"))
        if index + 1 < len(node.items):
            self._with_items(node, index + 1, is_async)
        else:
            self.body(node.body)
        self.fblocks.pop()
        self.line = node.lineno
        self.emit(Op.POP_BLOCK)
        self._call_exit_none(is_async)
        self.emit(Op.JUMP, end)
        self.asm.mark(handler)
        cleanup = self._enter_handler()
        self.emit(Op.WITH_EXCEPT_START)
        if is_async:
            self.emit(Op.GET_AWAITABLE, 2)
            self._delegate()
        self.emit(Op.POP_JUMP_IF_TRUE, suppress)
        self._reraise_handled()
        self.asm.mark(suppress)
        self.fblocks.pop()
        self.emit(Op.POP_BLOCK)
        self.emit(Op.POP_TOP)
        self.emit(Op.POP_EXCEPT)
        self.emit(Op.POP_TOP)
        self.emit(Op.JUMP, end)
        self._cleanup(cleanup)
        self.asm.mark(end)

    def visit_AsyncFor(self, node: ast.AsyncFor) -> None:
        """``async for``: await ``__anext__()`` under a block whose handler (END_ASYNC_FOR) ends the loop."""
        top, stop, done = Label(), Label(), Label()
        self.visit(node.iter)
        self.emit(Op.GET_AITER)
        self.asm.mark(top)
        self.emit(Op.SETUP_FINALLY, stop)
        self.emit(Op.GET_ANEXT)
        self._delegate()
        self.emit(Op.POP_BLOCK)
        self._store(node.target)
        self.fblocks.append(FBlock("loop", top, done, True))
        self.body(node.body)
        self.fblocks.pop()
        self.emit(Op.JUMP, top)
        self.asm.mark(stop)
        self.emit(Op.END_ASYNC_FOR)
        self.body(node.orelse)
        self.asm.mark(done)

    def _call_exit_none(self, is_async: bool = False) -> None:
        """[exit] -> []: ``exit(None, None, None)`` (awaited for ``async with``), result discarded."""
        for _ in range(3):
            self.load_const(None)
        self.emit(Op.CALL, 3)
        if is_async:
            self.emit(Op.GET_AWAITABLE, 2)
            self._delegate()
        self.emit(Op.POP_TOP)

    # -- generators --------------------------------------------------------------
    def visit_Yield(self, node: ast.Yield) -> None:
        if node.value is None:
            self.load_const(None)
        else:
            self.visit(node.value)
        self.emit(Op.YIELD_VALUE)

    def visit_YieldFrom(self, node: ast.YieldFrom) -> None:
        self.visit(node.value)
        self.emit(Op.GET_YIELD_FROM_ITER)
        self._delegate()

    def visit_Await(self, node: ast.Await) -> None:
        """``await x`` is ``yield from`` x's awaitable iterator (as in CPython)."""
        self.visit(node.value)
        self.emit(Op.GET_AWAITABLE, 0)
        self._delegate()

    def _delegate(self) -> None:
        """Drive the iterator on TOS to exhaustion; its return value replaces it.

        SEND and YIELD_VALUE stay adjacent: the generator driver relies on it
        to find the delegate when ``throw``/``close`` arrive.
        """
        top, done = Label(), Label()
        self.load_const(None)
        self.asm.mark(top)
        self.emit(Op.SEND, done)
        self.emit(Op.YIELD_VALUE)
        self.emit(Op.JUMP, top)
        self.asm.mark(done)
