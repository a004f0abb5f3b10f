"""DPB VM benchmarks, side by side with CPython in one run (pyperf).

    python benchmarks/vm_bench.py               # 6 worker processes x 3 values per row
    python benchmarks/vm_bench.py --quick       # 2 processes x 2 values: a smoke run
    python benchmarks/vm_bench.py -o out.json   # any pyperf option (--rigorous, -p N, ...)

(a) Load time.  For the stdlib's ``typing``, ``argparse``, ``collections/__init__``
and the largest program of ``tests/vm_corpus`` the DPB compiler accepts:
``read + marshal.loads`` of the ``.pyc`` bytes (importlib's own path:
``cache_from_source``, or a ``py_compile`` of the source when no ``.pyc`` is
there) against ``dpb.load()`` of a precompiled file with every constant
decoded once ("dpb load").  "dpb all" also decodes every name and code
object, which is the closest match to what ``marshal.loads`` builds.  Both
files are read once before timing, so both come from the page cache.
Compiling from source (CPython ``compile()`` vs DPB ``compile_source`` +
``to_bytes``) is shown for context.

(b) Interpreter speed.  Each ``tests/vm_corpus/bench_*.py`` runs as a module in
a fresh namespace, stdout to /dev/null: under CPython (``exec`` of a code
object compiled beforehand) and under the VM (``run_module`` of a DPB file
loaded beforehand).  Before timing, the master process checks that both
print the same output.

Every row is a pyperf benchmark (worker processes, calibrated loops,
warm-up); the tables at the end use medians.  Ratios, not absolute times,
are what to compare: the machine is shared.
"""

from __future__ import annotations

import argparse
import atexit
import builtins
import contextlib
import functools
import importlib.util
import io
import marshal
import os
import py_compile
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import pyperf

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # measure the checkout this script is in, whatever is installed

from dxpy.vm.compiler import compile_source  # noqa: E402
from dxpy.vm.errors import DpbCompileError  # noqa: E402
from dxpy.vm.format import to_bytes  # noqa: E402
from dxpy.vm.interpreter import run_module  # noqa: E402
from dxpy.vm.loader import DpbFile, load, loads  # noqa: E402

CORPUS = ROOT / "tests" / "vm_corpus"
STDLIB_MODULES = ("typing", "argparse", "collections")
PYC_HEADER = 16  # magic, flags, mtime/hash, size (PEP 552)


# ---- what is measured ----------------------------------------------------------
def load_targets(corpus_program: str) -> list[tuple[str, Path]]:
    """(label, source path): the stdlib modules, then ``corpus_program``."""
    targets = []
    for name in STDLIB_MODULES:
        origin = Path(importlib.util.find_spec(name).origin)
        targets.append((f"{name}/__init__" if origin.name == "__init__.py" else name, origin))
    return [*targets, (f"corpus/{corpus_program}", CORPUS / corpus_program)]


def largest_corpus_program() -> str:
    """The largest file of the corpus that the DPB compiler accepts."""
    for path in sorted(CORPUS.glob("*.py"), key=lambda p: (-p.stat().st_size, p.name)):
        if _dpb_image(str(path)) is not None:
            return path.name
    raise SystemExit(f"vm_bench: the DPB compiler accepts no program of {CORPUS}")


def bench_programs() -> list[str]:
    return sorted(path.name for path in CORPUS.glob("bench_*.py"))


@functools.cache
def _dpb_image(path: str) -> bytes | None:
    """The DPB file of ``path``, or None if the compiler refuses it."""
    try:
        return to_bytes(compile_source(Path(path).read_text(encoding="utf-8"), path))
    except DpbCompileError:
        return None


@functools.cache
def _workdir() -> Path:
    """A private directory for this process's .pyc/.dpb copies, removed at exit."""
    path = tempfile.mkdtemp(prefix="dxpy-vm-bench-")
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return Path(path)


def _copy_name(source: Path, suffix: str) -> str:
    return f"{source.parent.name}-{source.stem}{suffix}"


@functools.cache
def pyc_file(source: Path) -> Path:
    """importlib's .pyc of ``source`` if it exists, else one written by py_compile."""
    cached = Path(importlib.util.cache_from_source(str(source)))
    if cached.exists() and cached.stat().st_mtime >= source.stat().st_mtime:
        return cached
    target = _workdir() / _copy_name(source, ".pyc")
    py_compile.compile(str(source), cfile=str(target), doraise=True)
    return target


@functools.cache
def dpb_file(source: Path) -> Path:
    image = _dpb_image(str(source))
    if image is None:
        raise DpbCompileError(str(source), 0, "this module")
    target = _workdir() / _copy_name(source, ".dpb")
    target.write_bytes(image)
    return target


def read_marshal(source: Path) -> Callable[[], object]:
    pyc = pyc_file(source)

    def run() -> object:
        with open(pyc, "rb") as file:
            return marshal.loads(memoryview(file.read())[PYC_HEADER:])
    return run


def dpb_load(source: Path, decode: str) -> Callable[[], None]:
    """``load`` (map + verify), then decode nothing, every constant, or everything."""
    path = dpb_file(source)

    def run() -> None:
        with load(path) as program:
            _decode(program, decode)
    return run


def _decode(program: DpbFile, decode: str) -> None:
    if decode == "none":
        return
    for index in range(program.constant_count):
        program.constant(index)
    if decode == "all":
        for index in range(program.name_count):
            program.name(index)
        for index in range(program.code_count):
            program.code_object(index)


def cpython_compile(source: Path) -> Callable[[], object]:
    text = source.read_text(encoding="utf-8")
    return lambda: compile(text, str(source), "exec", dont_inherit=True)


def dpb_compile(source: Path) -> Callable[[], object]:
    text = source.read_text(encoding="utf-8")
    return lambda: to_bytes(compile_source(text, str(source)))


def _fresh_namespace() -> dict[str, Any]:
    return {"__name__": "__main__", "__builtins__": builtins}


def cpython_run(source: Path) -> Callable[[], object]:
    code = compile(source.read_text(encoding="utf-8"), str(source), "exec", dont_inherit=True)
    return _outcome(lambda: exec(code, _fresh_namespace()))  # noqa: S102 - the benchmark program


def vm_run(source: Path) -> Callable[[], object]:
    program = loads(_dpb_image(str(source)), str(source))
    return _outcome(lambda: run_module(program, _fresh_namespace(), filename=str(source)))


def _outcome(body: Callable[[], object]) -> Callable[[], str | None]:
    """Run ``body``; return its uncaught exception as "Type: message", or None.

    Corpus programs may deliberately end with an uncaught exception (the
    differential tests compare it): that is part of the program's work and
    of its checked output, not a benchmark failure.
    """
    def run() -> str | None:
        try:
            body()
        except Exception as exc:  # noqa: BLE001 - compared by check_outputs
            return f"{type(exc).__name__}: {exc}"
        return None
    return run


# ---- harness -------------------------------------------------------------------
def time_func(make: Callable[..., Callable[[], object]], *args: Any) -> Callable[[int], float]:
    """A pyperf time function: build the workload once per process (untimed), then loop it."""
    workload: list[Callable[[], object]] = []

    def timed(loops: int) -> float:
        if not workload:
            workload.append(make(*args))
        body = workload[0]
        with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
            start = time.perf_counter()
            for _ in range(loops):
                body()
            return time.perf_counter() - start
    return timed


def check_outputs(programs: list[Path]) -> None:
    """Refuse to time a program whose VM output (stdout, uncaught exception) differs from CPython's."""
    for path in programs:
        outputs = []
        for make in (cpython_run, vm_run):
            buffer = io.StringIO()
            with contextlib.redirect_stdout(buffer):
                error = make(path)()
            outputs.append((buffer.getvalue(), error))
        if outputs[0] != outputs[1]:
            raise SystemExit(f"vm_bench: {path.name}: VM output differs from CPython's")


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3f}ms" if seconds < 0.01 else f"{seconds * 1e3:.1f}ms"


LOAD_KINDS = ("pyc", "dpb-map", "dpb-consts", "dpb-all", "compile-cpython", "compile-dpb")


def load_table(results: dict[str, pyperf.Benchmark], targets: list[tuple[str, Path]]) -> str:
    head = (f"{'module':<32}{'src KB':>7}{'pyc KB':>7}{'dpb KB':>7}{'pyc loads':>11}"
            f"{'dpb map':>10}{'ratio':>8}{'+consts':>10}{'ratio':>8}{'all':>10}{'ratio':>8}"
            f"{'compile cpy':>12}{'dpb':>10}{'ratio':>7}")
    rows = [head]
    for label, source in targets:
        m = {kind: results[f"{kind}/{label}"].median() for kind in LOAD_KINDS}
        sizes = (source.stat().st_size, pyc_file(source).stat().st_size, dpb_file(source).stat().st_size)
        row = f"{label:<32}" + "".join(f"{size / 1024:>7.1f}" for size in sizes) + f"{_ms(m['pyc']):>11}"
        for kind in ("dpb-map", "dpb-consts", "dpb-all"):
            row += f"{_ms(m[kind]):>10}{m[kind] / m['pyc']:>7.2f}x"
        row += (f"{_ms(m['compile-cpython']):>12}{_ms(m['compile-dpb']):>10}"
                f"{m['compile-dpb'] / m['compile-cpython']:>6.1f}x")
        rows.append(row)
    rows.append("pyc loads = read the .pyc + marshal.loads; dpb map = load() (mmap + every check, "
                "BLAKE3 included); +consts = and decode every constant; all = and every name and "
                "code object.\nratio = DPB time / CPython time (below 1: DPB faster); "
                "medians of pyperf values.")
    return "\n".join(rows)


def run_table(results: dict[str, pyperf.Benchmark], programs: list[Path]) -> str:
    rows = [f"{'program':<26}{'cpython':>11}{'dpb vm':>11}{'vm/cpython':>12}"]
    for path in programs:
        cpython, vm = results[f"run-cpython/{path.stem}"].median(), results[f"run-vm/{path.stem}"].median()
        rows.append(f"{path.stem:<26}{_ms(cpython):>11}{_ms(vm):>11}{vm / cpython:>11.1f}x")
    rows.append("vm/cpython = how many times longer the VM takes (medians of pyperf values).")
    return "\n".join(rows)


def _forward_choices(cmd: list[str], args: argparse.Namespace) -> None:
    """Workers time exactly what the master chose (the corpus may change during a run)."""
    cmd.extend(["--programs", args.programs, "--corpus-program", args.corpus_program])
    if args.quick:
        cmd.append("--quick")


def main() -> None:
    quick = "--quick" in sys.argv[1:]
    runner = pyperf.Runner(processes=1 if quick else 6, values=2 if quick else 3,
                           add_cmdline_args=_forward_choices)
    runner.argparser.add_argument("--quick", action="store_true", help="1 process x 2 values per row")
    runner.argparser.add_argument("--programs", help=argparse.SUPPRESS)
    runner.argparser.add_argument("--corpus-program", help=argparse.SUPPRESS)
    args = runner.parse_args()
    if not args.worker:
        args.programs = ",".join(bench_programs())
        args.corpus_program = largest_corpus_program()
    targets = load_targets(args.corpus_program)
    programs = [CORPUS / name for name in args.programs.split(",")]
    if not args.worker:
        check_outputs(programs)
    results: dict[str, pyperf.Benchmark | None] = {}

    def bench(name: str, make: Callable[..., Callable[[], object]], *make_args: Any) -> None:
        results[name] = runner.bench_time_func(name, time_func(make, *make_args))

    for label, source in targets:
        bench(f"pyc/{label}", read_marshal, source)
        for decode in ("map", "consts", "all"):
            bench(f"dpb-{decode}/{label}", dpb_load, source, "none" if decode == "map" else decode)
        bench(f"compile-cpython/{label}", cpython_compile, source)
        bench(f"compile-dpb/{label}", dpb_compile, source)
    for path in programs:
        bench(f"run-cpython/{path.stem}", cpython_run, path)
        bench(f"run-vm/{path.stem}", vm_run, path)
    if args.worker or any(result is None for result in results.values()):
        return
    done = {name: result for name, result in results.items() if result is not None}
    print(f"\n(a) load time, {sys.implementation.cache_tag}\n{load_table(done, targets)}")
    print(f"\n(b) interpreter speed\n{run_table(done, programs)}")


if __name__ == "__main__":
    main()
