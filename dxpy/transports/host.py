"""``OpLoop``: what a transport needs from the loop it runs on.

Transports, servers, socket operations, datagrams and subprocesses are handed
the loop they run on; they never import ``dxpy.loop`` (which imports them to
build itself).  This protocol names the loop's side of that contract: the
asyncio event-loop API plus the reactor and its operation registry.
"""

from __future__ import annotations

import asyncio
from typing import Any, Callable, Protocol

from ..reactor import Reactor

#: A completion callback: ``callback(result, flags)`` (see ``dxpy.reactor.base``).
OpCallback = Callable[[int, int], None]


class OpLoop(Protocol):
    """The loop as transports see it (``dxpy.Loop`` implements it)."""

    _reactor: Reactor
    #: fd -> the transport that owns it (``add_reader`` on it is refused).
    _transports: dict[int, Any]

    def _start_op(self, callback: OpCallback) -> int:
        """Reserve a token whose completions go to ``callback``."""

    def _cancel_op(self, token: int) -> None:
        """Cancel the operation ``token`` (its callback still sees the end)."""

    def call_soon(self, callback: Callable[..., Any], *args: Any,
                  context: Any = None) -> asyncio.Handle: ...

    def create_future(self) -> asyncio.Future: ...

    def call_exception_handler(self, context: dict[str, Any]) -> None: ...

    def get_debug(self) -> bool: ...

    def is_closed(self) -> bool: ...
