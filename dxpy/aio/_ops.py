"""Where ``dxpy.aio``'s system calls run: reactor operations or a thread pool.

``FileOps`` is the small set of primitives the file objects and helpers are
written against.  ``RingOps`` turns each primitive into one reactor operation
(io_uring OPENAT/READ/WRITE/STATX/FSYNC/CLOSE), so many files' operations
issued in one loop iteration reach the kernel in one ``io_uring_enter``.
``ThreadOps`` runs the same primitives on a thread pool: on the epoll backend
the reactor would perform regular-file I/O synchronously on the loop's thread
(epoll cannot wait for a regular file), blocking every other task.

Errors are built as ``open()`` and ``os`` build them: ``OSError(errno,
strerror, filename)``, which picks ``FileNotFoundError``,
``IsADirectoryError``, ``PermissionError``... and names the path.
"""

from __future__ import annotations

import abc
import asyncio
import concurrent.futures
import errno
import os
import stat as stat_module
import sys
import threading
import weakref
from typing import Any, Callable, TypeVar

T = TypeVar("T")

#: The kernel caps one read/write at this many bytes; larger requests loop.
MAX_IO = 0x7FFFF000
_AT_FDCWD = -100


def os_error(code: int, filename: Any = None, filename2: Any = None) -> OSError:
    """The exception ``os``/``open()`` raise for ``errno`` ``code`` on
    ``filename`` (and ``filename2``, as ``os.rename`` names both paths)."""
    if filename is None:
        return OSError(code, os.strerror(code))
    if filename2 is None:
        return OSError(code, os.strerror(code), filename)
    return OSError(code, os.strerror(code), filename, None, filename2)


_FS_ENCODING, _FS_ERRORS = sys.getfilesystemencoding(), sys.getfilesystemencodeerrors()


def fs_bytes(name: str | bytes) -> bytes:
    """``os.fsencode`` of an ``os.fspath`` result, without its Python-level
    type checks (a measurable part of a small call: 10,000 paths cost ~5 ms)."""
    return name.encode(_FS_ENCODING, _FS_ERRORS) if isinstance(name, str) else name


def display_name(path: bytes) -> str:
    """The filename an exception shows: ``open()`` shows what it was given,
    and for ``str`` paths that is the decoded form of these bytes."""
    return os.fsdecode(path)


class FileOps(abc.ABC):
    """Primitives for ``dxpy.aio``; each raises the ``os`` exception on error."""

    #: What ``dxpy info`` prints after "file I/O:".
    kind = ""

    @abc.abstractmethod
    async def open(self, path: bytes, flags: int, mode: int = 0o666) -> int:
        """Open ``path``; return the fd."""

    @abc.abstractmethod
    async def pread(self, fd: int, view: memoryview, offset: int) -> int:
        """One read into ``view`` at ``offset`` (-1: the file position); may be short."""

    @abc.abstractmethod
    async def pwrite(self, fd: int, view: memoryview, offset: int) -> int:
        """One write of ``view`` at ``offset`` (-1: the file position); may be short."""

    @abc.abstractmethod
    async def close(self, fd: int) -> None:
        """Close ``fd``."""

    @abc.abstractmethod
    async def fsync(self, fd: int, datasync: bool = False) -> None:
        """Flush ``fd`` to storage."""

    @abc.abstractmethod
    async def read_whole(self, paths: list[bytes]) -> list[bytes | OSError]:
        """Read each file completely; an ``OSError`` stands in for a failed one."""

    async def blocking(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a call that has no reactor operation (ftruncate, copy_file_range)
        off the loop's thread."""
        return await run_in_pool(fn, *args)


# ---- the thread pool ---------------------------------------------------------
_pool: concurrent.futures.ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def shared_pool() -> concurrent.futures.ThreadPoolExecutor:
    """One pool for the process: file calls are short and never nest."""
    global _pool
    with _pool_lock:
        if _pool is None:
            workers = min(32, (os.cpu_count() or 1) + 4)
            _pool = concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="dxpy-aio")
        return _pool


async def run_in_pool(fn: Callable[..., T], *args: Any,
                      orphan: Callable[[T], None] | None = None) -> T:
    """Run ``fn(*args)`` on the pool.  If the caller is cancelled while the call
    is already running, ``orphan`` receives its result (an fd to close)."""
    cfut = shared_pool().submit(fn, *args)
    try:
        return await asyncio.wrap_future(cfut)
    except asyncio.CancelledError:
        if orphan is not None:
            cfut.add_done_callback(lambda done: _hand_to_orphan(done, orphan))
        raise


def _hand_to_orphan(done: concurrent.futures.Future, orphan: Callable[[Any], None]) -> None:
    if not done.cancelled() and done.exception() is None:
        orphan(done.result())


def _close_quietly(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass


def _open_sync(path: bytes, flags: int, mode: int) -> int:
    return os.open(path, flags | os.O_CLOEXEC, mode)


def _pread_sync(fd: int, view: memoryview, offset: int) -> int:
    if offset < 0:
        return os.readv(fd, (view,))
    return os.preadv(fd, (view,), offset)


def _pwrite_sync(fd: int, view: memoryview, offset: int) -> int:
    if offset < 0:
        return os.write(fd, view)
    return os.pwrite(fd, view, offset)


def read_file_sync(path: bytes) -> bytes:
    """Read one whole file the way ``open(path, "rb").read()`` does."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        info = os.fstat(fd)
        if stat_module.S_ISDIR(info.st_mode):
            raise os_error(errno.EISDIR, display_name(path))
        return _read_fd_sync(fd, info.st_size)
    finally:
        os.close(fd)


def _read_fd_sync(fd: int, size_hint: int) -> bytes:
    chunks = []
    want = max(size_hint, 0) + 1
    while True:
        chunk = os.read(fd, min(want, MAX_IO))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        want = 64 * 1024


def _read_group_sync(paths: list[bytes]) -> list[bytes | OSError]:
    results: list[bytes | OSError] = []
    for path in paths:
        try:
            results.append(read_file_sync(path))
        except OSError as exc:
            results.append(exc)
    return results


class ThreadOps(FileOps):
    """The primitives as blocking calls on the shared thread pool."""

    kind = "thread pool"

    async def open(self, path: bytes, flags: int, mode: int = 0o666) -> int:
        try:
            return await run_in_pool(_open_sync, path, flags, mode, orphan=_close_quietly)
        except OSError as exc:
            raise os_error(exc.errno, display_name(path)) from None

    async def pread(self, fd: int, view: memoryview, offset: int) -> int:
        return await run_in_pool(_pread_sync, fd, view, offset)

    async def pwrite(self, fd: int, view: memoryview, offset: int) -> int:
        return await run_in_pool(_pwrite_sync, fd, view, offset)

    async def close(self, fd: int) -> None:
        await run_in_pool(os.close, fd)

    async def fsync(self, fd: int, datasync: bool = False) -> None:
        await run_in_pool(os.fdatasync if datasync else os.fsync, fd)

    async def read_whole(self, paths: list[bytes]) -> list[bytes | OSError]:
        """One pool call per group of files, not per file: the thread hop costs
        more than reading a small cached file."""
        workers = shared_pool()._max_workers
        size = max(1, -(-len(paths) // workers))
        groups = [paths[i:i + size] for i in range(0, len(paths), size)]
        parts = await asyncio.gather(*(run_in_pool(_read_group_sync, group) for group in groups))
        return [result for part in parts for result in part]


# ---- reactor operations ----------------------------------------------------------
class RingOps(FileOps):
    """The primitives as reactor operations of one dxpy loop (io_uring)."""

    kind = "io_uring ops"

    def __init__(self, loop: Any) -> None:
        # Weakly: this object is the value of a WeakKeyDictionary keyed by
        # the loop, and a strong reference would keep every loop alive.
        self._loop_ref = weakref.ref(loop)
        self._reactor = loop.reactor

    @property
    def _loop(self) -> Any:
        return self._loop_ref()

    def op(self, prep: Callable[[int], None],
           orphan: Callable[[int], None] | None = None) -> asyncio.Future:
        """Queue one operation; the future resolves to its raw result."""
        return self._loop._op_future(prep, orphan)

    def open_op(self, path: bytes, flags: int, mode: int = 0o666) -> asyncio.Future:
        return self.op(lambda token: self._reactor.openat(token, path, flags | os.O_CLOEXEC, mode),
                       orphan=_close_quietly)

    def read_op(self, fd: int, view: memoryview, offset: int) -> asyncio.Future:
        return self.op(lambda token: self._reactor.read(token, fd, view, offset))

    def read_offloaded_op(self, fd: int, view: memoryview, offset: int) -> asyncio.Future:
        """A READ run by a kernel worker (parts of one large read in parallel)."""
        return self.op(lambda token: self._reactor.read_offloaded(token, fd, view, offset))

    def close_op(self, fd: int) -> asyncio.Future:
        return self.op(lambda token: self._reactor.close_fd(token, fd))

    async def open(self, path: bytes, flags: int, mode: int = 0o666) -> int:
        fut = self.open_op(path, flags, mode)
        try:
            result = await fut
        except asyncio.CancelledError:
            # Cancelled after the open completed but before this task resumed:
            # the orphan hook did not run (the future was not cancelled).
            if fut.done() and not fut.cancelled() and fut.result() >= 0:
                _close_quietly(fut.result())
            raise
        if result < 0:
            raise os_error(-result, display_name(path))
        return result

    async def pread(self, fd: int, view: memoryview, offset: int) -> int:
        return _checked(await self.read_op(fd, view, offset))

    async def pwrite(self, fd: int, view: memoryview, offset: int) -> int:
        return _checked(await self.op(lambda token: self._reactor.write(token, fd, view, offset)))

    async def close(self, fd: int) -> None:
        _checked(await self.close_op(fd))

    async def fsync(self, fd: int, datasync: bool = False) -> None:
        _checked(await self.op(lambda token: self._reactor.fsync(token, fd, datasync)))

    async def read_whole(self, paths: list[bytes]) -> list[bytes | OSError]:
        from ._whole import read_batched  # imports this module: import late

        return await read_batched(self, paths)


def _checked(result: int) -> int:
    if result < 0:
        raise os_error(-result)
    return result


_ops_by_loop: "weakref.WeakKeyDictionary[Any, FileOps]" = weakref.WeakKeyDictionary()
_threads = ThreadOps()
#: The last loop asked about (weakly) and its primitives: a WeakKeyDictionary
#: lookup per call costs more than the rest of a small call's Python.
_last: tuple[Callable[[], Any], FileOps] = (lambda: None, _threads)


def ops_for(loop: asyncio.AbstractEventLoop | None = None) -> FileOps:
    """The primitives for ``loop`` (default: the running loop).

    Reactor operations where the loop's reactor batches submissions (io_uring);
    the thread pool on the epoll backend and on any non-dxpy loop.
    """
    global _last
    loop = loop or asyncio.get_running_loop()
    if _last[0]() is loop:  # the common case: the same loop as the last call
        return _last[1]
    reactor = getattr(loop, "reactor", None)
    if reactor is None or not getattr(reactor, "batches_submissions", False):
        ops: FileOps = _threads
    else:
        ops = _ops_by_loop.get(loop) or _ops_by_loop.setdefault(loop, RingOps(loop))
    _last = (weakref.ref(loop), ops)
    return ops
