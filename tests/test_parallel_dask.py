"""Beyond one machine: Dask's scheduler and workers on the dxpy loop, and Executor-compatible code."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pytest

import dxpy
from dxpy.parallel import Executor

dask = pytest.importorskip("dask", reason="dask[distributed] is a dev dependency")
distributed = pytest.importorskip("distributed")
import dask.array as da  # noqa: E402


def norm_of(i: int) -> float:
    return float(np.linalg.norm(np.arange(i * 1000, dtype=np.float64)))


async def loop_module() -> str:
    loop = asyncio.get_running_loop()
    return "dxpy" if isinstance(loop, dxpy.Loop) else type(loop).__module__


def array_workload() -> Any:
    x = da.random.RandomState(0).random((800, 800), chunks=200)
    return (x + x.T).mean() + x.sum(axis=0).std()  # a transpose shuffle and two reductions


@pytest.fixture
def policy(request: pytest.FixtureRequest) -> Iterator[str]:
    """Install the event loop policy under test (forked Dask processes inherit it)."""
    previous = asyncio.get_event_loop_policy()
    asyncio.set_event_loop_policy(dxpy.Policy() if request.param == "dxpy"
                                  else asyncio.DefaultEventLoopPolicy())
    try:
        with dask.config.set({"distributed.worker.multiprocessing-method": "fork",
                              "distributed.admin.event-loop": "asyncio"}):
            yield request.param
    finally:
        asyncio.set_event_loop_policy(previous)


async def cluster_run() -> tuple[str, dict[str, str], list[float], float]:
    """The LocalCluster workload: (scheduler's loop, workers' loops, map, reduction)."""
    async with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                        asynchronous=True, dashboard_address=None) as cluster:
        async with distributed.Client(cluster, asynchronous=True) as client:
            workers = await client.run(loop_module)
            mapped = await client.gather(client.map(norm_of, range(16)))
            reduced = await client.compute(array_workload())
    return await loop_module(), workers, mapped, float(reduced)


#: Run in a fresh interpreter: forking worker processes out of the test run's
#: own process (which by then holds other tests' threads) can deadlock the
#: child on a lock some thread held at the fork.
_CLUSTER_CHILD = """
import asyncio, json, sys
import dask, dxpy
sys.path.insert(0, sys.argv[2])
from tests.test_parallel_dask import cluster_run
asyncio.set_event_loop_policy(dxpy.Policy() if sys.argv[1] == "dxpy"
                              else asyncio.DefaultEventLoopPolicy())
with dask.config.set({"distributed.worker.multiprocessing-method": "fork",
                      "distributed.admin.event-loop": "asyncio"}):
    print(json.dumps(asyncio.run(cluster_run())))
"""


@pytest.mark.parametrize("loop_name", ["asyncio", "dxpy"])
@pytest.mark.timeout(120)
def test_local_cluster_with_two_worker_processes_on_the_loop(loop_name: str) -> None:
    expected_map = [norm_of(i) for i in range(16)]
    expected_array = float(array_workload().compute(scheduler="sync"))
    root = str(Path(__file__).resolve().parent.parent)
    child = subprocess.Popen([sys.executable, "-c", _CLUSTER_CHILD, loop_name, root],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)  # its Dask workers go with it
    try:
        out, err = child.communicate(timeout=100)
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
    assert child.returncode == 0, err[-2000:]
    scheduler_loop, worker_loops, mapped, reduced = json.loads(out.strip().splitlines()[-1])
    want = "dxpy" if loop_name == "dxpy" else "asyncio.unix_events"
    assert scheduler_loop == want
    assert len(worker_loops) == 2 and set(worker_loops.values()) == {want}
    assert mapped == expected_map
    assert reduced == pytest.approx(expected_array, rel=1e-12)


def portable_workload(executor: concurrent.futures.Executor) -> list[float]:
    """Code written against the concurrent.futures interface only."""
    first = executor.submit(norm_of, 3).result()
    return [first, *executor.map(norm_of, range(8))]


@pytest.mark.parametrize("policy", ["dxpy"], indirect=True)
@pytest.mark.timeout(60)
def test_executor_code_moves_unchanged_to_a_dask_client(policy: str) -> None:
    with Executor(2, kind="thread") as local:
        on_one_box = portable_workload(local)
    with distributed.LocalCluster(n_workers=2, processes=False, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            on_dask = portable_workload(client.get_executor())
            client_loop = client.run_on_scheduler(lambda: type(asyncio.get_running_loop()))
    assert on_dask == on_one_box
    assert issubclass(client_loop, dxpy.Loop)
