"""Garbage collection out of the request path.

CPython collects when allocations minus deallocations pass a threshold: that
happens inside whatever code is allocating, i.e. inside a request, and a
collection that walks a large start-up heap (framework, ORM, templates) is a
multi-millisecond pause in someone's response.  ``GcController``:

1. ``freeze()`` after start-up (app imported, lifespan startup done): the
   start-up heap moves to the permanent generation and is never scanned again.
2. Raises the automatic generation-0 threshold to ``SAFETY_FACTOR`` times
   the configured one: automatic collections remain only as a safety net.
3. After each response it compares the young generation's count with the
   normal threshold (one ``gc.get_count()``); past it, a collection is
   scheduled on the loop and runs when no other callback is ready (the loop
   is idle), or at the latest once the count reaches twice the threshold
   under saturating load.  The generation is chosen as CPython would (an
   older generation when its own count passed its threshold), so memory
   behaves as with default GC.
4. Records every collection's pause from ``gc.callbacks`` in two histograms:
   those the controller ran (idle) and those CPython started (in a request).

``pause_report()`` is the GC part of what ``dxpy serve --stats`` reports
(``stats.py``: a log line and an HTTP endpoint).
"""

from __future__ import annotations

import bisect
import gc
import time
from typing import Any

#: Automatic collection thresholds are raised this much: the safety net.
SAFETY_FACTOR = 8
#: Histogram bucket upper bounds, microseconds.
BUCKETS_US = (10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 50000, 100000)


class PauseHistogram:
    """Counts of pauses per bucket, plus total and maximum."""

    def __init__(self) -> None:
        self.counts = [0] * (len(BUCKETS_US) + 1)
        self.total_ns = 0
        self.max_ns = 0

    def add(self, ns: int) -> None:
        self.counts[bisect.bisect_left(BUCKETS_US, ns / 1000)] += 1
        self.total_ns += ns
        if ns > self.max_ns:
            self.max_ns = ns

    @property
    def count(self) -> int:
        return sum(self.counts)

    def quantile_us(self, q: float) -> float:
        """Upper bound of the bucket holding the ``q`` quantile (0 when empty)."""
        total = self.count
        if not total:
            return 0.0
        rank = q * total
        seen = 0
        for index, count in enumerate(self.counts):
            seen += count
            if seen >= rank:
                return float(BUCKETS_US[index]) if index < len(BUCKETS_US) else self.max_ns / 1000
        return self.max_ns / 1000

    def summary(self) -> dict[str, Any]:
        """Quantiles, and the histogram itself: ``buckets`` pairs each upper
        bound in microseconds (None: above the last) with its count."""
        return {"count": self.count, "p50_us": self.quantile_us(0.5),
                "p99_us": self.quantile_us(0.99), "max_us": round(self.max_ns / 1000, 1),
                "total_ms": round(self.total_ns / 1e6, 2),
                "buckets": [[bound, count] for bound, count in
                            zip((*BUCKETS_US, None), self.counts)]}


class GcController:
    """See module docstring.  ``enabled=False`` leaves CPython's GC untouched
    (the pause histograms still record)."""

    def __init__(self, loop: Any, enabled: bool = True) -> None:
        self.loop = loop
        self.enabled = enabled
        self.idle = PauseHistogram()
        self.in_request = PauseHistogram()
        self._thresholds = gc.get_threshold()
        self._trigger = self._thresholds[0]
        self._hard = 2 * self._thresholds[0]
        self._scheduled = False
        self._running_idle = False
        self._started_ns = 0
        self._installed = False
        self._ready: Any = getattr(loop, "_ready", None)

    # ---- life --------------------------------------------------------------
    def install(self) -> None:
        """After start-up: freeze the heap, take over young collections."""
        if self.enabled:
            gc.collect()
            gc.freeze()
            t0, t1, t2 = self._thresholds
            gc.set_threshold(t0 * SAFETY_FACTOR, t1, t2)
        gc.callbacks.append(self._on_gc)
        self._installed = True

    def uninstall(self) -> None:
        if self._installed:
            gc.callbacks.remove(self._on_gc)
            self._installed = False
        if self.enabled:
            gc.set_threshold(*self._thresholds)
            gc.unfreeze()

    # ---- the request path: one call per response -------------------------
    def after_response(self) -> None:
        if self.enabled and not self._scheduled and gc.get_count()[0] >= self._trigger:
            self._scheduled = True
            self.loop.call_soon(self._collect_when_idle)

    def _collect_when_idle(self) -> None:
        ready = self._ready
        if ready and gc.get_count()[0] < self._hard:
            self.loop.call_soon(self._collect_when_idle)  # work is ready: after it
            return
        self._scheduled = False
        counts = gc.get_count()
        generation = 2 if counts[2] >= self._thresholds[2] else 1 if counts[1] >= self._thresholds[1] else 0
        self._running_idle = True
        try:
            gc.collect(generation)
        finally:
            self._running_idle = False

    # ---- measuring ---------------------------------------------------------
    def _on_gc(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._started_ns = time.perf_counter_ns()
            return
        elapsed = time.perf_counter_ns() - self._started_ns
        (self.idle if self._running_idle else self.in_request).add(elapsed)

    def pause_report(self) -> dict[str, Any]:
        return {"gc_control": self.enabled, "idle": self.idle.summary(),
                "in_request": self.in_request.summary()}
