"""``dxpy run --vm``: a script compiled to DPB and executed by the interpreter.

Compilation happens before anything runs, so an unsupported construct is
reported (``DpbCompileError``, naming file:line and the construct) before the
script has had any side effect.  With ``fallback`` the script instead runs
on CPython's own bytecode, after one line on stderr says so: never a silent
change of engine, and never a wrong result from a half-compiled module.

For the duration of the run, ``importer.installed`` puts the DPB import hook
on ``sys.meta_path``: the user's own modules (under the script's directory)
are compiled to DPB too, through the same ``__pycache__`` cache the script
itself uses; ``fallback`` applies to each of them.

The script runs as a real ``__main__`` module object installed in
``sys.modules`` for the duration (as ``runpy`` does), because library code
such as ``dataclasses``, ``pickle`` and ``typing`` looks classes' modules up
there.
"""

from __future__ import annotations

import builtins
import contextlib
import gc
import importlib.util
import os
import runpy
import sys
import types
from typing import Any, Callable, Iterator

from dxpy.vm import profile
from dxpy.vm.errors import DpbCompileError
from dxpy.vm.importer import DpbLoader, installed, program_for
from dxpy.vm.interpreter import run_module
from dxpy.vm.loader import DpbFile, load, recorded_source


def script_runner(path: str, fallback: bool) -> Callable[[], dict[str, Any]]:
    """Compile ``path`` now; return a callable that runs it as ``__main__``.

    Raises ``DpbCompileError`` (or CPython's ``SyntaxError``) when the
    script cannot be compiled and ``fallback`` is false.
    """
    hook = installed(os.path.dirname(os.path.abspath(path)), fallback)
    try:
        program = program_for(path)
    except DpbCompileError as exc:
        if not fallback:
            raise
        print(f"dxpy: {exc}; running {path} on CPython instead", file=sys.stderr)

        def run_on_cpython() -> dict[str, Any]:
            with hook:
                return runpy.run_path(path, run_name="__main__")
        return run_on_cpython

    return _main_runner(program, path, path, hook)


def dpb_runner(path: str) -> Callable[[], dict[str, Any]]:
    """Load DPB file ``path`` now (``DpbError`` if it is corrupt or not DPB at all); return a
    callable that runs it as ``__main__``, as ``python file.pyc`` runs a pyc.

    ``__file__`` is the DPB file; tracebacks name the source file that
    ``dxpy compile`` recorded in it (else the DPB file itself).  The user's
    modules beside it go through the import hook, as under ``--vm``.
    """
    program = load(path)
    hook = installed(os.path.dirname(os.path.abspath(path)), False)
    return _main_runner(program, path, recorded_source(program) or path, hook)


def _main_runner(program: DpbFile, path: str, filename: str,
                 hook: contextlib.AbstractContextManager) -> Callable[[], dict[str, Any]]:
    """A callable running ``program`` as ``__main__`` (``__file__`` = ``path``) under ``hook``."""
    def run() -> dict[str, Any]:
        module = types.ModuleType("__main__")
        module.__dict__.update({"__file__": path, "__builtins__": builtins, "__cached__": None})
        saved = sys.modules.get("__main__")
        sys.modules["__main__"] = module
        try:
            with hook, _run_context():
                _freeze_startup_objects()
                return run_module(program, module.__dict__, filename=filename)
        finally:
            if saved is not None:
                sys.modules["__main__"] = saved
    return run


def _freeze_startup_objects() -> None:
    """Move the objects that exist before the program starts to the GC's permanent generation.

    ``dxpy run --vm`` has imported asyncio, the dxpy loop, the VM and the loaded program
    before the first line runs: tens of thousands of tracked objects that ``python
    script.py`` does not have, which every full collection of an allocating program then
    traverses (measured: pyperformance's ``float``, 0.93x CPython's CPU time with them,
    1.0x with the GC off on both sides).  They live as long as the run anyway; this is
    what ``gc.freeze()`` is for (a fork server's start-up state).
    """
    gc.collect()
    gc.freeze()


@contextlib.contextmanager
def _run_context() -> Iterator[None]:
    """What a ``--vm`` run adds around the program: JIT tiers per ``DXPY_JIT``, recursion limit."""
    from dxpy.jit.tiering import for_run  # JIT tiers per DXPY_JIT (dxpy/jit/tiering.py)
    with for_run() as tiering, _vm_recursion_limit(), _feedback_for(tiering):
        yield


@contextlib.contextmanager
def _feedback_for(tiering: object | None) -> Iterator[None]:
    """Type feedback only when a JIT reads it: with ``DXPY_JIT=off`` nothing does, and it
    costs the interpreter time and (once per site) objects a program counting
    ``gc.get_objects()`` sees.  An explicit ``DXPY_VM_PROFILE`` keeps its say."""
    if tiering is not None or "DXPY_VM_PROFILE" in os.environ:
        yield
        return
    was = profile.is_enabled()
    profile.set_enabled(False)
    try:
        yield
    finally:
        profile.set_enabled(was)


@contextlib.contextmanager
def vm_module_context(root: str, fallback: bool = False) -> Iterator[None]:
    """A ``--vm`` run's environment without a script: import hook for ``root``, tiers, recursion."""
    with installed(root, fallback), _run_context():
        yield


def run_source_as_module(path: str, name: str) -> types.ModuleType:
    """Execute source file ``path`` in the VM as module ``name`` (in ``sys.modules``), as an
    import of it would under ``--vm``: its ``__main__`` block does not run.  Used to run
    CPython's own test files the way ``python -m test`` does (benchmarks/vm_cpython_tests.py)."""
    spec = importlib.util.spec_from_file_location(name, path, loader=DpbLoader(name, path, False))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


#: How much of CPython's recursion budget one VM call level uses: two Python frames (the
#: function's entry code and the dispatch loop).  The limit is scaled by it so a program
#: interpreted by the VM recurses as deep as on CPython; a program that sets its own limit
#: gets half the depth it asked for.  Functions the JIT moved to CPython's bytecode (tier 1)
#: use one frame per level, so they may recurse up to twice as deep before RecursionError.
FRAMES_PER_VM_CALL = 2


@contextlib.contextmanager
def _vm_recursion_limit() -> Iterator[None]:
    """Scale ``sys.getrecursionlimit()`` for the run (C stack: 30,000 Python
    frames of VM calls ran fine in the default 8 MiB main-thread stack)."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(limit * FRAMES_PER_VM_CALL)
    try:
        yield
    finally:
        sys.setrecursionlimit(limit)
