"""VM generator functions return real CPython generators (coroutine functions coroutines,
async generator functions async generators).

Calling a DPB function whose code has the ``GENERATOR`` flag returns the
CPython generator of its entry code (``dxpy.vm.functions``), which delegates
with ``yield from`` to a Python generator (``drive``) that owns the VM frame
and runs the dispatch loop until each ``YIELD_VALUE``.  Being a genuine ``types.GeneratorType``
rather than a look-alike class buys, from CPython itself and word for word:
``send``/``throw``/``close`` argument checking, "can't send non-None value to
a just-started generator", PEP 479's "generator raised StopIteration",
"generator ignored GeneratorExit", ``inspect.isgenerator``, ``gi_running``,
and a per-generator handled-exception slot (see ``excstate``).

What the driver adds is ``yield from`` delegation of ``throw``/``close``:
while the frame is suspended at the ``YIELD_VALUE`` right after a ``SEND``,
the value stack's top is the delegate, and a thrown exception goes to it
first, as CPython's ``gen_throw`` does.
"""

from __future__ import annotations

from types import CoroutineType, FrameType
from typing import TYPE_CHECKING, Any, Callable, Generator

from dxpy.vm import excstate
from dxpy.vm.format import CodeFlags
from dxpy.vm.opcodes import Opcode as Op

if TYPE_CHECKING:
    from dxpy.vm.frames import Frame as _Frame

_SEND = int(Op.SEND)
_NOTHING: Any = object()


class AwaitableDriver:
    """Hands a native coroutine the driver generator to delegate to (``await`` = ``yield from``)."""

    __slots__ = ("_driver",)

    def __init__(self, driver: Generator[Any, Any, Any]) -> None:
        self._driver = driver

    def __await__(self) -> Generator[Any, Any, Any]:
        return self._driver


class _Suspend:
    """Awaitable that passes one value the VM frame yielded (an ``await`` inside it) up to the event loop."""

    __slots__ = ("_value",)

    def __init__(self, value: Any) -> None:
        self._value = value

    def __await__(self) -> Generator[Any, Any, Any]:
        return (yield self._value)


async def drive_async(frame: "_Frame", execute: Callable[["_Frame"], Any]) -> Any:
    """The native async generator running the VM frame (an async generator function's entry
    code delegates to it).

    The frame yields for two reasons: an ``await`` (its YIELD_VALUE follows a
    SEND, since ``yield from`` is not allowed in async generators) goes up
    to the event loop through ``_Suspend``; any other ``yield`` produces a
    value for ``async for``.  ``asend``/``athrow``/``aclose`` and the loop's
    cancellations arrive as exceptions and continue in the frame.
    """
    while True:
        try:
            value = execute(frame)
        except BaseException as exc:
            _drop_interpreter_frames(exc)
            raise
        if not frame.suspended:
            return
        awaiting = frame.code.ops[frame.pc - 2] == _SEND
        while True:
            thrown: BaseException | None = None
            try:
                if awaiting:
                    sent = await _Suspend(value)
                else:
                    sent = yield value
            except BaseException as exc:  # athrow(), aclose(), cancellation
                thrown = exc
            if thrown is None:
                frame.stack.append(sent)
                break
            value = _throw(frame, thrown)
            thrown = None
            if value is _NOTHING:
                break


class Delegated(BaseException):
    """Not raised: the ``pending`` of a generator or coroutine frame whose call ran on tier 1
    (``functions.enter`` at the call that made the function hot): ``drive`` delegates to
    ``target``, the tier-1 generator or coroutine, so the whole first call runs there too."""

    def __init__(self, target: Any) -> None:
        super().__init__()
        self.target = target


def drive(frame: "_Frame", execute: Callable[["_Frame"], Any]) -> Generator[Any, Any, Any]:
    """Run ``frame`` between yields; values sent in are pushed as the result of the yield.

    A generator function's entry code delegates to it with ``yield from``, a
    coroutine function's with ``await awaitable_driver(...)``.  A frame whose
    call already ran on tier 1 (``Delegated``) delegates to that generator
    or coroutine instead."""
    if type(frame.pending) is Delegated:
        target, frame.pending = frame.pending.target, None
        return (yield from (target.__await__() if type(target) is CoroutineType else target))
    coroutine = bool(frame.code.kind & CodeFlags.COROUTINE)
    closing = False
    while True:
        try:
            value = execute(frame)
        except BaseException as exc:
            _drop_interpreter_frames(exc)
            if coroutine and isinstance(exc, StopIteration):  # PEP 479 in a coroutine's words
                raise RuntimeError("coroutine raised StopIteration") from exc
            raise
        if not frame.suspended:
            return value
        if closing and coroutine:  # CPython says "generator ..." for this driver
            raise RuntimeError("coroutine ignored GeneratorExit")
        while True:
            try:
                sent = yield value
            except BaseException as exc:  # throw() and close() arrive here
                thrown: BaseException | None = exc
            else:
                thrown = None
            # Handled outside the except clause, so the thrown exception is
            # not the "handled" one while the delegate or the frame runs.
            if thrown is None:
                frame.stack.append(sent)
                break
            closing = isinstance(thrown, GeneratorExit)
            value = _throw(frame, thrown)
            thrown = None  # no cycle: exception -> traceback -> this frame -> exception
            if value is _NOTHING:
                break


def _drop_interpreter_frames(exc: BaseException) -> None:
    """Strip the interpreter's frames from an exception leaving a VM generator's frame.

    Those frames hold the VM frame (and through it every local); on an
    exception that CPython code discards (``close()``'s GeneratorExit, a
    StopIteration) they would keep the locals alive, in a cycle through the
    exception, until the cyclic GC runs, where CPython frees them at once:
    a generator a closed generator was feeding would not be finalized.  (A
    bare ``raise`` after this adds no entry for the driver's own frame.)
    """
    exc.__traceback__ = excstate.strip_internal(exc.__traceback__)


def _throw(frame: "_Frame", exc: BaseException) -> Any:
    """Deliver a thrown exception; returns a value the delegate yielded, or ``_NOTHING`` to resume."""
    code = frame.code
    delegating = frame.pc >= 2 and code.ops[frame.pc - 2] == _SEND
    if not delegating:
        frame.pending = exc
        return _NOTHING
    delegate = frame.stack[-1]
    closing = isinstance(exc, GeneratorExit)
    try:
        method = getattr(delegate, "close" if closing else "throw", None)
    except Exception as error:  # noqa: BLE001 - CPython's gen_close_iter reports it, then goes on
        if not closing:
            raise
        excstate.write_unraisable(error, delegate)
        method = None
    if method is None:
        frame.pending = exc
        return _NOTHING
    try:
        if isinstance(exc, GeneratorExit):
            method()
            frame.pending = exc
            return _NOTHING
        return method(exc)
    except StopIteration as stop:
        frame.stack[-1] = stop.value
        frame.pc = code.args[frame.pc - 2]
    except BaseException as error:  # the delegate's own exception continues in the frame
        frame.pending = error
    return _NOTHING



# -- tracebacks of exceptions thrown into unstarted generators (see excstate.register_driver) --
def _driven_source(driver: FrameType) -> tuple[str, str, int]:
    """The VM code a ``drive``/``drive_async`` frame runs (its ``frame`` argument)."""
    code = driver.f_locals["frame"].code
    return code.filename, code.name, code.code.firstline


excstate.register_driver(drive.__code__, _driven_source)
excstate.register_driver(drive_async.__code__, _driven_source)
