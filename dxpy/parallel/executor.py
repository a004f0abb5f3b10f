"""``Executor``: one worker per core, work stealing, priorities; ``parallel_map``.

The interface is ``concurrent.futures.Executor``'s (``submit``, ``map``,
``shutdown``, context manager), so code written against it moves unchanged
to ``ThreadPoolExecutor``, ``ProcessPoolExecutor`` or Dask's
``Client.get_executor()``.  What it adds:

* ``kind`` is explicit: ``"thread"`` for work that releases the GIL,
  ``"process"`` for pure-Python CPU work (calls over HBTP channels, large
  arrays through shared memory).
* ``pin``: process workers are pinned to one core each by default; thread
  workers are not (``pin=True`` pins them too).  Why the difference: thread
  workers share one GIL, and a hard-pinned thread waiting for it (or woken
  by a ``submit``) must wait for *its* core even when the other is free;
  measured on the shared 2-core machine, pinned threads ran tiny tasks at
  0.7-0.9x ``ThreadPoolExecutor``'s wall time (unpinned: 1.05-1.2x) and
  lost overlap between two nogil kernels whenever another process held a
  core, while on an idle machine pinned and unpinned both scaled 1.95x
  (``docs/performance.md``, "Parallel").
* ``map`` splits its items into one contiguous block per worker deque; idle
  workers steal from the far end of busy ones (``scheduler.py``).
* ``submit_at(priority, fn, ...)``: lower priorities run first.
* ``await executor.run(fn, *args)`` from async code.

Why it subclasses ``ThreadPoolExecutor``: asyncio's
``loop.set_default_executor`` accepts nothing else (a ``TypeError`` on 3.11).
None of ``ThreadPoolExecutor``'s machinery is used: every public method is
this class's own, and ``__init__`` does not call the base's.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import multiprocessing
import threading
import time
import weakref
from typing import Any, Callable, Iterable, Iterator, TypeVar

from .. import cores
from .scheduler import Scheduler, WorkItem
from .workers import ProcessWorker, ThreadWorker, current_worker

T = TypeVar("T")
KINDS = ("thread", "process")

_live: "weakref.WeakSet[Executor]" = weakref.WeakSet()


class Executor(concurrent.futures.ThreadPoolExecutor):
    """A per-core executor of threads or processes with work stealing."""

    def __init__(self, workers: int | str | None = None, kind: str = "thread", *,
                 pin: bool | None = None, mp_context: multiprocessing.context.BaseContext | str
                 | None = None, name: str | None = None) -> None:  # noqa: D107
        if kind not in KINDS:
            raise ValueError(f"Executor kind must be 'thread' or 'process', not {kind!r}")
        self.kind = kind
        self._count = cores.resolve_workers(workers)
        self._scheduler = Scheduler(self._count)
        self._shutdown_lock = threading.Lock()
        self._closed = False
        prefix = name or f"dxpy-{kind}"
        if pin is None:
            pin = kind == "process"
        placement = [cores.core_for(i) if pin else None for i in range(self._count)]
        if kind == "thread":
            self._workers: list[ThreadWorker | ProcessWorker] = [
                ThreadWorker(i, placement[i], self._scheduler, prefix) for i in range(self._count)]
        else:
            context = (multiprocessing.get_context(mp_context)
                       if mp_context is None or isinstance(mp_context, str) else mp_context)
            self._workers = [ProcessWorker(i, placement[i], self._scheduler, prefix, context,
                                           self._parent_ends) for i in range(self._count)]
        started = []
        try:
            for worker in self._workers:
                worker.start()
                started.append(worker)
        except BaseException:
            self._scheduler.close()
            for worker in started:
                worker.stop(5.0)
            raise
        _live.add(self)

    def _parent_ends(self) -> list[int]:
        return [w.channel.fileno() for w in self._workers
                if isinstance(w, ProcessWorker) and w.channel is not None and not w.channel.closed]

    @property
    def workers(self) -> int:
        """How many workers (one per core by default)."""
        return self._count

    def __repr__(self) -> str:
        state = "shut down" if self._closed else f"{self._scheduler.queued()} queued"
        return f"<dxpy.parallel.Executor kind={self.kind} workers={self._count} {state}>"

    # -- submitting ----------------------------------------------------------------
    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any
               ) -> concurrent.futures.Future[T]:
        """Schedule ``fn(*args, **kwargs)`` at priority 0."""
        return self.submit_at(0, fn, *args, **kwargs)

    def submit_at(self, priority: int, fn: Callable[..., T], /, *args: Any, **kwargs: Any
                  ) -> concurrent.futures.Future[T]:
        """Schedule ``fn(*args, **kwargs)``; lower ``priority`` runs first.
        From inside a thread worker, the call goes to that worker's own deque."""
        item = self._scheduler.item(fn, args, kwargs, priority)
        with self._shutdown_lock:
            self._check_open()
            here = current_worker()
            if here is not None and here[0] is self._scheduler:
                self._scheduler.push_local(here[1], [item])
            else:
                self._scheduler.inject(item)
        return item.future

    def map(self, fn: Callable[..., T], *iterables: Iterable[Any], timeout: float | None = None,
            chunksize: int = 1, priority: int = 0) -> Iterator[T]:
        """Results of ``fn`` over the zipped iterables, in order.  The first
        exception (in order) is raised from the iterator and every call not
        yet finished is cancelled; ``chunksize`` groups calls per task."""
        if chunksize < 1:
            raise ValueError(f"chunksize must be >= 1, not {chunksize}")
        calls = list(zip(*iterables))
        if chunksize == 1:
            items = [self._scheduler.item(fn, args, {}, priority) for args in calls]
        else:
            chunks = [calls[i:i + chunksize] for i in range(0, len(calls), chunksize)]
            items = [self._scheduler.item(_run_chunk, (fn, chunk), {}, priority)
                     for chunk in chunks]
        with self._shutdown_lock:
            self._check_open()
            self._distribute(items)
        results = _ordered_results([item.future for item in items], timeout)
        return itertools.chain.from_iterable(results) if chunksize > 1 else results

    def _distribute(self, items: list[WorkItem]) -> None:
        """One contiguous block per worker deque (stealing balances the rest)."""
        per, extra = divmod(len(items), self._count)
        start = 0
        for worker in range(self._count):
            end = start + per + (1 if worker < extra else 0)
            if end > start:
                self._scheduler.push_local(worker, items[start:end])
            start = end

    async def run(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """``await executor.run(fn, *args)`` from async code (any loop);
        cancelling the await cancels the call if it has not started."""
        return await asyncio.wrap_future(self.submit(fn, *args, **kwargs))

    # -- life ----------------------------------------------------------------------
    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """No new work; queued work still runs unless ``cancel_futures``; with
        ``wait``, return once every worker (thread or process) has ended."""
        with self._shutdown_lock:
            first = not self._closed
            self._closed = True
        if first:
            if cancel_futures:
                for item in self._scheduler.drain():
                    item.future.cancel()
            self._scheduler.close()
        if wait:
            for worker in self._workers:
                worker.stop(None)
            _live.discard(self)

    def health(self) -> list[cores.Health]:
        """One ``dxpy.cores.Health`` per worker (tasks run, steals, restarts)."""
        return [worker.health() for worker in self._workers]

    @property
    def steals(self) -> int:
        """Items workers took from other workers' deques so far."""
        return sum(self._scheduler.steals)

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("cannot schedule new work after the Executor was shut down")


def _run_chunk(fn: Callable[..., T], chunk: list[tuple[Any, ...]]) -> list[T]:
    return [fn(*args) for args in chunk]


def _ordered_results(futures: list[concurrent.futures.Future[T]], timeout: float | None
                     ) -> Iterator[T]:
    """Yield results in order; on the first failure (or when the consumer stops
    early) cancel every future not yet done."""
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        futures.reverse()
        while futures:
            future = futures.pop()
            yield future.result(None if deadline is None else max(0.0, deadline - time.monotonic()))
    finally:
        for future in futures:
            future.cancel()


_shared: dict[str, Executor] = {}
_shared_lock = threading.Lock()


def shared_executor(kind: str = "thread") -> Executor:
    """The process-wide executor ``parallel_map`` uses when given none."""
    with _shared_lock:
        executor = _shared.get(kind)
        if executor is None or executor._closed:
            executor = _shared[kind] = Executor(kind=kind)
        return executor


def parallel_map(fn: Callable[..., T], iterable: Iterable[Any], *more: Iterable[Any],
                 kind: str = "thread", chunksize: int | None = None,
                 executor: Executor | None = None) -> list[T]:
    """``list(executor.map(fn, iterable, ...))`` in one line, on a shared
    per-core executor of ``kind`` unless ``executor`` is given.  ``chunksize``
    None groups the calls into about 4 tasks per worker."""
    pool = executor if executor is not None else shared_executor(kind)
    columns = [list(iterable), *(list(column) for column in more)]
    if chunksize is None:
        chunksize = max(1, min(len(c) for c in columns) // (pool.workers * 4))
    return list(pool.map(fn, *columns, chunksize=chunksize))


def _shutdown_all() -> None:
    """At interpreter exit (before non-daemon threads are joined): end every executor."""
    for executor in list(_live):
        executor.shutdown(wait=True, cancel_futures=True)


threading._register_atexit(_shutdown_all)  # type: ignore[attr-defined]

__all__ = ["Executor", "KINDS", "parallel_map", "shared_executor"]
