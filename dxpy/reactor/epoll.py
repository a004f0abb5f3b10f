"""``EpollReactor``: the completion interface emulated on epoll readiness.

Used where io_uring is absent or refused.  An operation is attempted with a
non-blocking syscall when submitted; if the kernel says EAGAIN it waits in a
per-fd FIFO until epoll reports the fd ready, then it is attempted again.
Regular files cannot be polled, so their reads and writes run at once (the
page cache makes that fast; the file-I/O layer moves large work to threads).
"""

from __future__ import annotations

import collections
import errno
import heapq
import os
import select
import socket
import time
from typing import Any, Callable, Iterator, Sequence

from . import sockaddr
from .base import (F_MORE, F_TRUNCATED, POLLIN, POLLOUT, Completion, FileBatch, FileStat, Message,
                   Reactor)

_EAGAIN = (errno.EAGAIN, errno.EWOULDBLOCK, errno.EINPROGRESS, errno.EALREADY)
_EP_READ = select.EPOLLIN | select.EPOLLRDHUP
_EP_WRITE = select.EPOLLOUT
_EP_FAIL = select.EPOLLERR | select.EPOLLHUP
_MULTISHOT_CHUNK = 256 * 1024


class _Op:
    """One queued operation: ``attempt()`` returns a result or None (EAGAIN)."""

    __slots__ = ("token", "fd", "writing", "attempt", "multishot", "flags")

    def __init__(self, token: int, fd: int, writing: bool,
                 attempt: Callable[[], int | None], multishot: bool = False) -> None:
        self.token = token
        self.fd = fd
        self.writing = writing
        self.attempt = attempt
        self.multishot = multishot
        self.flags = 0  # extra completion flags set by ``attempt`` (take ids)


class _FdQueues:
    """Operations waiting on one fd, per direction, and its epoll mask."""

    __slots__ = ("readers", "writers", "mask")

    def __init__(self) -> None:
        self.readers: collections.deque[_Op] = collections.deque()
        self.writers: collections.deque[_Op] = collections.deque()
        self.mask = 0

    def wanted(self) -> int:
        return (_EP_READ if self.readers else 0) | (_EP_WRITE if self.writers else 0)


def _syscall(fn: Callable[[], int]) -> int | None:
    """Run a non-blocking syscall: its result, -errno, or None for EAGAIN."""
    try:
        return fn()
    except BlockingIOError:
        return None
    except InterruptedError:
        return None
    except OSError as exc:
        if exc.errno in _EAGAIN:
            return None
        return -(exc.errno or errno.EIO)


def _with_socket(fd: int, fn: Callable[[socket.socket], int]) -> int:
    """Call ``fn`` with a temporary socket object borrowing ``fd``."""
    sock = socket.socket(fileno=fd)
    try:
        return fn(sock)
    finally:
        sock.detach()


class _EpollFileBatch(FileBatch):
    """``read_files`` results: the bytes of each file, kept by index."""

    __slots__ = ("_data",)

    def __init__(self) -> None:
        self._data: dict[int, bytes] = {}

    def data(self, index: int, count: int) -> bytes:
        return self._data.pop(index)[:count]


def _read_file_attempt(op: _Op, batch: _EpollFileBatch, index: int, path: bytes,
                       bufsize: int) -> Callable[[], int]:
    """Open, read up to ``bufsize`` (+1 byte to see whether there is more),
    close: a regular file cannot block on epoll, so it is done in one go."""
    def attempt() -> int:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as exc:
            return -(exc.errno or errno.EIO)
        try:
            chunks, got = [], 0
            while got <= bufsize:
                chunk = os.read(fd, bufsize + 1 - got)
                if not chunk:
                    break
                chunks.append(chunk)
                got += len(chunk)
        except OSError as exc:
            return -(exc.errno or errno.EIO)
        finally:
            os.close(fd)
        data = b"".join(chunks)
        if got > bufsize:
            data = data[:bufsize]
            op.flags = F_TRUNCATED
        batch._data[index] = data
        return len(data)

    return attempt


def _dir_fd(dirfd: int) -> int | None:
    """``os``'s spelling of a directory fd argument (AT_FDCWD is None)."""
    return None if dirfd == -100 else dirfd


def _take_all(items: list) -> list:
    """The items of ``items``, which is left empty (the same list object)."""
    if not items:
        return []
    taken = items.copy()
    items.clear()
    return taken


class EpollReactor(Reactor):
    """Completion-style reactor on ``select.epoll``."""

    backend = "epoll"

    def __init__(self) -> None:
        self._epoll = select.epoll()
        self._fds: dict[int, _FdQueues] = {}
        self._ops: dict[int, _Op] = {}
        # These three lists keep their identity for the reactor's lifetime
        # (emptied in place, never rebound): the compiled core's EpollLane
        # holds them to ask "any work?" in C, where three attribute lookups
        # per iteration were a sixth of a one-connection echo.
        self._queued: list[_Op] = []
        self._done: list[Completion] = []
        self._timers: list[tuple[float, int]] = []
        self._timer_tokens: set[int] = set()
        self._taken: dict[int, bytes] = {}
        self._take_id = 0
        self._scratch = bytearray(_MULTISHOT_CHUNK)
        self._scratch_view = memoryview(self._scratch)

    # ---- queuing ----------------------------------------------------------
    def _queue(self, token: int, fd: int, writing: bool,
               attempt: Callable[[], int | None], multishot: bool = False) -> _Op:
        op = _Op(token, fd, writing, attempt, multishot)
        self._ops[token] = op
        self._queued.append(op)
        return op

    def recv(self, token: int, fd: int, buf: Any, flags: int = 0) -> None:
        if flags:
            self._queue(token, fd, False, lambda: _syscall(
                lambda: _with_socket(fd, lambda s: s.recv_into(buf, 0, flags))))
        else:
            self._queue(token, fd, False, lambda: _syscall(lambda: os.readv(fd, (buf,))))

    def recv_multishot(self, token: int, fd: int) -> None:
        op = self._queue(token, fd, False, lambda: _syscall(lambda: stash(op)), True)

        def stash(op: _Op) -> int:
            """Read a chunk and keep it until ``take``; the id rides in flags.

            The read lands in one reused scratch buffer and only the bytes
            received are copied out: ``os.read(fd, 256 KiB)`` would allocate
            256 KiB per ready fd and touch fresh memory every iteration."""
            nbytes = os.readv(fd, (self._scratch,))
            if nbytes:
                self._take_id += 1
                self._taken[self._take_id] = bytes(self._scratch_view[:nbytes])
                op.flags = self._take_id << 16
            return nbytes

    def take(self, result: int, flags: int) -> bytes:
        return self._taken.pop(flags >> 16)

    def send(self, token: int, fd: int, data: Any, flags: int = 0) -> None:
        if flags:
            self._queue(token, fd, True, lambda: _syscall(
                lambda: _with_socket(fd, lambda s: s.send(data, flags))))
        else:
            self._queue(token, fd, True, lambda: _syscall(lambda: os.write(fd, data)))

    def send_zc(self, token: int, fd: int, data: Any) -> None:
        self.send(token, fd, data)

    def read(self, token: int, fd: int, buf: Any, offset: int = -1) -> None:
        if offset < 0:
            self._queue(token, fd, False, lambda: _syscall(lambda: os.readv(fd, (buf,))))
        else:
            self._queue(token, fd, False,
                        lambda: _syscall(lambda: os.preadv(fd, (buf,), offset)))

    def write(self, token: int, fd: int, data: Any, offset: int = -1) -> None:
        if offset < 0:
            self._queue(token, fd, True, lambda: _syscall(lambda: os.write(fd, data)))
        else:
            self._queue(token, fd, True, lambda: _syscall(lambda: os.pwrite(fd, data, offset)))

    def recvmsg(self, token: int, fd: int, buf: Any, flags: int = 0) -> Message:
        message = Message()

        def receive(sock: socket.socket) -> int:
            nbytes, address = sock.recvfrom_into(buf, 0, flags)
            message.address = sockaddr.pack(sock.family, address) if address else b""
            return nbytes

        self._queue(token, fd, False, lambda: _syscall(lambda: _with_socket(fd, receive)))
        return message

    def sendmsg(self, token: int, fd: int, data: Any, address: bytes = b"") -> None:
        def transmit(sock: socket.socket) -> int:
            if address:
                return sock.sendto(data, sockaddr.unpack(address))
            return sock.send(data)

        self._queue(token, fd, True, lambda: _syscall(lambda: _with_socket(fd, transmit)))

    def accept(self, token: int, fd: int, multishot: bool = False) -> None:
        def accept_one(sock: socket.socket) -> int:
            conn, _ = sock.accept()
            conn.setblocking(False)
            return conn.detach()

        self._queue(token, fd, False,
                    lambda: _syscall(lambda: _with_socket(fd, accept_one)), multishot)

    def connect(self, token: int, fd: int, address: bytes) -> None:
        started = False

        def connect_step(sock: socket.socket) -> int:
            nonlocal started
            if not started:
                started = True
                code = sock.connect_ex(sockaddr.unpack(address))
            else:
                code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if code in _EAGAIN:
                raise BlockingIOError(code, os.strerror(code))
            return -code

        self._queue(token, fd, True, lambda: _syscall(lambda: _with_socket(fd, connect_step)))

    def poll_add(self, token: int, fd: int, mask: int, multishot: bool = False) -> None:
        # A poll op rides in the reader or writer queue; it "attempts" by
        # asking poll(2) with a zero timeout, which keeps FIFO order intact.
        poller = select.poll()
        poller.register(fd, mask)

        def check() -> int | None:
            events = poller.poll(0)
            return events[0][1] if events else None

        self._queue(token, fd, not mask & POLLIN and bool(mask & POLLOUT), check, multishot)

    def timeout(self, token: int, seconds: float) -> None:
        self._ops[token] = _Op(token, -1, False, lambda: None)
        self._timer_tokens.add(token)
        heapq.heappush(self._timers, (time.monotonic() + max(0.0, seconds), token))

    def close_fd(self, token: int, fd: int) -> None:
        self._forget_fd(fd)
        self._queue(token, -1, False, lambda: _syscall(lambda: os.close(fd) or 0))

    def openat(self, token: int, path: bytes, flags: int, mode: int = 0o666,
               dirfd: int = -100) -> None:
        dir_fd = None if dirfd == -100 else dirfd
        self._queue(token, -1, False,
                    lambda: _syscall(lambda: os.open(path, flags, mode, dir_fd=dir_fd)))

    def fsync(self, token: int, fd: int, datasync: bool = False) -> None:
        sync = os.fdatasync if datasync else os.fsync
        self._queue(token, -1, False, lambda: _syscall(lambda: sync(fd) or 0))

    def statx(self, token: int, path: bytes, dirfd: int = -100,
              follow_symlinks: bool = True) -> FileStat:
        holder = FileStat()
        dir_fd = None if dirfd == -100 else dirfd

        def stat() -> int:
            holder.stat = os.stat(path, dir_fd=dir_fd, follow_symlinks=follow_symlinks)
            return 0

        self._queue(token, -1, False, lambda: _syscall(stat))
        return holder

    def read_offloaded(self, token: int, fd: int, buf: Any, offset: int = -1) -> None:
        self.read(token, fd, buf, offset)

    # Path operations cannot wait on epoll: like openat, each runs when submitted.
    def _path_op(self, token: int, call: Callable[[], object]) -> None:
        self._queue(token, -1, False, lambda: _syscall(lambda: call() or 0))

    def renameat(self, token: int, old: bytes, new: bytes, olddirfd: int = -100,
                 newdirfd: int = -100, flags: int = 0) -> None:
        if flags:
            raise ValueError("epoll backend: renameat flags need renameat2 (io_uring backend)")
        self._path_op(token, lambda: os.rename(old, new, src_dir_fd=_dir_fd(olddirfd),
                                               dst_dir_fd=_dir_fd(newdirfd)))

    def unlinkat(self, token: int, path: bytes, dirfd: int = -100,
                 remove_dir: bool = False) -> None:
        remove = os.rmdir if remove_dir else os.unlink
        self._path_op(token, lambda: remove(path, dir_fd=_dir_fd(dirfd)))

    def mkdirat(self, token: int, path: bytes, mode: int = 0o777, dirfd: int = -100) -> None:
        self._path_op(token, lambda: os.mkdir(path, mode, dir_fd=_dir_fd(dirfd)))

    def symlinkat(self, token: int, target: bytes, linkpath: bytes, dirfd: int = -100) -> None:
        self._path_op(token, lambda: os.symlink(target, linkpath, dir_fd=_dir_fd(dirfd)))

    def linkat(self, token: int, old: bytes, new: bytes, olddirfd: int = -100,
               newdirfd: int = -100) -> None:
        self._path_op(token, lambda: os.link(old, new, src_dir_fd=_dir_fd(olddirfd),
                                             dst_dir_fd=_dir_fd(newdirfd),
                                             follow_symlinks=False))

    def splice(self, token: int, fd_in: int, off_in: int, fd_out: int, off_out: int,
               nbytes: int) -> None:
        """Attempted non-blocking; on EAGAIN it waits for ``fd_out`` to be writable."""
        def move() -> int:
            return os.splice(fd_in, fd_out, nbytes, None if off_in < 0 else off_in,
                             None if off_out < 0 else off_out, os.SPLICE_F_NONBLOCK)

        self._queue(token, fd_out, True, lambda: _syscall(move))

    def read_files(self, tokens: Sequence[int], paths: Sequence[bytes],
                   bufsize: int) -> FileBatch:
        if len(tokens) != len(paths):
            raise ValueError("read_files: one token per path")
        if any(b"\0" in path for path in paths):
            raise ValueError("embedded null byte")
        batch = _EpollFileBatch()
        for index, (token, path) in enumerate(zip(tokens, paths)):
            op = self._queue(token, -1, False, lambda: 0)
            op.attempt = _read_file_attempt(op, batch, index, path, bufsize)
        return batch

    def cancel(self, token: int) -> None:
        op = self._ops.pop(token, None)
        if op is None:
            return
        if token in self._timer_tokens:
            self._timer_tokens.discard(token)
        elif op in self._queued:
            self._queued.remove(op)
        else:
            self._unqueue(op)
        self._done.append((token, -errno.ECANCELED, 0))

    # ---- driving ----------------------------------------------------------
    def submit(self) -> int:
        queued = _take_all(self._queued)
        for op in queued:
            queues = self._fds.get(op.fd)
            waiting = queues and (queues.writers if op.writing else queues.readers)
            if not waiting and self._try(op):
                continue
            self._enqueue(op)
        return len(queued)

    def _try(self, op: _Op) -> bool:
        """Attempt ``op``; True if it is finished (its completion is queued).

        A multishot op makes one attempt per readiness event and stays queued:
        epoll is level-triggered, so it reports the fd again if more is
        waiting, and we save the read that would only return EAGAIN.
        """
        result = op.attempt()
        if result is None:
            return False
        more = op.multishot and result > 0
        self._done.append((op.token, result, (F_MORE if more else 0) | op.flags))
        op.flags = 0
        if more:
            return False
        self._ops.pop(op.token, None)
        return True

    def _enqueue(self, op: _Op) -> None:
        if op.fd < 0:  # fd-less work (close/open) never waits
            self._try(op)
            return
        queues = self._fds.get(op.fd)
        if queues is None:
            queues = self._fds[op.fd] = _FdQueues()
        (queues.writers if op.writing else queues.readers).append(op)
        if not self._update_mask(op.fd, queues):
            # Not pollable (a regular file): do it now, it cannot block.
            (queues.writers if op.writing else queues.readers).remove(op)
            self._complete_unpollable(op)

    def _complete_unpollable(self, op: _Op) -> None:
        result = op.attempt()
        self._done.append((op.token, -errno.EAGAIN if result is None else result, 0))
        self._ops.pop(op.token, None)

    def _update_mask(self, fd: int, queues: _FdQueues) -> bool:
        wanted = queues.wanted()
        if wanted == queues.mask:
            return True
        try:
            if not wanted:
                self._epoll.unregister(fd)
            elif queues.mask:
                self._epoll.modify(fd, wanted)
            else:
                self._epoll.register(fd, wanted)
        except FileExistsError:
            self._epoll.modify(fd, wanted)
        except FileNotFoundError:
            if wanted:
                self._epoll.register(fd, wanted)
        except PermissionError:
            return False
        except OSError:
            # EBADF: the fd was closed under us; its ops fail at once.
            return self._fail_fd(fd, queues)
        queues.mask = wanted
        if not wanted:
            del self._fds[fd]
        return True

    def _fail_fd(self, fd: int, queues: _FdQueues) -> bool:
        for op in (*queues.readers, *queues.writers):
            self._done.append((op.token, -errno.EBADF, 0))
            self._ops.pop(op.token, None)
        queues.readers.clear()
        queues.writers.clear()
        self._fds.pop(fd, None)
        return True

    def _unqueue(self, op: _Op) -> None:
        queues = self._fds.get(op.fd)
        if queues is None:
            return
        queue = queues.writers if op.writing else queues.readers
        if op in queue:
            queue.remove(op)
            self._update_mask(op.fd, queues)

    def _forget_fd(self, fd: int) -> None:
        """Drop epoll interest before the fd is closed (its number is reused)."""
        queues = self._fds.pop(fd, None)
        if queues is not None and queues.mask:
            try:
                self._epoll.unregister(fd)
            except OSError:
                pass

    def _dispatch(self, fd: int, events: int) -> None:
        queues = self._fds.get(fd)
        if queues is None:
            return
        if events & (_EP_READ | _EP_FAIL):
            self._drain(queues.readers)
        if events & (_EP_WRITE | _EP_FAIL):
            self._drain(queues.writers)
        if fd in self._fds:
            self._update_mask(fd, queues)

    def _drain(self, queue: collections.deque[_Op]) -> None:
        while queue and self._try(queue[0]):
            queue.popleft()

    def _expire_timers(self) -> None:
        now = time.monotonic()
        timers = self._timers
        while timers and timers[0][0] <= now:
            _, token = heapq.heappop(timers)
            if token in self._timer_tokens:
                self._timer_tokens.discard(token)
                self._ops.pop(token, None)
                self._done.append((token, -errno.ETIME, 0))

    def _timer_wait(self, timeout: float | None) -> float | None:
        while self._timers and self._timers[0][1] not in self._timer_tokens:
            heapq.heappop(self._timers)
        if not self._timers:
            return timeout
        due = max(0.0, self._timers[0][0] - time.monotonic())
        return due if timeout is None or timeout < 0 else min(due, timeout)

    def _collect(self, timeout: float, poll_fds: bool = True) -> Iterator[Completion]:
        """Yield completions fd by fd, as the caller consumes them.

        A multishot receive reads when its fd's turn comes, so the caller's
        callback for one connection runs (and frees that data) before the
        next connection is read: memory stays hot instead of one fresh chunk
        per ready fd being live at once.
        """
        events = self._epoll.poll(timeout) if poll_fds else ()
        self._expire_timers()
        yield from _take_all(self._done)
        for fd, mask in events:
            self._dispatch(fd, mask)
            if self._done:
                yield from _take_all(self._done)

    def poll(self) -> list[Completion]:
        self.submit()
        return list(self._collect(0))

    def wait(self, timeout: float | None) -> list[Completion]:
        return list(self.completions(timeout))

    def completions(self, timeout: float | None) -> Iterator[Completion]:
        timeout = self.prepare_wait(timeout)
        return self._collect(-1 if timeout is None else timeout)

    # ---- for the compiled loop core (dxpy/core/lanes.pxi, EpollLane) -------
    def core_interface(self) -> int:
        """The epoll fd the compiled loop core nests in its own epoll set:
        it waits on both, and asks ``collect`` when this one is ready."""
        return self._epoll.fileno()

    def prepare_wait(self, timeout: float | None) -> float | None:
        """Start queued operations; how long a wait may last (None: no
        limit) given finished operations and timers."""
        self.submit()
        return 0 if self._done else self._timer_wait(timeout)

    def collect(self, poll_fds: bool) -> list[Completion]:
        """Completions now: finished operations, expired timers and, when
        ``poll_fds`` (this epoll fd was ready), the operations of ready fds."""
        return list(self._collect(0, poll_fds))

    def close(self) -> None:
        if not self._epoll.closed:
            self._epoll.close()
        self._fds.clear()
        self._ops.clear()
        self._queued.clear()
        self._timers.clear()
        self._timer_tokens.clear()
        self._taken.clear()

    @property
    def pending(self) -> int:
        return len(self._ops)
