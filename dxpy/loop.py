"""``Loop``: a complete asyncio event loop whose I/O goes through a reactor.

The shape is asyncio's own: ``BaseEventLoop`` (stdlib) owns the high-level
APIs (tasks, name resolution, ``create_connection``/``create_server``,
``start_tls``, executors, ...); this class supplies what a concrete loop must
(compare ``proactor_events.py``, which does the same on Windows IOCP):

* each loop iteration asks the reactor for completions (``_selector.select``
  is the reactor's ``completions``: one system call submits every queued
  operation and reaps what finished) and dispatches each ``(token, result,
  flags)`` straight to the callback registered for its token: I/O callbacks
  run directly (as in uvloop), not through the ready queue;
* transports, sockets, servers, datagrams, pipes and subprocesses live in
  ``dxpy/transports/`` (handed this loop, never importing this module); this
  file holds wakeups, signals and readiness callbacks (``add_reader``/
  ``add_writer`` as poll operations), and closing.

The per-event path (handles, ready queue, timers, one iteration, completion
dispatch, the socket data path) is the *loop core* (``dxpy/core/``): a
compiled one and a pure-Python one with the same semantics.  ``Loop`` is the
shared part; ``CompiledLoop`` and ``PythonLoop`` put a core in front of it,
and ``Loop(...)`` itself makes the default core's loop (``DXPY_CORE``).
"""

from __future__ import annotations

import errno
import signal
import socket
import threading
from asyncio import base_events, coroutines, events
from typing import Any, Callable

from . import core as _core
from .reactor import F_MORE, POLLIN, POLLOUT, Reactor, create_reactor
from .transports.factories import TransportFactoryMixin
from .transports.servers import ServerMixin
from .transports.sock_ops import SockOpsMixin


class _CompletionSource:
    """What ``BaseEventLoop._run_once`` calls ``_selector``: the reactor's
    ``completions`` (its wait, possibly producing completions lazily)."""

    __slots__ = ("select",)

    def __init__(self, reactor: Reactor) -> None:
        self.select = reactor.completions


class Loop(SockOpsMixin, ServerMixin, TransportFactoryMixin, base_events.BaseEventLoop):
    """An asyncio event loop on an io_uring (or epoll) reactor.

    ``Loop(reactor=None, core=None)`` returns a ``CompiledLoop`` or a
    ``PythonLoop`` (``core``: "compiled" | "python" | None for
    ``$DXPY_CORE`` or the best built); both are ``Loop`` instances.
    """

    #: Set by the core mixin ("compiled" | "python").
    core_name: str

    def __new__(cls, *args: Any, **kwargs: Any) -> "Loop":
        if cls is Loop:
            cls = loop_class(kwargs.get("core"))
        for base in cls.__mro__:  # allocate with the core's own __new__ (a C type's)
            if "__new__" in base.__dict__ and base is not Loop:
                return base.__new__(cls)
        raise TypeError(f"cannot allocate {cls!r}")  # unreachable: object has __new__

    def __init__(self, reactor: Reactor | str | None = None, *, core: str | None = None) -> None:
        try:
            made = reactor if isinstance(reactor, Reactor) else create_reactor(reactor)
        except BaseException:
            self._closed = True  # nothing to close: no "unclosed event loop" from __del__
            raise
        super().__init__()
        self._reactor: Reactor = made
        self._selector = _CompletionSource(self._reactor)
        self._attach_core()
        self._transports: dict[int, Any] = {}
        self._readers: dict[int, tuple[int, events.Handle]] = {}
        self._writers: dict[int, tuple[int, events.Handle]] = {}
        self._signal_handlers: dict[int, events.Handle] = {}
        self._recv_filled: set[int] = set()
        self._accepting: dict[int, int] = {}  # listening fd -> accept token
        self._ssock, self._csock = socket.socketpair()
        self._ssock.setblocking(False)
        self._csock.setblocking(False)
        self._arm_wakeup()

    def __repr__(self) -> str:
        return (f"<{type(self).__name__} reactor={self._reactor.backend} core={self.core_name} "
                f"running={self.is_running()} closed={self.is_closed()} debug={self.get_debug()}>")

    @property
    def reactor(self) -> Reactor:
        """The reactor this loop drives (read-only)."""
        return self._reactor

    # ---- wakeups and signals ---------------------------------------------
    def _arm_wakeup(self) -> None:
        # multishot: a wakeup (call_soon_threadsafe, a signal) costs no re-arm
        if self._arm_core_wakeup(self._ssock.fileno()):
            return
        token = self._start_op(self._on_wakeup)
        self._reactor.recv_multishot(token, self._ssock.fileno())

    def _on_wakeup(self, result: int, flags: int) -> None:
        if result > 0:
            for signum in self._reactor.take(result, flags):
                if signum:
                    self._handle_signal(signum)
        if not flags & F_MORE and not self._closed and result != -errno.EBADF:
            self._arm_wakeup()

    def _write_to_self(self) -> None:
        csock = self._csock
        if csock is None:
            return
        try:
            csock.send(b"\0")
        except OSError:
            if self._debug:
                base_events.logger.debug("Fail to write a null byte into the self-pipe socket",
                                         exc_info=True)

    def add_signal_handler(self, sig: int, callback: Callable[..., Any], *args: Any) -> None:
        """Run ``callback(*args)`` on the loop when signal ``sig`` arrives."""
        if coroutines.iscoroutine(callback) or coroutines.iscoroutinefunction(callback):
            raise TypeError("coroutines cannot be used with add_signal_handler()")
        self._check_signal(sig)
        self._check_closed()
        try:
            # Python writes the signal number into this fd; _on_wakeup reads it.
            signal.set_wakeup_fd(self._csock.fileno())
        except (ValueError, OSError) as exc:
            raise RuntimeError(str(exc)) from None
        self._signal_handlers[sig] = events.Handle(callback, args, self, None)
        try:
            signal.signal(sig, _ignore_signal)
            signal.siginterrupt(sig, False)
        except OSError as exc:
            del self._signal_handlers[sig]
            self._reset_wakeup_fd()
            if exc.errno == errno.EINVAL:
                raise RuntimeError(f"sig {sig} cannot be caught") from None
            raise

    def remove_signal_handler(self, sig: int) -> bool:
        """Restore the default disposition of ``sig``; False if none was set."""
        self._check_signal(sig)
        if self._signal_handlers.pop(sig, None) is None:
            return False
        handler = signal.default_int_handler if sig == signal.SIGINT else signal.SIG_DFL
        try:
            signal.signal(sig, handler)
        except OSError as exc:
            if exc.errno == errno.EINVAL:
                raise RuntimeError(f"sig {sig} cannot be caught") from None
            raise
        self._reset_wakeup_fd()
        return True

    def _reset_wakeup_fd(self) -> None:
        if not self._signal_handlers:
            try:
                signal.set_wakeup_fd(-1)
            except (ValueError, OSError) as exc:
                base_events.logger.info("set_wakeup_fd(-1) failed: %s", exc)

    def _handle_signal(self, sig: int) -> None:
        handle = self._signal_handlers.get(sig)
        if handle is None:
            return
        if handle._cancelled:
            self.remove_signal_handler(sig)
        else:
            self._add_callback_signalsafe(handle)

    @staticmethod
    def _check_signal(sig: int) -> None:
        if not isinstance(sig, int):
            raise TypeError(f"sig must be an int, not {sig!r}")
        if sig not in signal.valid_signals():
            raise ValueError(f"invalid signal number {sig}")

    # ---- name resolution ---------------------------------------------------
    async def getaddrinfo(self, host: Any, port: Any, *, family: int = 0, type: int = 0,
                          proto: int = 0, flags: int = 0) -> list:
        """asyncio's ``getaddrinfo``; a numeric host (or none) with a numeric
        port is resolved on the loop's thread, as uvloop does: with
        ``AI_NUMERICHOST`` no lookup can block, and the executor round trip
        (two thread hand-offs) costs more than the call.  Names, and debug
        mode (which times the executor call), go to the executor."""
        if not self._debug and _numeric(host) and _numeric_port(port):
            return socket.getaddrinfo(host, port, family, type, proto,
                                      flags | socket.AI_NUMERICHOST)
        return await super().getaddrinfo(host, port, family=family, type=type,
                                         proto=proto, flags=flags)

    # ---- readiness callbacks (poll operations) ----------------------------
    def add_reader(self, fd: Any, callback: Callable[..., Any], *args: Any) -> None:
        """Call ``callback(*args)`` whenever ``fd`` is readable (level-triggered)."""
        self._add_watch(self._readers, POLLIN, fd, callback, args)

    def add_writer(self, fd: Any, callback: Callable[..., Any], *args: Any) -> None:
        """Call ``callback(*args)`` whenever ``fd`` is writable (level-triggered)."""
        self._add_watch(self._writers, POLLOUT, fd, callback, args)

    def remove_reader(self, fd: Any) -> bool:
        return self._remove_watch(self._readers, fd)

    def remove_writer(self, fd: Any) -> bool:
        return self._remove_watch(self._writers, fd)

    # asyncio's own helpers (sslproto, stdlib transports) call these names.
    _add_reader = add_reader
    _add_writer = add_writer
    _remove_reader = remove_reader
    _remove_writer = remove_writer

    def _add_watch(self, table: dict, mask: int, fd: Any, callback: Callable[..., Any],
                   args: tuple) -> None:
        self._check_closed()
        fileno = _fileno(fd)
        self._ensure_fd_no_transport(fileno)
        old = table.pop(fileno, None)
        if old is not None:
            old[1].cancel()
            self._cancel_op(old[0])
        handle = events.Handle(callback, args, self, None)
        table[fileno] = (self._arm_watch(table, mask, fileno, handle), handle)

    def _arm_watch(self, table: dict, mask: int, fileno: int, handle: events.Handle) -> int:
        # One-shot polls re-armed after each event give asyncio's
        # level-triggered semantics: the poll re-checks readiness when the
        # callback has run.
        def on_ready(result: int, flags: int) -> None:
            entry = table.get(fileno)
            if entry is None or entry[1] is not handle:
                return
            if result < 0 and result != -errno.ECANCELED:
                table.pop(fileno, None)
                return
            if result >= 0:
                self._add_callback(handle)
            table[fileno] = (self._arm_watch(table, mask, fileno, handle), handle)

        token = self._start_op(on_ready)
        self._reactor.poll_add(token, fileno, mask)
        return token

    def _remove_watch(self, table: dict, fd: Any) -> bool:
        fileno = _fileno(fd)
        self._ensure_fd_no_transport(fileno)
        entry = table.pop(fileno, None)
        if entry is None:
            return False
        entry[1].cancel()
        self._cancel_op(entry[0])
        return True

    def _ensure_fd_no_transport(self, fileno: int) -> None:
        transport = self._transports.get(fileno)
        if transport is not None and not transport.is_closing():
            raise RuntimeError(f"File descriptor {fileno!r} is used by transport {transport!r}")

    # ---- closing -----------------------------------------------------------
    def close(self) -> None:
        """Close the loop, its wakeup socket, signal handlers and reactor."""
        if self.is_running():
            raise RuntimeError("Cannot close a running event loop")
        if self.is_closed():
            return
        if threading.current_thread() is threading.main_thread():
            for sig in list(self._signal_handlers):
                self.remove_signal_handler(sig)
        elif self._signal_handlers:
            base_events.logger.warning(
                "Closing the loop %r on a non-main thread: cannot remove signal handlers", self)
            self._signal_handlers.clear()
        super().close()
        self._drain_core_ops()
        self._reactor.close()
        self._callbacks.clear()
        self._readers.clear()
        self._writers.clear()
        self._ssock.close()
        self._csock.close()
        self._csock = None  # type: ignore[assignment]


def _ignore_signal(signum: int, frame: Any) -> None:
    """Python-level handler: the real work happens via the wakeup fd."""


def _numeric(host: Any) -> bool:
    """Whether ``host`` is None or an IPv4/IPv6 address literal."""
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str) or "%" in host:  # (a scope id may name an interface)
        return False
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, host)
            return True
        except (OSError, ValueError):
            pass
    return False


def _numeric_port(port: Any) -> bool:
    """Whether ``port`` needs no services lookup."""
    if port is None or isinstance(port, int):
        return True
    if isinstance(port, bytes):
        port = port.decode("ascii", "replace")
    return isinstance(port, str) and port.isdigit()


def _fileno(fd: Any) -> int:
    if isinstance(fd, int):
        fileno = fd
    else:
        try:
            fileno = int(fd.fileno())
        except (AttributeError, TypeError, ValueError):
            raise ValueError(f"Invalid file object: {fd!r}") from None
    if fileno < 0:
        raise ValueError(f"Invalid file descriptor: {fileno}")
    return fileno


class PythonLoop(_core.core_mixin("python"), Loop):
    """A ``Loop`` on the pure-Python core (the reference semantics)."""


if _core.compiled_status()[0]:
    class CompiledLoop(_core.core_mixin("compiled"), Loop):
        """A ``Loop`` on the compiled core (the default where it was built)."""

    _CLASSES: dict[str, type[Loop]] = {"compiled": CompiledLoop, "python": PythonLoop}
else:
    _CLASSES = {"python": PythonLoop}


def loop_class(core: str | None = None) -> type[Loop]:
    """The concrete loop class for ``core`` (see ``dxpy.core.resolve``)."""
    return _CLASSES[_core.resolve(core)]


__all__ = ["Loop", "PythonLoop", "loop_class"] + (["CompiledLoop"] if "compiled" in _CLASSES else [])
