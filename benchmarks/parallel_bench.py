"""Per-core executors, HBTP transfer and entangled counters, each side by side with its peer.

    python benchmarks/parallel_bench.py            # the full table
    python benchmarks/parallel_bench.py --quick    # fewer rounds, sizes up to 64 MiB

Sections (every number is a ratio against what a user would pick instead,
measured in the same run; times are the best wall time of ``--repeat`` rounds,
because parallel speed-up is a wall-clock property):

1. nogil kernel: ``@dxpy.jit(nogil=True)`` on one thread, on
   ``Executor(kind="thread")``, on ``ThreadPoolExecutor``; numba
   ``@njit(nogil=True)`` on one thread and on ``ThreadPoolExecutor``.
2. ``Executor(kind="thread")`` vs ``ThreadPoolExecutor``: per-task overhead.
3. ``Executor(kind="process").map`` vs ``ProcessPoolExecutor.map``: tiny
   tasks (per-task overhead) and 10 MiB array arguments.
4. HBTP array round trip (``Channel``) vs ``multiprocessing.Queue``, 1 KiB ..
   256 MiB; the receiver reports whether the array's buffer is shared memory.
5. Entangled counter ``update()`` vs ``multiprocessing.Value`` under its lock,
   2 processes incrementing at once.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import math
import multiprocessing
import os
import sys
import time
import uuid
from typing import Any, Callable

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import dxpy  # noqa: E402
from dxpy.ipc import Channel, ChannelClosed, Entangled, atomics  # noqa: E402
from dxpy.parallel import Executor  # noqa: E402

FORK = multiprocessing.get_context("fork")


def best(fn: Callable[[], Any], repeat: int) -> float:
    """Best wall time of ``repeat`` calls."""
    result = math.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        result = min(result, time.perf_counter() - t0)
    return result


def interleaved(variants: dict[str, Callable[[], Any]], repeat: int
                ) -> dict[str, tuple[float, float]]:
    """(best wall time, best process CPU time) of each variant, the variants
    run in turn ``repeat`` times so that all of them see the same machine
    load (the machine is shared: a lone best-of run can hit a quiet or a
    busy moment that its peer never saw)."""
    wall = dict.fromkeys(variants, math.inf)
    cpu = dict.fromkeys(variants, math.inf)
    for _ in range(repeat):
        for label, fn in variants.items():
            c0, t0 = time.process_time(), time.perf_counter()
            fn()
            wall[label] = min(wall[label], time.perf_counter() - t0)
            cpu[label] = min(cpu[label], time.process_time() - c0)
    return {label: (wall[label], cpu[label]) for label in variants}


def row(label: str, seconds: float, baseline: float, note: str = "") -> None:
    print(f"  {label:<52} {seconds * 1e3:10.2f} ms  {baseline / seconds:6.2f}x  {note}")


# -- 1. nogil kernels -------------------------------------------------------------------
def kernel_source(values: np.ndarray, rounds: int) -> float:
    total = 0.0
    for r in range(rounds):
        for i in range(values.shape[0]):
            total += math.sqrt(values[i] + r)
    return total


def _timed_half(fn: Callable[[np.ndarray, int], float], values: np.ndarray, rounds: int
                ) -> tuple[float, float, float]:
    """One half's result and its wall-clock span (start, end) on this thread."""
    start = time.perf_counter()
    result = fn(values, rounds)
    return result, start, time.perf_counter()


def _overlap(spans: list[tuple[float, float, float]]) -> float:
    """How much of the two halves' combined span both ran at once (1.0: fully
    concurrent; 0.0: one after the other, as if the kernel held the GIL)."""
    (_, s1, e1), (_, s2, e2) = spans
    return max(0.0, min(e1, e2) - max(s1, s2)) / (max(e1, e2) - min(s1, s2))


def bench_nogil(repeat: int, quick: bool) -> None:
    import numba
    dx = dxpy.jit(nogil=True)(kernel_source)
    nb = numba.njit(nogil=True)(kernel_source)
    values = np.random.default_rng(0).random(200_000)
    rounds = 20 if quick else 60
    halves = [rounds // 2, rounds - rounds // 2]
    assert dx(values, 2) == kernel_source(values, 2) and nb(values, 2) == dx(values, 2)
    print(f"1. nogil kernel (sqrt over 200k floats x {rounds}, halves on 2 threads): vs the "
          f"same kernel on one thread (interleaved; CPU/wall = cores kept busy, overlap = "
          f"share of the time both halves ran at once)")
    spans: dict[str, list[list[tuple[float, float, float]]]] = {}

    def halves_on(label: str, pool: concurrent.futures.Executor,
                  fn: Callable[[np.ndarray, int], float]) -> Callable[[], None]:
        spans[label] = []
        return lambda: spans[label].append(list(pool.map(
            _timed_half, [fn] * 2, [values] * 2, halves)))

    with Executor(2, kind="thread") as ex, Executor(2, kind="thread", pin=True) as pinned, \
            concurrent.futures.ThreadPoolExecutor(2) as tpe:
        times = interleaved({
            "dxpy.jit nogil, 1 thread": lambda: dx(values, rounds),
            "dxpy.jit nogil, Executor(kind='thread') x2": halves_on("dx ex", ex, dx),
            "dxpy.jit nogil, Executor(kind='thread', pin=True) x2":
                halves_on("dx pinned", pinned, dx),
            "dxpy.jit nogil, ThreadPoolExecutor x2": halves_on("dx tpe", tpe, dx),
            "numba nogil, 1 thread": lambda: nb(values, rounds),
            "numba nogil, ThreadPoolExecutor x2": halves_on("nb tpe", tpe, nb)}, repeat)
    reference = dx(values, halves[0]) + dx(values, halves[1])
    for runs in spans.values():  # every split run's halves add up to the reference
        assert all(math.isclose(a[0] + b[0], reference, rel_tol=1e-12) for a, b in runs)
    overlaps = iter(max(_overlap(run) for run in runs) for runs in spans.values())
    for label, (wall, cpu) in times.items():
        one = times[label.split(",")[0] + ", 1 thread"][0]  # each against its own 1 thread
        note = "" if label.endswith("1 thread") else f", overlap {next(overlaps):.2f}"
        row(label, wall, one, f"CPU/wall {cpu / wall:.2f}{note}")


# -- 2. thread executor overhead ----------------------------------------------------------
def tiny(x: int) -> int:
    return x + 1


def bench_thread_overhead(repeat: int, quick: bool) -> None:
    n = 2000 if quick else 10_000
    print(f"2. thread executor per-task overhead ({n} tiny tasks): vs ThreadPoolExecutor "
          f"(interleaved; CPU = all threads, per task)")
    with Executor(2, kind="thread") as ex, Executor(2, kind="thread", pin=True) as pinned, \
            concurrent.futures.ThreadPoolExecutor(2) as tpe:
        times = interleaved({
            "ThreadPoolExecutor(2).map": lambda: list(tpe.map(tiny, range(n))),
            "Executor(kind='thread').map": lambda: list(ex.map(tiny, range(n))),
            "Executor(kind='thread', pin=True).map": lambda: list(pinned.map(tiny, range(n))),
            "ThreadPoolExecutor(2).submit x n":
                lambda: [f.result() for f in [tpe.submit(tiny, i) for i in range(n)]],
            "Executor(kind='thread').submit x n":
                lambda: [f.result() for f in [ex.submit(tiny, i) for i in range(n)]]},
            repeat * 2)
    base, base_cpu = times["ThreadPoolExecutor(2).map"]
    for label, (wall, cpu) in times.items():
        row(label, wall, base, f"CPU {cpu / n * 1e6:.2f} us/task ({base_cpu / cpu:.2f}x)")


# -- 3. process executors ---------------------------------------------------------------
def array_sum(a: np.ndarray) -> float:
    return float(a.sum())


def bench_process(repeat: int, quick: bool) -> None:
    n = 1000 if quick else 4000
    arrays = [np.full(10 << 17, float(i)) for i in range(8)]  # 10 MiB each
    print(f"3. process executors: vs ProcessPoolExecutor.map (fork), {n} tiny tasks / "
          f"8 x 10 MiB arrays")
    with Executor(2, kind="process") as ex, \
            concurrent.futures.ProcessPoolExecutor(2, mp_context=FORK) as ppe:
        list(ppe.map(tiny, range(10)))
        list(ex.map(tiny, range(10)))
        for chunksize in (1, 50):
            base = best(lambda: list(ppe.map(tiny, range(n), chunksize=chunksize)), repeat)
            row(f"ProcessPoolExecutor.map tiny, chunksize={chunksize}", base, base)
            row(f"Executor(kind='process').map tiny, chunksize={chunksize}",
                best(lambda: list(ex.map(tiny, range(n), chunksize=chunksize)), repeat), base)
        expected = [array_sum(a) for a in arrays]
        assert list(ex.map(array_sum, arrays)) == list(ppe.map(array_sum, arrays)) == expected
        base = best(lambda: list(ppe.map(array_sum, arrays)), repeat)
        row("ProcessPoolExecutor.map 10 MiB arrays", base, base)
        row("Executor(kind='process').map 10 MiB arrays",
            best(lambda: list(ex.map(array_sum, arrays)), repeat), base)


# -- 4. HBTP vs multiprocessing.Queue ---------------------------------------------------
def _queue_echo(inbox: Any, outbox: Any) -> None:
    while (item := inbox.get()) is not None:
        outbox.put(item.nbytes)


def _channel_echo(channel: Channel) -> None:
    checked_size = -1
    while True:
        try:
            array = channel.recv()
        except ChannelClosed:
            return
        size = array.nbytes
        # /proc/self/maps is read for each new size only (it costs ~1 ms)
        shared = _in_memfd(array) if size != checked_size else None
        checked_size = size
        del array
        channel.send((size, shared))


def _in_memfd(array: np.ndarray) -> bool:
    address = array.__array_interface__["data"][0]
    with open("/proc/self/maps") as maps:
        for line in maps:
            if "/memfd:dxpy-arena" in line:
                start, end = (int(x, 16) for x in line.split()[0].split("-"))
                if start <= address < end:
                    return True
    return False


def bench_transfer(repeat: int, quick: bool) -> None:
    sizes = [1 << 10, 64 << 10, 1 << 20, 16 << 20, 64 << 20] + ([] if quick else [256 << 20])
    print("4. array round trip (send array, receive its size): vs multiprocessing.Queue "
          "(interleaved batches; time and this process's CPU per round trip)")
    parent, child_end = Channel.pair()
    echo = FORK.Process(target=_channel_echo, args=(child_end,), daemon=True)
    echo.start()
    child_end.close()
    inbox, outbox = FORK.Queue(), FORK.Queue()
    queue_echo = FORK.Process(target=_queue_echo, args=(inbox, outbox), daemon=True)
    queue_echo.start()
    try:
        for size in sizes:
            array = np.random.default_rng(1).random(size // 8)
            batch = max(1, min(200, (16 << 20) // size))  # round trips per timed batch
            parent.send(array)
            _, shared = parent.recv()
            inbox.put(array)
            outbox.get()
            times = interleaved({
                "queue": lambda: [(inbox.put(array), outbox.get()) for _ in range(batch)],
                "hbtp": lambda: [(parent.send(array), parent.recv()) for _ in range(batch)]},
                max(repeat, 3) if size < (64 << 20) else repeat)
            (base, base_cpu), (hbtp, cpu) = times["queue"], times["hbtp"]
            label = f"{size >> 20} MiB" if size >= 1 << 20 else f"{size >> 10} KiB"
            row(f"mp.Queue {label}", base / batch, base / batch,
                f"CPU {base_cpu / batch * 1e6:,.0f} us")
            row(f"HBTP Channel {label}", hbtp / batch, base / batch,
                f"CPU {cpu / batch * 1e6:,.0f} us ({base_cpu / cpu:.2f}x), "
                + ("shared memory" if shared else "in band"))
    finally:
        inbox.put(None)
        parent.close()
        echo.join(10)
        queue_echo.join(10)


# -- 5. entangled counters --------------------------------------------------------------
def _entangled_increments(name: str, count: int) -> Callable[[], None]:
    counter = Entangled.open(name)

    def loop() -> None:
        for _ in range(count):
            counter.update(lambda n: n + 1)
    return loop


def _value_increments(value: Any, count: int) -> Callable[[], None]:
    def loop() -> None:
        for _ in range(count):
            with value.get_lock():
                value.value += 1
    return loop


def bench_entangled(repeat: int, quick: bool) -> None:
    count = 2000 if quick else 10_000
    print(f"5. shared counter, 2 processes x {count} increments: vs multiprocessing.Value+lock"
          f" (loop time only; CPU = per update, per process)")
    protocols = ["atomic", "lock"] if atomics.AVAILABLE else ["lock"]
    results: dict[str, list[tuple[float, float]]] = {p: [] for p in ["value", *protocols]}
    counters = {p: Entangled.create(f"bench-{uuid.uuid4().hex[:8]}", 0, protocol=p)
                for p in protocols}
    try:
        for round_ in range(repeat):  # interleaved: all see the same machine load
            value = FORK.Value("q", 0)
            results["value"].append(_run_pair(_value_increments, (value, count)))
            assert value.value == 2 * count
            for protocol, counter in counters.items():
                results[protocol].append(_run_pair(_entangled_increments, (counter.name, count)))
                assert counter.value == 2 * count * (round_ + 1)
    finally:
        for counter in counters.values():
            counter.close()
    base, base_cpu = min(results["value"])
    row("multiprocessing.Value + lock", base, base,
        f"{2 * count / base:,.0f} updates/s, CPU {base_cpu * 1e9:,.0f} ns/update")
    for protocol in protocols:
        took, cpu = min(results[protocol])
        row(f"Entangled.update ({protocol} protocol)", took, base,
            f"{2 * count / took:,.0f} updates/s, CPU {cpu * 1e9:,.0f} ns/update, exact")


def _pair_child(make_loop: Callable[..., Callable[[], None]], args: tuple[Any, ...],
                barrier: Any, report: Any) -> None:
    loop = make_loop(*args)
    barrier.wait()
    cpu, start = time.thread_time(), time.perf_counter()
    loop()
    report.send((start, time.perf_counter(), time.thread_time() - cpu))


def _run_pair(make_loop: Callable[..., Callable[[], None]], args: tuple[Any, ...]
              ) -> tuple[float, float]:
    """Two processes run ``make_loop(*args)()`` at once, started together
    (process start-up and ``open`` are not timed): (wall time from the first
    start to the last end, mean CPU seconds per loop iteration)."""
    barrier = FORK.Barrier(2)
    pipes = [FORK.Pipe(duplex=False) for _ in range(2)]
    processes = [FORK.Process(target=_pair_child, args=(make_loop, args, barrier, sender))
                 for _, sender in pipes]
    for process in processes:
        process.start()
    reports = [receiver.recv() for receiver, _ in pipes]
    for process in processes:
        process.join()
        assert process.exitcode == 0
    count = args[1]
    wall = max(end for _, end, _ in reports) - min(start for start, _, _ in reports)
    return wall, sum(cpu for _, _, cpu in reports) / (2 * count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds and sizes")
    parser.add_argument("--repeat", type=int, default=None, help="rounds per measurement")
    parser.add_argument("--only", default="12345", help="sections to run, e.g. 14")
    options = parser.parse_args()
    repeat = options.repeat or (3 if options.quick else 5)
    print(f"parallel_bench: {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.2f}, repeat {repeat}{' (quick)' if options.quick else ''}")
    sections = {"1": lambda: bench_nogil(repeat, options.quick),
                "2": lambda: bench_thread_overhead(repeat, options.quick),
                "3": lambda: bench_process(repeat, options.quick),
                "4": lambda: bench_transfer(repeat, options.quick),
                "5": lambda: bench_entangled(repeat, options.quick)}
    for key in options.only:
        sections[key]()


if __name__ == "__main__":
    main()
