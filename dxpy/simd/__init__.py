"""dxpy.simd: SIMD string kernels and collections, with scalar references.

Three engines with identical results -- ``scalar`` (plain Python), ``numpy``
and ``native`` (C, AVX2/SSE2 picked at run time) -- behind string functions
that take a method's arguments with the string first (``find(s, sub)``,
``lower(s)``, ...) and two collections, ``SimdList`` and ``SwissDict``.
A dispatcher sends each call to the fastest engine for its size, or to the
builtin below the measured crossover; ``engine()`` says what is in force and
``DXPY_SIMD=scalar|numpy|native`` forces one.
"""

from dxpy.simd.engines import SimdError, available, engine, forced, set_engine
from dxpy.simd.simdlist import SimdList
from dxpy.simd.strings import (count, count_lines, endswith, equal, find, find_all, join, lower, lstrip,
                               replace, rfind, rstrip, split, splitlines, startswith, strip, upper)
from dxpy.simd.swissdict import SwissDict

__all__ = ["SimdError", "SimdList", "SwissDict", "available", "count", "count_lines", "endswith", "engine", "equal", "find",
           "find_all", "forced", "join", "lower", "lstrip", "replace", "rfind", "rstrip", "set_engine",
           "split", "splitlines", "startswith", "strip", "upper"]
