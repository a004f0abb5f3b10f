"""``dxpy.aio.os``: the ``os`` functions ``aiofiles.os`` offers, as coroutines.

Same names, arguments, results and exceptions as ``os`` (``OSError``
subclasses with ``filename``/``filename2`` set as ``os`` sets them), so code
moving from ``aiofiles.os`` changes only its import.

Where each call runs, and why:

* ``stat``/``lstat``, ``rename``/``replace`` and ``remove``/``unlink`` run
  on the loop's thread, at once, when the kernel can answer them from memory
  on a local filesystem (every path in the dentry cache: ``_inline`` says
  exactly when, and why that is cheaper than any hand-over: 3-25 us against
  90-180 us for an io_uring path operation and 200-400 us for a pool hop).
* Otherwise the short metadata calls (``stat``, ``lstat``, ``rename``, ``replace``,
  ``remove``/``unlink``, ``rmdir``, ``mkdir``, ``symlink``, ``link``,
  ``readlink``, ``access``) go to the loop's ``PathBatcher`` (``_batch``):
  the calls of one loop iteration run together, a few of them as reactor
  operations on io_uring (STATX, RENAMEAT, UNLINKAT, MKDIRAT, SYMLINKAT,
  LINKAT; no thread is woken), many of them as ``os`` calls in pool jobs of
  64 (one thread hop per 64 calls).  ``aiofiles.os`` pays a thread-pool hop
  (two context switches and a GIL hand-over) per call.  The measurements
  behind the split are in ``_batch``'s docstring.
* ``listdir``, ``scandir``, ``getcwd``, ``statvfs``, ``sendfile`` (long or
  rare) run on ``dxpy.aio``'s thread pool, one call per hop, as ``aiofiles``
  runs them: io_uring has no operation for them.
* ``makedirs``, ``removedirs`` and ``renames`` are ``os``'s algorithms over
  the calls above.

Arguments are checked as ``os`` checks them before anything is queued
(``TypeError`` for a wrong type, ``ValueError`` for an embedded NUL).
``scandir`` reads the whole directory on the pool and returns an iterator
over the entries (a context manager with ``close()``, like ``os.scandir``'s),
so iterating never blocks the loop.
"""

from __future__ import annotations

import functools
import operator
import os
from typing import Any, Callable, Iterator, TypeVar

from . import _inline as inline, ospath as path
from ._batch import batcher
from ._ops import fs_bytes, os_error, run_in_pool

__all__ = [
    "path", "stat", "lstat", "rename", "renames", "replace", "remove", "unlink", "mkdir",
    "makedirs", "rmdir", "removedirs", "link", "symlink", "readlink", "listdir", "scandir",
    "access", "getcwd", "statvfs", "sendfile", "wrap",
]

T = TypeVar("T")
_AT_FDCWD = -100
#: Queues a reactor operation: ``queue(reactor, token)``.
Queue = Callable[[Any, int], Any]


def wrap(func: Callable[..., T]) -> Callable[..., Any]:
    """``func`` as a coroutine function that runs it on the thread pool
    (``aiofiles.os.wrap``): for ``os`` calls not offered here."""
    @functools.wraps(func)
    async def run(*args: Any, **kwargs: Any) -> T:
        return await run_in_pool(functools.partial(func, *args, **kwargs))
    return run


# ---- argument handling -------------------------------------------------------------
def _encoded(name: str | bytes) -> bytes:
    """The path (``os.fspath``'s result) as the kernel wants it; ``os``'s
    ValueError for an embedded NUL (raised before anything is queued)."""
    data = fs_bytes(name)
    if 0 in data:  # an int needle is one memchr; ``b"\0" in`` costs ~1.7 us more here
        raise ValueError("embedded null byte")
    return data


def _dirfd(dir_fd: int | None) -> int:
    return _AT_FDCWD if dir_fd is None else operator.index(dir_fd)


async def _batched(sync: Callable[[], Any], queue: Queue | None = None,
                   names: tuple = (), value: Callable[[], Any] | None = None) -> Any:
    """Run one call through the loop's batcher: ``sync`` is ``os``'s call;
    ``queue`` queues the reactor operation doing the same (result 0 or
    ``-errno``, raised as ``os`` raises it for ``names``); ``value`` gives
    the call's value after a successful operation (default None)."""
    calls = batcher()
    reactor = calls.reactor
    if queue is None or reactor is None:
        return await calls.call(sync)
    holder: list[Any] = []

    def finish(result: int) -> Any:
        if result < 0:
            raise os_error(-result, *names)
        return value(holder) if value is not None else None

    return await calls.call(sync, lambda token: holder.append(queue(reactor, token)), finish)


# ---- stat ---------------------------------------------------------------------------
async def stat(path: Any, *, dir_fd: int | None = None,
               follow_symlinks: bool = True) -> os.stat_result:
    """``os.stat`` (from the dentry cache at once, else batched; io_uring:
    STATX when few calls are in flight)."""
    if not isinstance(path, int):
        name = os.fspath(path)
        encoded, dirfd = _encoded(name), _dirfd(dir_fd)
        cached = inline.stat(encoded, dirfd, follow_symlinks, name)
        if cached is not None:
            return cached
    sync = functools.partial(os.stat, path, dir_fd=dir_fd, follow_symlinks=follow_symlinks)
    if isinstance(path, int):
        return await _batched(sync)
    return await _batched(
        sync, lambda reactor, token: reactor.statx(token, encoded, dirfd, follow_symlinks),
        (name,), lambda holder: holder[0].stat)


async def lstat(path: Any, *, dir_fd: int | None = None) -> os.stat_result:
    """``os.lstat``: ``stat`` of a symlink itself."""
    return await stat(path, dir_fd=dir_fd, follow_symlinks=False)


# ---- renaming and removing ---------------------------------------------------------
async def rename(src: Any, dst: Any, *, src_dir_fd: int | None = None,
                 dst_dir_fd: int | None = None) -> None:
    """``os.rename`` (io_uring: RENAMEAT); on POSIX it replaces ``dst``."""
    old, new = os.fspath(src), os.fspath(dst)
    a, b, fa, fb = _encoded(old), _encoded(new), _dirfd(src_dir_fd), _dirfd(dst_dir_fd)
    if inline.writes_allowed(a, fa, b, fb):
        return inline.rename(a, fa, b, fb, (old, new))
    await _batched(functools.partial(os.rename, src, dst, src_dir_fd=src_dir_fd,
                                     dst_dir_fd=dst_dir_fd),
                   lambda reactor, token: reactor.renameat(token, a, b, fa, fb), (old, new))


async def replace(src: Any, dst: Any, *, src_dir_fd: int | None = None,
                  dst_dir_fd: int | None = None) -> None:
    """``os.replace``: the same system call as ``rename`` on POSIX."""
    await rename(src, dst, src_dir_fd=src_dir_fd, dst_dir_fd=dst_dir_fd)


async def remove(path: Any, *, dir_fd: int | None = None) -> None:
    """``os.remove`` (io_uring: UNLINKAT)."""
    await _unlink(path, dir_fd, os.remove, False)


async def unlink(path: Any, *, dir_fd: int | None = None) -> None:
    """``os.unlink``, the same as ``remove``."""
    await _unlink(path, dir_fd, os.unlink, False)


async def rmdir(path: Any, *, dir_fd: int | None = None) -> None:
    """``os.rmdir`` (io_uring: UNLINKAT with AT_REMOVEDIR)."""
    await _unlink(path, dir_fd, os.rmdir, True)


async def _unlink(path: Any, dir_fd: int | None, sync: Callable[..., None],
                  remove_dir: bool) -> None:
    name = os.fspath(path)
    encoded, dirfd = _encoded(name), _dirfd(dir_fd)
    if not remove_dir and inline.writes_allowed(encoded, dirfd):
        return inline.unlink(encoded, dirfd, name)
    await _batched(functools.partial(sync, path, dir_fd=dir_fd),
                   lambda reactor, token: reactor.unlinkat(token, encoded, dirfd, remove_dir),
                   (name,))


# ---- creating ------------------------------------------------------------------------
async def mkdir(path: Any, mode: int = 0o777, *, dir_fd: int | None = None) -> None:
    """``os.mkdir`` (io_uring: MKDIRAT)."""
    name = os.fspath(path)
    encoded, dirfd, mode = _encoded(name), _dirfd(dir_fd), operator.index(mode)
    await _batched(functools.partial(os.mkdir, path, mode, dir_fd=dir_fd),
                   lambda reactor, token: reactor.mkdirat(token, encoded, mode, dirfd), (name,))


async def symlink(src: Any, dst: Any, target_is_directory: bool = False, *,
                  dir_fd: int | None = None) -> None:
    """``os.symlink``: create ``dst`` pointing at ``src`` (io_uring: SYMLINKAT)."""
    target, link_name = os.fspath(src), os.fspath(dst)
    a, b, dirfd = _encoded(target), _encoded(link_name), _dirfd(dir_fd)
    await _batched(functools.partial(os.symlink, src, dst, target_is_directory, dir_fd=dir_fd),
                   lambda reactor, token: reactor.symlinkat(token, a, b, dirfd),
                   (target, link_name))


async def link(src: Any, dst: Any, *, src_dir_fd: int | None = None,
               dst_dir_fd: int | None = None, follow_symlinks: bool = True) -> None:
    """``os.link`` (io_uring: LINKAT).

    On Linux ``os.link`` does not follow a symlink ``src`` unless a directory
    fd is given too (it calls ``link(2)``); that one combination never uses
    LINKAT (which would not follow), so the result is exactly ``os.link``'s."""
    old, new = os.fspath(src), os.fspath(dst)
    a, b, fa, fb = _encoded(old), _encoded(new), _dirfd(src_dir_fd), _dirfd(dst_dir_fd)
    sync = functools.partial(os.link, src, dst, src_dir_fd=src_dir_fd, dst_dir_fd=dst_dir_fd,
                             follow_symlinks=follow_symlinks)
    if follow_symlinks and (src_dir_fd is not None or dst_dir_fd is not None):
        return await _batched(sync)
    await _batched(sync, lambda reactor, token: reactor.linkat(token, a, b, fa, fb), (old, new))


# ---- os's compound algorithms, over the calls above ------------------------------------
def _split(name: Any) -> tuple[Any, Any]:
    """``os.path.split``, ignoring one trailing separator (as ``os`` does)."""
    head, tail = os.path.split(name)
    return os.path.split(head) if not tail else (head, tail)


async def makedirs(name: Any, mode: int = 0o777, exist_ok: bool = False) -> None:
    """``os.makedirs``: create missing parents (with the default mode, as
    ``os`` does), then ``name`` with ``mode``."""
    name = os.fspath(name)
    head, tail = _split(name)
    if head and tail and not await path.exists(head):
        try:
            await makedirs(head, exist_ok=exist_ok)
        except FileExistsError:  # a concurrent creator won the race
            pass
        if tail == (os.curdir.encode() if isinstance(tail, bytes) else os.curdir):
            return
    try:
        await mkdir(name, mode)
    except OSError:
        if not exist_ok or not await path.isdir(name):
            raise


async def removedirs(name: Any) -> None:
    """``os.removedirs``: remove ``name``, then each parent until one fails."""
    name = os.fspath(name)
    await rmdir(name)
    head, tail = _split(name)
    while head and tail:
        try:
            await rmdir(head)
        except OSError:
            return
        head, tail = os.path.split(head)


async def renames(old: Any, new: Any) -> None:
    """``os.renames``: create ``new``'s parents, rename, prune ``old``'s."""
    old, new = os.fspath(old), os.fspath(new)
    head, tail = os.path.split(new)
    if head and tail and not await path.exists(head):
        await makedirs(head)
    await rename(old, new)
    head, tail = os.path.split(old)
    if head and tail:
        try:
            await removedirs(head)
        except OSError:
            pass


# ---- no kernel operation -----------------------------------------------------------
async def readlink(path: Any, *, dir_fd: int | None = None) -> Any:
    """``os.readlink`` (batched on the pool: io_uring has no operation)."""
    return await _batched(functools.partial(os.readlink, path, dir_fd=dir_fd))


async def listdir(path: Any = ".") -> list[Any]:
    """``os.listdir``."""
    return await run_in_pool(os.listdir, path)


class ScandirIterator(Iterator[os.DirEntry]):
    """The entries ``scandir`` read, with ``os.scandir``'s iterator surface."""

    def __init__(self, entries: list[os.DirEntry]) -> None:
        self._entries = iter(entries)

    def __iter__(self) -> "ScandirIterator":
        return self

    def __next__(self) -> os.DirEntry:
        return next(self._entries)

    def close(self) -> None:
        """Drop the remaining entries (the directory is already closed)."""
        self._entries = iter(())

    def __enter__(self) -> "ScandirIterator":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _scandir_sync(path: Any) -> list[os.DirEntry]:
    with os.scandir(path) as entries:
        return list(entries)


async def scandir(path: Any = ".") -> ScandirIterator:
    """``os.scandir``, read completely on the pool (see the module doc)."""
    return ScandirIterator(await run_in_pool(_scandir_sync, path))


async def access(path: Any, mode: int, *, dir_fd: int | None = None,
                 effective_ids: bool = False, follow_symlinks: bool = True) -> bool:
    """``os.access`` (batched on the pool: io_uring has no operation)."""
    return await _batched(functools.partial(
        os.access, path, mode, dir_fd=dir_fd, effective_ids=effective_ids,
        follow_symlinks=follow_symlinks))


async def getcwd() -> str:
    """``os.getcwd``."""
    return await run_in_pool(os.getcwd)


async def statvfs(path: Any) -> os.statvfs_result:
    """``os.statvfs``."""
    return await run_in_pool(os.statvfs, path)


async def sendfile(out_fd: int, in_fd: int, offset: int | None, count: int) -> int:
    """``os.sendfile``: bytes copied by the kernel (may be fewer than ``count``)."""
    return await run_in_pool(os.sendfile, out_fd, in_fd, offset, count)
