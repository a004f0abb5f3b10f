"""Automatic tiering benchmark: one script under CPython and under ``dxpy run --vm``.

    python benchmarks/tiering_bench.py            # full sizes
    python benchmarks/tiering_bench.py --quick    # small sizes, smoke run
    python benchmarks/tiering_bench.py --repeat 3 # best of 3 runs per engine

Engines: ``cpython`` (``python script.py``), ``vm`` (``dxpy run --vm`` with
``DXPY_JIT=off``: the DPB interpreter alone), ``vm+jit`` (``dxpy run --vm``,
default tiering: tier 1 after 100 calls, tier 2 compiled in the background
after 1000, OSR after 1000 back-edges) and ``vm+jit eager`` (``DXPY_JIT=eager``:
tier 2 at the first call).  The script times each section itself
(``time.perf_counter``), so interpreter start-up and compilation of the
script to DPB are not in the section times; background compilation *is* (it
shares the machine with the running program).  Every engine's results are
checked against CPython's before any time is reported.  ``DXPY_JIT_THRESHOLD``,
``DXPY_JIT_TIER2_THRESHOLD`` and ``DXPY_JIT_OSR_THRESHOLD`` in the environment
apply to the ``vm+jit`` runs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

WORKLOAD = '''
import json, math, sys, time
SCALE = int(sys.argv[1])

def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)

def poly(x, y):
    return (x * x + 3.0 * y) / (1.0 + abs(x - y))

def mandel_row(y, width, iters):
    count = 0
    for px in range(width):
        cr = -2.0 + 3.0 * px / width
        ci = -1.5 + 3.0 * y / width
        zr = zi = 0.0
        k = 0
        while k < iters and zr * zr + zi * zi <= 4.0:
            zr, zi = zr * zr - zi * zi + cr, 2.0 * zr * zi + ci
            k += 1
        count += k
    return count

def mandel(width, height, iters):
    # the same points as mandel_row, every row in one call: only OSR can tier it,
    # and its hot loop is the innermost of three (entered with the two around it);
    # (written with two assignments; mandel_row's `zr = zi = 0.0` compiles at tier 2 too)
    count = 0
    for y in range(height):
        ci = -1.5 + 3.0 * y / width
        for px in range(width):
            cr = -2.0 + 3.0 * px / width
            zr = 0.0
            zi = 0.0
            k = 0
            while k < iters and zr * zr + zi * zi <= 4.0:
                zr, zi = zr * zr - zi * zi + cr, 2.0 * zr * zi + ci
                k += 1
            count += k
    return count

def long_loop(n):
    s = 0.0
    i = 0
    while i < n:
        s += math.sin(i * 0.001) * math.sqrt(i + 1.0)
        i += 1
    return s

def section(name, work):
    t0 = time.perf_counter()
    value = work()
    times[name] = time.perf_counter() - t0
    values[name] = value

times, values = {}, {}
section("fib (recursive calls)", lambda: fib(18 + 2 * SCALE))
section("fib again (tier 2 in place)", lambda: fib(18 + 2 * SCALE))
section("poly (hot function)",
        lambda: sum(poly(i * 0.5, i * 0.25) for i in range(20000 * SCALE)))
section("mandel (nested loops)",
        lambda: sum(mandel_row(y, 60, 40) for y in range(60 * SCALE)))
section("mandel once (nested OSR)", lambda: mandel(60, 60 * SCALE, 40))
section("long loop (called once: OSR)", lambda: long_loop(200000 * SCALE))
print(json.dumps({"times": times, "values": values}))
'''

ENGINES = {
    "cpython": ([sys.executable], {}),
    "vm": ([sys.executable, "-m", "dxpy", "run", "--vm"], {"DXPY_JIT": "off"}),
    "vm+jit": ([sys.executable, "-m", "dxpy", "run", "--vm"], {"DXPY_JIT": "on"}),
    "vm+jit eager": ([sys.executable, "-m", "dxpy", "run", "--vm"], {"DXPY_JIT": "eager"}),
}


def run(engine: str, script: str, scale: int) -> tuple[dict[str, float], dict[str, float], float]:
    """Section times, section values and the whole process's wall time."""
    command, env = ENGINES[engine]
    environ = dict(os.environ, **env)  # DXPY_JIT_*THRESHOLD from the caller pass through
    t0 = time.perf_counter()
    done = subprocess.run([*command, script, str(scale)], capture_output=True, text=True,
                          env=environ, check=False)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"{engine} failed:\n{done.stderr}")
    report = json.loads(done.stdout)
    return report["times"], report["values"], wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="scale 1 instead of 2")
    parser.add_argument("--repeat", type=int, default=1, help="best of N runs per engine")
    options = parser.parse_args()
    scale = 1 if options.quick else 2
    with tempfile.TemporaryDirectory() as tmp:
        script = os.path.join(tmp, "workload.py")
        with open(script, "w") as handle:
            handle.write(WORKLOAD)
        best: dict[str, dict[str, float]] = {}
        walls: dict[str, float] = {}
        reference: dict[str, float] | None = None
        for engine in ENGINES:
            for _ in range(options.repeat):
                times, values, wall = run(engine, script, scale)
                reference = reference or values
                if values != reference:
                    raise SystemExit(f"{engine} computed {values}, CPython {reference}")
                best[engine] = {k: min(v, best.get(engine, {}).get(k, v)) for k, v in times.items()}
                walls[engine] = min(wall, walls.get(engine, wall))
    _print(best, walls)


def _print(best: dict[str, dict[str, float]], walls: dict[str, float]) -> None:
    sections = list(best["cpython"])
    engines = list(best)
    width = max(map(len, sections)) + 2
    print("section".ljust(width) + "".join(e.rjust(14) for e in engines)
          + "  vm/cpy  vm+jit/cpy  jit speedup over vm")
    for name in sections + ["whole process (wall)"]:
        row = walls if name.startswith("whole") else {e: best[e][name] for e in engines}
        cells = "".join(f"{1000 * row[e]:12.1f}ms" for e in engines)
        print(name.ljust(width) + cells + f"  {row['vm'] / row['cpython']:6.0f}x"
              f"  {row['vm+jit'] / row['cpython']:9.2f}x  {row['vm'] / row['vm+jit']:10.0f}x")
    print("ratios: time / CPython's time (lower is better); last column: vm time / vm+jit time")


if __name__ == "__main__":
    main()
