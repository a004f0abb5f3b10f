"""Work-stealing queues: a deque per worker, a shared injector with priorities.

Why this shape (the one Rayon and Tokio use): a worker takes work from its
own deque without touching anyone else's, so a ``map`` split into one
contiguous block per worker runs with no shared queue at all; a worker that
runs dry steals from the *other* end of another worker's deque, so one long
task delays only itself, never the tasks queued behind it.  Work submitted
from outside a worker (``submit``) goes to the injector, a heap ordered by
priority (lower runs first) then submission order.

Tokens: every queued item puts one token in a ``queue.SimpleQueue`` (C,
several times cheaper than ``threading.Semaphore``, which is Python) and a
worker takes a token before it looks for an item.  Items are only removed by
token holders, so a worker holding a token always finds one (possibly after
another worker finishes moving it), and idle workers sleep in the queue, not
in a poll.
``deque.append``/``popleft``/``pop`` are atomic in CPython, so the deques
need no lock; the heap has one.
"""

from __future__ import annotations

import collections
import heapq
import itertools
import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass(order=True, slots=True)
class WorkItem:
    """One call to run, with the future that receives its outcome."""

    priority: int
    seq: int
    fn: Callable[..., Any] = field(compare=False)
    args: tuple[Any, ...] = field(compare=False)
    kwargs: dict[str, Any] = field(compare=False)
    future: Future[Any] = field(compare=False)


class Scheduler:
    """The queues of one executor's ``workers`` workers."""

    def __init__(self, workers: int) -> None:
        self.locals: list[collections.deque[WorkItem]] = [collections.deque()
                                                          for _ in range(workers)]
        self._injector: list[WorkItem] = []
        self._injector_lock = threading.Lock()
        self._tokens: queue.SimpleQueue[None] = queue.SimpleQueue()
        self._seq = itertools.count().__next__
        self._closed = False
        #: Items each worker took from another worker's deque.
        self.steals = [0] * workers

    def item(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any],
             priority: int = 0) -> WorkItem:
        """A new item (its future is pending)."""
        return WorkItem(priority, self._seq(), fn, args, kwargs, Future())

    def inject(self, item: WorkItem) -> None:
        """Queue ``item`` for whichever worker is free first (priority order)."""
        with self._injector_lock:
            heapq.heappush(self._injector, item)
        self._tokens.put(None)

    def push_local(self, worker: int, items: list[WorkItem]) -> None:
        """Queue ``items`` on ``worker``'s own deque (others may steal them)."""
        self.locals[worker].extend(items)
        self._give(len(items))

    def take(self, worker: int, block: bool = True) -> WorkItem | None:
        """The next item for ``worker``: the more urgent of its own deque's head
        and the injector's, else one stolen from another deque; None when the
        scheduler is closed (or, with ``block=False``, when nothing is queued)."""
        try:
            self._tokens.get(block)
        except queue.Empty:
            return None
        while True:
            item = self._find(worker)
            if item is not None:
                return item
            if self._closed:
                self._tokens.put(None)  # wake the next sleeper: it finds nothing either
                return None
            time.sleep(0)  # another token holder is mid-move: its item shows up next

    def _find(self, worker: int) -> WorkItem | None:
        own = self.locals[worker]
        if self._injector and self._injector_first(own):
            with self._injector_lock:
                if self._injector:
                    return heapq.heappop(self._injector)
        try:
            return own.popleft()
        except IndexError:
            pass
        with self._injector_lock:
            if self._injector:
                return heapq.heappop(self._injector)
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
            return injected < own[0]
        except IndexError:
            return True

    def close(self, workers: int) -> None:
        """Wake every worker so each sees the scheduler closed once it is empty."""
        self._closed = True
        self._give(workers)

    def _give(self, count: int) -> None:
        put = self._tokens.put
        for _ in range(count):
            put(None)

    def drain(self) -> list[WorkItem]:
        """Remove and return every queued item (``shutdown(cancel_futures=True)``)."""
        items: list[WorkItem] = []
        with self._injector_lock:
            items.extend(self._injector)
            self._injector.clear()
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
