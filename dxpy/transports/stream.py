"""Stream transports driven by reactor completions (the pure-Python core's data path).

One class owns the byte-stream machinery: a read operation kept armed while
reading is not paused, and a write queue with at most one write operation in
flight.  Sockets (here) and pipes (``pipes.py``) differ only in which reactor
operations they use and in what they report through ``get_extra_info``.

Guarantees (tested):
* ``pause_reading()`` stops ``data_received`` calls at once; data that races
  the pause is kept and delivered on ``resume_reading()``: nothing is lost.
* ``write()`` never blocks and keeps order; flow control follows asyncio's
  high/low water marks as asyncio shows them (``get_write_buffer_size`` and
  ``pause_writing`` as if the send had been tried at once; see
  ``_reported``); ``connection_lost`` is called exactly once, after the fd has
  been released by every in-flight operation's completion.
* Contexts as asyncio's: callbacks caused by I/O run in a copy of the context
  current when the transport was made (or reading last resumed); callbacks
  caused by a method call run in the caller's.
"""

from __future__ import annotations

import collections
import contextvars
import errno
import functools
import os
import socket
import warnings
from asyncio import base_events, constants, futures, protocols, transports, trsock
from typing import Any

from ..reactor import F_MORE, error_for
from .host import OpLoop


#: Bytes read per operation for pipes and buffered protocols.
READ_SIZE = 256 * 1024
#: On io_uring, writes at least this large try the syscall first; smaller
#: ones are ring operations.  Measured (docs/performance.md): ring sends win
#: for small replies, the direct syscall for 64 KiB and up.  Without batched
#: submission (epoll) every write tries the syscall first.
WRITE_FIRST_MIN = 16 * 1024
#: Payloads at least this large go out with zero-copy send (sockets only).
ZEROCOPY_THRESHOLD = 1 << 20
#: Optimistic write-buffer allowance when SO_SNDBUF cannot be read.
DEFAULT_SNDBUF = 256 * 1024

_QUIET_ERRORS = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)


class StreamTransport(transports._FlowControlMixin, transports.Transport):
    """A bidirectional byte stream over one fd; see module docstring."""

    _start_tls_compatible = True
    #: True while loop.sendfile() owns the socket (writes would interleave).
    _sendfile_active = False
    #: Subclasses say whether the fd is a socket (recv/send ops) or a pipe.
    _is_socket = True

    def __init__(self, loop: OpLoop, fileobj: Any, protocol: protocols.BaseProtocol,
                 waiter: futures.Future | None = None, extra: dict | None = None,
                 server: base_events.Server | None = None) -> None:
        super().__init__(extra, loop)
        self._loop: OpLoop = loop
        self._file = fileobj
        self._fd: int = fileobj.fileno()
        self._write_now = fileobj.send if self._is_socket else functools.partial(os.write, self._fd)
        # pipes write at once (as asyncio does; a pty/pipe peer may read right
        # after write() returns); sockets batch small sends on io_uring
        self._write_first_min = (WRITE_FIRST_MIN if loop._reactor.batches_submissions
                                 and self._is_socket else 0)
        self._reactor = loop._reactor
        self._take = loop._reactor.take
        self._context = contextvars.copy_context()
        self._bind_callbacks()
        self._server = server
        self._protocol: protocols.BaseProtocol = protocol
        self._protocol_connected = False
        self._buffered = isinstance(protocol, protocols.BufferedProtocol)
        self._closing = False
        self._paused = False
        self._eof_sent = False
        self._conn_lost = 0
        self._lost_called = False
        self._read_token = 0
        self._read_buffer: bytearray | None = None
        self._held: collections.deque[bytes] = collections.deque()
        self._held_eof = False
        self._write_queue: collections.deque[bytes | memoryview] = collections.deque()
        self._write_token = 0
        self._writing: bytes | memoryview = b""  # the payload of the write in flight
        self._buffer_size = 0  # bytes queued or in flight, not yet taken by the kernel
        self._send_epoch = 0  # see _reported
        self._optimistic_cap = _send_buffer_size(fileobj)
        self._flush_waiter: futures.Future | None = None
        #: Where close() waits for the flush: asyncio, which sent the bytes
        #: at once, would have scheduled connection_lost from close()'s caller.
        self._lost_context: contextvars.Context | None = None
        if server is not None:
            server._attach()
        loop._transports[self._fd] = self
        loop.call_soon(self._connection_made, context=self._context)
        if waiter is not None:
            loop.call_soon(futures._set_result_unless_cancelled, waiter, None,
                           context=self._context)

    def _bind_callbacks(self) -> None:
        """Completion callbacks that run in the transport's context (made once
        per context, not once per operation)."""
        run = self._context.run
        self._written_cb = functools.partial(run, self._on_written)
        self._chunk_cb = functools.partial(run, self._on_chunk)
        self._read_into_cb = functools.partial(run, self._on_read_into)
        self._read_copy_cb = functools.partial(run, self._on_read_copy)

    def __repr__(self) -> str:
        state = "closing" if self._closing else "open"
        return f"<{type(self).__name__} fd={self._fd} {state} buffer={self._reported()}>"

    # ---- lifecycle --------------------------------------------------------
    def _connection_made(self) -> None:
        if self._conn_lost:
            return
        self._protocol_connected = True
        self._protocol.connection_made(self)
        if not self._closing and not self._paused:
            self._arm_read()

    def is_closing(self) -> bool:
        return self._closing

    def get_protocol(self) -> protocols.BaseProtocol:
        return self._protocol

    def set_protocol(self, protocol: protocols.BaseProtocol) -> None:
        self._protocol = protocol
        self._buffered = isinstance(protocol, protocols.BufferedProtocol)
        self._protocol_connected = True

    def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        self._stop_reading()
        if not self._write_queue and not self._write_token:
            self._schedule_lost(None)
        else:  # connection_lost comes once flushed, in the context asyncio gives
            self._lost_context = contextvars.copy_context()

    def abort(self) -> None:
        self._force_close(None)

    def _fatal_error(self, exc: BaseException, message: str) -> None:
        if isinstance(exc, OSError) and (isinstance(exc, _QUIET_ERRORS)
                                         or exc.errno == errno.EBADF):
            if self._loop.get_debug():
                self._loop.call_exception_handler(
                    {"message": message, "exception": exc, "transport": self,
                     "protocol": self._protocol})
        else:
            self._loop.call_exception_handler(
                {"message": message, "exception": exc, "transport": self,
                 "protocol": self._protocol})
        self._force_close(exc)

    def _force_close(self, exc: BaseException | None) -> None:
        if self._conn_lost:
            return
        self._write_queue.clear()
        self._buffer_size = 0
        self._wake_flush_waiter(exc or ConnectionError("transport closed"))
        if self._write_token:
            self._loop._cancel_op(self._write_token)
            self._write_token = 0
        self._stop_reading()
        self._closing = True
        self._schedule_lost(exc)

    def _schedule_lost(self, exc: BaseException | None) -> None:
        """Report the end to the protocol on the next iteration; if the loop
        is already closed (a transport collected late), just free the fd."""
        self._conn_lost += 1
        if self._loop.is_closed():
            self._lost_called = True
            self._release()
            return
        self._loop.call_soon(self._call_connection_lost, exc, context=self._lost_context)

    def _call_connection_lost(self, exc: BaseException | None) -> None:
        if self._lost_called:
            return
        self._lost_called = True
        try:
            if self._protocol_connected:
                self._protocol.connection_lost(exc)
        finally:
            self._release()

    def _release(self) -> None:
        """Close the fd: in-flight ops were cancelled and hold their own ref."""
        if self._loop._transports.get(self._fd) is self:
            del self._loop._transports[self._fd]
        self._file.close()
        self._file = _Closed()
        self._protocol = None  # type: ignore[assignment]
        server, self._server = self._server, None
        if server is not None:
            server._detach()

    def __del__(self) -> None:
        if not self._lost_called and self._file is not None and not isinstance(self._file, _Closed):
            warnings.warn(f"unclosed transport {self!r}", ResourceWarning, source=self)
            self._file.close()

    # ---- reading ----------------------------------------------------------
    def is_reading(self) -> bool:
        return not self._paused and not self._closing

    def pause_reading(self) -> None:
        if self._closing or self._paused:
            return
        self._paused = True
        self._stop_reading()

    def resume_reading(self) -> None:
        if self._closing or not self._paused:
            return
        self._paused = False
        # asyncio re-registers its reader here, in the caller's context
        self._context = contextvars.copy_context()
        self._bind_callbacks()
        self._loop.call_soon(self._deliver_held, context=self._context)

    def _deliver_held(self) -> None:
        while self._held and not self._paused and not self._closing:
            self._deliver(self._held.popleft())
        if self._held_eof and not self._held and not self._paused and not self._closing:
            self._held_eof = False
            self._on_eof()
        elif not self._paused and not self._closing and not self._read_token:
            self._arm_read()

    def _stop_reading(self) -> None:
        if self._read_token:
            self._loop._cancel_op(self._read_token)
            # Completions still on their way are held, not dropped (see module doc).

    def _arm_read(self) -> None:
        loop = self._loop
        if self._buffered:
            try:
                buf = self._protocol.get_buffer(-1)  # type: ignore[attr-defined]
                if not len(buf):
                    raise RuntimeError("get_buffer() returned an empty buffer")
            except (SystemExit, KeyboardInterrupt):
                raise
            except BaseException as exc:
                self._fatal_error(exc, "Fatal error: protocol.get_buffer() call failed.")
                return
            self._read_buffer = buf
            self._read_token = loop._start_op(self._read_into_cb)
            self._prep_read_into(self._read_token, buf)
        elif self._is_socket:
            self._read_token = loop._start_op(self._chunk_cb)
            loop._reactor.recv_multishot(self._read_token, self._fd)
        else:
            buf = self._read_buffer = bytearray(READ_SIZE)
            self._read_token = loop._start_op(self._read_copy_cb)
            loop._reactor.read(self._read_token, self._fd, buf)

    def _prep_read_into(self, token: int, buf: Any) -> None:
        if self._is_socket:
            self._loop._reactor.recv(token, self._fd, buf)
        else:
            self._loop._reactor.read(token, self._fd, buf)

    def _on_chunk(self, result: int, flags: int) -> None:
        """Completion of the multishot receive (sockets, plain protocols)."""
        if not flags & F_MORE:
            self._read_token = 0
        if result > 0:
            data = self._take(result, flags)
            if self._paused or self._held or self._closing:
                self._received(data)
            else:  # the common case: straight to the protocol
                self._deliver(data)
            if not self._read_token and not self._paused and not self._closing:
                self._arm_read()  # the kernel ended the multishot (no buffers)
        elif result == -errno.ENOBUFS:  # every provided buffer was in use: re-arm
            self._read_token = 0
            if not self._paused and not self._closing:
                self._arm_read()
        else:
            self._read_token = 0
            self._read_ended(result)

    def _on_read_copy(self, result: int, flags: int) -> None:
        """Completion of a one-shot read into the transport's own buffer."""
        self._read_token = 0
        if result > 0:
            data = bytes(memoryview(self._read_buffer)[:result])  # type: ignore[arg-type]
            self._received(data)
            if not self._paused and not self._closing:
                self._arm_read()
        else:
            self._read_ended(result)

    def _on_read_into(self, result: int, flags: int) -> None:
        """Completion of a read into a BufferedProtocol's buffer."""
        self._read_token = 0
        self._read_buffer = None
        if result > 0:
            if self._closing:
                return
            try:
                self._protocol.buffer_updated(result)  # type: ignore[attr-defined]
            except (SystemExit, KeyboardInterrupt):
                raise
            except BaseException as exc:
                self._fatal_error(exc, "Fatal error: protocol.buffer_updated() call failed.")
                return
            if not self._paused and not self._closing:
                self._arm_read()
        else:
            self._read_ended(result)

    def _received(self, data: bytes) -> None:
        if self._paused or self._held:
            self._held.append(data)
        elif not self._closing:
            self._deliver(data)

    def _deliver(self, data: bytes) -> None:
        try:
            if self._buffered:
                protocols._feed_data_to_buffered_proto(self._protocol, data)
            else:
                self._protocol.data_received(data)  # type: ignore[attr-defined]
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            self._fatal_error(exc, "Fatal error: protocol.data_received() call failed.")

    def _read_ended(self, result: int) -> None:
        if result == 0:
            if self._paused or self._held:
                self._held_eof = True
            elif not self._closing:
                self._on_eof()
        elif result == -errno.ECANCELED:
            if not self._paused and not self._closing:
                self._arm_read()
        elif result == -errno.ENOBUFS:
            if not self._paused and not self._closing:
                self._arm_read()
        elif not self._closing:
            self._fatal_error(error_for(result, f"read from fd {self._fd}"),
                              "Fatal read error on socket transport")

    def _on_eof(self) -> None:
        if self._loop.get_debug():
            base_events.logger.debug("%r received EOF", self)
        if self._buffered and not hasattr(self._protocol, "eof_received"):
            self.close()
            return
        try:
            keep_open = self._protocol.eof_received()  # type: ignore[attr-defined]
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            self._fatal_error(exc, "Fatal error: protocol.eof_received() call failed.")
            return
        if not keep_open:
            self.close()

    # ---- writing ----------------------------------------------------------
    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data argument must be a bytes-like object, "
                            f"not {type(data).__name__!r}")
        if self._eof_sent:
            raise RuntimeError("Cannot call write() after write_eof()")
        if self._sendfile_active:
            raise RuntimeError("unable to write; sendfile is in progress")
        if not data:
            return
        if self._conn_lost:
            if self._conn_lost >= constants.LOG_THRESHOLD_FOR_CONNLOST_WRITES:
                base_events.logger.warning("socket.send() raised exception.")
            self._conn_lost += 1
            return
        if self._write_token or len(data) < self._write_first_min:
            if type(data) is not bytes:
                data = bytes(data)  # the caller may reuse its buffer
            self._buffer_size += len(data)
            if self._write_token:
                self._write_queue.append(data)
            else:
                self._send_epoch = self._loop._iteration
                self._send(data)
        else:
            self._write_first(data)
        if self._buffer_size > self._high_water:
            self._maybe_pause_protocol()

    def _reported(self) -> int:
        """The write-buffer size asyncio would report.  A send queued in this
        very iteration has not been offered to the kernel yet (on io_uring it
        goes out with every other connection's in the next
        ``io_uring_enter``); where asyncio sends at once the kernel would
        have taken up to its send-buffer size, so only bytes beyond that
        count (``pause_writing`` is not called where asyncio would not call
        it).  Once the kernel refused bytes, or a send outlived its
        iteration, everything not yet sent counts."""
        if self._send_epoch == self._loop._iteration:
            return max(0, self._buffer_size - self._optimistic_cap)
        return self._buffer_size

    def _write_first(self, data: bytes | bytearray | memoryview) -> None:
        """Nothing in flight and a large payload: try the syscall at once (as
        uvloop does) and hand only what the kernel did not take to a reactor
        operation.  (Small writes go to the ring instead, where the replies of
        many connections share one ``io_uring_enter``; see WRITE_FIRST_MIN.)
        """
        try:
            sent = self._write_now(data)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            self._fatal_error(exc, "Fatal write error on transport")
            return
        if sent < len(data):
            rest = bytes(memoryview(data)[sent:])
            self._buffer_size += len(rest)
            self._send_epoch = 0  # the kernel refused these bytes
            self._send(rest)

    def writelines(self, list_of_data: Any) -> None:
        self.write(b"".join(list_of_data))

    def _send(self, data: bytes | memoryview) -> None:
        reactor = self._reactor
        self._writing = data
        token = self._write_token = self._loop._start_op(self._written_cb)
        if not self._is_socket:
            reactor.write(token, self._fd, data)
        elif len(data) >= ZEROCOPY_THRESHOLD:
            reactor.send_zc(token, self._fd, data)
        else:
            reactor.send(token, self._fd, data)

    def _on_written(self, result: int, flags: int) -> None:
        self._write_token = 0
        data, self._writing = self._writing, b""
        if result < 0:
            if result != -errno.ECANCELED and not self._conn_lost:
                self._fatal_error(error_for(result, f"write to fd {self._fd}"),
                                  "Fatal write error on socket transport")
            return
        self._buffer_size -= result
        if result < len(data):
            self._send_epoch = 0
            self._send(memoryview(data)[result:])
            return
        if self._write_queue:
            queue = self._write_queue
            chunk = queue.popleft() if len(queue) == 1 else b"".join(queue)
            queue.clear()
            # the kernel took the last send within an iteration of its
            # queuing (not congested): the queued bytes are fresh
            now = self._loop._iteration
            epoch = self._send_epoch
            self._send_epoch = now if epoch and epoch + 1 >= now else 0
            self._send(chunk)
        if self._protocol_paused:
            self._maybe_resume_protocol()
        if not self._write_token and (self._flush_waiter is not None or self._closing
                                      or self._eof_sent):
            self._flushed()

    async def _wait_flushed(self) -> None:
        """Wait until every queued byte has been handed to the kernel."""
        if self._write_token:
            self._flush_waiter = self._loop.create_future()
            await self._flush_waiter

    def _wake_flush_waiter(self, exc: BaseException | None = None) -> None:
        waiter, self._flush_waiter = self._flush_waiter, None
        if waiter is not None and not waiter.done():
            if exc is None:
                waiter.set_result(None)
            else:
                waiter.set_exception(exc)

    def _flushed(self) -> None:
        """The write queue just became empty: finish a pending close or EOF."""
        self._wake_flush_waiter()
        if self._closing and not self._conn_lost:
            self._schedule_lost(None)
        elif self._eof_sent:
            self._shutdown_write()

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        if self._closing or self._eof_sent:
            return
        self._eof_sent = True
        if not self._write_token:
            self._shutdown_write()

    def _shutdown_write(self) -> None:
        """Half-close: a pipe has no half, so its write end simply closes."""
        self.close()

    def get_write_buffer_size(self) -> int:
        return self._reported()


class SocketTransport(StreamTransport):
    """TCP or Unix stream socket."""

    _sendfile_compatible = constants._SendfileMode.TRY_NATIVE

    def __init__(self, loop: OpLoop, sock: socket.socket, protocol: protocols.BaseProtocol,
                 waiter: futures.Future | None = None, extra: dict | None = None,
                 server: base_events.Server | None = None) -> None:
        extra = dict(extra or {})
        extra["socket"] = trsock.TransportSocket(sock)
        _set_extra_names(extra, sock)
        if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.type == socket.SOCK_STREAM:
            base_events._set_nodelay(sock)
        super().__init__(loop, sock, protocol, waiter, extra, server)

    def _shutdown_write(self) -> None:
        try:
            self._file.shutdown(socket.SHUT_WR)
        except OSError as exc:
            self._fatal_error(exc, "Fatal error on shutdown")


class _Closed:
    """Stand-in for a released fd object: closing it again is harmless."""

    def fileno(self) -> int:
        return -1

    def close(self) -> None:
        return None


def _send_buffer_size(fileobj: Any) -> int:
    """The kernel's send-buffer size for ``fileobj`` (what a send tried at
    once could take), or DEFAULT_SNDBUF where it cannot be read (pipes)."""
    try:
        return socket.socket.getsockopt(fileobj, socket.SOL_SOCKET, socket.SO_SNDBUF)
    except (OSError, TypeError):
        return DEFAULT_SNDBUF


def _set_extra_names(extra: dict, sock: socket.socket) -> None:
    for key, getter in (("sockname", sock.getsockname), ("peername", sock.getpeername)):
        if key not in extra:
            try:
                extra[key] = getter()
            except OSError:
                extra[key] = None
