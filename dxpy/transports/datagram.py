"""``DatagramTransport``: UDP and Unix datagram sockets on recvmsg/sendmsg ops.

One receive is kept in flight into the transport's buffer; sends are queued
and go out one ``sendmsg`` at a time, in order, so ``get_write_buffer_size``
and flow control mean what they mean on asyncio's own datagram transport.
"""

from __future__ import annotations

import collections
import contextvars
import errno
import functools
import socket
from asyncio import base_events, constants, futures, protocols, transports, trsock
from typing import Any

from ..reactor import error_for, sockaddr
from .host import OpLoop


#: Largest datagram we can receive (UDP's 64 KiB limit).
MAX_DATAGRAM = 65536


class DatagramTransport(transports._FlowControlMixin, transports.DatagramTransport):
    """A datagram socket driven by reactor completions."""

    def __init__(self, loop: OpLoop, sock: socket.socket, protocol: protocols.DatagramProtocol,
                 address: Any = None, waiter: futures.Future | None = None,
                 extra: dict | None = None) -> None:
        extra = dict(extra or {})
        extra["socket"] = trsock.TransportSocket(sock)
        for key, getter in (("sockname", sock.getsockname), ("peername", sock.getpeername)):
            try:
                extra.setdefault(key, getter())
            except OSError:
                extra.setdefault(key, None)
        super().__init__(extra, loop)
        self._loop: OpLoop = loop
        self._sock = sock
        self._fd = sock.fileno()
        self._protocol = protocol
        self._address = address
        self._closing = False
        self._conn_lost = 0
        self._recv_token = 0
        self._recv_buffer = bytearray(MAX_DATAGRAM)
        self._message: Any = None
        self._queue: collections.deque[tuple[bytes, bytes]] = collections.deque()
        self._send_token = 0
        self._buffer_size = 0
        # I/O callbacks run in a copy of the creating call's context (asyncio's rule)
        self._context = contextvars.copy_context()
        self._recv_cb = functools.partial(self._context.run, self._on_recv)
        self._sent_cb = functools.partial(self._context.run, self._on_sent)
        loop._transports[self._fd] = self
        loop.call_soon(self._connection_made, context=self._context)
        if waiter is not None:
            loop.call_soon(futures._set_result_unless_cancelled, waiter, None,
                           context=self._context)

    def __repr__(self) -> str:
        return f"<DatagramTransport fd={self._fd} {'closing' if self._closing else 'open'}>"

    def _connection_made(self) -> None:
        self._protocol.connection_made(self)
        if not self._closing:
            self._arm_recv()

    def get_protocol(self) -> protocols.BaseProtocol:
        return self._protocol

    def set_protocol(self, protocol: protocols.DatagramProtocol) -> None:
        self._protocol = protocol

    def is_closing(self) -> bool:
        return self._closing

    def get_write_buffer_size(self) -> int:
        return self._buffer_size

    # ---- receiving -------------------------------------------------------
    def _arm_recv(self) -> None:
        self._recv_token = self._loop._start_op(self._recv_cb)
        self._message = self._loop._reactor.recvmsg(self._recv_token, self._fd, self._recv_buffer)

    def _on_recv(self, result: int, flags: int) -> None:
        self._recv_token = 0
        if self._closing:
            return
        if result >= 0:
            raw = self._message.address
            address = sockaddr.unpack(raw) if raw else self._address
            data = bytes(memoryview(self._recv_buffer)[:result])
            self._call_protocol("datagram_received", data, address)
        elif result != -errno.ECANCELED:
            self._call_protocol("error_received", error_for(result, f"recvfrom on fd {self._fd}"))
        if not self._closing:
            self._arm_recv()

    def _call_protocol(self, method: str, *args: Any) -> None:
        try:
            getattr(self._protocol, method)(*args)
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            self._fatal_error(exc, f"Fatal error: protocol.{method}() call failed.")

    # ---- sending ---------------------------------------------------------
    def sendto(self, data: Any, addr: Any = None) -> None:
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data argument must be a bytes-like object, "
                            f"not {type(data).__name__!r}")
        if self._address:
            if addr not in (None, self._address):
                raise ValueError(f"Invalid address: must be None or {self._address}")
            addr = None
        if self._conn_lost:
            if self._conn_lost >= constants.LOG_THRESHOLD_FOR_CONNLOST_WRITES:
                base_events.logger.warning("socket.send() raised exception.")
            self._conn_lost += 1
            return
        packed = b"" if addr is None else sockaddr.pack(self._sock.family, addr)
        self._queue.append((bytes(data), packed))
        self._buffer_size += len(data)
        if not self._send_token:
            self._send_next()
        self._maybe_pause_protocol()

    def _send_next(self) -> None:
        data, packed = self._queue[0]
        self._send_token = self._loop._start_op(self._sent_cb)
        self._loop._reactor.sendmsg(self._send_token, self._fd, data, packed)

    def _on_sent(self, result: int, flags: int) -> None:
        self._send_token = 0
        if not self._queue:
            return
        data, _ = self._queue.popleft()
        self._buffer_size -= len(data)
        if result < 0 and result != -errno.ECANCELED and not self._conn_lost:
            self._call_protocol("error_received", error_for(result, f"sendto on fd {self._fd}"))
        if self._queue and not self._conn_lost:
            self._send_next()
            return
        self._maybe_resume_protocol()
        if self._closing and not self._conn_lost:
            self._lose(None)

    # ---- closing ---------------------------------------------------------
    def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        if self._recv_token:
            self._loop._cancel_op(self._recv_token)
        if not self._queue:
            self._lose(None)

    def abort(self) -> None:
        self._force_close(None)

    def _fatal_error(self, exc: BaseException, message: str) -> None:
        if not isinstance(exc, OSError):
            self._loop.call_exception_handler(
                {"message": message, "exception": exc, "transport": self,
                 "protocol": self._protocol})
        self._force_close(exc)

    def _force_close(self, exc: BaseException | None) -> None:
        if self._conn_lost:
            return
        self._closing = True
        for token in (self._recv_token, self._send_token):
            if token:
                self._loop._cancel_op(token)
        self._queue.clear()
        self._buffer_size = 0
        self._lose(exc)

    def _lose(self, exc: BaseException | None) -> None:
        self._conn_lost += 1
        self._loop.call_soon(self._call_connection_lost, exc)

    def _call_connection_lost(self, exc: BaseException | None) -> None:
        try:
            self._protocol.connection_lost(exc)
        finally:
            if self._loop._transports.get(self._fd) is self:
                del self._loop._transports[self._fd]
            self._sock.close()
