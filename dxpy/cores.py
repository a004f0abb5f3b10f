"""What every per-core component shares: which cores, pinning, and a worker's life.

dxpy's parallel shape is "one reactor and loop per core" (docs/architecture.md,
"Per-core reactors").  Several components follow it: ``dxpy serve --workers``
(a process per core), ``dxpy.parallel.ReactorPool`` and its executors (a
thread per core), and the background services that run as tasks on those
loops (JIT compilation, cache validation).  They share three things, kept
here so each does not re-invent them:

* ``available_cores()`` / ``resolve_workers()``: the CPUs this process may run
  on (its affinity mask, not ``os.cpu_count()``: containers and ``taskset``
  restrict it) and what ``workers=0 | "auto" | None`` means.
* ``pin_current(core)``: pin the calling thread (Linux: ``sched_setaffinity``
  with pid 0 acts on the calling thread only) where the OS permits it,
  reporting rather than raising when it does not.
* ``CoreWorker``: the start / stop / health contract a supervisor relies on,
  whether the worker is a thread or a process.
"""

from __future__ import annotations

import abc
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any


def available_cores() -> list[int]:
    """The CPU numbers this process may run on, in ascending order."""
    try:
        return sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux: every CPU the OS reports
        return list(range(os.cpu_count() or 1))


def resolve_workers(workers: int | str | None) -> int:
    """Turn a ``--workers``-style value into a count: ``None``, ``0`` and
    ``"auto"`` mean one per available core; a positive int is taken as is."""
    if workers is None or workers == 0 or workers == "auto":
        return len(available_cores())
    if isinstance(workers, str):
        try:
            workers = int(workers)
        except ValueError:
            raise ValueError(f"workers must be a positive integer, 0 or 'auto', "
                             f"not {workers!r}") from None
        return resolve_workers(workers)
    if not isinstance(workers, int) or workers < 0:
        raise ValueError(f"workers must be a positive integer, 0 or 'auto', not {workers!r}")
    return workers


def core_for(index: int) -> int:
    """The core the ``index``-th worker is pinned to (round robin over the
    available cores, so more workers than cores share them evenly)."""
    cores = available_cores()
    return cores[index % len(cores)]


def pin_current(core: int) -> bool:
    """Pin the calling thread to ``core``; False (and no change) where the OS
    or the sandbox refuses, so pinning is an optimisation, never a failure."""
    try:
        os.sched_setaffinity(0, {core})
    except (AttributeError, OSError, ValueError):
        return False
    return True


@dataclass
class Health:
    """A worker's answer to "are you well?": what a supervisor logs or restarts on."""

    alive: bool
    #: Which core it runs on (None when it is not pinned).
    core: int | None = None
    #: Seconds since the worker last reported progress (loop iteration,
    #: heartbeat); None when it does not report.
    stalled_for: float | None = None
    #: How often the supervisor has restarted it.
    restarts: int = 0
    #: Component-specific counters (requests served, tasks run, ...).
    detail: dict[str, Any] = field(default_factory=dict)


class CoreWorker(abc.ABC):
    """One per-core worker (a thread or a process) as a supervisor sees it."""

    def __init__(self, index: int, core: int | None = None) -> None:
        self.index = index
        self.core = core
        self.restarts = 0
        self._beat = time.monotonic()

    def heartbeat(self) -> None:
        """Record progress (called from the worker, or when it reports in)."""
        self._beat = time.monotonic()

    @abc.abstractmethod
    def start(self) -> None:
        """Start the worker; returns once it runs (or raises why it cannot)."""

    @abc.abstractmethod
    def stop(self, timeout: float | None = None) -> bool:
        """Ask the worker to finish and wait up to ``timeout`` seconds;
        True if it ended within it."""

    @abc.abstractmethod
    def is_alive(self) -> bool:
        """Whether the worker is still running."""

    def health(self) -> Health:
        """The supervisor's view; subclasses add ``detail``."""
        alive = self.is_alive()
        return Health(alive=alive, core=self.core,
                      stalled_for=time.monotonic() - self._beat if alive else None,
                      restarts=self.restarts)


class ThreadCoreWorker(CoreWorker):
    """A ``CoreWorker`` that is one thread running ``run()`` (ReactorPool
    threads, executor workers): start, join-on-stop and liveness in one place."""

    def __init__(self, index: int, core: int | None, name: str, daemon: bool) -> None:
        super().__init__(index, core)
        self.thread = threading.Thread(target=self.run, name=name, daemon=daemon)

    @abc.abstractmethod
    def run(self) -> None:
        """The thread's body."""

    def request_stop(self) -> None:
        """Ask ``run()`` to return (subclasses whose run does not end by itself)."""

    def start(self) -> None:
        self.thread.start()

    def stop(self, timeout: float | None = None) -> bool:
        self.request_stop()
        if self.thread is not threading.current_thread():
            self.thread.join(timeout)
        return not self.thread.is_alive()

    def is_alive(self) -> bool:
        return self.thread.is_alive()


__all__ = ["CoreWorker", "Health", "ThreadCoreWorker", "available_cores", "core_for", "pin_current",
           "resolve_workers"]
