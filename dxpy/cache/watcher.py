"""The cache watcher: sources are invalidated as they change, never re-checked on import.

``start_watcher(cache, roots)`` runs ``Watcher.run`` as a task on the
runtime's service pool (``dxpy.parallel.service_pool``: per-core dxpy loops
in background threads, started on first use).  The task:

1. starts ``watchfiles.awatch`` over the roots and waits for its first
   (empty) tick, so the OS watch is in place before anything is trusted;
2. on every tick, hashes the sources served since the last tick (the full
   check, in the loop's executor, so it never holds up the loop or the
   program) and marks those that still match as *trusted*: their later
   imports and ``importlib.reload`` skip even the stat;
3. on every change event, drops the path from the trusted set and forgets
   its entry, so the next import compiles or re-validates it.

A stale entry found in step 2 (the quick check passed but the content
differs) is forgotten and reported in ``Watcher.stale``.  ``stop()`` ends the
task; the pool itself stops at interpreter exit.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from typing import Any

from . import config
from .bytecode import BytecodeCache

#: how often the watcher wakes without events (seconds): the validation cadence
TICK_SECONDS = 0.5


class Watcher:
    """Watches ``roots`` for ``cache``; see the module docstring."""

    def __init__(self, cache: BytecodeCache, roots: list[str]) -> None:
        self.cache = cache
        self.roots = roots
        self.events = 0
        self.stale: list[str] = []
        self.ready = threading.Event()  # set once the OS watch is in place
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.future: concurrent.futures.Future[None] | None = None

    async def run(self) -> None:
        from watchfiles import awatch

        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async for changes in awatch(*self.roots, stop_event=self._stop, yield_on_timeout=True,
                                    rust_timeout=int(TICK_SECONDS * 1000), debounce=20,
                                    step=10, recursive=True):
            for _, path in changes:
                self.events += 1
                self.cache.forget(path)
            await self._validate()
            self.ready.set()

    async def _validate(self) -> None:
        """Hash what was served since the last tick; trust what still matches."""
        fresh = [p for p in list(self.cache.loaded) if p not in self.cache.trusted]
        if not fresh:
            return
        stale = await asyncio.get_running_loop().run_in_executor(
            None, self.cache.validate, fresh)
        self.stale += stale
        self.cache.trusted.update(p for p in fresh if p not in stale)

    def stop(self, timeout: float = 5.0) -> None:
        """End the watch task (waits up to ``timeout`` seconds for it)."""
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self.future is not None:
            try:
                self.future.result(timeout)
            except (concurrent.futures.TimeoutError, concurrent.futures.CancelledError):
                self.future.cancel()


def start_watcher(cache: BytecodeCache, roots: list[str]) -> Watcher | None:
    """Start a ``Watcher`` on the service pool (None, with one warning, if watchfiles
    is missing or the pool cannot start)."""
    try:
        import watchfiles  # noqa: F401 - fail here, clearly, rather than in the task
        from ..parallel import service_pool
    except ImportError as exc:
        config.warn_once("watch", f"cannot watch sources ({exc}); imports stay quick-checked")
        return None
    watcher = Watcher(cache, list(roots))
    watcher.future = service_pool().run(watcher.run())
    watcher.future.add_done_callback(_report_failure)
    return watcher


def _report_failure(future: concurrent.futures.Future[Any]) -> None:
    if future.cancelled() or future.exception() is None:
        return
    config.warn_once("watch-failed", f"the source watcher stopped: {future.exception()!r}")
