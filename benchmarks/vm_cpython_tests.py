"""CPython's own language test files, run through the DPB VM: per-file pass/fail/skip.

    python benchmarks/vm_cpython_tests.py                 # all 35 files, 2 at a time
    python benchmarks/vm_cpython_tests.py test_with -v    # some files, unittest's verbose output
    python benchmarks/vm_cpython_tests.py --jit           # with the JIT's tiers (default: DXPY_JIT=off)
    python benchmarks/vm_cpython_tests.py --markdown      # the table of docs/vm-conformance.md

Each file comes from *this* interpreter's ``test`` package (never copied into
the repository) and runs in a child process as ``python -m test`` runs it:
the module is executed (here by the VM, through ``DpbLoader``, under its
dotted name ``test.test_x``, so a file's ``__main__`` block does not run),
then ``unittest.TestLoader().loadTestsFromModule`` (which honours
``load_tests``, hence the doctest-based files) and a ``TextTestRunner``.
The child runs with what ``dxpy run --vm`` sets up: the dxpy event loop
policy, the import hook, the JIT tiers per ``DXPY_JIT`` and the scaled
recursion limit.  By default ``DXPY_JIT=off``: every line of the test file
is interpreted by the VM, which is what this run is about (with ``--jit``,
as under a plain ``dxpy run --vm``, functions move to CPython's bytecode once
hot, and the run tests those tiers too).

Only the test file itself is VM code: ``test.support`` and the stdlib stay
on CPython (the import hook never claims library modules).  A file passes
"whole" when its run reports no failure and no error (skips, which the
files decide themselves from platform conditions, are counted apart).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

FILES = (
    # named by issue #21
    "test_grammar", "test_scope", "test_generators", "test_with", "test_coroutines",
    "test_exceptions", "test_descr", "test_super", "test_types", "test_set", "test_dict",
    "test_fstring", "test_yield_from", "test_keywordonlyarg", "test_opcodes", "test_raise",
    "test_decorators", "test_enum", "test_contextlib", "test_listcomps", "test_genexps",
    "test_setcomps",
    # the other language-feature files chosen to make 35
    "test_dictcomps", "test_class", "test_unpack", "test_unpack_ex", "test_augassign",
    "test_property", "test_contextlib_async", "test_patma", "test_exception_group",
    "test_named_expressions", "test_baseexception", "test_funcattrs", "test_positional_only_arg",
)
"""The 35 files of the conformance run (docs/vm-conformance.md)."""

RESULT_MARK = "dxpy-conformance-result: "
"""Prefix of the child's last stderr line: its counts as JSON."""


def test_file(name: str) -> Path:
    """Where this interpreter's ``test`` package keeps ``name``."""
    spec = importlib.util.find_spec("test")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("this interpreter has no 'test' package (install python3-test or similar)")
    path = Path(list(spec.submodule_search_locations)[0]) / f"{name}.py"
    if not path.is_file():
        raise SystemExit(f"{path}: no such test file in this interpreter's test package")
    return path


def run_child(name: str, verbosity: int) -> int:
    """In the child: execute test file ``name`` in the VM and run its tests; exit status 0 = pass."""
    import asyncio
    import unittest

    sys.path.insert(0, str(ROOT))
    import dxpy
    from dxpy.vm.runner import vm_module_context, run_source_as_module

    asyncio.set_event_loop_policy(dxpy.Policy())
    path = test_file(name)
    with vm_module_context(str(path.parent)):
        module = run_source_as_module(str(path), f"test.{name}")
        suite = unittest.TestLoader().loadTestsFromModule(module)
        result = unittest.TextTestRunner(verbosity=verbosity, stream=sys.stderr).run(suite)
    counts = {"run": result.testsRun, "failures": len(result.failures), "errors": len(result.errors),
              "skipped": len(result.skipped), "expected_failures": len(result.expectedFailures),
              "unexpected_successes": len(result.unexpectedSuccesses)}
    sys.stderr.flush()
    print(RESULT_MARK + json.dumps(counts), file=sys.stderr, flush=True)
    return 0 if result.wasSuccessful() else 1


def run_one(name: str, jit: bool, timeout: float, verbosity: int, echo: bool) -> dict:
    """Run one file in a child process; its counts, status and time."""
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    if not jit:
        env["DXPY_JIT"] = "off"
    else:
        env.pop("DXPY_JIT", None)
    started = time.monotonic()
    command = [sys.executable, __file__, "--child", name, "--verbosity", str(verbosity)]
    try:
        child = subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout,
                               stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return {"file": name, "status": "timeout", "seconds": timeout}
    elapsed = time.monotonic() - started
    if echo:
        sys.stderr.write(child.stderr)
    counts = {}
    for line in child.stderr.splitlines():
        if line.startswith(RESULT_MARK):
            counts = json.loads(line[len(RESULT_MARK):])
    if not counts:
        status = "crash"
        counts = {"tail": child.stderr.strip().splitlines()[-5:]}
    else:
        status = "pass" if child.returncode == 0 else "fail"
    return {"file": name, "status": status, "seconds": round(elapsed, 1), **counts}


def markdown(results: list[dict]) -> str:
    """The per-file table of docs/vm-conformance.md."""
    lines = ["| file | result | tests run | failures | errors | skipped | seconds |",
             "|---|---|---|---|---|---|---|"]
    for row in results:
        lines.append(f"| {row['file']} | {row['status']} | {row.get('run', '-')} | "
                     f"{row.get('failures', '-')} | {row.get('errors', '-')} | "
                     f"{row.get('skipped', '-')} | {row['seconds']} |")
    passed = sum(row["status"] == "pass" for row in results)
    lines.append("")
    lines.append(f"{passed} of {len(results)} files pass whole.")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", help="test files (default: the 35 of the conformance run)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--verbosity", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("-v", action="store_true", help="echo each file's unittest output")
    parser.add_argument("--jit", action="store_true", help="with the JIT's tiers (DXPY_JIT as set)")
    parser.add_argument("--jobs", type=int, default=2, help="files run at the same time (default 2)")
    # test_set interprets ~10 minutes of loops on a quiet core (27 at load 10): it passes, slowly.
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per file (default 3600)")
    parser.add_argument("--markdown", action="store_true", help="print the table as markdown")
    options = parser.parse_args()
    if options.child:
        return run_child(options.child, options.verbosity)
    names = options.files or list(FILES)
    verbosity = 2 if options.v else 1
    with concurrent.futures.ThreadPoolExecutor(options.jobs) as pool:
        futures = [pool.submit(run_one, name, options.jit, options.timeout, verbosity, options.v)
                   for name in names]
        results = []
        for future in futures:
            row = future.result()
            results.append(row)
            print(json.dumps(row), flush=True)
    print(markdown(results) if options.markdown else
          f"{sum(r['status'] == 'pass' for r in results)} of {len(results)} files pass whole")
    return 0


if __name__ == "__main__":
    sys.exit(main())
