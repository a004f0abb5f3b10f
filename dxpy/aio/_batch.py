"""Short path calls issued in one loop iteration, run as one batch.

``dxpy.aio.os`` hands every short metadata call (stat, rename, unlink,
mkdir, link, symlink, readlink, access) to the running loop's ``PathBatcher``.
The calls of one loop iteration are flushed together, one iteration later,
in one of two ways:

* a few calls (``RING_BATCH`` or fewer) on io_uring: one reactor operation
  each where the kernel has one (STATX, RENAMEAT, UNLINKAT, MKDIRAT,
  SYMLINKAT, LINKAT), reaching the kernel in the loop's next
  ``io_uring_enter``: no thread is woken;
* more calls, or any call without a kernel operation, or any call on the
  epoll backend: ``os``'s own functions in pool jobs of up to ``POOL_CHUNK``
  calls, so a thread hop is paid per chunk instead of per call, and chunks
  still run in parallel (a cold directory lookup blocks one worker only).

Why not reactor operations always: io_uring runs these operations on its
kernel workers (they may block on the disk), and measured on this 2-vCPU VM
a worker round trip costs ~35-60 us per STATX against ~5 us for ``os.stat``
itself: 2,000 concurrent stats took 233-313 ms as STATX operations, 35-43 ms
in pool chunks, 411-538 ms with ``aiofiles.os`` (a thread hop per call).
Alone, a STATX (54-300 us) beats a pool hop (640-750 us under the same
load), hence the split.

The calls of one batch were concurrent (no task can have two in flight), so
running them in any order, or in parallel, is what the callers asked for.
A cancelled caller's call may still run, as a call already handed to a
thread does; its result is dropped.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any, Callable

from ._ops import RingOps, ops_for, shared_pool

#: Batches this small go to the ring as one operation per call.
RING_BATCH = 8
#: Calls per pool job when a batch goes to the pool.
POOL_CHUNK = 64

Prep = Callable[[int], None]
Finish = Callable[[int], Any]


class _Call:
    """One call: ``os``'s function, and the reactor operation if any."""

    __slots__ = ("sync", "prep", "finish", "future")

    def __init__(self, sync: Callable[[], Any], prep: Prep | None, finish: Finish | None,
                 future: asyncio.Future) -> None:
        self.sync = sync
        self.prep = prep
        self.finish = finish
        self.future = future


def _settle(future: asyncio.Future, value: Any, failed: bool) -> None:
    if not future.done():
        if failed:
            future.set_exception(value)
        else:
            future.set_result(value)


class PathBatcher:
    """The batch of one loop (see the module doc)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        # Weakly: this object is the value of a WeakKeyDictionary keyed by
        # the loop, and a strong reference would keep every loop alive.
        self._loop_ref = weakref.ref(loop)
        ops = ops_for(loop)
        self._ring = ops if isinstance(ops, RingOps) else None
        self._pending: list[_Call] = []

    @property
    def reactor(self) -> Any:
        """The loop's io_uring reactor, or None (every call goes to the pool)."""
        return self._ring._reactor if self._ring is not None else None

    def call(self, sync: Callable[[], Any], prep: Prep | None = None,
             finish: Finish | None = None) -> asyncio.Future:
        """Queue one call; the future gets its value or exception.  ``prep``
        queues the reactor operation for a token, ``finish`` turns its raw
        result into the value (raising the ``OSError`` for ``-errno``)."""
        loop = self._loop_ref()
        future = loop.create_future()
        if not self._pending:
            loop.call_soon(self._flush)
        self._pending.append(_Call(sync, prep, finish, future))
        return future

    def _flush(self) -> None:
        batch, self._pending = self._pending, []
        if self._ring is not None and len(batch) <= RING_BATCH:
            pooled = []
            for call in batch:
                if call.prep is None:
                    pooled.append(call)
                else:
                    self._start_op(call)
        else:
            pooled = batch
        for start in range(0, len(pooled), POOL_CHUNK):
            self._start_chunk(pooled[start:start + POOL_CHUNK])

    def _start_op(self, call: _Call) -> None:
        finish = call.finish
        assert call.prep is not None and finish is not None

        def on_done(result: int, flags: int) -> None:
            try:
                value = finish(result)
            except Exception as exc:  # noqa: BLE001 - the caller's exception
                _settle(call.future, exc, True)
            else:
                _settle(call.future, value, False)

        call.prep(self._loop_ref()._start_op(on_done))

    def _start_chunk(self, chunk: list[_Call]) -> None:
        loop = self._loop_ref()
        job = shared_pool().submit(_run_chunk, [call.sync for call in chunk])
        job.add_done_callback(lambda done: loop.call_soon_threadsafe(_settle_chunk, chunk, done))


def _run_chunk(calls: list[Callable[[], Any]]) -> list[tuple[Any, bool]]:
    """On a pool thread: each call's (value, failed)."""
    results: list[tuple[Any, bool]] = []
    for sync in calls:
        try:
            results.append((sync(), False))
        except Exception as exc:  # noqa: BLE001 - handed to the caller
            results.append((exc, True))
    return results


def _settle_chunk(chunk: list[_Call], done: Any) -> None:
    for call, (value, failed) in zip(chunk, done.result()):
        _settle(call.future, value, failed)


_batchers: "weakref.WeakKeyDictionary[Any, PathBatcher]" = weakref.WeakKeyDictionary()
_last: tuple[Callable[[], Any], Any] = (lambda: None, None)


def batcher() -> PathBatcher:
    """The running loop's batcher (the last one found is remembered: most
    calls come from the same loop as the one before)."""
    global _last
    loop = asyncio.get_running_loop()
    if _last[0]() is loop:
        return _last[1]
    found = _batchers.get(loop)
    if found is None:
        found = _batchers[loop] = PathBatcher(loop)
    _last = (weakref.ref(loop), found)
    return found
