"""Whole-file work as batches of reactor operations (the io_uring path).

``read_batched`` reads many files in a few loop iterations: one batch of
OPENATs for a window of files, one batch of READs (each buffer sized by an
``fstat`` of the opened fd, see ``_fstat`` for why not STATX), one batch of
CLOSEs.  The closes of one window are in
flight while the next window opens, and are awaited before returning, so no
fd outlives the call.  A window bounds the fds held at once (RLIMIT_NOFILE)
and the buffers allocated ahead of use.

Every loop here tolerates short results: a read that returns less than asked
is continued at its new offset until a read returns 0 (EOF), and a write is
continued until all bytes are in; one operation never asks the kernel for
more than ``MAX_IO`` bytes, so files over 2 GiB take several.
"""

from __future__ import annotations

import asyncio
import errno
import os
import stat as stat_module
from typing import TYPE_CHECKING, Any

from ._ops import MAX_IO, display_name, os_error

if TYPE_CHECKING:  # pragma: no cover
    from ._ops import FileOps, RingOps

#: Files opened at once by ``read_batched``.
WINDOW = 512
_GROW = 64 * 1024


async def read_batched(ops: "RingOps", paths: list[bytes]) -> list[bytes | OSError]:
    """Read every file in ``paths``; an ``OSError`` stands in for a failed one."""
    results: list[bytes | OSError] = [b""] * len(paths)
    closing: list[asyncio.Future] = []
    try:
        for start in range(0, len(paths), WINDOW):
            window = paths[start:start + WINDOW]
            results[start:start + len(window)] = await _read_window(ops, window, closing)
    finally:
        if closing:
            await asyncio.shield(asyncio.gather(*closing, return_exceptions=True))
    return results


async def _read_window(ops: "RingOps", paths: list[bytes],
                       closing: list[asyncio.Future]) -> list[bytes | OSError]:
    opens = [ops.open_op(path, os.O_RDONLY) for path in paths]
    fds: list[int] = []
    try:
        await asyncio.gather(*opens)
        fds = [fut.result() for fut in opens]
        results = await _read_opened(ops, paths, fds, [_fstat(fd) for fd in fds])
    except BaseException:
        _close_now(fds or _opened_so_far(opens))
        raise
    closing.extend(ops.close_op(fd) for fd in fds if fd >= 0)
    return results


async def _read_opened(ops: "RingOps", paths: list[bytes], fds: list[int],
                       stats: list[os.stat_result | None]) -> list[bytes | OSError]:
    """One READ per opened file, sized by its statx; then finish stragglers."""
    results: list[Any] = [None] * len(paths)
    reads: dict[int, tuple[asyncio.Future, bytearray]] = {}
    for i, (path, fd, info) in enumerate(zip(paths, fds, stats)):
        if fd < 0:
            results[i] = os_error(-fd, display_name(path))
        elif info is not None and stat_module.S_ISDIR(info.st_mode):
            results[i] = os_error(errno.EISDIR, display_name(path))
        else:
            buf = bytearray(min((info.st_size if info else 0) + 1, MAX_IO))
            reads[i] = (ops.read_op(fd, memoryview(buf), 0), buf)
    await asyncio.gather(*(fut for fut, _ in reads.values()))
    stragglers = []
    for i, (fut, buf) in reads.items():
        count = fut.result()
        if count < 0:
            results[i] = os_error(-count, display_name(paths[i]))
        elif count < len(buf) and (count == 0 or _is_complete(stats[i], count)):
            results[i] = bytes(memoryview(buf)[:count])
        else:
            stragglers.append(i)
            results[i] = read_rest(ops, fds[i], bytes(memoryview(buf)[:count]), paths[i])
    done = await asyncio.gather(*(results[i] for i in stragglers), return_exceptions=True)
    for i, value in zip(stragglers, done):
        results[i] = value
    return results


def _fstat(fd: int) -> os.stat_result | None:
    """Size the read buffer.  A synchronous fstat (no I/O: the inode is in
    memory once the file is open) costs ~0.5 us; an io_uring STATX per file
    in the open batch cost ~10-15 us here (the kernel runs it on an io-wq
    worker), the single largest item of a batch read."""
    return os.fstat(fd) if fd >= 0 else None


def _is_complete(info: os.stat_result | None, count: int) -> bool:
    """A short read that covered the size statx saw is EOF for a regular file."""
    return info is not None and stat_module.S_ISREG(info.st_mode) and count >= info.st_size


async def read_rest(ops: "FileOps", fd: int, head: bytes, path: bytes | None = None,
                    offset: int | None = None) -> bytes:
    """Continue reading ``fd`` after ``head`` (at ``offset``, default
    ``len(head)``) until a read returns 0."""
    chunks = [head]
    position = len(head) if offset is None else offset
    want = max(_GROW, len(head))
    while True:
        buf = bytearray(min(want, MAX_IO))
        try:
            count = await ops.pread(fd, memoryview(buf), position)
        except OSError as exc:
            raise os_error(exc.errno, display_name(path) if path else None) from None
        if count == 0:
            return b"".join(chunks)
        chunks.append(bytes(memoryview(buf)[:count]) if count < len(buf) else bytes(buf))
        position += count
        want *= 2


async def write_all(ops: "FileOps", fd: int, data: memoryview, offset: int) -> int:
    """Write all of ``data`` at ``offset`` (-1: the file position); return the
    new offset (-1 stays -1).  Short writes continue where they stopped."""
    done = 0
    while done < len(data):
        count = await ops.pwrite(fd, data[done:done + MAX_IO], offset)
        if count == 0:
            raise os_error(errno.EIO)
        done += count
        if offset >= 0:
            offset += count
    return offset


def _opened_so_far(opens: list[asyncio.Future]) -> list[int]:
    return [fut.result() for fut in opens if fut.done() and not fut.cancelled()]


def _close_now(fds: list[int]) -> None:
    """Failure path: close synchronously (an op still in flight on the fd holds
    its own file reference, so reusing the number is safe)."""
    for fd in fds:
        if fd >= 0:
            try:
                os.close(fd)
            except OSError:
                pass
