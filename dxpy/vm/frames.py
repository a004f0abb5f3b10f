"""What the interpreter runs: prepared code objects, the per-file program, frames.

Kept apart from the dispatch loop (``interpreter``) and from the function
objects (``functions``) because both build and read them.
"""

from __future__ import annotations

import bisect
import operator
import weakref
from typing import TYPE_CHECKING, Any, Callable

from dxpy.vm import excstate
from dxpy.vm.format import CodeFlags
from dxpy.vm.loader import DpbFile
from dxpy.vm.opcodes import ARG_KIND_BY_VALUE, ArgKind, Opcode as Op, decode_words
from dxpy.vm.profile import BranchCounts, FunctionProfile, GlobalCache, PairSiteTypes, SiteTypes

if TYPE_CHECKING:
    import types

UNSET: Any = object()
"""The value of a local that is not bound (``UnboundLocalError`` when read)."""

# The hot loop compares plain ints: an IntEnum attribute per comparison cost ~2x.
LOAD_FAST = int(Op.LOAD_FAST)
LOAD_CONST = int(Op.LOAD_CONST)
STORE_FAST = int(Op.STORE_FAST)
LOAD_GLOBAL = int(Op.LOAD_GLOBAL)
LOAD_ATTR = int(Op.LOAD_ATTR)
CALL = int(Op.CALL)
CALL_KW = int(Op.CALL_KW)
POP_JUMP_IF_FALSE = int(Op.POP_JUMP_IF_FALSE)
POP_JUMP_IF_TRUE = int(Op.POP_JUMP_IF_TRUE)
BINARY = {Op.BINARY_ADD: operator.add, Op.BINARY_SUBTRACT: operator.sub, Op.BINARY_MULTIPLY: operator.mul,
          Op.BINARY_TRUE_DIVIDE: operator.truediv, Op.BINARY_FLOOR_DIVIDE: operator.floordiv,
          Op.BINARY_MODULO: operator.mod, Op.BINARY_POWER: operator.pow,
          Op.BINARY_MATRIX_MULTIPLY: operator.matmul, Op.BINARY_LSHIFT: operator.lshift,
          Op.BINARY_RSHIFT: operator.rshift, Op.BINARY_AND: operator.and_, Op.BINARY_OR: operator.or_,
          Op.BINARY_XOR: operator.xor, Op.INPLACE_ADD: operator.iadd, Op.INPLACE_SUBTRACT: operator.isub,
          Op.INPLACE_MULTIPLY: operator.imul, Op.INPLACE_TRUE_DIVIDE: operator.itruediv,
          Op.INPLACE_FLOOR_DIVIDE: operator.ifloordiv, Op.INPLACE_MODULO: operator.imod,
          Op.INPLACE_POWER: operator.ipow, Op.INPLACE_MATRIX_MULTIPLY: operator.imatmul,
          Op.INPLACE_LSHIFT: operator.ilshift, Op.INPLACE_RSHIFT: operator.irshift,
          Op.INPLACE_AND: operator.iand, Op.INPLACE_OR: operator.ior, Op.INPLACE_XOR: operator.ixor,
          Op.COMPARE_LT: operator.lt, Op.COMPARE_LE: operator.le, Op.COMPARE_EQ: operator.eq,
          Op.COMPARE_NE: operator.ne, Op.COMPARE_GT: operator.gt, Op.COMPARE_GE: operator.ge,
          Op.IS_OP: operator.is_, Op.IS_NOT_OP: operator.is_not,
          Op.CONTAINS_OP: lambda a, b: a in b, Op.NOT_CONTAINS_OP: lambda a, b: a not in b}
"""Two-operand opcodes: pop TOS1, TOS; push f(TOS1, TOS)."""
BINARY_BY_INT = {int(op): fn for op, fn in BINARY.items()}
ATTR_OPS = frozenset({LOAD_ATTR, int(Op.STORE_ATTR)})
TYPE_SITES = frozenset(BINARY_BY_INT) | ATTR_OPS | {CALL, CALL_KW}
"""Instructions that record type feedback: operand pairs, receivers, callees."""
BRANCH_OPS = frozenset({POP_JUMP_IF_FALSE, POP_JUMP_IF_TRUE, int(Op.JUMP_IF_FALSE_OR_POP),
                        int(Op.JUMP_IF_TRUE_OR_POP)})
FRAME_KINDS = CodeFlags.GENERATOR | CodeFlags.COROUTINE | CodeFlags.ASYNC_GENERATOR


class PreparedCode:
    """A code object ready to run: indices resolved, jumps in instruction units.

    For the function objects made from it (``functions``): ``entry`` is the
    CPython code object that enters the interpreter (built on first use),
    ``functions`` every live function made from it (tiering rebinds their
    ``__code__``), ``hot`` whether the tiering has been asked about it, and
    ``free_order`` the interpreter's free-variable order in terms of the
    entry code's (CPython's, sorted) ``co_freevars``.
    """

    def __init__(self, program: "Program", file: DpbFile, index: int, filename: str) -> None:
        code = file.code_object(index)
        self.program = program
        self.code = code
        self._file, self._index = file, index
        self.filename = filename
        self.name = file.name(code.name)
        self.qualname = file.name(code.qualname)
        self.localnames = [file.name(i) for i in code.localnames]
        self.derefnames = [file.name(i) for i in code.cellnames + code.freenames]
        self.ncells = len(code.cellnames)
        self.consts = [file.constant(i) for i in code.consts]
        decoded = decode_words(code.instructions)
        position = {start: n for n, (start, _, _) in enumerate(decoded)}
        self.starts = [start for start, _, _ in decoded]
        self.ops = [value for _, value, _ in decoded]
        self.args = [position[arg] if ARG_KIND_BY_VALUE[value] == ArgKind.JUMP else arg
                     for _, value, arg in decoded]
        self.names = file.name
        params = code.argcount + code.kwonly + bin(code.flags & 3).count("1")
        # A captured parameter is bound into its slot, then moved into its cell.
        self.cell_params = [(n, self.localnames.index(name))
                            for n, name in enumerate(self.derefnames[:self.ncells])
                            if name in self.localnames[:params]]
        self.profile = FunctionProfile(self.qualname, code.argcount)
        self._profile_tables()
        self.kind = code.flags & FRAME_KINDS
        self.docstring = self.consts[0] if code.flags & CodeFlags.HAS_DOCSTRING else None
        frees = self.derefnames[self.ncells:]
        self.freevars = tuple(sorted(frees))
        self.free_order = [self.freevars.index(name) for name in frees]
        self.entry: types.CodeType | None = None
        self.functions: weakref.WeakSet[types.FunctionType] = weakref.WeakSet()
        self.hot = False
        self.trace_plan: Any = None  # tracing.TracePlan, made when a tracer first sees this code
        self.shadow_code: types.CodeType | None = None  # excstate.shadow_frame's, made on first use

    def _profile_tables(self) -> None:
        """Per-instruction tables the dispatch loop indexes with its ``pc`` (one past the instruction).

        ``feedback``/``branches``/``global_caches`` hold the profile's site
        objects (``None`` where an instruction records nothing); the profile's
        dicts key the same objects by word index.  ``attr_names`` holds the
        resolved name of each attribute instruction, so LOAD_ATTR does not
        look it up in the name table every time.
        """
        count = len(self.ops)
        self.feedback: list[SiteTypes | None] = [None] * (count + 1)
        self.branches: list[BranchCounts | None] = [None] * (count + 1)
        self.global_caches: list[GlobalCache | None] = [None] * (count + 1)
        self.attr_names: list[str | None] = [None] * (count + 1)
        profile = self.profile
        for index, (op, arg) in enumerate(zip(self.ops, self.args)):
            word = self.starts[index]
            if op in TYPE_SITES:
                site = self.feedback[index + 1] = profile.sites[word] = (
                    PairSiteTypes(profile) if op in BINARY_BY_INT else SiteTypes(profile))
                if op == LOAD_ATTR:
                    profile.caches[word] = site
            if op in ATTR_OPS:
                self.attr_names[index + 1] = self.names(arg)
            elif op in BRANCH_OPS:
                self.branches[index + 1] = profile.branches[word] = BranchCounts()
            elif op == LOAD_GLOBAL:
                self.global_caches[index + 1] = profile.caches[word] = GlobalCache(self.names(arg))

    def line_of(self, pc: int) -> int | None:
        """Source line of instruction ``pc`` (an instruction index), from the line table."""
        word = self.starts[pc]
        line = None
        for start, entry_line in self.code.linetable:
            if start > word:
                break
            line = entry_line
        return line

    def instruction_lines(self) -> list[int | None]:
        """The source line of every instruction, in one pass over the line table."""
        table = self.code.linetable
        lines: list[int | None] = []
        row, line = 0, None
        for word in self.starts:
            while row < len(table) and table[row][0] <= word:
                line = table[row][1]
                row += 1
            lines.append(line)
        return lines

    def instruction_positions(self) -> list[excstate.Location | None]:
        """``position_of`` of every instruction (one pass over the lines, a search per run)."""
        runs = self._file.positions(self._index)
        positions: list[excstate.Location | None] = []
        for word, line in zip(self.starts, self.instruction_lines()):
            run = bisect.bisect_right(runs, word, key=lambda r: r[0]) - 1
            if line is None or run < 0:
                positions.append(None if line is None else (line, line, None, None))
            else:
                _, span, column, end_column = runs[run]
                positions.append((line, line + span, column, end_column))
        return positions

    def position_of(self, pc: int) -> excstate.Location | None:
        """Full source position of instruction ``pc`` (CPython's ``co_positions()`` entry), for tracebacks."""
        line = self.line_of(pc)
        if line is None:
            return None
        runs = self._file.positions(self._index)
        run = bisect.bisect_right(runs, self.starts[pc], key=lambda r: r[0]) - 1
        if run < 0:
            return (line, line, None, None)
        _, span, column, end_column = runs[run]
        return (line, line + span, column, end_column)


class Program:
    """Per-file cache of prepared code objects, for one run of the module in ``globals``."""

    def __init__(self, file: DpbFile, filename: str, globals_: dict[str, Any],
                 execute: Callable[["Frame"], Any]) -> None:
        self.file = file
        self.filename = filename
        self.globals = globals_
        self.execute = execute  # the dispatch loop, its frames' globals being ``globals_``
        self._prepared: dict[int, PreparedCode] = {}

    def prepared(self, index: int) -> PreparedCode:
        if index not in self._prepared:
            self._prepared[index] = PreparedCode(self, self.file, index, self.filename)
        return self._prepared[index]

    def profiles(self) -> dict[int, FunctionProfile]:
        """The profile of each code object prepared so far (the ones that ran), by code index."""
        return {index: prepared.profile for index, prepared in self._prepared.items()}


class Frame:
    """One activation's mutable state, kept in an object so a generator can suspend it."""

    __slots__ = ("program", "code", "globals", "namespace", "locals", "cells", "stack", "blocks", "pc",
                 "suspended", "pending", "reraise_context", "function", "backedges", "ops", "tracer",
                 "shadow")

    def __init__(self, program: Program, code: PreparedCode, globals_: dict[str, Any],
                 namespace: dict[str, Any] | None, locals_: list[Any], cells: list[Any]) -> None:
        self.program = program
        self.code = code
        self.ops = code.ops  # a traced frame's own instrumented copy (``tracing``)
        self.globals = globals_
        self.namespace = namespace
        self.locals = locals_
        self.cells = cells
        self.stack: list[Any] = []
        self.blocks: list[tuple[int, int]] = []
        self.pc = 0
        self.suspended = False
        self.pending: BaseException | None = None
        self.reraise_context: BaseException | None = None
        self.function: PreparedCode | None = None  # set for frames that may hand a hot loop to the JIT
        self.backedges = 0  # this frame's back-edges, counted only while a Tiering is installed


