"""The interpreter's view of CPython's exception state and tracebacks.

Handled-exception state (``sys.exc_info()``, implicit ``__context__``).
CPython keeps "the exception being handled" in the thread state (or, while a
generator runs, in the generator's own slot).  Two ways to reproduce it for
VM handlers were considered:

* run every handler region of VM code inside a real Python ``except`` block
  (a recursive call of the dispatch loop per handler).  Rejected: a VM
  generator that yields inside an ``except`` clause would need the Python
  frame of that ``except`` block to suspend, and ``return``/``break`` out of
  a handler would unwind through nested dispatch loops, so the loop would
  have to exist twice (plain and generator) with non-local exits;
* set the handled exception directly, exactly where CPython 3.11's own
  ``PUSH_EXC_INFO``/``POP_EXCEPT`` do, with ``PyErr_SetHandledException``
  (public C API since 3.11, reached through ``ctypes.pythonapi``).  Chosen:
  the dispatch loop stays flat with a block stack like CPython's; implicit
  chaining comes from CPython itself (it reads the same slot when any
  exception is raised); and because the slot written is whatever
  ``tstate->exc_info`` points at, a VM generator driven by a Python generator
  gets per-generator exception state for free (CPython swaps it on resume
  and suspend).

Tracebacks: an exception leaving or caught in a VM frame gets a traceback
entry whose frame reports the DPB source file and function name and whose
position (line, end line, columns) comes from the code object's line and
position tables; the interpreter's own frames are removed, so
``traceback.print_exc()`` and the default ``sys.excepthook`` show the user's
source lines, with CPython's carets under the failing expression.
"""

from __future__ import annotations

import ctypes
import dis
import os
import sys
import types
from typing import Any, Callable

_set_handled = ctypes.pythonapi.PyErr_SetHandledException
_set_handled.argtypes = [ctypes.py_object]
_set_handled.restype = None

_VM_DIR = os.path.dirname(os.path.abspath(__file__))
_JIT_DIR = os.path.join(os.path.dirname(_VM_DIR), "jit")
_INTERNAL = frozenset(
    [os.path.join(_VM_DIR, name)
     for name in ("interpreter.py", "opsupport.py", "generators.py", "excstate.py", "names.py",
                  "functions.py")]
    + [os.path.join(_JIT_DIR, name) for name in ("dispatcher.py", "tiered.py", "tiering.py")]
    + [os.path.join(os.path.dirname(_VM_DIR), "simd", "vm_builtins.py")])  # CALL's sum/min/max route
"""Source files whose frames are interpreter (or JIT dispatch) machinery, hidden from VM
tracebacks: a call the JIT re-runs in tier 1 shows the frames CPython would show."""

ENTRY_MARK: object = type("EntryMark", (), {"__repr__": lambda self: "<dxpy VM entry>"})()
"""The last constant of every entry and forwarder code object (``dxpy.vm.functions``): their
frames are interpreter machinery too, except as the innermost entry of a traceback (an
exception thrown into a generator that never started, which CPython shows at the
generator's first line, as the entry's frame is)."""

Location = tuple[int, int, "int | None", "int | None"]
"""(line, end line, column, end column) of an instruction, as CPython's ``co_positions()``."""

_fake_frames: dict[tuple[str, str, Location], types.FrameType] = {}
_drivers: dict[types.CodeType, Callable[[types.FrameType], tuple[str, str, int]]] = {}
"""Code of the generators that run VM frames -> (filename, name, first line) of the VM code
their frame runs; see ``register_driver``."""
_generators: list[types.GeneratorType] = []


def set_handled(exc: BaseException | None) -> None:
    """Make ``exc`` the exception being handled (what ``sys.exception()`` returns)."""
    _set_handled(exc)


def _unraisable_args_type() -> type:
    """CPython's ``UnraisableHookArgs`` (not exposed by name): caught from one unraisable error."""
    seen: list[type] = []
    hook, sys.unraisablehook = sys.unraisablehook, lambda args: seen.append(type(args))
    try:
        class _Raises:
            def __del__(self) -> None:
                raise ValueError
        _Raises()
    finally:
        sys.unraisablehook = hook
    return seen[0]


_UnraisableHookArgs = _unraisable_args_type()


def write_unraisable(exc: BaseException, obj: object) -> None:
    """What CPython's ``PyErr_WriteUnraisable(obj)`` does with ``exc``: hand it to
    ``sys.unraisablehook`` (``test.support.catch_unraisable_exception`` sees it)."""
    sys.unraisablehook(_UnraisableHookArgs((type(exc), exc, exc.__traceback__, None, obj)))


def handled() -> BaseException | None:
    return sys.exception()


def take_own_handled() -> BaseException | None:
    """What ``PUSH_EXC_INFO`` saves: the exception in the *innermost* slot (a running
    generator's own, else the thread's), not ``sys.exception()``, which walks past an empty
    generator slot to its caller's.  Restoring the caller's exception into the generator's
    slot would leave it "handled" there after the caller's ``except`` ends (test_generators'
    exception-context tests).  No API reads that slot alone, so it is probed: emptied, then
    ``sys.exception()`` shows what lies below; the slot is left empty (the caller sets it).
    A slot holding the very exception below it reads as empty, which ``sys.exception()``
    cannot tell apart while that exception stays below.
    """
    current = sys.exception()
    if current is None:
        return None
    _set_handled(None)
    return None if sys.exception() is current else current


def _frame_for(filename: str, name: str, location: Location) -> types.FrameType:
    """A frame whose code is ``name`` in ``filename``, every instruction at ``location``.

    The code object's location table gives all its instructions the same
    full position (3.11's long-form entries), so the C and the Python
    traceback printers read the line and the columns of the VM instruction
    from it and draw CPython's carets.

    The frame is that of a generator that never runs: its ``f_back`` is
    None.  A frame made by calling code here would keep its callers (the
    interpreter frames of the first exception at this line, and the VM
    frames' locals they hold) alive for as long as the cache lives, and
    objects a program expects to be finalized, such as generators left
    unreferenced, would never be.
    """
    key = (filename, name, location)
    frame = _fake_frames.get(key)
    if frame is None:
        frame = _fake_frames[key] = located_frame(filename, name, location, {})
    return frame


def located_frame(filename: str, name: str, location: Location,
                  globals_: dict) -> types.FrameType:
    """A new frame of a never-started generator whose code is ``name`` in ``filename``,
    every instruction at ``location``, with ``globals_`` (see ``_frame_for``)."""
    code = compile("def _located():\n    yield\n", filename, "exec").co_consts[0]
    code = code.replace(co_name=name, co_qualname=name, co_firstlineno=location[0],
                        co_linetable=location_table(location, len(code.co_code) // 2))
    generator = types.FunctionType(code, globals_)()
    _generators.append(generator)  # keeps the never-started generator (and so its frame) valid
    return generator.gi_frame


def shadow_frame(f: Any) -> types.FrameType:
    """The Python frame that stands for VM frame ``f``: what ``sys._getframe()`` called by its
    code returns and the ``tb_frame`` of the traceback entries it adds (one object per VM
    frame, made on first use, so ``tb.tb_frame is sys._getframe()`` holds as in CPython).

    It is the frame of a never-started generator whose code names ``f``'s function, file
    and first line and whose globals are ``f``'s; after the code's own few units come one
    unit per VM instruction at that instruction's full position, so ``tb_lasti``
    (``shadow_lasti``) places a traceback entry's line and carets.  It holds nothing of the
    VM frame (no cycle through it): ``f_locals`` is empty and ``f_back`` None.
    """
    try:
        return f.shadow
    except AttributeError:
        pass
    prepared = f.code
    if prepared.shadow_code is None:
        prepared.shadow_code = _shadow_code(prepared)
    frame = f.shadow = types.FunctionType(prepared.shadow_code, f.globals)().gi_frame
    return frame


def shadow_lasti(pc: int) -> int:
    """The ``tb_lasti`` of VM instruction ``pc`` in a shadow frame's code (see ``_shadow_code``)."""
    return 2 * (_SHADOW_BASE + pc)


_SHADOW_BASE_CODE = compile("def _located():\n    yield\n", "<dxpy shadow>", "exec").co_consts[0]
_SHADOW_BASE = len(_SHADOW_BASE_CODE.co_code) // 2
_NOP = bytes((dis.opmap["NOP"], 0))


def _shadow_code(prepared: Any) -> types.CodeType:
    first = max(1, prepared.code.firstline)
    positions = prepared.instruction_positions()
    runs: list[tuple[Location | None, int]] = [((first, first, None, None), _SHADOW_BASE)]
    for position in positions:
        if runs[-1][0] == position:
            runs[-1] = (position, runs[-1][1] + 1)
        else:
            runs.append((position, 1))
    return _SHADOW_BASE_CODE.replace(
        co_name=prepared.name, co_qualname=prepared.qualname, co_filename=prepared.filename,
        co_firstlineno=first, co_code=_SHADOW_BASE_CODE.co_code + _NOP * len(positions),
        co_linetable=positions_table(runs, first))


def positions_table(runs: list[tuple[Location | None, int]], first_line: int) -> bytes:
    """A ``co_linetable`` of ``runs`` (a position, or None for no position, and its units)."""
    table = bytearray()
    line = first_line
    for location, units in runs:
        if location is None:
            table += b"".join(bytes((0x80 | 15 << 3 | (min(8, units - start) - 1),))
                              for start in range(0, units, 8))
        else:
            table += location_table(location, units, line)
            line = location[0]
    return bytes(table)


def location_table(location: Location, units: int, after_line: int | None = None) -> bytes:
    """A CPython 3.11 ``co_linetable`` placing all ``units`` code units at ``location``.

    Relative to ``co_firstlineno == location[0]``, or, to continue a table whose
    last line is ``after_line``, to that line.  Each entry covers up to
    8 units: first byte ``1 | code (4 bits) | units - 1 (3 bits)`` with code
    14 (long form), then the line delta as a signed varint, the end-line
    delta, column + 1 and end column + 1 as varints (0 for an unknown column).
    The varints are CPython's: 6 bits per byte, least significant first,
    0x40 set on every byte but the last.
    """
    line, end_line, column, end_column = location
    tail = bytearray()
    for value in (max(0, end_line - line), 0 if column is None else column + 1,
                  0 if end_column is None else end_column + 1):
        _location_varint(tail, value)
    entries = []
    for start in range(0, units, 8):
        delta = line - after_line if start == 0 and after_line is not None else 0
        head = bytearray((0x80 | 14 << 3 | (min(8, units - start) - 1),))
        _location_varint(head, delta << 1 if delta >= 0 else (-delta) << 1 | 1)  # zigzag
        entries.append(bytes(head + tail))
    return b"".join(entries)


def _location_varint(out: bytearray, value: int) -> None:
    while value >= 0x40:
        out.append(0x40 | value & 0x3F)
        value >>= 6
    out.append(value)


def register_driver(code: types.CodeType, locate: Callable[[types.FrameType], tuple[str, str, int]]) -> None:
    """Declare ``code`` a driver of VM generators (or coroutines): ``locate(frame)`` names the VM code
    a frame of it runs.

    An exception thrown into a generator that never started is raised at
    the driver's first instruction, before any VM code ran, so no VM entry
    exists; CPython's entry for the generator's own frame, at its first
    line without columns, is put in the driver's place (see ``strip_internal``).
    """
    _drivers[code] = locate


def strip_internal(tb: types.TracebackType | None) -> types.TracebackType | None:
    """``tb`` without the interpreter's frames; entries after the last internal one are reused.

    When the innermost internal entry is an unstarted driver, the entry CPython
    shows for the unstarted generator takes its place.
    """
    entries = []
    last_internal = -1
    while tb is not None:
        if _is_internal(tb):
            last_internal = len(entries)
        entries.append(tb)
        tb = tb.tb_next
    if last_internal < 0:
        return entries[0] if entries else None
    result = entries[last_internal].tb_next
    innermost = entries[last_internal]
    locate = _drivers.get(innermost.tb_frame.f_code)
    if locate is not None and innermost.tb_lasti == 0 and result is None:
        filename, name, line = locate(innermost.tb_frame)
        result = traceback_entry(filename, name, (line, line, None, None))
    for entry in reversed(entries[:last_internal]):
        if not _is_internal(entry):
            result = types.TracebackType(result, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    return result


def _is_internal(tb: types.TracebackType) -> bool:
    code = tb.tb_frame.f_code
    if code.co_filename in _INTERNAL:
        return True
    consts = code.co_consts
    return bool(consts) and consts[-1] is ENTRY_MARK and tb.tb_next is not None


def vm_traceback(exc: BaseException, f: Any, pc: int, add_entry: bool) -> None:
    """Rewrite ``exc.__traceback__`` for an exception instruction ``pc`` of VM frame ``f`` saw.

    ``add_entry`` is false for a re-raise, whose frame entry was added when
    the exception was first caught (CPython's RERAISE adds none either).
    """
    tb = strip_internal(exc.__traceback__)
    if add_entry:
        line = f.code.line_of(pc)
        if line is not None:
            tb = types.TracebackType(tb, shadow_frame(f), shadow_lasti(pc), line)
    exc.__traceback__ = tb


def traceback_entry(filename: str, name: str, location: Location,
                    below: types.TracebackType | None = None) -> types.TracebackType:
    """A traceback entry at ``location`` of VM function ``name`` in ``filename``, above ``below``.

    ``tb_lasti`` 0 is the first code unit; every unit has ``location``.
    """
    frame = _frame_for(filename, name, location)
    return types.TracebackType(below, frame, 0, location[0])


def clean_traceback(exc: BaseException) -> None:
    """Drop interpreter frames from an exception leaving ``run_module`` (and its chain)."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        current.__traceback__ = strip_internal(current.__traceback__)
        pending += [current.__cause__, current.__context__]
