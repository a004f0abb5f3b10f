"""ReactorPool: a loop per core thread, pinning, run/spawn/call, clean stop, the service pool."""

from __future__ import annotations

import asyncio
import os
import threading

import pytest

import dxpy
from dxpy import cores
from dxpy.parallel import ReactorPool, get_loop, service_pool
from dxpy.parallel.service import service_pool_started
from tests.conftest import open_fds


async def _where() -> tuple[str, bool, set[int], bool]:
    loop = asyncio.get_running_loop()
    await asyncio.sleep(0)
    return (threading.current_thread().name, get_loop() is loop,
            os.sched_getaffinity(0), isinstance(loop, dxpy.Loop))


def test_each_thread_runs_its_own_dxpy_loop_pinned_to_its_core(backend: str) -> None:
    with ReactorPool(2, reactor=backend) as pool:
        results = [pool.run(_where(), core=i).result(5) for i in range(2)]
        loops = {id(pool.loop(i)) for i in range(2)}
        assert all(pool.loop(i).reactor.backend == backend for i in range(2))
    assert len(loops) == 2
    assert [name for name, *_ in results] == ["dxpy-reactor-0", "dxpy-reactor-1"]
    assert all(same and is_dxpy for _, same, _, is_dxpy in results)
    for i, (_, _, affinity, _) in enumerate(results):
        assert affinity == {cores.core_for(i)}


def test_no_threads_rings_or_fds_outlive_the_pool() -> None:
    threads, fds = threading.active_count(), open_fds()
    for _ in range(3):
        with ReactorPool() as pool:
            assert pool.run(asyncio.sleep(0, "ok")).result(5) == "ok"
    assert threading.active_count() == threads
    assert open_fds() == fds


def test_spawn_from_another_loop_and_cancellation_reaches_the_pool_task() -> None:
    started, cancelled = threading.Event(), threading.Event()

    async def forever() -> None:
        started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async def main(pool: ReactorPool) -> tuple[str, bool]:
        name = (await pool.spawn(_where()))[0]
        waiter = asyncio.ensure_future(pool.spawn(forever()))
        await asyncio.get_running_loop().run_in_executor(None, started.wait, 5)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        return name, await asyncio.get_running_loop().run_in_executor(None, cancelled.wait, 5)

    with ReactorPool(2) as pool:
        name, was_cancelled = dxpy.run(main(pool))
    assert name.startswith("dxpy-reactor-") and was_cancelled


def test_exceptions_propagate_and_stop_cancels_pending_tasks() -> None:
    started, cleaned = threading.Event(), threading.Event()

    async def boom() -> None:
        raise KeyError("from the pool")

    async def pending() -> None:
        started.set()
        try:
            await asyncio.sleep(3600)
        finally:
            cleaned.set()

    pool = ReactorPool(1).start()
    with pytest.raises(KeyError, match="from the pool"):
        pool.run(boom()).result(5)
    future = pool.run(pending())
    assert started.wait(5)
    assert pool.stop(5)
    assert cleaned.is_set() and future.cancelled()
    with pytest.raises(RuntimeError, match="stopped"):
        pool.run(asyncio.sleep(0))


def test_call_runs_plain_callables_and_least_busy_placement() -> None:
    with ReactorPool(2) as pool:
        gate = threading.Event()
        blocker = pool.call(gate.wait, 5, core=0)
        assert pool.call(lambda: threading.current_thread().name).result(5) == "dxpy-reactor-1"
        gate.set()
        assert blocker.result(5) is True
        health = pool.health()
    assert [h.detail["completed"] for h in health] == [1, 1]
    assert all(h.alive and h.stalled_for is not None for h in health)


def test_bad_arguments_are_precise_errors() -> None:
    with pytest.raises(ValueError, match="positive integer"):
        ReactorPool(-1)
    with ReactorPool(1) as pool:
        with pytest.raises(IndexError, match="no pool thread 3"):
            pool.run(asyncio.sleep(0), core=3)
        with pytest.raises(RuntimeError, match="running"):
            pool.start()
    with pytest.raises(RuntimeError, match="not a ReactorPool thread"):
        get_loop()


def test_an_unstartable_backend_fails_start_and_leaves_nothing_behind() -> None:
    threads = threading.active_count()
    with pytest.raises(RuntimeError, match="could not start its loop"):
        ReactorPool(2, reactor="no-such-backend").start()
    assert threading.active_count() == threads


def test_service_pool_is_shared_lazy_and_runs_jit_compile_jobs() -> None:
    from dxpy.jit import tiering

    async def main() -> str:
        return await asyncio.wrap_future(
            tiering.submit(lambda: threading.current_thread().name))

    assert dxpy.run(main()).startswith("dxpy-service-")
    assert service_pool_started() and service_pool() is service_pool()
