"""The pure-Python loop core: the reference semantics, and the fallback.

Scheduling is asyncio's own (``BaseEventLoop.call_soon``/``call_at``/
``_run_once`` with ``asyncio.Handle``); this class adds dxpy's operation
registry and completion dispatch, and socket transports are
``dxpy.transports.stream.SocketTransport``.  The compiled core
(``compiled.pyx``) implements the same names with the same behaviour.
"""

from __future__ import annotations

import itertools
from typing import Any

from ..reactor import F_MORE, Completion
from ..transports.host import OpCallback
from ..transports.stream import SocketTransport


class PythonCore:
    """The per-event half of ``dxpy.loop.PythonLoop``."""

    # Slots, not instance-dict entries: CPython 3.11 keeps an instance's
    # attributes in a compact shared-key dict only up to 30 of them, and
    # asyncio's BaseEventLoop with dxpy's own is past that; a loop whose
    # dict is a plain one makes every attribute access in asyncio's
    # call_soon/_run_once/Handle path ~50% slower (measured: call_soon
    # chains 15% slower than asyncio's own loop).
    __slots__ = ("_callbacks", "_tokens", "_iteration")

    #: Which core this loop runs (``dxpy info`` and the tests read it).
    core_name = "python"
    _callbacks: dict[int, OpCallback]
    #: Incremented once per iteration (flow control reads it; see
    #: ``StreamTransport._reported``).
    _iteration: int

    def _attach_core(self) -> None:
        """Called by ``Loop.__init__`` once the reactor exists."""
        self._callbacks = {}
        self._tokens = itertools.count(1).__next__
        self._iteration = 0

    def _start_op(self, callback: OpCallback) -> int:
        """Reserve a token whose completions go to ``callback(result, flags)``."""
        token = self._tokens()
        self._callbacks[token] = callback
        return token

    def _cancel_op(self, token: int) -> None:
        """Ask the reactor to cancel ``token``; its callback still sees the end."""
        if token in self._callbacks and not self._closed:
            self._reactor.cancel(token)

    def _process_events(self, completions: list[Completion]) -> None:
        self._iteration += 1
        callbacks = self._callbacks
        for token, result, flags in completions:
            callback = callbacks.get(token) if flags & F_MORE else callbacks.pop(token, None)
            if callback is None:
                continue
            try:
                callback(result, flags)
            except (SystemExit, KeyboardInterrupt):
                raise
            except BaseException as exc:
                self.call_exception_handler({
                    "message": f"Exception in I/O completion callback {callback!r}",
                    "exception": exc,
                })

    def _arm_core_wakeup(self, fd: int) -> bool:
        """The wakeup socket is served by ``Loop._arm_wakeup``'s Python path."""
        return False

    def _drain_core_ops(self) -> None:
        """Nothing to drain: every operation went through the reactor."""

    def _make_socket_transport(self, sock: Any, protocol: Any, waiter: Any = None, *,
                               extra: dict | None = None, server: Any = None) -> SocketTransport:
        return SocketTransport(self, sock, protocol, waiter, extra, server)
