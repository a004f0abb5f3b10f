"""Work-stealing queues: a deque per worker, a shared injector with priorities.

Why this shape (the one Rayon and Tokio use): a worker takes work from its
own deque without touching anyone else's, so a ``map`` split into one
contiguous block per worker runs with no shared queue at all; a worker that
runs dry steals from the *other* end of another worker's deque, so one long
task delays only itself, never the tasks queued behind it.  Work submitted
from outside a worker (``submit``) goes to the injector, a heap ordered by
priority (lower runs first) then submission order.

Sleeping: a worker only synchronises when it runs dry.  While its own
deque has work (and nothing is injected) ``take`` is one ``popleft``: no
token, no lock, no wake-up (a ``map``'s whole block runs that way).  A
worker that finds nothing registers as a sleeper under ``_sleep_lock``,
looks once more, and blocks in a ``queue.SimpleQueue`` (C, several times
cheaper than ``threading.Semaphore``); pushers read the sleeper count after
queueing and put one wake-up per sleeper they wake.  No wake-up is lost:
a pusher that saw no sleeper queued its items before the worker's locked
second look, which therefore finds them (the GIL orders these steps).
``deque.append``/``popleft``/``pop`` are atomic in CPython, so the deques
need no lock.  Nor does the injector heap: its entries are
``(priority, seq, item)`` with int priorities and unique seqs, so
``heappush``/``heappop`` compare ints only, run no Python code and allocate
nothing the GC tracks, and are therefore one atomic step under the GIL
(a pop that loses a race to the last entry raises ``IndexError``).
"""

from __future__ import annotations

import collections
import heapq
import itertools
import operator
import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Callable


@dataclass(slots=True)
class WorkItem:
    """One call to run, with the future that receives its outcome."""

    priority: int
    seq: int
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    future: Future[Any]


class Scheduler:
    """The queues of one executor's ``workers`` workers."""

    def __init__(self, workers: int) -> None:
        self.locals: list[collections.deque[WorkItem]] = [collections.deque()
                                                          for _ in range(workers)]
        #: A heap of (priority, seq, item): tuples of ints compare in C (a
        #: dataclass's ``__lt__`` is a Python call, ~log2(n) of them per pop).
        self._injector: list[tuple[int, int, WorkItem]] = []
        self._wake: queue.SimpleQueue[None] = queue.SimpleQueue()
        self._sleep_lock = threading.Lock()
        self._sleepers = 0
        self._seq = itertools.count().__next__
        self._closed = False
        #: Items each worker took from another worker's deque.
        self.steals = [0] * workers

    def item(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any],
             priority: int = 0) -> WorkItem:
        """A new item (its future is pending); ``priority`` must be an int
        (the injector heap's atomicity relies on it)."""
        return WorkItem(operator.index(priority), self._seq(), fn, args, kwargs, Future())

    def inject(self, item: WorkItem) -> None:
        """Queue ``item`` for whichever worker is free first (priority order)."""
        heapq.heappush(self._injector, (item.priority, item.seq, item))
        if self._sleepers:
            self._wake_up(1)

    def push_local(self, worker: int, items: list[WorkItem]) -> None:
        """Queue ``items`` on ``worker``'s own deque (others may steal them)."""
        self.locals[worker].extend(items)
        if self._sleepers:  # read after queueing: see the module docstring
            self._wake_up(len(items))

    def take(self, worker: int) -> WorkItem | None:
        """The next item for ``worker`` (blocking while there is none): the
        more urgent of its own deque's head and the injector's, else one
        stolen from another deque; None once the scheduler is closed and empty."""
        own = self.locals[worker]
        while True:
            if not self._injector:  # the fast path: this worker's own block
                try:
                    return own.popleft()
                except IndexError:
                    pass
            item = self._find(worker)
            if item is not None:
                return item
            with self._sleep_lock:
                item = self._find(worker)  # the second look (no wake-up lost)
                if item is not None:
                    return item
                if self._closed:
                    return None
                self._sleepers += 1
            self._wake.get()

    def _wake_up(self, count: int) -> None:
        """Wake up to ``count`` sleeping workers."""
        with self._sleep_lock:
            woken = min(count, self._sleepers)
            self._sleepers -= woken
            for _ in range(woken):
                self._wake.put(None)

    def _find(self, worker: int) -> WorkItem | None:
        own = self.locals[worker]
        if self._injector and self._injector_first(own):
            try:
                return heapq.heappop(self._injector)[2]
            except IndexError:  # another worker took the last one
                pass
        try:
            return own.popleft()
        except IndexError:
            pass
        try:
            return heapq.heappop(self._injector)[2]
        except IndexError:
            pass
        count = len(self.locals)
        for step in range(1, count):
            victim = self.locals[(worker + step) % count]
            try:
                item = victim.pop()
            except IndexError:
                continue
            self.steals[worker] += 1
            return item
        return None

    def _injector_first(self, own: collections.deque[WorkItem]) -> bool:
        """Whether the injector's head is more urgent than ``own``'s (racy peeks:
        a wrong answer only changes which of two ready items runs first)."""
        try:
            injected = self._injector[0]
        except IndexError:
            return False
        try:
            head = own[0]
        except IndexError:
            return True
        return injected[:2] < (head.priority, head.seq)

    def close(self) -> None:
        """Wake every worker so each sees the scheduler closed once it is empty."""
        self._closed = True
        self._wake_up(len(self.locals))

    def drain(self) -> list[WorkItem]:
        """Remove and return every queued item (``shutdown(cancel_futures=True)``)."""
        items: list[WorkItem] = []
        while True:
            try:
                items.append(heapq.heappop(self._injector)[2])
            except IndexError:
                break
        for deque in self.locals:
            while True:
                try:
                    items.append(deque.popleft())
                except IndexError:
                    break
        return items

    def queued(self) -> int:
        """Items waiting (not yet taken by a worker)."""
        return len(self._injector) + sum(len(d) for d in self.locals)


__all__ = ["Scheduler", "WorkItem"]
