"""A stand-in for pyperf's ``Runner`` that times pyperformance benchmarks in CPU time.

``benchmarks/pyperformance_vm.py --cpu`` puts this directory first on
``PYTHONPATH``, so a benchmark's ``import pyperf`` finds it.  Why: on the
shared 2-core machine the wall-clock times pyperf reports move by 2x with
other people's load, while the process's CPU time (``time.process_time``, all
threads: a JIT compile on a background thread counts) moves by a few
percent.  Each ``bench_func``/``bench_time_func`` runs the benchmark once to
warm up, then ``DXPY_CPU_VALUES`` values of ``DXPY_CPU_LOOPS`` loops each, in
one process, and prints one ``dxpy-cpu-result: <name> <median ms per loop>``
line per benchmark; the caller compares the two runtimes side by side.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from typing import Any, Callable

perf_counter = time.perf_counter
RESULT_MARK = "dxpy-cpu-result:"
LOOPS = int(os.environ.get("DXPY_CPU_LOOPS", "2"))
VALUES = int(os.environ.get("DXPY_CPU_VALUES", "3"))


class Runner:
    """The part of ``pyperf.Runner`` pyperformance's pure-Python benchmarks use."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.argparser = argparse.ArgumentParser()
        self.metadata: dict[str, Any] = {}
        self.args: argparse.Namespace | None = None

    def parse_args(self, args: list[str] | None = None) -> argparse.Namespace:
        self.args, _ = self.argparser.parse_known_args(args)
        return self.args

    def bench_func(self, name: str, func: Callable[..., Any], *args: Any,
                   inner_loops: int | None = None, **kwargs: Any) -> None:
        def timed(loops: int) -> None:
            for _ in range(loops):
                func(*args)
        self._measure(name, timed, inner_loops)

    def bench_time_func(self, name: str, func: Callable[..., Any], *args: Any,
                        inner_loops: int | None = None, **kwargs: Any) -> None:
        self._measure(name, lambda loops: func(loops, *args), inner_loops)

    def bench_async_func(self, name: str, func: Callable[..., Any], *args: Any,
                         inner_loops: int | None = None, **kwargs: Any) -> None:
        self.bench_func(name, lambda: asyncio.run(func(*args)), inner_loops=inner_loops)

    def _measure(self, name: str, timed: Callable[[int], Any], inner_loops: int | None) -> None:
        if self.args is None:
            self.parse_args()
        timed(1)  # warm-up: tiers, caches, imports
        values = []
        for _ in range(VALUES):
            started = time.process_time()
            timed(LOOPS)
            values.append((time.process_time() - started) / LOOPS / (inner_loops or 1))
        print(f"{RESULT_MARK} {name} {1e3 * statistics.median(values):.6g}", flush=True)
