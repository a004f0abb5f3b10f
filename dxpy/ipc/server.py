"""``dxpy.ipc.serve(path, handler)``: an HBTP server on a Unix socket, on the running loop.

Each connection is a ``Channel`` served by one task: every value a client
sends is passed to ``handler`` (a function or a coroutine function) and its
result goes back as a ``REPLY`` frame, or its exception as an ``ERROR`` frame
(the client's ``recv`` raises it).  A client that sends a malformed frame gets
its channel closed; the server and every other connection keep running.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import socket
from typing import Any, Awaitable, Callable

from .channel import Channel, ChannelClosed
from .codec import error_value
from .frames import MessageType, ProtocolError

Handler = Callable[[Any], Any | Awaitable[Any]]
logger = logging.getLogger("dxpy.ipc")


class ChannelServer:
    """A listening Unix socket and the tasks serving its connections."""

    def __init__(self, sock: socket.socket, path: str, handler: Handler,
                 options: dict[str, Any]) -> None:
        self.path = path
        self._sock = sock
        self._handler = handler
        self._options = options
        self._loop = asyncio.get_running_loop()
        self._connections: set[asyncio.Task[None]] = set()
        self._channels: set[Channel] = set()
        self._accepting = self._loop.create_task(self._accept_forever())
        #: Connections closed because they sent a malformed frame.
        self.protocol_errors = 0

    async def _accept_forever(self) -> None:
        while True:
            conn, _ = await self._loop.sock_accept(self._sock)
            channel = Channel(conn, **self._options)
            self._channels.add(channel)
            task = self._loop.create_task(self._serve(channel))
            self._connections.add(task)
            task.add_done_callback(self._connections.discard)

    async def _serve(self, channel: Channel) -> None:
        try:
            while True:
                msg_type, value = await channel.arecv_message()
                call_id = value[0] if msg_type is MessageType.CALL else 0
                reply = await self._reply(value, call_id)
                del value  # its shared-memory blocks are released with the reply
                await channel.asend_message(*reply)
        except ChannelClosed:
            pass
        except ProtocolError as exc:
            self.protocol_errors += 1
            logger.warning("dxpy.ipc server %s: closed a connection: %s", self.path, exc)
        finally:
            channel.close()
            self._channels.discard(channel)

    async def _reply(self, value: Any, call_id: int) -> tuple[MessageType, Any]:
        try:
            result = self._handler(value)
            if inspect.isawaitable(result):
                result = await result
        except Exception as exc:  # noqa: BLE001 - the client receives it
            return MessageType.ERROR, error_value(call_id, exc)
        return MessageType.REPLY, (call_id, result)

    @property
    def connections(self) -> int:
        """Connections being served right now."""
        return len(self._connections)

    def close(self) -> None:
        """Stop accepting, close every connection, remove the socket file."""
        self._accepting.cancel()
        for task in list(self._connections):
            task.cancel()
        for channel in list(self._channels):
            channel.close()
        self._sock.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass

    async def wait_closed(self) -> None:
        """Wait until the accept task and every connection task have ended."""
        await asyncio.gather(self._accepting, *self._connections, return_exceptions=True)

    async def __aenter__(self) -> "ChannelServer":
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()
        await self.wait_closed()


async def serve(path: str | os.PathLike[str], handler: Handler, *, backlog: int = 128,
                **options: Any) -> ChannelServer:
    """Listen on the Unix socket ``path`` (which must not exist) and serve
    each connection's values with ``handler`` on the running loop."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(os.fspath(path))
        sock.listen(backlog)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return ChannelServer(sock, os.fspath(path), handler, options)


__all__ = ["ChannelServer", "serve"]
