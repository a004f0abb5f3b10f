"""File -> socket without a copy through user space, on the loop's reactor.

``loop.sock_sendfile`` and ``loop.sendfile(transport, file)`` land here on
io_uring: the file's pages move to the socket by two SPLICE operations per
chunk, file -> pipe and pipe -> socket, through a pipe of this call's own
(made 1 MiB where the system allows).  Why splice and not ``os.sendfile`` on
the loop's thread: ``sendfile(2)`` reads the file synchronously, so a file
that is not in the page cache stalls every task on the loop for the disk;
a SPLICE runs on a kernel worker and the loop only waits for its completion.
(``SEND_ZC`` from mapped pages would fault the pages in on the loop's thread
for the same reason, and copies anyway on loopback.)

The epoll backend keeps ``os.sendfile`` (its caller's code path): epoll
cannot wait for a file, and ``sendfile`` is already zero-copy.

What callers see is asyncio's contract: the count of bytes sent, the file
position moved past them (also when an error or a cancellation stops the
transfer), and ``SendfileNotAvailableError`` before any byte moved when the
file cannot be spliced (not a regular file, a file system without
``splice_read``), so ``fallback=True`` falls back to reads and sends.

This module takes the loop it runs on (its ``_op_future`` and ``_reactor``)
and never imports ``dxpy.loop``.
"""

from __future__ import annotations

import errno
import fcntl
import os
import socket
import stat as stat_module
from asyncio import exceptions
from typing import Any

from .reactor import POLLOUT, error_for

#: The pipe's capacity asked for (the unprivileged maximum by default).
PIPE_SIZE = 1 << 20
#: Splice errors that mean "this file cannot be spliced": fall back.
_NOT_SPLICEABLE = (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ESPIPE)


def _file_range(file: Any, offset: int, count: int | None) -> tuple[int, int]:
    """``(fd, end offset)`` of a regular file, or ``SendfileNotAvailableError``."""
    try:
        fd = file.fileno()
        info = os.fstat(fd)
    except (AttributeError, OSError, ValueError) as exc:
        raise exceptions.SendfileNotAvailableError("not a regular file") from exc
    if not stat_module.S_ISREG(info.st_mode):
        raise exceptions.SendfileNotAvailableError("not a regular file")
    end = info.st_size if count is None else min(info.st_size, offset + count)
    return fd, end


def _pipe() -> tuple[int, int, int]:
    """A close-on-exec pipe, grown to ``PIPE_SIZE`` if allowed: (r, w, size)."""
    r, w = os.pipe2(os.O_CLOEXEC)
    try:
        fcntl.fcntl(w, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
    except OSError:  # over /proc/sys/fs/pipe-max-size: keep the default
        pass
    return r, w, fcntl.fcntl(w, fcntl.F_GETPIPE_SZ)


async def _splice(loop: Any, fd_in: int, off_in: int, fd_out: int, nbytes: int) -> int:
    """One SPLICE operation; its raw result (``-errno`` on failure)."""
    reactor = loop._reactor
    return await loop._op_future(
        lambda token: reactor.splice(token, fd_in, off_in, fd_out, -1, nbytes))


async def _wait_writable(loop: Any, fd: int) -> None:
    reactor = loop._reactor
    result = await loop._op_future(lambda token: reactor.poll_add(token, fd, POLLOUT))
    if result < 0:
        raise error_for(result, f"poll on fd {fd}")


class Progress:
    """Bytes a transfer has sent so far (read after an error or a cancel)."""

    __slots__ = ("sent",)

    def __init__(self) -> None:
        self.sent = 0


async def splice_to_socket(loop: Any, sock_fd: int, file_fd: int, offset: int, end: int,
                           progress: Progress) -> int:
    """Move ``file_fd``'s bytes ``[offset, end)`` to the socket; return the
    count sent (fewer only at EOF, if the file shrank), kept in ``progress``
    as it grows.  ``ConnectionError`` etc. as ``send`` raises them;
    ``SendfileNotAvailableError`` if the very first splice is refused."""
    r, w, pipe_size = _pipe()
    in_pipe = 0
    try:
        while offset + progress.sent < end or in_pipe:
            if not in_pipe:
                position = offset + progress.sent
                moved = await _splice(loop, file_fd, position, w, min(pipe_size, end - position))
                if moved < 0 and not progress.sent and -moved in _NOT_SPLICEABLE:
                    raise exceptions.SendfileNotAvailableError(
                        f"splice from the file failed: {os.strerror(-moved)}")
                if moved < 0:
                    raise error_for(moved, f"splice from fd {file_fd}")
                if moved == 0:
                    break  # EOF: the file is shorter than it was
                in_pipe = moved
            moved = await _splice(loop, r, -1, sock_fd, in_pipe)
            if moved == -errno.EAGAIN:
                await _wait_writable(loop, sock_fd)
                continue
            if moved < 0:
                raise error_for(moved, f"splice to socket fd {sock_fd}")
            in_pipe -= moved
            progress.sent += moved
        return progress.sent
    finally:
        # Bytes still in the pipe were never sent: closing it drops them.  An
        # operation still in flight holds its own reference to the pipe.
        os.close(r)
        os.close(w)


async def sock_sendfile(loop: Any, sock: socket.socket, file: Any, offset: int,
                        count: int | None) -> int:
    """``loop.sock_sendfile``'s native path on io_uring (see the module doc)."""
    file_fd, end = _file_range(file, offset, count)
    progress = Progress()
    try:
        return await splice_to_socket(loop, sock.fileno(), file_fd, offset, end, progress)
    finally:
        if progress.sent:
            file.seek(offset + progress.sent)
