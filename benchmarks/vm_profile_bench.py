"""Cost of interpreter profiling (and inline caches) on the VM benchmark corpus.

Runs every ``tests/vm_corpus/bench_*.py`` program in the DPB interpreter in
one process, alternating the configurations so machine noise hits them
alike, and prints the best-of-N CPU time (process_time: less disturbed by other processes on a shared machine) of each and the ratio.  Usage::

    python benchmarks/vm_profile_bench.py [--repeat 5] [--compare profile|ic|none]
        [--corpus DIR] [--programs GLOB] [--stable-ticks N]

``--compare profile`` (default) toggles what ``DXPY_VM_PROFILE=0`` turns off
(``dxpy.vm.profile.set_enabled``); ``--compare ic`` toggles the LOAD_GLOBAL
inline caches; ``--compare none`` only times the default configuration (to
compare two checkouts: run it with each on ``PYTHONPATH``).
"""

from __future__ import annotations

import argparse
import builtins
import contextlib
import io
import sys
import time
import types
from pathlib import Path

from dxpy.vm import loads, to_bytes
from dxpy.vm import profile
from dxpy.vm.compiler import compile_source
from dxpy.vm.interpreter import run_module

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "vm_corpus"


def run_once(program: object, filename: str) -> float:
    """Seconds to run ``program`` once as ``__main__`` (its output discarded)."""
    module = types.ModuleType("__main__")
    module.__dict__.update({"__file__": filename, "__builtins__": builtins})
    saved = sys.modules["__main__"]
    sys.modules["__main__"] = module
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            start = time.process_time()
            try:
                run_module(program, module.__dict__, filename)
            except Exception:  # noqa: BLE001 - some corpus programs end in an exception on purpose
                pass
            return time.process_time() - start
    finally:
        sys.modules["__main__"] = saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--stable-ticks", type=int, default=None,
                        help="profile.set_stable_ticks() value (default: the library's; 0 = record forever)")
    parser.add_argument("--corpus", type=Path, default=CORPUS,
                        help="directory of programs (default: tests/vm_corpus; benchmarks/vm_programs "
                             "holds micro-programs)")
    parser.add_argument("--programs", default="bench_*.py",
                        help="glob of corpus files to run (default: every bench_*.py)")
    parser.add_argument("--compare", choices=("profile", "ic", "none"), default="profile")
    options = parser.parse_args()
    if options.stable_ticks is not None:
        profile.set_stable_ticks(options.stable_ticks or None)
    toggle = {"profile": profile.set_enabled, "ic": profile.set_caches_enabled,
              "none": lambda state: None}[options.compare]
    total = {True: 0.0, False: 0.0}
    print(f"{'program':<24}{'on (s)':>10}{'off (s)':>10}{'on/off':>9}")
    for path in sorted(options.corpus.glob(options.programs)):
        program = loads(to_bytes(compile_source(path.read_text(), str(path))))
        best = {True: float("inf"), False: float("inf")}
        for _ in range(options.repeat):
            for state in (True, False):
                toggle(state)
                best[state] = min(best[state], run_once(program, str(path)))
        toggle(True)
        for state in best:
            total[state] += best[state]
        print(f"{path.stem:<24}{best[True]:>10.3f}{best[False]:>10.3f}{best[True] / best[False]:>9.3f}")
    print(f"{'total':<24}{total[True]:>10.3f}{total[False]:>10.3f}{total[True] / total[False]:>9.3f}")


if __name__ == "__main__":
    main()
