"""``ReactorPool``: one thread per core, each with its own reactor and loop.

Why threads each owning a loop rather than one loop shared by threads: an
io_uring ring is single-issuer by default (the fastest mode, see
docs/architecture.md), so a loop must be created, run and closed on one
thread.  Each ``ReactorThread`` therefore builds its loop *inside* the thread,
pins itself to its core (``dxpy.cores.pin_current``; refused pinning is not an
error) and runs the loop until ``stop()``, then cancels what is left and closes
the loop on the same thread, so no ring, fd or thread outlives the pool.

Work reaches a pool loop from anywhere: ``pool.run(coro)`` returns a
``concurrent.futures.Future`` (any thread), ``await pool.spawn(coro)`` from
another event loop, ``pool.call(fn, *args)`` runs a plain callable as a task
on a pool loop (the seam the runtime's background services use).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from typing import Any, Callable, Coroutine, TypeVar

from .. import cores
from ..policy import new_event_loop

T = TypeVar("T")

#: How often each pool loop records a heartbeat (seconds); ``health()``
#: reports a loop that has not beaten for longer as stalled.
HEARTBEAT_INTERVAL = 0.25

_current = threading.local()


def get_loop() -> asyncio.AbstractEventLoop:
    """The current thread's loop: its pool loop on a ``ReactorPool`` thread,
    else the running loop; ``RuntimeError`` when the thread has neither."""
    loop = getattr(_current, "loop", None)
    if loop is not None:
        return loop
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        raise RuntimeError("get_loop(): this thread is not a ReactorPool thread "
                           "and runs no event loop") from None


class ReactorThread(cores.ThreadCoreWorker):
    """One pool thread: creates, runs and closes its own loop."""

    def __init__(self, index: int, core: int | None, reactor: str | None,
                 name: str, daemon: bool) -> None:
        super().__init__(index, core, f"{name}-{index}", daemon)
        self._reactor_name = reactor
        self._started = threading.Event()
        self._start_error: BaseException | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.pinned = False
        #: Coroutines and calls handed to this thread and not finished yet.
        self.in_flight = 0
        self.completed = 0
        self._count_lock = threading.Lock()

    # -- CoreWorker ----------------------------------------------------------------
    def start(self) -> None:
        super().start()
        self._started.wait()
        if self._start_error is not None:
            self.thread.join()
            raise RuntimeError(f"reactor thread {self.index} could not start its loop: "
                               f"{self._start_error}") from self._start_error

    def request_stop(self) -> None:
        loop = self.loop
        if loop is not None and self.thread.is_alive():
            try:
                loop.call_soon_threadsafe(loop.stop)
            except RuntimeError:  # the loop closed on its own already
                pass

    def health(self) -> cores.Health:
        health = super().health()
        health.core = self.core if self.pinned else None
        health.detail = {"in_flight": self.in_flight, "completed": self.completed,
                         "backend": getattr(getattr(self.loop, "reactor", None), "backend", None)}
        return health

    # -- the thread ----------------------------------------------------------------
    def run(self) -> None:
        try:
            if self.core is not None:
                self.pinned = cores.pin_current(self.core)
            loop = new_event_loop(self._reactor_name)
        except BaseException as exc:  # noqa: BLE001 - reported to start()
            self._start_error = exc
            self._started.set()
            return
        self.loop = loop
        _current.loop = loop
        asyncio.set_event_loop(loop)
        loop.call_soon(self._tick)
        self._started.set()
        try:
            loop.run_forever()
        finally:
            _close_loop(loop)
            asyncio.set_event_loop(None)
            _current.loop = None

    def _tick(self) -> None:
        self.heartbeat()
        assert self.loop is not None
        self.loop.call_later(HEARTBEAT_INTERVAL, self._tick)

    def track(self, future: concurrent.futures.Future[Any]) -> None:
        """Count ``future`` as in flight on this thread until it completes."""
        with self._count_lock:
            self.in_flight += 1
        future.add_done_callback(self._untrack)

    def _untrack(self, _future: concurrent.futures.Future[Any]) -> None:
        with self._count_lock:
            self.in_flight -= 1
            self.completed += 1


def _close_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel the loop's remaining tasks, let them unwind, close it (own thread)."""
    tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.run_until_complete(loop.shutdown_default_executor())
    loop.close()


class ReactorPool:
    """A thread per core, each running its own dxpy loop.

    ``workers``: ``None``/``0``/``"auto"`` = one per available core
    (``dxpy.cores.resolve_workers``); ``pin``: pin thread *i* to
    ``dxpy.cores.core_for(i)``; ``reactor``: the backend each loop uses.
    Use as a context manager, or call ``start()``/``stop()``.
    """

    def __init__(self, workers: int | str | None = None, *, pin: bool = True,
                 reactor: str | None = None, name: str = "dxpy-reactor",
                 daemon: bool = False) -> None:
        count = cores.resolve_workers(workers)
        self._threads = [ReactorThread(i, cores.core_for(i) if pin else None, reactor,
                                       name, daemon) for i in range(count)]
        self._lock = threading.Lock()
        self._state = "new"

    # -- life ----------------------------------------------------------------------
    def start(self) -> "ReactorPool":
        """Start every thread; returns once every loop runs."""
        with self._lock:
            if self._state != "new":
                raise RuntimeError(f"ReactorPool.start(): the pool is {self._state}")
            self._state = "starting"
        started: list[ReactorThread] = []
        try:
            for thread in self._threads:
                thread.start()
                started.append(thread)
        except BaseException:
            for thread in started:
                thread.stop()
            self._state = "stopped"
            raise
        self._state = "running"
        return self

    def stop(self, timeout: float | None = 10.0) -> bool:
        """Stop every loop (pending tasks are cancelled) and join the threads;
        True when all of them ended within ``timeout`` seconds."""
        with self._lock:
            if self._state in ("new", "stopped"):
                self._state = "stopped"
                return True
            self._state = "stopped"
        deadline = None if timeout is None else time.monotonic() + timeout
        ok = True
        for thread in self._threads:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            ok = thread.stop(left) and ok
        return ok

    def __enter__(self) -> "ReactorPool":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """Whether the pool has started and not been stopped."""
        return self._state == "running"

    def __len__(self) -> int:
        return len(self._threads)

    def health(self) -> list[cores.Health]:
        """One ``dxpy.cores.Health`` per thread (supervisors, ``dxpy info``)."""
        return [thread.health() for thread in self._threads]

    # -- work ----------------------------------------------------------------------
    def loop(self, index: int) -> asyncio.AbstractEventLoop:
        """The loop of thread ``index`` (call into it with ``call_soon_threadsafe``)."""
        self._check_running()
        loop = self._threads[index].loop
        assert loop is not None
        return loop

    def run(self, coro: Coroutine[Any, Any, T], core: int | None = None
            ) -> concurrent.futures.Future[T]:
        """Run ``coro`` as a task on thread ``core`` (None: the least busy);
        cancelling the returned future cancels the task."""
        try:
            thread = self._pick(core)
        except (RuntimeError, IndexError):
            coro.close()  # never scheduled: no "never awaited" warning
            raise
        assert thread.loop is not None
        try:
            future = asyncio.run_coroutine_threadsafe(coro, thread.loop)
        except RuntimeError:
            coro.close()
            raise RuntimeError("ReactorPool.run(): the pool is stopping") from None
        thread.track(future)
        return future

    def call(self, fn: Callable[..., T], *args: Any, core: int | None = None
             ) -> concurrent.futures.Future[T]:
        """Run the plain callable ``fn(*args)`` as a task on a pool loop."""
        async def as_task() -> T:
            return fn(*args)
        return self.run(as_task(), core)

    async def spawn(self, coro: Coroutine[Any, Any, T], core: int | None = None) -> T:
        """``await pool.spawn(coro)`` from another loop: run it on the pool and
        wait without blocking the caller's loop; cancelling the await cancels it."""
        return await asyncio.wrap_future(self.run(coro, core))

    def _pick(self, core: int | None) -> ReactorThread:
        self._check_running()
        if core is not None:
            if not 0 <= core < len(self._threads):
                raise IndexError(f"no pool thread {core}: the pool has {len(self._threads)}")
            return self._threads[core]
        return min(self._threads, key=lambda t: t.in_flight)

    def _check_running(self) -> None:
        if self._state != "running":
            raise RuntimeError(f"the ReactorPool is {self._state}, not running")


__all__ = ["HEARTBEAT_INTERVAL", "ReactorPool", "ReactorThread", "get_loop"]
