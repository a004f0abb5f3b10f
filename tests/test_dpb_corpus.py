"""Differential corpus: every program in tests/vm_corpus/ runs under the DPB VM and under CPython.

Stdout, the uncaught exception (type and message) and its traceback's
entries in the program's own file (line and function, innermost last) must
be identical.  Programs run in-process as ``__main__`` modules.
"""

from __future__ import annotations

import builtins
import contextlib
import io
import sys
import traceback
import types
from pathlib import Path

import pytest

from dxpy.vm import loads, to_bytes
from dxpy.vm.compiler import compile_source
from dxpy.vm.interpreter import run_module

CORPUS = Path(__file__).parent / "vm_corpus"
PROGRAMS = sorted(CORPUS.glob("*.py"))

Outcome = tuple[str, tuple[str, str, list[tuple[int, str]]] | None]


def run_program(path: Path, through_vm: bool) -> Outcome:
    source = path.read_text()
    filename = str(path)
    module = types.ModuleType("__main__")
    module.__dict__.update({"__file__": filename, "__builtins__": builtins})
    saved = sys.modules["__main__"]
    out = io.StringIO()
    error = None
    sys.modules["__main__"] = module
    try:
        with contextlib.redirect_stdout(out):
            if through_vm:
                run_module(loads(to_bytes(compile_source(source, filename))), module.__dict__, filename)
            else:
                exec(compile(source, filename, "exec", dont_inherit=True), module.__dict__)
    except Exception as exc:  # the comparison is the point: any exception, same on both sides
        frames = [(entry.lineno, entry.name) for entry in traceback.extract_tb(exc.__traceback__)
                  if entry.filename == filename]
        error = (type(exc).__name__, str(exc), frames)
    finally:
        sys.modules["__main__"] = saved
    return out.getvalue(), error


def test_corpus_is_not_empty() -> None:
    assert len(PROGRAMS) >= 10


@pytest.mark.parametrize("path", PROGRAMS, ids=[p.stem for p in PROGRAMS])
def test_vm_matches_cpython(path: Path) -> None:
    assert run_program(path, True) == run_program(path, False)
