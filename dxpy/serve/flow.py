"""``WriteFlowControl``: the write side of backpressure, shared by HTTP and WebSocket.

The transport calls ``pause_writing`` when its buffer passes the high-water
mark; whoever sends (``RequestCycle.send``, ``WebSocketProtocol.send``) then
awaits ``drain()`` until ``resume_writing`` (or the connection's loss) wakes
it, so a slow client holds at most one buffer's worth of server memory.
"""

from __future__ import annotations

import asyncio
from typing import Any


class WriteFlowControl:
    """Mixin for a protocol with ``loop`` and ``closed`` attributes."""

    loop: Any
    closed: bool
    write_paused = False
    _drain_waiter: asyncio.Future | None = None

    def pause_writing(self) -> None:
        self.write_paused = True

    def resume_writing(self) -> None:
        self.write_paused = False
        self.release_drain()

    def release_drain(self) -> None:
        """Wake a waiting ``drain()`` (resumed, or the connection is gone)."""
        waiter, self._drain_waiter = self._drain_waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def drain(self) -> None:
        if self.write_paused and not self.closed:
            waiter = self._drain_waiter
            if waiter is None:
                waiter = self._drain_waiter = self.loop.create_future()
            await waiter
