"""Start-up: ``dxpy run`` against ``python``, and cached ``@dxpy.jit`` against numba.

Every row runs its two commands as pairs in this one process tree (A then B,
then B then A on the next pair, so neither side always runs on a warmer
machine) and prints the median wall time of each side and their ratio
(dxpy / baseline: below 1.00 means dxpy is faster).

    python benchmarks/startup_bench.py            # 21 pairs per row
    python benchmarks/startup_bench.py --quick    # 7 pairs per row, while iterating

Rows:
* ``empty``: an empty script.  Target: dxpy <= 1.10x.
* ``asyncio task``: a script that runs one task with ``asyncio.run``; python
  runs it on asyncio's default loop, dxpy on the dxpy loop.  Target: <= 1.15x.
* ``200 modules (warm)``: a program importing 200 generated modules; python
  with a warm ``__pycache__`` (PYTHONDONTWRITEBYTECODE unset, one run first),
  dxpy with a warm cache (``DXPY_CACHE_DIR``, one run first).  Target: < 1.00x.
* ``200 modules (DPM)``: the same program after ``dxpy build``.
* ``jit first call (cached)``: a fresh process defines a kernel and times its
  first call (in-process ``perf_counter`` and ``process_time``, import excluded), with
  ``@dxpy.jit(cache=True)`` against numba's ``@njit(cache=True)``, both caches
  warm.  Target: < 2 ms, >= 50x faster than numba.  (For this row the ratio is
  dxpy / numba too: 0.02x would be 50x faster.)

Wall time is what a user waits for; the child's CPU time is printed beside it
because it is less disturbed by other load on the machine (the JIT row prints the
first call's own CPU time: on a loaded machine a 2 ms window is often preempted).
``--jit-only`` runs just that row.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
MODULES = 200

MODULE_TEMPLATE = '''"""Generated module {i}: constants, a class and functions, as a real module has."""

import os
from collections import namedtuple

CONSTANT = {i}
NAMES = {names!r}
Point = namedtuple("Point", "x y")


class Thing{i}:
    """A small class with a few methods."""

    def __init__(self, value: int) -> None:
        self.value = value

    def doubled(self) -> int:
        return self.value * 2

    def describe(self) -> str:
        return f"Thing{i}({{self.value}}) in {{os.path.basename(__file__)}}"

    @property
    def point(self) -> Point:
        return Point(self.value, CONSTANT)

{functions}
'''
FUNCTION_TEMPLATE = '''
def f{k}(a: int, b: int = {k}) -> int:
    """Function {k}."""
    total = 0
    for step in range(a):
        if step % {m} == 0:
            total += step * b
        else:
            total -= {k}
    return total + CONSTANT
'''

JIT_KERNEL = '''
import time
{imports}

@{decorator}
def kernel(n):
    total = 0.0
    for i in range(n):
        x = i * 0.5
        total += x * x - 3.0 * x + 1.0
    return total

t0, c0 = time.perf_counter(), time.process_time()
kernel(1000)
print((time.perf_counter() - t0) * 1e3, (time.process_time() - c0) * 1e3)
'''


def write_program(directory: Path) -> Path:
    """The 200-module program: ``main.py`` importing ``app.m0`` ... ``app.m199``."""
    app = directory / "app"
    app.mkdir(parents=True, exist_ok=True)
    (app / "__init__.py").write_text('"""The generated application package."""\n')
    for i in range(MODULES):
        functions = "".join(FUNCTION_TEMPLATE.format(k=k, m=k + 2) for k in range(8))
        names = [f"name_{i}_{j}" for j in range(10)]
        (app / f"m{i}.py").write_text(MODULE_TEMPLATE.format(i=i, names=names,
                                                             functions=functions))
    main = directory / "main.py"
    main.write_text("".join(f"import app.m{i}\n" for i in range(MODULES)))
    return main


def dxpy_command() -> list[str]:
    """``dxpy`` as a user runs it: the console script beside this interpreter."""
    script = Path(sys.executable).parent / "dxpy"
    if script.exists():
        return [str(script)]
    found = shutil.which("dxpy")
    return [found] if found else [sys.executable, "-m", "dxpy"]


def timed(command: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child) for one run of ``command``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, env=env, cwd=cwd, check=True, timeout=120,
                   stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def reported(command: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """The first call's (wall, CPU) time the program printed (milliseconds, last line),
    in seconds."""
    out = subprocess.run(command, env=env, cwd=cwd, check=True, timeout=300,
                         capture_output=True, text=True).stdout
    wall, cpu = (float(v) / 1e3 for v in out.strip().splitlines()[-1].split())
    return wall, cpu


Sample = Callable[[], "tuple[float, float]"]


def paired(pairs: int, baseline: Sample, ours: Sample) -> tuple[list[tuple[float, float]], ...]:
    """Samples of each side over ``pairs`` pairs, alternating which side goes first."""
    base: list[tuple[float, float]] = []
    mine: list[tuple[float, float]] = []
    for i in range(pairs):
        first, second = (mine, ours), (base, baseline)
        if i % 2 == 0:
            first, second = second, first
        first[0].append(first[1]())
        second[0].append(second[1]())
    return base, mine


def row(name: str, baseline_name: str, samples: tuple[list, list], target: str,
        show_cpu: bool = False) -> str:
    """One table row; ``show_cpu`` adds each side's median CPU time to its cell."""
    base, mine = samples
    wall_b, wall_m = (statistics.median(s[0] for s in side) for side in (base, mine))
    cpu_b, cpu_m = (statistics.median(s[1] for s in side) for side in (base, mine))
    cpu = (lambda v: f" (CPU {v * 1e3:.2f} ms)") if show_cpu else (lambda v: "")  # noqa: E731
    return (f"| {name} | {baseline_name} {wall_b * 1e3:.2f} ms{cpu(cpu_b)} | "
            f"dxpy {wall_m * 1e3:.2f} ms{cpu(cpu_m)} | "
            f"**{wall_m / wall_b:.3f}x** | {cpu_m / cpu_b:.3f}x | {target} |")


def startup_rows(work: Path, pairs: int, base_env: dict[str, str],
                 dx_env: dict[str, str]) -> list[str]:
    """Empty script, one asyncio task, the 200-module program (source and DPM)."""
    dxpy = dxpy_command()
    rows = []
    (work / "empty.py").write_text("")
    (work / "task.py").write_text(textwrap.dedent("""
        import asyncio
        async def main():
            await asyncio.sleep(0)
        asyncio.run(main())
    """))
    for name, script, target in (("empty script", "empty.py", "<= 1.10x"),
                                 ("one asyncio task", "task.py", "<= 1.15x")):
        timed(dxpy + ["run", script], dx_env, work)
        rows.append(row(name, "python", paired(
            pairs, lambda: timed([sys.executable, script], base_env, work),
            lambda: timed(dxpy + ["run", script], dx_env, work)), target))
    program = write_program(work / "program")
    time.sleep(2.1)  # past the cache's "racy" window: a stamp this young is never trusted
    for _ in range(2):  # warm __pycache__, and the dxpy cache (its second run re-stamps)
        timed([sys.executable, str(program)], base_env, program.parent)
        timed(dxpy + ["run", str(program)], dx_env, program.parent)
    python_side = lambda: timed([sys.executable, str(program)], base_env, program.parent)  # noqa: E731
    rows.append(row(f"{MODULES} modules, warm", "python", paired(
        pairs, python_side, lambda: timed(dxpy + ["run", str(program)], dx_env,
                                          program.parent)), "< 1.00x"))
    subprocess.run(dxpy + ["build", "app"], cwd=program.parent, env=dx_env, check=True,
                   stdout=subprocess.DEVNULL, timeout=300)
    rows.append(row(f"{MODULES} modules, DPM (dxpy build)", "python", paired(
        pairs, python_side, lambda: timed(dxpy + ["run", str(program)], dx_env,
                                          program.parent)), "(none)"))
    return rows


def jit_row(work: Path, pairs: int, env: dict[str, str]) -> str:
    """First call of a cached kernel in a fresh process: numba cache=True vs dxpy cache=True."""
    scripts = {}
    for name, imports, decorator in (("numba", "from numba import njit", "njit(cache=True)"),
                                     ("dxpy", "import dxpy", "dxpy.jit(cache=True)")):
        path = work / f"kernel_{name}.py"
        path.write_text(JIT_KERNEL.format(imports=imports, decorator=decorator))
        scripts[name] = [sys.executable, str(path)]
        for _ in range(2):
            reported(scripts[name], env, work)  # compile and store, then a warm run
    samples = paired(pairs, lambda: reported(scripts["numba"], env, work),
                     lambda: reported(scripts["dxpy"], env, work))
    return row("jit first call, cached (in-process)", "numba", samples, "< 2 ms, >= 50x",
               show_cpu=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="7 pairs per row")
    parser.add_argument("--pairs", type=int, default=None)
    parser.add_argument("--skip-jit", action="store_true", help="no JIT row (no numba)")
    parser.add_argument("--jit-only", action="store_true", help="only the JIT row")
    args = parser.parse_args()
    pairs = args.pairs or (7 if args.quick else 21)
    with tempfile.TemporaryDirectory(prefix="dxpy-startup-") as tmp:
        work = Path(tmp)
        base_env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        base_env["PYTHONPATH"] = str(ROOT)
        dx_env = {**base_env, "DXPY_CACHE_DIR": str(work / "dxpy-cache")}
        rows = [] if args.jit_only else startup_rows(work, pairs, base_env, dx_env)
        if not args.skip_jit:
            rows.append(jit_row(work, pairs, dx_env))
        print(f"{pairs} pairs per row; ratio = dxpy / baseline (median wall time; CPU time "
              f"of the child beside it)")
        print("| row | baseline (median) | dxpy (median) | wall ratio | CPU ratio | target |")
        print("|---|---|---|---|---|---|")
        print("\n".join(rows))


if __name__ == "__main__":
    main()
