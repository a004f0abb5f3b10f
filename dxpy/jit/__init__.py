"""dxpy.jit: compile numeric Python functions to machine code through LLVM (llvmlite).

    import dxpy

    @dxpy.jit
    def fib(n):
        return n if n < 2 else fib(n - 1) + fib(n - 2)

    @dxpy.jit.jit(eager=False, threshold=100)   # tiered: CPython until 100 calls
    def norm(a): ...

What compiles (per argument signature, one machine-code version each):
int (i64, overflow-checked), float, bool, NumPy int64/float64 scalars,
comparisons (chained too), and/or/not, if/elif/else, conditional
expressions, while, ``for i in range(...)``, break/continue, augmented
assignment, return of scalars or tuples of scalars, calls to other
``@jit`` functions (recursion included), ``math`` functions and constants,
abs/min/max/int/float/bool/len, and 1-D/2-D float64/int64 NumPy arrays
(element read/write, ``.shape``, ``len``) read in place through their data
pointer and strides.  Anything else runs the original function in CPython;
a compiled call whose fast path fails (overflow, zero divisor, index out of
bounds, math domain error) is re-run in CPython.  The result is always
CPython's.

Limits, each chosen so results stay CPython's: a local that would hold an int
on one path and a float on another is not unified (CPython would return
different types), so that signature runs in CPython; arrays are never
created, sliced or returned; a function that stores into arrays and may
deoptimise has those arrays copied before each call so a re-run starts from
the same state.  Compilation happens on the calling thread (not yet on the
loop's executor), a deopt re-runs the whole call rather than resuming
mid-function (no OSR), and there are no inline caches: those need the DPB
interpreter.

Why the front end reads the function's ``ast`` and not DPB bytecode: the
DPB VM (``dxpy/vm/``) does not yet expose per-function code objects and
profiles for the JIT to consume.  Both read the same ``ast``, so the
seam is the function's source; the pass pipeline (``pipeline.py``) is where
a DPB front end will slot in beside ``parse``.

Modules: ``types`` (lattice), ``infer`` (type inference), ``ops`` (scalar
semantics in IR), ``lower`` (statements and calling convention),
``engine`` (LLVM target, O3, MCJIT), ``pipeline`` (named passes),
``dispatcher`` (signature cache, guards, deopt, tiers, stats).
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any, Callable, overload

from .dispatcher import Dispatcher, all_stats
from .types import JitTypeError


@overload
def jit(func: Callable[..., Any], *, eager: bool = True,
        threshold: int | None = None) -> Dispatcher: ...


@overload
def jit(func: None = None, *, eager: bool = True,
        threshold: int | None = None) -> Callable[[Callable[..., Any]], Dispatcher]: ...


def jit(func: Callable[..., Any] | None = None, *, eager: bool = True,
        threshold: int | None = None) -> Any:
    """Mark ``func`` for compilation.

    ``eager=True`` compiles each new signature on its first call;
    ``eager=False`` runs in CPython until ``threshold`` calls (default 100 or
    ``DXPY_JIT_THRESHOLD``), then compiles.
    """
    def wrap(f: Callable[..., Any]) -> Dispatcher:
        return Dispatcher(f, eager=eager, threshold=threshold)
    return wrap if func is None else wrap(func)


def stats() -> list[dict[str, Any]]:
    """Per function: calls; per signature: compiled or why not, pass times, deopts."""
    return all_stats()


class _CallableModule(ModuleType):
    """Lets ``@dxpy.jit`` work while ``dxpy.jit.jit``/``dxpy.jit.stats`` stay reachable."""

    def __call__(self, func: Callable[..., Any] | None = None, **kwargs: Any) -> Any:
        return jit(func, **kwargs)


sys.modules[__name__].__class__ = _CallableModule

__all__ = ["Dispatcher", "JitTypeError", "jit", "stats"]
