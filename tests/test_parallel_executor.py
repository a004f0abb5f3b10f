"""Executor: ordering, exceptions, cancellation, stealing, priorities, shutdown, both kinds."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import threading
import time

import numpy as np
import pytest

import dxpy
from dxpy.parallel import Executor, parallel_map
from tests.conftest import open_fds
from tests.test_ipc_channel import in_shared_memory

KINDS = ["thread", "process"]


def square(x: int) -> int:
    return x * x


def fail_on(x: int, bad: int) -> int:
    if x == bad:
        raise ValueError(f"bad item {x}")
    time.sleep(0.001)
    return x


def nap(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def describe(array: np.ndarray) -> tuple[float, bool, bool]:
    return float(array.sum()), in_shared_memory(array), array.flags.writeable


def die(code: int) -> None:
    os._exit(code)


def pid_of(_: object) -> int:
    return os.getpid()


@pytest.fixture(params=KINDS)
def executor(request: pytest.FixtureRequest) -> Executor:
    with Executor(2, kind=request.param) as ex:
        yield ex


def test_map_keeps_order_and_submit_returns_futures(executor: Executor) -> None:
    assert list(executor.map(square, range(50))) == [x * x for x in range(50)]
    assert list(executor.map(pow, range(20), [2] * 20, chunksize=3)) == [x ** 2 for x in range(20)]
    assert executor.submit(square, 12).result(10) == 144
    assert list(executor.map(square, [])) == []


def test_the_first_exception_propagates_and_the_rest_is_cancelled(executor: Executor) -> None:
    results = executor.map(fail_on, range(400), [3] * 400)
    assert [next(results) for _ in range(3)] == [0, 1, 2]
    with pytest.raises(ValueError, match="bad item 3"):
        next(results)
    with pytest.raises(StopIteration):
        next(results)
    # the executor is still usable and the cancelled calls did not all run
    assert executor.submit(square, 3).result(10) == 9


def test_pending_futures_cancel_and_shutdown_can_cancel_the_queue() -> None:
    gate, started = threading.Event(), threading.Event()
    ex = Executor(1)
    blocker = ex.submit(lambda: (started.set(), gate.wait(10))[1])
    assert started.wait(10)
    queued = [ex.submit(square, i) for i in range(5)]
    assert queued[0].cancel() and queued[0].cancelled()
    ex.shutdown(wait=False, cancel_futures=True)
    gate.set()
    ex.shutdown(wait=True)
    assert blocker.result() is True
    assert all(f.cancelled() for f in queued)
    with pytest.raises(RuntimeError, match="after the Executor was shut down"):
        ex.submit(square, 1)


def test_one_long_task_does_not_stall_the_others_thread_stealing() -> None:
    with Executor(2, kind="thread") as ex:
        finished: list[str] = []

        def long() -> None:
            time.sleep(0.5)
            finished.append("long")

        def short() -> None:
            time.sleep(0.002)
            finished.append("short")

        # worker 0's block is [long, short x 10]; worker 1's is [short x 11]
        futures = ex.map(lambda f: f(), [long] + [short] * 21)
        list(futures)
        assert finished[-1] == "long" and finished.count("short") == 21
        assert ex.steals >= 1


def test_one_long_task_does_not_stall_the_others_process_stealing() -> None:
    with Executor(2, kind="process") as ex:
        start = time.monotonic()
        long = ex.submit(nap, 1.0)
        shorts = list(ex.map(nap, [0.01] * 20))
        assert time.monotonic() - start < 0.9 and not long.done()
        assert shorts == [0.01] * 20 and long.result(10) == 1.0


def test_priorities_order_the_injector_and_nested_submits_stay_local() -> None:
    gate = threading.Event()
    order: list[int] = []
    started = threading.Event()
    with Executor(1, kind="thread") as ex:
        ex.submit(lambda: (started.set(), gate.wait(10)))
        assert started.wait(10)
        futures = [ex.submit_at(p, order.append, p) for p in (5, 0, -3, 5, 1)]
        gate.set()
        concurrent.futures.wait(futures, 10)
        assert order == [-3, 0, 1, 5, 5]

        def parent() -> tuple[concurrent.futures.Future[int], int, int]:
            child = ex.submit(square, 7)
            return child, len(ex._scheduler.locals[0]), ex._scheduler.queued()
        child, on_own_deque, queued = ex.submit(parent).result(10)
        assert on_own_deque == queued == 1  # not the injector: the submitting worker's deque
        assert child.result(10) == 49


def test_process_workers_get_large_arrays_as_shared_memory_views() -> None:
    array = np.arange(10 << 17, dtype=np.float64)  # 10 MiB
    with Executor(2, kind="process") as ex:
        total, shared, writable = ex.submit(describe, array).result(30)
        assert total == float(array.sum()) and shared and not writable
        result = ex.submit(np.multiply, array, 2.0).result(30)
        assert float(result[-1]) == 2.0 * array[-1] and in_shared_memory(result)
        assert len(set(ex.map(pid_of, range(8)))) <= 2


def test_a_crashed_process_worker_fails_its_call_and_is_restarted() -> None:
    with Executor(1, kind="process") as ex:
        before = ex.submit(pid_of, 0).result(30)
        with pytest.raises(concurrent.futures.BrokenExecutor, match="exit code 7"):
            ex.submit(die, 7).result(30)
        assert ex.submit(square, 9).result(30) == 81
        assert ex.submit(pid_of, 0).result(30) != before
        assert ex.health()[0].restarts == 1


def test_unpicklable_calls_and_results_fail_only_their_future() -> None:
    with Executor(1, kind="process") as ex:
        with pytest.raises(Exception, match="pickle|local"):
            ex.submit(lambda: 1).result(30)
        with pytest.raises(Exception, match="pickle|lock"):
            ex.submit(threading.Lock).result(30)
        assert ex.submit(square, 4).result(30) == 16


def test_async_run_and_as_the_loops_default_executor(loop: dxpy.Loop) -> None:
    with Executor(2) as ex:
        async def main() -> tuple[int, int]:
            asyncio.get_running_loop().set_default_executor(ex)
            via_default = await asyncio.get_running_loop().run_in_executor(None, square, 5)
            return via_default, await ex.run(square, 6)
        assert loop.run_until_complete(main()) == (25, 36)


def test_shutdown_leaves_no_threads_processes_or_fds() -> None:
    import multiprocessing
    threads, fds = threading.active_count(), open_fds()
    for kind in KINDS:
        with Executor(kind=kind) as ex:
            assert sum(ex.map(square, range(100))) == sum(x * x for x in range(100))
    assert threading.active_count() == threads
    assert multiprocessing.active_children() == []
    assert open_fds() == fds


def test_parallel_map_one_liner_and_bad_arguments() -> None:
    assert parallel_map(square, range(100)) == [x * x for x in range(100)]
    assert parallel_map(pow, [2, 3], [3, 2], kind="process") == [8, 9]
    with pytest.raises(ValueError, match="'thread' or 'process'"):
        Executor(kind="fiber")
    with Executor(1) as ex, pytest.raises(ValueError, match="chunksize"):
        ex.map(square, [1], chunksize=0)


def nogil_partial_sum(values: np.ndarray, start: int, stop: int) -> float:
    total = 0.0
    for i in range(start, stop):
        total += values[i] * values[i]
    return total


def test_thread_executor_over_a_nogil_jit_kernel_matches_one_call() -> None:
    kernel = dxpy.jit(nogil=True)(nogil_partial_sum)
    values = np.random.default_rng(3).random(100_000)
    whole = kernel(values, 0, values.size)
    bounds = [(i * 25_000, (i + 1) * 25_000) for i in range(4)]
    with Executor(2, kind="thread") as ex:
        parts = list(ex.map(kernel, [values] * 4, *zip(*bounds)))
    assert parts == [nogil_partial_sum(values, a, b) for a, b in bounds]
    assert sum(parts) == pytest.approx(whole, rel=1e-12)


def affinity_of(_: object) -> set[int]:
    time.sleep(0.05)  # long enough that each worker takes its own item
    return os.sched_getaffinity(0)


def test_processes_are_pinned_by_default_threads_only_with_pin_true() -> None:
    from dxpy import cores
    everywhere = set(cores.available_cores())
    expected = [{cores.core_for(i)} for i in range(2)]
    with Executor(2, kind="thread") as free, Executor(2, kind="thread", pin=True) as pinned, \
            Executor(2, kind="process") as procs:
        assert [h.core for h in free.health()] == [None, None]
        assert list(free.map(affinity_of, range(2))) == [everywhere, everywhere]
        assert [h.core for h in pinned.health()] == [c for (c,) in expected]
        assert sorted(map(min, pinned.map(affinity_of, range(2)))) == \
            sorted(c for (c,) in expected)
        assert [h.core for h in procs.health()] == [c for (c,) in expected]
