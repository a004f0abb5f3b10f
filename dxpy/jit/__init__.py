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
expressions, while, ``for i in range(...)``, their ``else`` clauses,
break/continue, augmented and chained assignment, return of scalars or tuples of scalars, calls to other
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
sliced or returned, and created only as small local ones (``local_arrays``);
lists only as fixed-length locals that never escape (``lists``); a function that stores into arrays and may
deoptimise has those arrays copied before each call so a re-run starts from
the same state.  ``@dxpy.jit`` compiles on the calling thread; a deopt
re-runs the whole call in CPython (resuming mid-function exists only for OSR
entries, below); there are no inline caches in compiled code.

Automatic tiering (``tiering.py``): under ``dxpy run --vm`` DPB functions
move from the interpreter (tier 0, profiling) to tier 1 (their source
compiled by CPython, after 100 calls or a hot loop) to tier 2 (this JIT, for
the argument types seen, compiled in the background after 1000 calls and
swapped in when ready); a function called once with a long loop (nested ones too) is
entered mid-loop by OSR (``osr.py``).  ``DXPY_JIT=off|eager``,
``DXPY_JIT_THRESHOLD``, ``DXPY_JIT_TIER2_THRESHOLD``,
``DXPY_JIT_OSR_THRESHOLD``; ``dxpy run --jit-stats`` prints what happened
(``report.py``).

Why the front end reads the function's ``ast`` and not DPB bytecode: the
ast is what both engines share (the DPB compiler and CPython's both start
from it), and tier 1 -- the deopt target that makes results CPython's --
must be built from it anyway; tiering finds a DPB function's ``def`` again
in its source file (``source.py``) and uses the VM's profiles only to decide
when and for which types to compile.

Modules: ``types`` (lattice), ``infer`` (type inference), ``ops`` (scalar
semantics in IR), ``lower`` (statements and calling convention),
``engine`` (LLVM target, O3, MCJIT), ``pipeline`` (named passes),
``dispatcher`` (signature cache, guards, deopt, tiers, stats), ``source``
(tier 1), ``tiering``/``tiered`` (VM tiers), ``osr``, ``report``.
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import TYPE_CHECKING, Any, Callable, overload

if TYPE_CHECKING:
    from .dispatcher import Dispatcher
    from .types import JitFallbackWarning, JitTypeError


def __getattr__(name: str) -> Any:
    """``Dispatcher``, ``JitTypeError``, ``all_stats``: imported on first use.

    NumPy and llvmlite cost ~130 ms to import, and ``dxpy run --vm`` imports
    ``dxpy.jit.tiering`` whether or not any function ever gets hot.
    """
    if name in ("Dispatcher", "all_stats"):
        from . import dispatcher
        return getattr(dispatcher, name)
    if name in ("JitTypeError", "JitFallbackWarning"):
        from . import types
        return getattr(types, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@overload
def jit(func: Callable[..., Any], *, eager: bool = True, threshold: int | None = None,
        nogil: bool = False, cache: bool = False) -> Dispatcher: ...


@overload
def jit(func: None = None, *, eager: bool = True, threshold: int | None = None,
        nogil: bool = False, cache: bool = False
        ) -> Callable[[Callable[..., Any]], Dispatcher]: ...


def jit(func: Callable[..., Any] | None = None, *, eager: bool = True,
        threshold: int | None = None, nogil: bool = False, cache: bool = False) -> Any:
    """Mark ``func`` for compilation.

    ``eager=True`` compiles each new signature on its first call;
    ``eager=False`` runs in CPython until ``threshold`` calls (default 100 or
    ``DXPY_JIT_THRESHOLD``), then compiles.  ``nogil=True`` releases the GIL while
    the machine code runs (as numba's ``nogil``), so threads running the kernel use
    all cores; without it a short call keeps the GIL (cheaper: no release and
    re-acquire).  Arrays are never copied either way: the machine code works on
    their own memory through the data pointer and strides.  ``cache=True`` (numba's
    spelling) keeps the machine code in the cache directory, so the next run links
    it instead of compiling (``dxpy.cache.jit``).
    """
    def wrap(f: Callable[..., Any]) -> Any:
        from .tiering import is_vm_function, jit_vm_function
        if is_vm_function(f):  # DPB code (``dxpy run --vm``): see tiering
            return jit_vm_function(f, eager, threshold)
        from .dispatcher import Dispatcher
        return Dispatcher(f, eager=eager, threshold=threshold, nogil=nogil, cache=cache)
    return wrap if func is None else wrap(func)


def stats() -> list[dict[str, Any]]:
    """Per function: calls; per signature: compiled or why not, pass times, deopts."""
    from .dispatcher import all_stats
    return all_stats()


class _CallableModule(ModuleType):
    """Lets ``@dxpy.jit`` work while ``dxpy.jit.jit``/``dxpy.jit.stats`` stay reachable."""

    def __call__(self, func: Callable[..., Any] | None = None, **kwargs: Any) -> Any:
        return jit(func, **kwargs)


sys.modules[__name__].__class__ = _CallableModule

__all__ = ["Dispatcher", "JitFallbackWarning", "JitTypeError", "jit", "stats"]
