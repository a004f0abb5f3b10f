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
``DXPY_SIMD``, are read then.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOMES = {
    "engines": ("SimdError", "available", "engine", "forced", "set_engine"),
    "simdlist": ("SimdList",),
    "swissdict": ("SwissDict",),
    "strings": ("count", "count_lines", "endswith", "equal", "find", "find_all", "join", "lower", "lstrip",
                "replace", "rfind", "rstrip", "split", "splitlines", "startswith", "strip", "upper"),
}
_MODULE_OF = {name: module for module, names in _HOMES.items() for name in names}
__all__ = sorted(_MODULE_OF)


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'dxpy.simd' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"dxpy.simd.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
