"""A fast subset of CPython's own language test files, interpreted by the DPB VM.

The full run (35 files, a few of them minutes long in the interpreter) is
``benchmarks/vm_cpython_tests.py``, recorded in docs/vm-conformance.md; this
runs six short files through the same child-process harness, with
``DXPY_JIT=off`` so every line of them is VM code, and asserts each passes
whole.  The files come from this interpreter's ``test`` package, which some
distributions ship separately: without it the test is skipped, saying so.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RUNNER = ROOT / "benchmarks" / "vm_cpython_tests.py"
FAST_FILES = ["test_keywordonlyarg", "test_opcodes", "test_with", "test_scope", "test_genexps",
              "test_funcattrs"]
HAVE_TEST_PACKAGE = importlib.util.find_spec("test.test_grammar") is not None


@pytest.mark.skipif(not HAVE_TEST_PACKAGE, reason="this interpreter has no 'test' package")
@pytest.mark.timeout(300)
def test_cpython_language_tests_pass_in_the_vm() -> None:
    done = subprocess.run([sys.executable, str(RUNNER), *FAST_FILES, "--timeout", "240"],
                          capture_output=True, text=True, timeout=280, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert len(rows) == len(FAST_FILES), done.stdout
    failing = [row for row in rows if '"status": "pass"' not in row]
    assert not failing, "\n".join(failing)
    assert done.stdout.strip().endswith(f"{len(FAST_FILES)} of {len(FAST_FILES)} files pass whole")


def test_runner_reports_a_missing_file_as_an_error() -> None:
    """A name that is not in the test package ends the run with a message, not a traceback."""
    done = subprocess.run([sys.executable, str(RUNNER), "--child", "test_no_such_file_here"],
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert done.returncode != 0 and "no such test file" in done.stderr
    assert "Traceback" not in done.stderr
