"""Pipe transports: the read and write ends of pipes, FIFOs and character devices.

The byte-stream machinery is ``StreamTransport``'s (``stream.py``); a pipe
differs only in its operations (read/write instead of recv/send), in having
no half-close, and in how a write end notices its reader going away (a poll
for POLLERR/POLLHUP).
"""

from __future__ import annotations

import errno
import os
import stat
from asyncio import futures, protocols
from typing import Any

from .host import OpLoop
from .stream import StreamTransport

class _PipeTransport(StreamTransport):
    """A pipe end: read/write operations instead of recv/send."""

    _is_socket = False

    def __init__(self, loop: OpLoop, pipe: Any, protocol: protocols.BaseProtocol,
                 waiter: futures.Future | None = None, extra: dict | None = None) -> None:
        _check_pipe(pipe)
        extra = dict(extra or {})
        extra["pipe"] = pipe
        super().__init__(loop, pipe, protocol, waiter, extra)


class ReadPipeTransport(_PipeTransport):
    """The read end of a pipe, FIFO or character device."""

    def write(self, data: Any) -> None:
        raise RuntimeError("a read pipe transport cannot write")

    def can_write_eof(self) -> bool:
        return False


class WritePipeTransport(_PipeTransport):
    """The write end of a pipe; a poll on the fd notices the reader closing."""

    def _arm_read(self) -> None:
        # Nothing to read: watch for the peer's close instead (POLLERR/POLLHUP).
        self._read_token = self._loop._start_op(self._on_peer_closed)
        self._loop._reactor.poll_add(self._read_token, self._fd, 0)

    def _on_peer_closed(self, result: int, flags: int) -> None:
        self._read_token = 0
        if result >= 0 and not self._closing:
            if self._write_token or self._write_queue:
                self._fatal_error(BrokenPipeError(errno.EPIPE, "pipe closed by peer"),
                                  "Fatal error on pipe transport")
            else:
                self.close()

    def is_reading(self) -> bool:
        return False

    def pause_reading(self) -> None:
        return None

    def resume_reading(self) -> None:
        return None


def _check_pipe(pipe: Any) -> None:
    mode = os.fstat(pipe.fileno()).st_mode
    if not (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or stat.S_ISCHR(mode)):
        raise ValueError("Pipe transport is only for pipes, sockets and character devices")
    os.set_blocking(pipe.fileno(), False)
