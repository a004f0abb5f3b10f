"""``service_pool()``: the process-wide ReactorPool the runtime's own background work uses.

Why one shared pool: JIT tier-2 compilation (``dxpy/jit/tiering.py``) and the
cache's background validation are the runtime's housekeeping, not the
program's; running them as tasks on per-core loops of their own keeps them
off the program's loop (an LLVM compile takes 20-200 ms) without every
subsystem starting threads of its own.  The pool starts lazily, on the first
``service_pool()`` call, so programs that never compile or validate pay
nothing; its threads are daemons stopped at interpreter exit, and a forked
child starts a fresh one (threads do not survive ``fork``).

    from dxpy.parallel import service_pool
    future = service_pool().call(job)          # concurrent.futures.Future
    result = await service_pool().spawn(coro)  # from async code
"""

from __future__ import annotations

import atexit
import os
import threading

from .reactor_pool import ReactorPool

_pool: ReactorPool | None = None
_lock = threading.Lock()


def service_pool() -> ReactorPool:
    """The running process-wide service pool (started on first use)."""
    global _pool
    with _lock:
        if _pool is None or not _pool.running:
            _pool = ReactorPool(name="dxpy-service", daemon=True).start()
        return _pool


def service_pool_started() -> bool:
    """Whether the service pool runs in this process (``dxpy info``, tests)."""
    return _pool is not None and _pool.running


def _stop_at_exit() -> None:
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.stop(timeout=5.0)


def _forget_after_fork() -> None:
    """In a forked child the pool's threads do not exist: start afresh on demand."""
    global _pool, _lock
    _pool = None
    _lock = threading.Lock()


atexit.register(_stop_at_exit)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)

__all__ = ["service_pool", "service_pool_started"]
