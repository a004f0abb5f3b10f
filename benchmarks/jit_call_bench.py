"""Per-call overhead of ``dxpy.jit`` against ``numba.njit`` and a plain Python function.

    python benchmarks/jit_call_bench.py            # every call shape, 200k calls each
    python benchmarks/jit_call_bench.py -n 50000 -r 7

Why: a compiled kernel that runs for well under a millisecond (stencil: ~0.7 ms)
pays the dispatcher's Python work -- signature lookup, guards, packing the machine
code's arguments, boxing its result -- on every call, where numba's dispatcher is C.
Each call shape is a trivial function, so what is timed is that overhead alone.
Times are thread CPU time per call (preemption by other processes does not count),
the best of ``-r`` rounds of ``-n`` calls, numba/dxpy/Python rounds interleaved.
"""

from __future__ import annotations

import argparse
import math
import time
from typing import Any, Callable

import numpy as np
from jit_bench import make_kernels


def _add(a, b):  # type: ignore[no-untyped-def]
    return a + b


def _first(x):  # type: ignore[no-untyped-def]
    return x[0]


def _corner(a, out):  # type: ignore[no-untyped-def]
    out[0, 0] = a[1, 1]
    return out[0, 0]


def shapes() -> dict[str, tuple[Callable[..., Any], tuple[Any, ...]]]:
    """Call shape name -> (plain function, arguments); the last is jit_bench's stencil
    with no iterations: its real call, minus the loops."""
    grid = np.ones((8, 8))
    big = np.ones((400, 400))
    stencil = make_kernels(lambda f: f)["stencil"]
    return {"(int, int)": (_add, (3, 4)),
            "(float64[:])": (_first, (np.arange(8.0),)),
            "(float64[:,:] x2)": (_corner, (grid, np.zeros_like(grid))),
            "stencil(a, out, 0)": (stencil, (big, np.zeros_like(big), 0))}


def per_call(fn: Callable[..., Any], args: tuple[Any, ...], n: int) -> float:
    """Thread CPU seconds per call over ``n`` calls."""
    loop = range(n)
    t0 = time.thread_time()
    for _ in loop:
        fn(*args)
    return (time.thread_time() - t0) / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--calls", type=int, default=200_000)
    parser.add_argument("-r", "--repeat", type=int, default=5)
    opts = parser.parse_args()
    import numba

    import dxpy.jit
    print(f"{'call':20}{'python':>10}{'numba':>10}{'dxpy':>10}{'dxpy/numba':>12}"
          f"{'dxpy/python':>12}")
    for name, (py, args) in shapes().items():
        impls = {"python": py, "numba": numba.njit(py), "dxpy": dxpy.jit.jit(py)}
        results = {k: f(*args) for k, f in impls.items()}  # compiles, and checks
        assert all(r == results["python"] for r in results.values()), (name, results)
        best = dict.fromkeys(impls, math.inf)
        for _ in range(opts.repeat):
            for key, fn in impls.items():
                best[key] = min(best[key], per_call(fn, args, opts.calls))
        us = {k: v * 1e6 for k, v in best.items()}
        print(f"{name:20}{us['python']:8.3f}us{us['numba']:8.3f}us{us['dxpy']:8.3f}us"
              f"{us['dxpy'] / us['numba']:11.2f}x{us['dxpy'] / us['python']:11.2f}x")


if __name__ == "__main__":
    main()
