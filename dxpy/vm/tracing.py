"""``sys.settrace`` line events for VM code (debuggers, coverage, CPython's tracing tests).

CPython gives a tracer a ``call`` event for every new Python frame and then,
through the local trace function that event returns (``frame.f_trace``), a
``line`` event whenever execution reaches a different source line or jumps
backwards.  A VM function's Python frame is its *entry* frame
(``dxpy.vm.functions``): CPython sends it the ``call`` (and ``return``)
events itself, and the local tracer it stores there is the one the VM
frame reports its lines to.  The entry code's body is placed at the VM
code's first line, so the one ``line`` event CPython sends for the entry is
the function's first line, as for a CPython function.

Why instrumented instructions and not a check in the dispatch loop: a
traced frame gets its own copy of the instruction list in which every
instruction that can start a line event (a line change, a jump target, an
exception handler, a resume point after ``yield``, a backward jump) is
replaced by ``MARKER``.  The marker falls to the loop's rare-opcode path,
which reports the line if it changed, puts the real instruction back in
that one slot (re-arming the slot disarmed before) and runs it.  Untraced
frames run the unchanged list, so tracing costs nothing until a tracer is
set; what it costs then is one ``sys.gettrace()`` per VM call.

The frame a ``line`` event passes reports the VM code's file, function name,
line (``f_lineno``) and globals; it is not the VM frame itself (VM frames
are not CPython frames), so its ``f_locals`` is empty and ``f_back`` None.
The tracer runs with CPython's own tracing suspended
(``PyThreadState_EnterTracing``), so neither its Python frames nor VM frames
it calls are traced, as in CPython.
"""

from __future__ import annotations

import ctypes
import sys
import types
from typing import TYPE_CHECKING, Any

from dxpy.vm import excstate
from dxpy.vm.opcodes import ARG_KIND_BY_VALUE, ArgKind, Opcode as Op

if TYPE_CHECKING:
    from dxpy.vm.frames import Frame, PreparedCode

MARKER = -1
"""The instruction value of an armed line-event point in a traced frame's instruction list."""

_thread_state = ctypes.pythonapi.PyThreadState_Get
_thread_state.restype = ctypes.c_void_p
_enter_tracing = ctypes.pythonapi.PyThreadState_EnterTracing
_enter_tracing.argtypes = [ctypes.c_void_p]
_leave_tracing = ctypes.pythonapi.PyThreadState_LeaveTracing
_leave_tracing.argtypes = [ctypes.c_void_p]

_YIELD_VALUE = int(Op.YIELD_VALUE)
_RETURN_VALUE = int(Op.RETURN_VALUE)
_LOAD_CONST = int(Op.LOAD_CONST)
_JUMP_KINDS = frozenset(op for op, kind in enumerate(ARG_KIND_BY_VALUE) if kind == ArgKind.JUMP)
_UNLINED = frozenset({int(Op.JUMP), int(Op.POP_BLOCK), int(Op.PUSH_EXC_INFO), int(Op.POP_EXCEPT)})
"""Instructions reported at the line before them: a loop's jump back (CPython's belongs to
the body's last line), the end of a ``try`` body or handler, a handler's start."""
_CLEANUP = frozenset({int(Op.SETUP_FINALLY), int(Op.POP_TOP), int(Op.SWAP)})
"""Block bookkeeping that has no line of its own right after an ``_UNLINED`` instruction
(unless something jumps to it)."""
_in_tracer = [False]
"""Whether a trace function called by the VM is running: VM frames it enters are not traced."""


class TracePlan:
    """Per code object: each instruction's line, the event points, the backward jumps."""

    def __init__(self, code: "PreparedCode") -> None:
        self.lines = _instruction_lines(code)
        count = len(code.ops)
        points = {0}
        self.backward_targets: dict[int, int] = {}
        previous = None
        for index, (op, arg) in enumerate(zip(code.ops, code.args)):
            line = self.lines[index]
            if line is not None and line != previous:
                points.add(index)
                previous = line
            if op in _JUMP_KINDS:
                points.add(arg)
                if arg <= index:
                    points.add(index)
                    self.backward_targets[index] = arg
            elif op == _YIELD_VALUE and index + 1 < count:
                points.add(index + 1)
        self.points = sorted(point for point in points if point < count)
        self.entry_line = code.line_of(0) if count else None
        self.frames: dict[int, types.FrameType] = {}

    def frame_at(self, code: "PreparedCode", line: int) -> types.FrameType:
        """The frame a ``line`` event at ``line`` passes (one per line, made once)."""
        frame = self.frames.get(line)
        if frame is None:
            frame = self.frames[line] = excstate.located_frame(
                code.filename, code.name, (line, line, None, None), code.program.globals)
        return frame


class LineTrace:
    """A traced VM frame's state: its entry frame (holding the local tracer), the plan,
    the disarmed slot, the last line reported and a pending backward jump's target."""

    __slots__ = ("entry", "plan", "disarmed", "last_line", "jump_target")

    def __init__(self, entry: types.FrameType, plan: TracePlan) -> None:
        self.entry = entry
        self.plan = plan
        self.disarmed: int | None = None
        self.last_line = plan.entry_line  # CPython reported it for the entry frame
        self.jump_target: int | None = None


def plan_of(code: "PreparedCode") -> TracePlan:
    if code.trace_plan is None:
        code.trace_plan = TracePlan(code)
    return code.trace_plan


def attach(frame: "Frame", entry: types.FrameType) -> None:
    """A tracer is set and ``frame`` (entered through ``entry``) starts: trace it if the
    tracer asked for this frame's events (its ``call`` event returned a local tracer)."""
    if _in_tracer[0] or entry.f_trace is None:
        return
    plan = plan_of(frame.code)
    ops = list(frame.code.ops)
    for point in plan.points:
        ops[point] = MARKER
    frame.ops = ops
    frame.tracer = LineTrace(entry, plan)


def on_marker(f: "Frame", pc: int) -> int:
    """The armed instruction ``pc - 1`` is about to run: report its line if due, then
    return its index with the real instruction back in place (the one disarmed before
    is armed again)."""
    index = pc - 1
    trace: LineTrace = f.tracer
    plan = trace.plan
    backward = index == trace.jump_target
    trace.jump_target = plan.backward_targets.get(index)
    line = plan.lines[index]
    if line is not None and (line != trace.last_line or backward):
        trace.last_line = line
        _line_event(trace, f.code, line)
    ops = f.ops
    if trace.disarmed is not None:
        ops[trace.disarmed] = MARKER
    ops[index] = f.code.ops[index]
    trace.disarmed = index
    return index


def _line_event(trace: LineTrace, code: "PreparedCode", line: int) -> None:
    """Call the local tracer as CPython's ``call_trace`` does: with tracing suspended, its
    return value (unless None) the next local tracer, an exception ending all tracing."""
    entry = trace.entry
    local = entry.f_trace
    if local is None or not entry.f_trace_lines:
        return
    frame = trace.plan.frame_at(code, line)
    state = _thread_state()
    _enter_tracing(state)
    _in_tracer[0] = True
    try:
        result = local(frame, "line", None)
    except BaseException:
        sys.settrace(None)
        entry.f_trace = None
        raise
    finally:
        _in_tracer[0] = False
        _leave_tracing(state)
    if result is not None:
        entry.f_trace = result


def _instruction_lines(code: "PreparedCode") -> list[Any]:
    """The source line of every instruction; None for the block bookkeeping CPython's
    bytecode has no line for (``_UNLINED``)."""
    lines = code.instruction_lines()
    targets = {arg for op, arg in zip(code.ops, code.args) if op in _JUMP_KINDS}
    ops = code.ops
    for index, op in enumerate(ops):
        if op in _UNLINED or (op in _CLEANUP and index and ops[index - 1] in _UNLINED
                              and index not in targets):
            lines[index] = None
    if len(ops) >= 2 and ops[-1] == _RETURN_VALUE and ops[-2] == _LOAD_CONST \
            and code.consts[code.args[-2]] is None:
        lines[-2:] = [None, None]  # the implicit ``return None``: CPython's takes its predecessor's line
    return lines
