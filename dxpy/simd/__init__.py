"""dxpy.simd: SIMD string kernels and collections, with scalar references.

Three engines with identical results -- ``scalar`` (plain Python), ``numpy``
and ``native`` (C, AVX2/SSE2 picked at run time) -- behind string functions
that take a method's arguments with the string first (``find(s, sub)``,
``lower(s)``, ...) and two collections, ``SimdList`` and ``SwissDict``.
A dispatcher sends each call to the fastest engine for its size, or to the
builtin below the measured crossover; ``engine()`` says what is in force and
``DXPY_SIMD=scalar|numpy|native`` forces one.

The names load on first use (PEP 562), so ``dxpy.simd.vm_builtins`` -- which
the VM imports -- costs nothing until a kernel is wanted; the engines, and
``DXPY_SIMD``, are read then.  The string functions are C entry points when
``dxpy.simd._front`` was built (``dxpy.simd.front``), the pure-Python ones of
``dxpy.simd.strings`` otherwise.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOMES = {
    "engines": ("SimdError", "available", "engine", "forced", "set_engine"),
    "simdlist": ("SimdList",),
    "swissdict": ("SwissDict",),
    "front": ("count", "count_lines", "endswith", "equal", "find", "find_all", "join", "lower", "lstrip",
                "replace", "rfind", "rstrip", "split", "splitlines", "startswith", "strip", "upper"),
}
_MODULE_OF = {name: module for module, names in _HOMES.items() for name in names}
__all__ = sorted(_MODULE_OF)


def __getattr__(name: str) -> Any:
    """Load every public name on first use, then remove this hook: CPython 3.11 does not
    specialise attribute reads on a module that has ``__getattr__``, which made each
    ``dxpy.simd.find`` read cost ~55 ns more than ``s.find`` (measured in simd_bench)."""
    if name not in _MODULE_OF:
        raise AttributeError(f"module 'dxpy.simd' has no attribute {name!r}")
    found = {public: getattr(importlib.import_module(f"dxpy.simd.{module}"), public)
             for public, module in _MODULE_OF.items()}
    globals().update(found)
    del globals()["__getattr__"]
    return found[name]


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
