"""Large sequential writes gathered and written on the loop's thread.

Why: a ``write(1 MiB)`` as a reactor WRITE ran at 0.6-0.8x ``open()``: ext4
has no non-blocking buffered write (``pwritev2(RWF_NOWAIT)`` fails with
EOPNOTSUPP here, so io_uring hands every WRITE to a kernel worker), and each
call then pays a wake-up there and one back on top of the kernel's copy; on
the thread pool the same two hops.  The copy into the page cache is the
whole cost of ``open().write`` (~270 us per MiB on this VM), and it is the
same work on any thread.  So, as ``BufferedWriter`` holds small writes,
``BinaryFile`` holds large ``bytes`` it is given (immutable: a reference,
no copy) until ``GATHER_BYTES`` are waiting, then writes them with one
``pwritev`` on the loop's thread.  One system call per ``GATHER_BYTES``
instead of one per write also saves the kernel's per-call work (the inode's
time update joins the journal each call): measured, 512 MiB in 1 MiB
``bytes``, one ``pwritev`` per 4 chunks 255-265 us per MiB against 277-289
for one per chunk (interleaved, same process).

Bounds: a gathered write is at most ``GATHER_BYTES`` plus one chunk of at
most ``GATHER_BYTES`` (a ~2 ms copy on the loop's thread at most); larger
writes, mutable buffers (the caller may change them after ``write``
returns) and append mode take the operations of before.  A buffered write
sleeps when the kernel throttles dirty pages or the journal is full: two
gathered writes in a row that slept (a voluntary context switch of this
thread, ``getrusage(RUSAGE_THREAD)``) and took longer than
``STALL_NS_PER_MIB`` send large writes back to the operations for
``PAUSE_NS``, so a slow disk costs the loop two slow writes, not every one.
Why the sleep test: on this loaded 2-vCPU machine a ~1 ms write is often
preempted for 10-30 ms (others' runnable threads), two in a row often
enough that a wall-time test alone paused gathering in most 1 GiB runs;
one ``getrusage`` per 4 MiB written costs ~1 us, 0.1% of the copy.  ``DXPY_AIO_INLINE=stat|off`` (see
``_inline``) keeps every write on the operations.
"""

from __future__ import annotations

import errno
import os
import resource
import time

from ._ops import os_error

#: Gathered writes go out when this many bytes wait.
GATHER_BYTES = 4 << 20
#: ``bytes`` of at least this size are gathered (smaller ones go to the
#: write buffer): bounds the iovec count far below IOV_MAX.
GATHER_FROM = 64 << 10
#: A gathered write slower than this per MiB (normal: ~0.3 ms) counts as
#: slow; two in a row pause gathering ...
STALL_NS_PER_MIB = 4_000_000
#: ... for this long.
PAUSE_NS = 1_000_000_000

_THREAD = getattr(resource, "RUSAGE_THREAD", resource.RUSAGE_SELF)
ENABLED = os.environ.get("DXPY_AIO_INLINE", "all").strip().lower() == "all"
_paused_until = 0
_slow = 0  # consecutive slow gathered writes


def gathers(data: object, size: int, append: bool) -> bool:
    """Whether ``write(data)`` of ``size`` bytes may be held and gathered."""
    return (ENABLED and data.__class__ is bytes and GATHER_FROM <= size <= GATHER_BYTES
            and not append and (not _paused_until or time.monotonic_ns() >= _paused_until))


def write_gathered(fd: int, chunks: list, total: int, offset: int) -> int:
    """Write every chunk at ``offset`` in order; return how many bytes went
    out before an error (``OSError``, its ``written`` attribute set) or all
    of them.  Short writes continue where they stopped."""
    switches = resource.getrusage(_THREAD).ru_nvcsw
    start = time.monotonic_ns()
    done = 0
    try:
        while done < total:
            count = os.pwritev(fd, remaining(chunks, done), offset + done)
            if count == 0:
                raise os_error(errno.EIO)
            done += count
    except OSError as exc:
        exc.written = done  # type: ignore[attr-defined]
        raise
    finally:
        _settle(time.monotonic_ns() - start, done, switches)
    return done


def remaining(chunks: list, done: int) -> list:
    """The chunks from byte ``done`` on (all of them unless a write was short)."""
    if not done:
        return chunks
    for index, chunk in enumerate(chunks):
        if done < len(chunk):
            return [memoryview(chunk)[done:], *chunks[index + 1:]]
        done -= len(chunk)
    return []


def _settle(elapsed_ns: int, size: int, switches: int) -> None:
    """Pause gathering after the second slow write in a row that slept
    (``switches``: this thread's voluntary context switches before it)."""
    global _paused_until, _slow
    if (elapsed_ns > STALL_NS_PER_MIB * max(1, size >> 20)
            and resource.getrusage(_THREAD).ru_nvcsw > switches):
        _slow += 1
        if _slow >= 2:
            _slow = 0
            _paused_until = time.monotonic_ns() + PAUSE_NS
    else:
        _slow = 0
