"""The DPB VM's route from builtin calls to the kernels.

The interpreter's CALL sends a builtin callee here when it is ``sum``,
``min`` or ``max``, or a method of a ``bytes``/``bytearray`` object (the
cheap pre-check ``routed``); ``call`` then runs:

* ``sum``/``min``/``max`` of a ``SimdList`` -> its vectorised method (the
  builtin would box and compare every element one at a time);
* ``bytes.count``/``bytes.find`` (and ``bytearray``'s) -> ``dxpy.simd.count``/
  ``find``, which use a kernel above the measured crossover;
* everything else -> the builtin itself, unchanged.

Plain ``list`` arguments stay with the builtin: a list holds boxed objects,
and unboxing them for a kernel costs more than the builtin's own single pass
(simd_bench's ``unbox+min`` row measures it), so only storage that is
already unboxed -- a ``SimdList`` -- is faster.  ``x in simd_list`` needs no
route: the ``in`` operator calls ``SimdList.__contains__``, a kernel.

Results are the builtin's in every case (``SimdList`` methods equal the
builtins on its elements; ``dxpy.simd`` string functions equal the methods).
This module imports nothing heavy: NumPy and the engines load only when a
routed call can use them.
"""

from __future__ import annotations

import builtins
import sys
import types
from typing import Any

BUILTIN = types.BuiltinFunctionType
"""The type of ``sum`` and of ``b"".count``: the interpreter pre-checks it."""
ROUTED_FUNCTIONS = frozenset({builtins.sum, builtins.min, builtins.max})
ROUTED_OWNERS = frozenset({bytes, bytearray})
SMALLEST_CROSSOVER = 4096
"""Bytes below which no string kernel wins (simd_bench: every crossover is higher), so such
calls go straight to the method without loading the kernels."""
_METHODS = frozenset({"count", "find"})


def routed(callee: Any) -> bool:
    """Whether the VM should hand this builtin callee to ``call`` (cheap: set and type tests)."""
    return callee in ROUTED_FUNCTIONS or type(callee.__self__) in ROUTED_OWNERS


def call(callee: Any, args: list[Any]) -> Any:
    """``callee(*args)``, through a kernel where that is faster and gives the same result."""
    if callee in ROUTED_FUNCTIONS:
        return _reduction(callee, args)
    owner = callee.__self__
    if len(owner) >= SMALLEST_CROSSOVER and callee.__name__ in _METHODS:
        from dxpy.simd import strings

        return getattr(strings, callee.__name__)(owner, *args)
    return callee(*args)


def _reduction(callee: Any, args: list[Any]) -> Any:
    """``sum``/``min``/``max``: a lone ``SimdList`` argument (``sum`` may add ``start``)."""
    simdlist = sys.modules.get("dxpy.simd.simdlist")
    if simdlist is None or not args or type(args[0]) is not simdlist.SimdList:
        return callee(*args)
    values = args[0]
    if callee is builtins.sum and len(args) <= 2:
        return values.sum(*args[1:])
    if callee is not builtins.sum and len(args) == 1:
        return values.min() if callee is builtins.min else values.max()
    return callee(*args)
