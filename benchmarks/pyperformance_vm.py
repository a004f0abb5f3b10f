"""pyperformance's pure-Python benchmarks under ``dxpy run --vm`` and under ``python``, side by side.

    python benchmarks/pyperformance_vm.py               # 20 benchmarks, 3 processes x 3 values each
    python benchmarks/pyperformance_vm.py --quick       # 1 process x 3 values: a smoke run
    python benchmarks/pyperformance_vm.py nbody go      # some of them
    DXPY_JIT=off python benchmarks/pyperformance_vm.py --quick   # the interpreter alone
    python benchmarks/pyperformance_vm.py --cpu         # CPU time per loop, interleaved (a loaded machine)

The benchmarks are pyperformance's own ``run_benchmark.py`` files (the
``pyperformance`` package from PyPI, a dev dependency; nothing is copied
here).  Each runs twice with pyperf, as the issue measured it: once as is
(``python``), once with ``--python`` pointing at a two-line launcher that
execs ``python -m dxpy run --vm "$@"``, so every pyperf worker process runs
the benchmark's module in the DPB VM with its JIT tiers (pyperf itself, a
library, stays on CPython, as the import hook leaves libraries alone).  The
ratio is CPython's mean time over the VM's: above 1.0 the VM is faster.
Both runs must complete (exit status 0, a result file with values).

``--cpu`` replaces pyperf by the stand-in in ``benchmarks/pyperf_cputime``
(first on ``PYTHONPATH``): each benchmark function is timed in CPU time
(``time.process_time``, every thread of the process) in one process per run,
``python`` and ``dxpy run --vm`` interleaved for ``--rounds`` rounds, and the
lowest median per side is compared.  On a machine shared with other people's
jobs, wall-clock ratios move by 2x between runs; CPU times by a few percent.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCHMARKS = ("nbody", "richards", "float", "chaos", "go", "hexiom", "deltablue", "raytrace",
              "spectral_norm", "fannkuch", "nqueens", "unpack_sequence", "generators", "coroutines",
              "pyflate", "regex_v8", "scimark", "meteor_contest", "pidigits", "comprehensions")
"""pyperformance benchmarks that need nothing but pyperf and the stdlib."""


def benchmark_script(name: str) -> Path:
    """pyperformance's ``run_benchmark.py`` of benchmark ``name``."""
    try:
        import pyperformance
    except ImportError:
        raise SystemExit("pyperformance is not installed: pip install -e '.[dev]'") from None
    script = Path(pyperformance.__file__).parent / "data-files" / "benchmarks" / f"bm_{name}" / "run_benchmark.py"
    if not script.is_file():
        raise SystemExit(f"{script}: no such pyperformance benchmark")
    return script


def write_launcher(directory: Path) -> Path:
    """The executable pyperf's ``--python`` runs: ``dxpy run --vm`` of its arguments."""
    launcher = directory / "dxpy-vm-python"
    launcher.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m dxpy run --vm "$@"\n')
    launcher.chmod(launcher.stat().st_mode | stat.S_IXUSR)
    return launcher


def run_pyperf(script: Path, output: Path, pyperf_args: list[str], python: Path | None,
               timeout: float) -> tuple[float | None, str]:
    """Mean seconds per loop of one pyperf run (None and the reason if it did not complete)."""
    command = [sys.executable, str(script), "--quiet", "-o", str(output), *pyperf_args]
    if python is not None:
        command.insert(2, f"--python={python}")
    env = dict(os.environ)
    inherited = [name for name in env if name.startswith("DXPY_")]
    if inherited:
        command.insert(2, f"--inherit-environ={','.join(inherited)}")
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL, env=env)
    except subprocess.TimeoutExpired:
        return None, f"timeout after {timeout:.0f} s"
    if done.returncode != 0 or not output.exists():
        return None, (done.stderr.strip().splitlines() or ["exit status %d" % done.returncode])[-1]
    values = [value for run in json.loads(output.read_text())["benchmarks"][0]["runs"]
              for value in run.get("values", [])]
    if not values:
        return None, "no values"
    return sum(values) / len(values), ""


CPU_STANDIN = Path(__file__).resolve().parent / "pyperf_cputime"


def run_cpu(script: Path, launcher: Path | None, timeout: float) -> tuple[float | None, str]:
    """CPU ms per loop of the first benchmark ``script`` reports under the stand-in pyperf."""
    command = [str(launcher) if launcher else sys.executable, str(script)]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(CPU_STANDIN), *filter(None, [os.environ.get("PYTHONPATH")])]))
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL, env=env)
    except subprocess.TimeoutExpired:
        return None, f"timeout after {timeout:.0f} s"
    results = [line.split() for line in done.stdout.splitlines() if line.startswith("dxpy-cpu-result:")]
    if done.returncode != 0 or not results:
        return None, (done.stderr.strip().splitlines() or ["exit status %d" % done.returncode])[-1]
    return float(results[0][2]), ""


def main_cpu(names: list[str], rounds: int, timeout: float) -> int:
    """The ``--cpu`` table: lowest median CPU ms per loop of each side over interleaved rounds."""
    print(f"# {time.strftime('%Y-%m-%d %H:%M:%S')}  load {os.getloadavg()[0]:.2f}  CPU time, "
          f"{rounds} interleaved rounds  DXPY_JIT={os.environ.get('DXPY_JIT', '(default)')}")
    print(f"{'benchmark':<16} {'python cpu ms':>14} {'dxpy --vm cpu ms':>17} {'speed vs CPython':>17}")
    ratios, failed = [], []
    with tempfile.TemporaryDirectory(prefix="dxpy-pyperformance-") as temporary:
        launcher = write_launcher(Path(temporary))
        for name in names:
            script = benchmark_script(name)
            sides: dict[str, list[float]] = {"python": [], "vm": []}
            why = ""
            for _ in range(rounds):
                for side, python in (("python", None), ("vm", launcher)):
                    value, reason = run_cpu(script, python, timeout)
                    if value is None:
                        why = why or f"{side}: {reason}"
                    else:
                        sides[side].append(value)
            if why or not all(sides.values()):
                failed.append(name)
                print(f"{name:<16} FAILED: {why}", flush=True)
                continue
            cpython, vm = min(sides["python"]), min(sides["vm"])
            ratios.append(cpython / vm)
            print(f"{name:<16} {cpython:>14.4g} {vm:>17.4g} {cpython / vm:>16.2f}x", flush=True)
    return _summary(ratios, failed)


def _summary(ratios: list[float], failed: list[str]) -> int:
    if ratios:
        geomean = math.exp(sum(map(math.log, ratios)) / len(ratios))
        print(f"geomean speed vs CPython: {geomean:.2f}x over {len(ratios)} benchmarks; "
              f"lowest {min(ratios):.2f}x; failed: {', '.join(failed) or 'none'}")
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("benchmarks", nargs="*", help=f"default: {' '.join(BENCHMARKS)}")
    parser.add_argument("--quick", action="store_true", help="1 process x 3 values per run")
    parser.add_argument("--timeout", type=float, default=1200.0, help="seconds per pyperf run")
    parser.add_argument("--cpu", action="store_true",
                        help="CPU time per loop through a pyperf stand-in, runtimes interleaved")
    parser.add_argument("--rounds", type=int, default=2, help="with --cpu: runs per side (default 2)")
    options = parser.parse_args()
    names = options.benchmarks or list(BENCHMARKS)
    if options.cpu:
        return main_cpu(names, options.rounds, options.timeout)
    pyperf_args = (["--processes", "1", "--values", "3", "--warmups", "1"] if options.quick
                   else ["--processes", "3", "--values", "3", "--warmups", "1"])
    print(f"# {time.strftime('%Y-%m-%d %H:%M:%S')}  load {os.getloadavg()[0]:.2f}  "
          f"pyperf {' '.join(pyperf_args)}  DXPY_JIT={os.environ.get('DXPY_JIT', '(default)')}")
    print(f"{'benchmark':<16} {'python ms':>10} {'dxpy --vm ms':>13} {'speed vs CPython':>17}")
    ratios = []
    failed = []
    with tempfile.TemporaryDirectory(prefix="dxpy-pyperformance-") as temporary:
        directory = Path(temporary)
        launcher = write_launcher(directory)
        for name in names:
            script = benchmark_script(name)
            cpython, why_py = run_pyperf(script, directory / f"{name}-python.json", pyperf_args,
                                         None, options.timeout)
            vm, why_vm = run_pyperf(script, directory / f"{name}-vm.json", pyperf_args, launcher,
                                    options.timeout)
            if cpython is None or vm is None:
                failed.append(name)
                print(f"{name:<16} FAILED: {why_py or why_vm}", flush=True)
                continue
            ratios.append(cpython / vm)
            print(f"{name:<16} {cpython * 1e3:>10.2f} {vm * 1e3:>13.2f} {cpython / vm:>16.2f}x",
                  flush=True)
    return _summary(ratios, failed)


if __name__ == "__main__":
    sys.exit(main())
