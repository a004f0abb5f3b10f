"""The ``loop.sock_*`` coroutines on the reactor.

Stream sends and receives wait for readiness (a poll operation) and then make
the syscall, as asyncio does: cancelling a waiting task consumes nothing.
Datagrams, connect and accept are reactor operations awaited through an
``OpFuture``; cancelling the awaiting task cancels the operation at once (an
accept that completes anyway has its fd closed).
"""

from __future__ import annotations

import errno
import os
import socket
from asyncio import base_events, exceptions, futures, transports
from typing import Any, Callable

from .. import zerocopy
from ..reactor import POLLIN, POLLOUT, error_for, sockaddr

_INET = (socket.AF_INET, socket.AF_INET6)
#: Bytes per read of the sendfile fallback (asyncio reads 16 KiB at a time).
_FALLBACK_CHUNK = 256 * 1024


class OpFuture(futures.Future):
    """A future for one reactor operation; cancelling it cancels the op now.

    (A done-callback would only run an iteration later, leaving a window in
    which a cancelled receive still consumes data.)
    """

    _op_token = 0

    def cancel(self, msg: Any = None) -> bool:
        if not super().cancel(msg):
            return False
        self._loop._cancel_op(self._op_token)
        return True


class SockOpsMixin:
    """``sock_recv``, ``sock_sendall``, ``sock_connect``, ... for ``Loop``."""

    #: fds whose last receive filled its buffer (the next tries the syscall first).
    _recv_filled: set[int]

    # ---- plumbing -------------------------------------------------------
    def _op_future(self, prep: Callable[[int], None],
                   orphan: Callable[[int], None] | None = None,
                   submit_now: bool = False) -> futures.Future:
        """Queue ``prep(token)``; the future gets the raw result (may be < 0).

        The op reaches the kernel with the loop's next batch, or at once with
        ``submit_now`` (connect: asyncio starts it when called, and callers
        rely on that, e.g. connect, then a blocking accept on the other end).
        """
        fut = OpFuture(loop=self)

        def on_done(result: int, flags: int) -> None:
            if not fut.done():
                fut.set_result(result)
            elif orphan is not None and result > 0:
                orphan(result)

        fut._op_token = self._start_op(on_done)
        prep(fut._op_token)
        if submit_now:
            self._reactor.submit()
        return fut

    async def _op(self, what: str, prep: Callable[[int], None],
                  orphan: Callable[[int], None] | None = None, submit_now: bool = False) -> int:
        result = await self._op_future(prep, orphan, submit_now)
        if result < 0:
            raise error_for(result, what)
        return result

    def _check_sock(self, sock: socket.socket) -> None:
        base_events._check_ssl_socket(sock)
        if self._debug and sock.gettimeout() != 0:
            raise ValueError("the socket must be non-blocking")

    def _wait_ready_op(self, fd: int, mask: int) -> futures.Future:
        """A future done with the poll mask once ``fd`` is ready for ``mask``
        (a reactor poll; the compiled core queues its own from C, see
        ``LoopCore._wait_ready``).  Cancelling it cancels the poll."""
        fut = OpFuture(loop=self)

        def on_done(result: int, flags: int) -> None:
            if fut.done():
                return
            if result >= 0:
                fut.set_result(result)
            elif result != -errno.ECANCELED:
                fut.set_exception(error_for(result, f"poll on fd {fd}"))

        fut._op_token = self._start_op(on_done)
        self._reactor.poll_add(fut._op_token, fd, mask)
        return fut

    _wait_ready = _wait_ready_op

    # ---- receiving ------------------------------------------------------
    # Stream receives wait for readiness, then make the syscall (as asyncio
    # and uvloop do): a cancelled receive has consumed nothing, and the data
    # goes straight into the object returned (CPython's ``sock.recv``
    # allocates it unzeroed).  The syscall is tried first when the previous
    # receive filled its buffer: more is probably waiting.
    async def sock_recv(self, sock: socket.socket, n: int) -> bytes:
        """Receive up to ``n`` bytes from the non-blocking socket ``sock``."""
        self._check_sock(sock)
        fd = sock.fileno()
        if fd not in self._recv_filled:
            await self._wait_ready(fd, POLLIN)
        while True:
            try:
                data = sock.recv(n)
            except (BlockingIOError, InterruptedError):
                await self._wait_ready(fd, POLLIN)
                continue
            self._note_recv(fd, len(data), n)
            return data

    async def sock_recv_into(self, sock: socket.socket, buf: Any) -> int:
        """Receive into ``buf``; return the number of bytes received."""
        self._check_sock(sock)
        fd = sock.fileno()
        wanted = memoryview(buf).nbytes
        if not wanted:
            return 0
        if fd not in self._recv_filled:
            await self._wait_ready(fd, POLLIN)
        while True:
            try:
                return self._note_recv(fd, sock.recv_into(buf), wanted)
            except (BlockingIOError, InterruptedError):
                await self._wait_ready(fd, POLLIN)

    def _note_recv(self, fd: int, received: int, wanted: int) -> int:
        """Remember whether a receive on ``fd`` filled its whole buffer."""
        if received == wanted:
            self._recv_filled.add(fd)
        else:
            self._recv_filled.discard(fd)
        return received

    async def sock_recvfrom(self, sock: socket.socket, bufsize: int) -> tuple[bytes, Any]:
        """Receive one datagram: ``(data, address)``."""
        buf = bytearray(bufsize)
        nbytes, address = await self.sock_recvfrom_into(sock, buf)
        return bytes(memoryview(buf)[:nbytes]), address

    async def sock_recvfrom_into(self, sock: socket.socket, buf: Any,
                                 nbytes: int = 0) -> tuple[int, Any]:
        """Receive one datagram into ``buf``: ``(nbytes, address)``."""
        self._check_sock(sock)
        view = memoryview(buf).cast("B")
        if nbytes:
            view = view[:nbytes]
        fd = sock.fileno()
        holder: list = []
        result = await self._op(
            f"recvfrom on {sock!r}",
            lambda token: holder.append(self._reactor.recvmsg(token, fd, view)))
        raw = holder[0].address
        return result, (sockaddr.unpack(raw) if raw else _peer_or_none(sock))

    # ---- sending --------------------------------------------------------
    async def sock_sendall(self, sock: socket.socket, data: Any) -> None:
        """Send all of ``data``: one syscall if the socket has room (as
        asyncio does); for the rest, wait until it is writable and send again."""
        self._check_sock(sock)
        try:
            sent = sock.send(data)
        except (BlockingIOError, InterruptedError):
            sent = 0
        if type(data) is bytes and sent == len(data):
            return
        view = memoryview(data).cast("B")
        fd = sock.fileno()
        while sent < len(view):
            view = view[sent:]
            await self._wait_ready(fd, POLLOUT)
            try:
                sent = sock.send(view)
            except (BlockingIOError, InterruptedError):
                sent = 0

    async def sock_sendto(self, sock: socket.socket, data: Any, address: Any) -> int:
        """Send one datagram to ``address``; return the bytes sent."""
        self._check_sock(sock)
        if sock.family in _INET:
            address = await self._resolve_for(sock, address)
        packed = sockaddr.pack(sock.family, address)
        fd = sock.fileno()
        return await self._op(f"sendto {address!r} on {sock!r}",
                              lambda token: self._reactor.sendmsg(token, fd, data, packed))

    # ---- connecting and accepting --------------------------------------
    async def sock_connect(self, sock: socket.socket, address: Any) -> None:
        """Connect the non-blocking ``sock`` to ``address``."""
        self._check_sock(sock)
        if sock.family in _INET:
            address = await self._resolve_for(sock, address)
        packed = sockaddr.pack(sock.family, address)
        fd = sock.fileno()
        result = await self._op_future(lambda token: self._reactor.connect(token, fd, packed),
                                       submit_now=True)
        if result < 0:
            code = -result
            raise OSError(code, f"Connect call failed {address}: {os.strerror(code)}")

    async def _resolve_for(self, sock: socket.socket, address: Any) -> Any:
        resolved = await self._ensure_resolved(address, family=sock.family, type=sock.type,
                                               proto=sock.proto, loop=self)
        return resolved[0][4]

    async def sock_accept(self, sock: socket.socket) -> tuple[socket.socket, Any]:
        """Accept one connection: ``(conn, address)``, ``conn`` non-blocking."""
        self._check_sock(sock)
        fd = sock.fileno()
        newfd = await self._op(f"accept on {sock!r}",
                               lambda token: self._reactor.accept(token, fd),
                               _close_orphan_fd)
        conn = socket.socket(sock.family, sock.type, sock.proto, fileno=newfd)
        conn.setblocking(False)
        return conn, _peer_or_none(conn)

    # ---- sendfile -------------------------------------------------------
    async def _sock_sendfile_native(self, sock: socket.socket, file: Any,
                                    offset: int, count: int | None) -> int:
        """``os.sendfile`` from a regular file, waiting on POLLOUT when full
        (io_uring: SPLICE operations, see ``dxpy.zerocopy``)."""
        if self._reactor.batches_submissions:
            return await zerocopy.sock_sendfile(self, sock, file, offset, count)
        try:
            fileno = file.fileno()
            size = os.fstat(fileno).st_size
        except (AttributeError, OSError, ValueError) as exc:
            raise exceptions.SendfileNotAvailableError("not a regular file") from exc
        end = size if count is None else min(size, offset + count)
        position = offset
        try:
            while position < end:
                try:
                    sent = os.sendfile(sock.fileno(), fileno, position, end - position)
                except BlockingIOError:
                    await self._op(f"poll on {sock!r}", lambda token: self._reactor.poll_add(
                        token, sock.fileno(), POLLOUT))
                    continue
                if sent == 0:
                    break
                position += sent
        except OSError as exc:
            if position == offset and exc.errno in (errno.ENOTSOCK, errno.EINVAL):
                raise exceptions.SendfileNotAvailableError(str(exc)) from exc
            raise
        finally:
            if position > offset:
                file.seek(position)
        return position - offset

    async def _sendfile_native(self, transport: Any, file: Any, offset: int,
                               count: int | None) -> int:
        """``loop.sendfile`` on our socket transport: flush, then sendfile."""
        resume = transport.is_reading()
        transport.pause_reading()
        await transport._wait_flushed()
        transport._sendfile_active = True  # write() refuses meanwhile, as asyncio's does
        try:
            return await self.sock_sendfile(transport.get_extra_info("socket")._sock,
                                            file, offset, count, fallback=False)
        finally:
            transport._sendfile_active = False
            if resume:
                transport.resume_reading()

    async def _sendfile_fallback(self, transport: Any, file: Any, offset: int,
                                 count: int | None) -> int:
        """``loop.sendfile`` by reads and writes.  asyncio's own fallback
        insists on an ``asyncio.transports._FlowControlMixin``; the compiled
        core's transport is not one (as uvloop's are not), so it is served
        here: one chunk in flight at a time (bounded memory), reading paused
        meanwhile, the file position left after the bytes sent."""
        if isinstance(transport, transports._FlowControlMixin):
            return await super()._sendfile_fallback(transport, file, offset, count)
        resume = transport.is_reading()
        transport.pause_reading()
        if offset:
            file.seek(offset)
        total = 0
        try:
            while not count or total < count:
                want = min(count - total, _FALLBACK_CHUNK) if count else _FALLBACK_CHUNK
                data = await self.run_in_executor(None, file.read, want)
                if not data:
                    break
                if transport.is_closing():
                    raise ConnectionError("Connection closed by peer")
                transport.write(data)
                total += len(data)
                await transport._wait_flushed()
            return total
        finally:
            if total and hasattr(file, "seek"):
                file.seek(offset + total)
            if resume and not transport.is_closing():
                transport.resume_reading()


def _peer_or_none(sock: socket.socket) -> Any:
    try:
        return sock.getpeername()
    except OSError:
        return None


def _close_orphan_fd(fd: int) -> None:
    """An accept that completed after its caller gave up: do not leak the fd."""
    os.close(fd)
