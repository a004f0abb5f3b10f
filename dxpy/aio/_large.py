"""Large reads: several operations in flight for one request, and read-ahead
for a run of equal sequential reads.

Why: one awaited operation per request costs two loop iterations of Python
(~19 us measured) on top of the kernel's copy, so a file read in 1 MiB
chunks ran at 0.7x ``open()``, and a single huge read has the kernel copy
(or the disk) work on one region at a time.

* ``read_into`` splits one large request into parts (up to ``MAX_PARTS``,
  each at least ``MIN_PART``) that are all in flight at once, straight into
  the destination (the caller's buffer, or a fresh ``bytes``, see
  ``_fresh``).  On io_uring the parts are offloaded READs (``IOSQE_ASYNC``,
  kernel workers): copies proceed on both CPUs, and uncached, each worker
  blocks on its own read-ahead stream.  Measured against inline READs (which
  the submitting thread copies one after another, and which, uncached, only
  issue the next read-ahead when the loop's thread runs their retry), 1 GiB
  whole: cached 1.0-2.1 s vs 2.0-5.1 s, uncached 1.4-1.9 s vs 3.5-8.0 s
  (three interleaved runs each, load average 8-10).  On the thread pool the
  parts copy on several cores (``preadv`` releases the GIL).  Only a short
  part (EOF, or a file that changed size) makes it continue serially from
  where the data stopped.
* ``read_cached`` copies a direct read of at most ``INLINE_MAX`` bytes
  from the page cache on the loop's thread when it is cached, with no
  operation at all; only what is not cached goes the ways below.
* ``ReadAhead`` serves ``read(n)`` repeated at consecutive offsets: after
  two equal sequential reads it keeps ``depth`` reads of ``n`` bytes ahead
  in flight, each into its own fresh ``bytes``.  A ``read(n)`` whose read
  finished is then served without awaiting anything, and the next ones are
  queued together, so a loop iteration serves several requests.  Prefetched
  bytes are a snapshot, like a read buffer: the file object drops them on
  any write, seek elsewhere, truncate or close.
"""

from __future__ import annotations

import asyncio
import collections
import os
from typing import TYPE_CHECKING, Any

from ._fresh import fresh_bytes
from ._ops import MAX_IO, RingOps

if TYPE_CHECKING:  # pragma: no cover
    from ._ops import FileOps

#: Requests at least this large are split into parts in flight together.
MIN_PART = 8 << 20
MAX_PARTS = 8
#: Part boundaries fall on this alignment (huge pages, page-cache folios).
_ALIGN = 2 << 20
#: Read-ahead serves runs of reads smaller than this (larger ones are split
#: into parts instead), keeping at most ``AHEAD_BYTES`` (and 2-8 reads)
#: ahead; reads of ``AHEAD_OFFLOAD`` bytes or more are offloaded to kernel
#: workers.  Measured, 256 MiB cached in 1 MiB reads, 15 interleaved runs at
#: load average ~9 (ms, best / median): sync 106 / 168, one read at a time
#: 143 / 216, inline read-ahead x4 181 / 227, offloaded x8 79 / 212: the
#: copies move off the loop's thread, so the loop's Python and the kernel's
#: copies overlap when a second CPU is free.  Inline read-ahead only pays
#: for small reads (128 KiB: half the Python time per read).
AHEAD_BELOW = MIN_PART
AHEAD_BYTES = 8 << 20
AHEAD_OFFLOAD = 256 << 10
#: Direct reads up to this size are first copied on the loop's thread from
#: the page cache alone (``read_cached``).
INLINE_MAX = 1 << 20
_RWF_NOWAIT = getattr(os, "RWF_NOWAIT", 0)


def read_cached(fd: int, view: memoryview, offset: int) -> int:
    """Copy what the page cache holds of ``view``'s range at ``offset``, at
    once, on the calling thread: ``preadv2(RWF_NOWAIT)`` never waits for the
    disk (it starts the kernel's read-ahead and returns what is there).
    The count (0: nothing cached, or EOF), or -1: the file refuses the call
    (a pipe, a filesystem without RWF_NOWAIT, or an error the ordinary read
    will report).

    Why: a 1 MiB read of cached data is a ~0.1-0.3 ms copy, the same work an
    io_uring READ does inline in the loop's ``io_uring_enter``, but without
    the operation's round trip (two loop iterations and a future: a
    ``read(1 MiB)`` loop ran at 0.7-0.9x ``open()``, median, with it)."""
    if not _RWF_NOWAIT:
        return -1
    try:
        return os.preadv(fd, (view,), offset, _RWF_NOWAIT)
    except BlockingIOError:
        return 0
    except OSError:
        return -1


def fresh_cached_py(fd: int, size: int, offset: int) -> tuple[bytes, int]:
    """A new ``bytes`` of ``size`` bytes and how many of them ``read_cached``
    filled from ``offset`` (-1: the file refuses); the rest is unset."""
    data, view = fresh_bytes(size)
    return data, read_cached(fd, view, offset)


try:  # the same in one C call, ~5 us less per read (see _pagecache.c)
    from ._pagecache import pread_cached as fresh_cached
except ImportError:  # pragma: no cover - built without a C compiler
    fresh_cached = fresh_cached_py


def split(size: int) -> list[tuple[int, int]]:
    """``(start, stop)`` of the parts of a ``size``-byte request."""
    count = min(MAX_PARTS, max(1, size // MIN_PART))
    step = -(-size // count)
    step = min(MAX_IO - MAX_IO % _ALIGN, -(-step // _ALIGN) * _ALIGN)
    return [(start, min(start + step, size)) for start in range(0, size, step)]


def _start_read(ops: "FileOps", fd: int, view: memoryview, offset: int,
                offload: bool = False) -> asyncio.Future:
    """One read in flight: the reactor operation itself on io_uring (its
    future cancels the operation), a task running the pool call otherwise.
    ``offload``: on a kernel worker (see ``read_into``)."""
    if isinstance(ops, RingOps):
        return (ops.read_offloaded_op if offload else ops.read_op)(fd, view, offset)
    return asyncio.ensure_future(ops.pread(fd, view, offset))


def _count(fut: asyncio.Future) -> int:
    """A finished read's byte count; ``OSError`` (errno only) for a failure."""
    count = fut.result()
    if count < 0:
        raise OSError(-count, "read failed")
    return count


async def read_serial(ops: "FileOps", fd: int, view: memoryview, offset: int) -> int:
    """Fill ``view`` from ``offset`` one read at a time; stop at EOF."""
    done = 0
    while done < len(view):
        count = await ops.pread(fd, view[done:done + MAX_IO], offset + done)
        if count == 0:
            break
        done += count
    return done


async def read_into(ops: "FileOps", fd: int, view: memoryview, offset: int) -> int:
    """Fill ``view`` from ``offset`` with its parts in flight together; return
    the count (short only at EOF).  Cancelling cancels every part; nothing
    moves a file position."""
    parts = split(len(view))
    if len(parts) == 1:
        return await read_serial(ops, fd, view, offset)
    futures = [_start_read(ops, fd, view[a:b], offset + a, offload=True) for a, b in parts]
    try:
        await asyncio.gather(*futures)
    except BaseException:
        for fut in futures:
            fut.cancel()
        raise
    done = 0
    for (start, stop), fut in zip(parts, futures):
        count = _count(fut)
        done += count
        if count < stop - start:  # short: EOF, or the file changed under us
            return done + await read_serial(ops, fd, view[done:], offset + done)
    return done


async def read_fresh(ops: "FileOps", fd: int, size: int, offset: int) -> bytes:
    """A new ``bytes`` of up to ``size`` bytes read at ``offset`` (fewer at EOF);
    the kernel fills the object returned, no copy unless short."""
    data, view = fresh_bytes(size)
    count = await read_into(ops, fd, view, offset)
    return data if count == size else data[:count]


class ReadAhead:
    """Reads of ``size`` bytes at consecutive offsets from ``offset``, kept
    ``depth`` ahead in flight (see the module doc)."""

    def __init__(self, ops: "FileOps", fd: int, size: int, offset: int) -> None:
        self._ops = ops
        self._fd = fd
        self.size = size
        self.offset = offset  # where the next served read starts
        self._depth = max(2, min(8, AHEAD_BYTES // size))
        self._offload = size >= AHEAD_OFFLOAD
        self._pending: collections.deque[tuple[asyncio.Future, bytes, memoryview]] = (
            collections.deque())
        self._issued_to = offset

    def serves(self, offset: int, size: int) -> bool:
        return offset == self.offset and size == self.size

    def _top_up(self) -> None:
        while len(self._pending) < self._depth:
            data, view = fresh_bytes(self.size)
            fut = _start_read(self._ops, self._fd, view, self._issued_to, self._offload)
            self._pending.append((fut, data, view))
            self._issued_to += self.size

    async def next(self) -> bytes:
        """The next ``size`` bytes (fewer only at EOF)."""
        self._top_up()
        fut, data, view = self._pending[0]
        if not fut.done():
            await asyncio.shield(fut)  # a cancelled caller leaves the read queued
        self._pending.popleft()
        self._top_up()
        count = _count(fut)
        if 0 < count < self.size:  # short but not EOF: finish it
            count += await read_serial(self._ops, self._fd, view[count:], self.offset + count)
        self.offset += count
        return data if count == self.size else data[:count]

    def drop(self) -> None:
        """Abandon everything ahead (its buffers live until the reads end)."""
        for fut, _, _ in self._pending:
            fut.cancel()
        self._pending.clear()
