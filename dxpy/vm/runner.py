"""``dxpy run --vm``: a script compiled to DPB and executed by the interpreter.

Compilation happens before anything runs, so an unsupported construct is
reported (``DpbCompileError``, naming file:line and the construct) before the
script has had any side effect.  With ``fallback`` the script instead runs
on CPython's own bytecode, after one line on stderr says so: never a silent
change of engine, and never a wrong result from a half-compiled module.

The script runs as a real ``__main__`` module object installed in
``sys.modules`` for the duration (as ``runpy`` does), because library code
such as ``dataclasses``, ``pickle`` and ``typing`` looks classes' modules up
there.
"""

from __future__ import annotations

import builtins
import runpy
import sys
import types
from typing import Any, Callable

from dxpy.vm.compiler import compile_file
from dxpy.vm.errors import DpbCompileError
from dxpy.vm.format import to_bytes
from dxpy.vm.interpreter import run_module
from dxpy.vm.loader import loads


def script_runner(path: str, fallback: bool) -> Callable[[], dict[str, Any]]:
    """Compile ``path`` now; return a callable that runs it as ``__main__``.

    Raises ``DpbCompileError`` (or CPython's ``SyntaxError``) when the
    script cannot be compiled and ``fallback`` is false.
    """
    try:
        program = loads(to_bytes(compile_file(path)), path)
    except DpbCompileError as exc:
        if not fallback:
            raise
        print(f"dxpy: {exc}; running {path} on CPython instead", file=sys.stderr)
        return lambda: runpy.run_path(path, run_name="__main__")

    def run() -> dict[str, Any]:
        module = types.ModuleType("__main__")
        module.__dict__.update({"__file__": path, "__builtins__": builtins, "__cached__": None})
        saved = sys.modules.get("__main__")
        sys.modules["__main__"] = module
        try:
            return run_module(program, module.__dict__, filename=path)
        finally:
            if saved is not None:
                sys.modules["__main__"] = saved
    return run
