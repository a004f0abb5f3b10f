"""The one interface every reactor backend implements.

A reactor is a *completion* engine (the io_uring model): the caller queues an
operation tagged with an integer ``token``; later, ``poll()`` or ``wait()``
returns ``(token, result, flags)`` triples for operations that finished.
``result`` follows the kernel convention: ``>= 0`` is success (a byte count,
a new file descriptor, a poll mask), ``< 0`` is ``-errno``.

Why completions rather than readiness: io_uring is natively completion based,
and a readiness backend (epoll) can emulate completions cheaply by performing
the syscall itself when the fd becomes ready.  The reverse emulation would
throw away io_uring's batching.  The loop above is written once, against
this interface.

Rules every backend obeys (the hypothesis suite checks both against them):

* Queuing an operation never performs blocking work and never delivers a
  completion synchronously; completions only come out of ``poll``/``wait``.
* Buffers passed to an operation are kept alive by the reactor until that
  operation's final completion has been returned.
* A multishot operation (accept, poll_add) sets ``F_MORE`` on every
  completion except its last one; without ``F_MORE`` the token is finished.
* ``cancel(token)`` makes an in-flight operation complete with
  ``-ECANCELED`` (or with its real result if it raced to completion).  The
  cancel request itself produces no completion.  Cancelling an unknown or
  finished token is a no-op.
* ``timeout(token, seconds)`` completes with ``-ETIME`` when it expires.
* ``close()`` releases kernel resources; operations still in flight are
  abandoned (their buffers are released, their tokens never complete).
"""

from __future__ import annotations

import abc
import os
from typing import Any, Iterable, Protocol, Sequence

#: Completion flag: the (multishot) operation will produce more completions.
F_MORE = 2

#: Completion flag of ``read_files``: the file holds more than ``bufsize``
#: bytes; the result counts the ``bufsize`` bytes read, the rest was not.
F_TRUNCATED = 0x100

#: Poll masks for ``poll_add`` (same values as ``select.POLLIN``/``POLLOUT``).
POLLIN = 0x001
POLLOUT = 0x004
POLLERR = 0x008
POLLHUP = 0x010

Completion = tuple[int, int, int]


class ReactorError(OSError):
    """A reactor could not be created or used (names backend and operation)."""


class Buffer(Protocol):
    """Anything exporting the buffer protocol (bytes, bytearray, memoryview)."""

    def __buffer__(self, flags: int) -> memoryview: ...  # pragma: no cover


class Message:
    """Result holder for ``recvmsg``: the sender's packed sockaddr.

    Backends fill ``address`` (raw ``struct sockaddr`` bytes, or ``b""`` when
    the socket is connected and the kernel reports no name) before the
    operation's completion is returned.
    """

    __slots__ = ("address",)

    def __init__(self) -> None:
        self.address: bytes = b""


class FileStat:
    """Result holder for ``statx``: ``stat`` is filled (an ``os.stat_result``)
    before a successful completion is returned, and stays None on error."""

    __slots__ = ("stat",)

    def __init__(self) -> None:
        self.stat: os.stat_result | None = None


class FileBatch(abc.ABC):
    """Result holder for ``read_files``: the bytes of file ``index`` once its
    completion (``result >= 0``) has been returned, as ``data(index, result)``.
    """

    __slots__ = ()

    @abc.abstractmethod
    def data(self, index: int, count: int) -> bytes:
        """The ``count`` bytes read for file ``index``."""


class Reactor(abc.ABC):
    """Submit operations, reap completions.  See module docstring."""

    #: Short backend name shown by ``dxpy info`` ("uring" or "epoll").
    backend: str = ""
    #: Whether queued operations reach the kernel together in one system call
    #: (io_uring).  Where they do not (epoll), a caller gains nothing by
    #: queuing a small send instead of making the syscall itself.
    batches_submissions: bool = False

    # ---- socket and file operations -------------------------------------
    @abc.abstractmethod
    def recv(self, token: int, fd: int, buf: Any, flags: int = 0) -> None:
        """Receive up to ``len(buf)`` bytes into the writable buffer ``buf``."""

    @abc.abstractmethod
    def recv_multishot(self, token: int, fd: int) -> None:
        """Receive repeatedly into reactor-owned buffers until EOF or error.

        io_uring: a multishot RECV selecting from a provided-buffer ring.
        Every completion with ``result > 0`` carries data that must be taken
        exactly once with ``take(result, flags)`` (which also recycles the
        buffer); ``result == 0`` is EOF and ends the operation; ``result < 0``
        ends it with an error.  ``F_MORE`` is set while it stays armed (the
        kernel may also end it when buffers run out: the caller re-arms when
        a completion lacks ``F_MORE`` but carried data).
        """

    @abc.abstractmethod
    def take(self, result: int, flags: int) -> bytes:
        """Copy out the data of one ``recv_multishot`` completion."""

    @abc.abstractmethod
    def send(self, token: int, fd: int, data: Any, flags: int = 0) -> None:
        """Send ``data``; the result is the number of bytes the kernel took."""

    @abc.abstractmethod
    def send_zc(self, token: int, fd: int, data: Any) -> None:
        """Zero-copy send of a large payload.

        Exactly one completion is reported, as soon as the kernel has taken
        the bytes (so the caller may send more); ``data`` must stay unchanged
        until then and the reactor keeps it alive, unreported, until the
        kernel's separate "buffer released" notification arrives.
        """

    @abc.abstractmethod
    def read(self, token: int, fd: int, buf: Any, offset: int = -1) -> None:
        """``pread`` into ``buf`` (``offset == -1``: the file position)."""

    @abc.abstractmethod
    def write(self, token: int, fd: int, data: Any, offset: int = -1) -> None:
        """``pwrite`` from ``data`` (``offset == -1``: the file position)."""

    @abc.abstractmethod
    def recvmsg(self, token: int, fd: int, buf: Any, flags: int = 0) -> Message:
        """Receive one datagram into ``buf``; the sender lands in the Message."""

    @abc.abstractmethod
    def sendmsg(self, token: int, fd: int, data: Any, address: bytes = b"") -> None:
        """Send one datagram to the packed sockaddr ``address`` (or connected)."""

    @abc.abstractmethod
    def accept(self, token: int, fd: int, multishot: bool = False) -> None:
        """Accept a connection; the result is the new (non-blocking) fd."""

    @abc.abstractmethod
    def connect(self, token: int, fd: int, address: bytes) -> None:
        """Connect ``fd`` to the packed sockaddr ``address``; result 0 or -errno."""

    @abc.abstractmethod
    def poll_add(self, token: int, fd: int, mask: int, multishot: bool = False) -> None:
        """Complete with the ready event mask once ``fd`` matches ``mask``."""

    @abc.abstractmethod
    def timeout(self, token: int, seconds: float) -> None:
        """Complete with ``-ETIME`` after ``seconds``."""

    @abc.abstractmethod
    def close_fd(self, token: int, fd: int) -> None:
        """Close ``fd``; result 0 or -errno."""

    @abc.abstractmethod
    def openat(self, token: int, path: bytes, flags: int, mode: int = 0o666,
               dirfd: int = -100) -> None:
        """Open ``path`` (relative to ``dirfd``, default AT_FDCWD); result is the fd."""

    @abc.abstractmethod
    def fsync(self, token: int, fd: int, datasync: bool = False) -> None:
        """Flush ``fd`` to storage (``fdatasync`` when ``datasync``); result 0 or -errno."""

    @abc.abstractmethod
    def statx(self, token: int, path: bytes, dirfd: int = -100,
              follow_symlinks: bool = True) -> FileStat:
        """Stat ``path`` (relative to ``dirfd``); result 0 or -errno, the
        ``os.stat_result`` lands in the returned holder."""

    @abc.abstractmethod
    def read_files(self, tokens: Sequence[int], paths: Sequence[bytes],
                   bufsize: int) -> FileBatch:
        """Read up to ``bufsize`` bytes of each whole file ``paths[i]``: open,
        read, close as one operation per file, completing with ``tokens[i]``.

        The result is the byte count (``data(i, result)`` of the returned
        holder gives the bytes) or ``-errno`` of the open or read that
        failed (``-EISDIR`` for a directory).  A file holding more than
        ``bufsize`` bytes completes with ``bufsize`` and ``F_TRUNCATED``
        in its flags (the caller reads it another way).  No descriptor of
        the caller's is used or left open: the file is closed before its
        completion is returned, also when cancelled.

        io_uring: one hard-linked OPENAT -> READ -> READ(1 byte, EOF probe)
        -> CLOSE chain per file on a registered (direct) descriptor, all
        chains prepared in one C call, the internal completions consumed in
        C; a batch needs one free registered-file slot per file, else
        ``ReactorError`` (ENFILE).  epoll: done when submitted, as the other
        file operations are.  Raises ``ValueError`` for a path containing a
        NUL byte.
        """

    @abc.abstractmethod
    def read_offloaded(self, token: int, fd: int, buf: Any, offset: int = -1) -> None:
        """``read``, run where several such reads proceed in parallel.

        io_uring: the READ goes to a kernel worker at once (``IOSQE_ASYNC``)
        instead of being copied inline by the submitting thread, so the parts
        of one large cached read copy on several CPUs.  epoll: ``read``.
        """

    # ---- path operations (results 0 or -errno, as the system calls) --------
    @abc.abstractmethod
    def renameat(self, token: int, old: bytes, new: bytes, olddirfd: int = -100,
                 newdirfd: int = -100, flags: int = 0) -> None:
        """``renameat2(olddirfd, old, newdirfd, new, flags)``."""

    @abc.abstractmethod
    def unlinkat(self, token: int, path: bytes, dirfd: int = -100,
                 remove_dir: bool = False) -> None:
        """Remove a file (``unlink``) or, with ``remove_dir``, an empty directory."""

    @abc.abstractmethod
    def mkdirat(self, token: int, path: bytes, mode: int = 0o777, dirfd: int = -100) -> None:
        """Create a directory (``mode`` is masked by the umask, as ``mkdir``)."""

    @abc.abstractmethod
    def symlinkat(self, token: int, target: bytes, linkpath: bytes, dirfd: int = -100) -> None:
        """Create ``linkpath`` as a symbolic link holding ``target``."""

    @abc.abstractmethod
    def linkat(self, token: int, old: bytes, new: bytes, olddirfd: int = -100,
               newdirfd: int = -100) -> None:
        """Create the hard link ``new`` to ``old``; a symlink ``old`` is linked
        itself, not followed (``link(2)`` on Linux, hence ``os.link``)."""

    @abc.abstractmethod
    def splice(self, token: int, fd_in: int, off_in: int, fd_out: int, off_out: int,
               nbytes: int) -> None:
        """Move up to ``nbytes`` between two fds, one of them a pipe, without a
        copy through user space; offset ``-1`` means the fd's position (and
        must be used for a pipe).  The result is the byte count (0: EOF).
        io_uring: a SPLICE operation (run by a kernel worker); epoll:
        ``os.splice`` when the output fd is writable."""

    @abc.abstractmethod
    def cancel(self, token: int) -> None:
        """Cancel the in-flight operation ``token`` (see module rules)."""

    # ---- driving --------------------------------------------------------
    @abc.abstractmethod
    def submit(self) -> int:
        """Hand every queued operation to the kernel in one call; return count."""

    @abc.abstractmethod
    def poll(self) -> list[Completion]:
        """Return finished completions without blocking (submits queued ops)."""

    @abc.abstractmethod
    def wait(self, timeout: float | None) -> list[Completion]:
        """Submit queued ops, then block up to ``timeout`` seconds (None:
        forever) until at least one completion is available; return all
        available completions (possibly none on timeout)."""

    def completions(self, timeout: float | None) -> Iterable[Completion]:
        """Like ``wait``, but a backend may produce completions while the
        caller iterates (which it must finish before calling again).  The
        loop uses this; the epoll backend reads fd by fd through it."""
        return self.wait(timeout)

    @abc.abstractmethod
    def close(self) -> None:
        """Release the backend; idempotent."""

    @property
    @abc.abstractmethod
    def pending(self) -> int:
        """Number of operations queued or in flight (not yet finally completed)."""

    def __enter__(self) -> "Reactor":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def error_for(result: int, what: str) -> OSError:
    """Turn a negative ``result`` into the matching ``OSError`` subclass.

    ``OSError(errno, msg)`` picks the subclass (ConnectionResetError, ...)
    from the code, so callers can catch what they would catch from ``socket``.
    """
    code = -result
    return OSError(code, f"{os.strerror(code)} ({what})")
