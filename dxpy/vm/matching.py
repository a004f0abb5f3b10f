"""Compiler layer 2c: the ``match`` statement (PEP 634), with CPython 3.11's semantics.

Why values live on the stack: CPython binds a case's capture names only
once its whole pattern has matched (a failed ``case [x, 0]`` leaves ``x``
alone), and a guard sees them.  So, as in CPython, each captured value is
parked on the value stack *below* the items a pattern is still working on,
and stored into its name after the pattern succeeds.  The compiler tracks
two counts while emitting a pattern (``_PatternState``):

* ``on_top``: working items (subject copies, unpacked elements, key tuples)
  above the parked captures;
* ``stores``: the names parked so far; ``stores[0]`` is nearest the top.

Every pattern consumes its subject (TOS).  A failed test jumps to
``fail_pop[n]``, where ``n = on_top + len(stores)``: a ladder of ``POP_TOP``
that leaves exactly the case's subject behind.  Or-patterns move each
alternative's captures into the order of the first alternative's, so all
alternatives leave the same stack shape.

The tests themselves are the ``MATCH_*``/``GET_LEN`` opcodes (semantics in
``opsupport.match_op``); syntax errors (irrefutable patterns not last,
repeated names, alternatives binding different names) were already raised by
CPython's own ``compile()`` before this layer runs.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from dxpy.vm.assembler import Label
from dxpy.vm.errors import DpbCompileError
from dxpy.vm.handlers import HandlerCodegen
from dxpy.vm.opcodes import Opcode as Op


@dataclass
class _PatternState:
    """Emission state of one case's pattern (see the module docstring)."""

    stores: list[str] = field(default_factory=list)
    on_top: int = 0
    fail_pop: list[Label] = field(default_factory=list)

    def fail_label(self) -> Label:
        """The label that pops every item above the case's subject, then tries the next case."""
        depth = self.on_top + len(self.stores)
        while len(self.fail_pop) <= depth:
            self.fail_pop.append(Label())
        return self.fail_pop[depth]


def _is_wildcard(pattern: ast.pattern) -> bool:
    return isinstance(pattern, ast.MatchAs) and pattern.pattern is None and pattern.name is None


def _is_star_wildcard(pattern: ast.pattern) -> bool:
    return isinstance(pattern, ast.MatchStar) and pattern.name is None


class MatchCodegen(HandlerCodegen):
    """``match``/``case`` (see the module docstring)."""

    def visit_Match(self, node: ast.Match) -> None:
        end = Label()
        self.visit(node.subject)
        for case in node.cases:
            self._case(case, end)
        self.line = node.cases[-1].pattern.lineno  # CPython's line for it (tracers see it)
        self.emit(Op.POP_TOP)  # no case matched: drop the subject
        self.asm.mark(end)

    def _case(self, case: ast.match_case, end: Label) -> None:
        """[subject] -> [subject] on failure, or the body then a jump to ``end``."""
        state = _PatternState()
        self.line = case.pattern.lineno
        self.emit(Op.COPY, 1)
        self._pattern(case.pattern, state)
        for name in state.stores:
            self._name_op(name, "store")
        state.stores = []
        if case.guard is not None:
            self.visit(case.guard)
            self.emit(Op.POP_JUMP_IF_FALSE, state.fail_label())
        self.line = case.pattern.lineno
        self.emit(Op.POP_TOP)  # matched: the subject is no longer needed
        self.body(case.body)
        self.emit(Op.JUMP, end)
        self._emit_fail_pops(state)

    def _emit_fail_pops(self, state: _PatternState) -> None:
        """The failure ladder: ``fail_pop[n]`` pops n items and falls through to ``fail_pop[0]``."""
        for depth in range(len(state.fail_pop) - 1, 0, -1):
            self.asm.mark(state.fail_pop[depth])
            self.emit(Op.POP_TOP)
        if state.fail_pop:
            self.asm.mark(state.fail_pop[0])

    def _fail_unless(self, state: _PatternState) -> None:
        """Pop the test result on TOS; on false, unwind to the next case."""
        self.emit(Op.POP_JUMP_IF_FALSE, state.fail_label())

    # -- patterns --------------------------------------------------------------
    def _pattern(self, pattern: ast.pattern, state: _PatternState) -> None:
        """Consume the subject on TOS; captures are parked, failures jump to the fail ladder."""
        saved = self.line
        self.line = pattern.lineno
        handler = getattr(self, f"_pattern_{type(pattern).__name__}", None)
        if handler is None:
            raise DpbCompileError(self.filename, self.line, f"{type(pattern).__name__} pattern")
        handler(pattern, state)
        self.line = saved

    def _pattern_MatchValue(self, pattern: ast.MatchValue, state: _PatternState) -> None:
        self.visit(pattern.value)
        self.emit(Op.COMPARE_EQ)
        self._fail_unless(state)

    def _pattern_MatchSingleton(self, pattern: ast.MatchSingleton, state: _PatternState) -> None:
        self.load_const(pattern.value)
        self.emit(Op.IS_OP)
        self._fail_unless(state)

    def _pattern_MatchAs(self, pattern: ast.MatchAs | ast.MatchStar, state: _PatternState) -> None:
        inner = getattr(pattern, "pattern", None)
        if inner is not None:
            state.on_top += 1
            self.emit(Op.COPY, 1)
            self._pattern(inner, state)
            state.on_top -= 1
        self._capture(pattern.name, state)

    _pattern_MatchStar = _pattern_MatchAs

    def _capture(self, name: str | None, state: _PatternState) -> None:
        """Park TOS below the working items and earlier captures (or drop it for ``_``)."""
        if name is None:
            self.emit(Op.POP_TOP)
            return
        self._rotate(state.on_top + len(state.stores) + 1)
        state.stores.append(name)

    def _rotate(self, count: int) -> None:
        """Move TOS down to be the ``count``-th item, the ones above it keeping their order."""
        for depth in range(count, 1, -1):
            self.emit(Op.SWAP, depth)

    def _pattern_MatchSequence(self, pattern: ast.MatchSequence, state: _PatternState) -> None:
        patterns = pattern.patterns
        stars = [i for i, p in enumerate(patterns) if isinstance(p, ast.MatchStar)]
        star = stars[0] if stars else -1
        state.on_top += 1
        self.emit(Op.MATCH_SEQUENCE)
        self._fail_unless(state)
        if star < 0 or len(patterns) > 1:
            self.emit(Op.GET_LEN)
            self.load_const(len(patterns) if star < 0 else len(patterns) - 1)
            self.emit(Op.COMPARE_EQ if star < 0 else Op.COMPARE_GE)
            self._fail_unless(state)
        state.on_top -= 1
        if all(_is_wildcard(p) or _is_star_wildcard(p) for p in patterns):
            self.emit(Op.POP_TOP)
        elif star >= 0 and _is_star_wildcard(patterns[star]):
            self._sequence_by_index(patterns, star, state)
        else:
            self._sequence_by_unpacking(patterns, star, state)

    def _sequence_by_unpacking(self, patterns: list[ast.pattern], star: int, state: _PatternState) -> None:
        if star >= 0:
            self.emit(Op.UNPACK_EX, star | (len(patterns) - star - 1) << 8)
        else:
            self.emit(Op.UNPACK_SEQUENCE, len(patterns))
        state.on_top += len(patterns)
        for sub in patterns:
            state.on_top -= 1
            self._pattern(sub, state)

    def _sequence_by_index(self, patterns: list[ast.pattern], star: int, state: _PatternState) -> None:
        """``[a, *_, b]``: index the elements either side of an unnamed star (no copy of the middle)."""
        state.on_top += 1
        for position, sub in enumerate(patterns):
            if _is_wildcard(sub) or position == star:
                continue
            self.emit(Op.COPY, 1)
            if position < star:
                self.load_const(position)
            else:
                self.emit(Op.GET_LEN)
                self.load_const(len(patterns) - position)
                self.emit(Op.BINARY_SUBTRACT)
            self.emit(Op.LOAD_SUBSCR)
            self._pattern(sub, state)
        state.on_top -= 1
        self.emit(Op.POP_TOP)

    def _pattern_MatchMapping(self, pattern: ast.MatchMapping, state: _PatternState) -> None:
        size = len(pattern.keys)
        state.on_top += 1
        self.emit(Op.MATCH_MAPPING)
        self._fail_unless(state)
        if not size and pattern.rest is None:
            state.on_top -= 1
            self.emit(Op.POP_TOP)
            return
        if size:
            self.emit(Op.GET_LEN)
            self.load_const(size)
            self.emit(Op.COMPARE_GE)
            self._fail_unless(state)
        for key in pattern.keys:
            self.visit(key)
        self.emit(Op.BUILD_TUPLE, size)
        self.emit(Op.MATCH_KEYS)  # [subject, keys, values-or-None]
        state.on_top += 2
        self.emit(Op.COPY, 1)
        self.load_const(None)
        self.emit(Op.IS_NOT_OP)
        self._fail_unless(state)
        self.emit(Op.UNPACK_SEQUENCE, size)
        state.on_top += size - 1
        for sub in pattern.patterns:
            state.on_top -= 1
            self._pattern(sub, state)
        state.on_top -= 2
        if pattern.rest is None:
            self.emit(Op.POP_TOP)  # the key tuple
            self.emit(Op.POP_TOP)  # the subject
            return
        self._mapping_rest(size)
        self._capture(pattern.rest, state)

    def _mapping_rest(self, size: int) -> None:
        """[subject, keys] -> [dict of the subject's items minus the matched keys]."""
        self.emit(Op.BUILD_MAP, 0)
        self.emit(Op.SWAP, 3)
        self.emit(Op.DICT_UPDATE, 2)
        self.emit(Op.UNPACK_SEQUENCE, size)
        for remaining in range(size, 0, -1):
            self.emit(Op.COPY, remaining + 1)
            self.emit(Op.SWAP, 2)
            self.emit(Op.DELETE_SUBSCR)

    def _pattern_MatchClass(self, pattern: ast.MatchClass, state: _PatternState) -> None:
        positional, names = pattern.patterns, pattern.kwd_attrs
        self.visit(pattern.cls)
        self.load_const(tuple(names))
        self.emit(Op.MATCH_CLASS, len(positional))  # [attributes-or-None]
        self.emit(Op.COPY, 1)
        self.load_const(None)
        self.emit(Op.IS_NOT_OP)
        state.on_top += 1
        self._fail_unless(state)
        every = positional + pattern.kwd_patterns
        self.emit(Op.UNPACK_SEQUENCE, len(every))
        state.on_top += len(every) - 1
        for sub in every:
            state.on_top -= 1
            if _is_wildcard(sub):
                self.emit(Op.POP_TOP)
            else:
                self._pattern(sub, state)

    def _pattern_MatchOr(self, pattern: ast.MatchOr, state: _PatternState) -> None:
        """Try each alternative on a copy; a success jumps to ``end`` with its captures in ``control`` order."""
        end = Label()
        control: list[str] | None = None
        for alternative in pattern.patterns:
            inner = _PatternState()
            self.emit(Op.COPY, 1)
            self._pattern(alternative, inner)
            if control is None:
                control = list(inner.stores)
            else:
                self._reorder(inner.stores, control)
            self.emit(Op.JUMP, end)
            self._emit_fail_pops(inner)
        self.emit(Op.POP_TOP)  # no alternative matched: drop the subject and fail
        self.emit(Op.JUMP, state.fail_label())
        self.asm.mark(end)
        # [..., parked, working items, subject, control captures (control[0] on top)]
        assert control is not None
        depth = len(control) + 1 + state.on_top + len(state.stores)
        for name in control:
            self._rotate(depth)
            state.stores.append(name)
        self.emit(Op.POP_TOP)  # the subject copy

    def _reorder(self, current: list[str], control: list[str]) -> None:
        """Permute the top ``len(current)`` items (``current[0]`` on top) into ``control`` order.

        Each step swaps the next wanted item to the top and rotates it under
        the region, so after ``n`` steps the first one moved is back on top.
        """
        if current == control:
            return
        pending = list(current)  # top first; the finished ones sit below these
        size = len(current)
        for name in control:
            position = pending.index(name)
            if position:
                self.emit(Op.SWAP, position + 1)
                pending[0], pending[position] = pending[position], pending[0]
            pending.pop(0)
            self._rotate(size)
