"""SimdList's ``sum``/``min``/``max``/``index``/``count``/``filter``/``map`` as C methods for small lists.

The Python methods pay their own frame, the dispatcher's size check and a
``tolist()`` of the NumPy storage before the builtin runs -- 1-2 us on a
10-element SimdList, where ``sum(list)`` takes 0.1-0.2 us; ``filter`` and
``map`` also build their result through ``SimdList(list)`` (a storage scan
per element and a NumPy array from a list), 7-11 us against a 0.6-1 us list
comprehension.  When ``dxpy.simd._listfront`` was built (``_listfront.c``,
optional at install), ``install`` replaces these methods with method
descriptors that work on small int64/float64 storage in C (``filter``/``map``
building their result SimdList directly on one ``numpy.empty``) and call the
Python method (kept in ``PURE``) for everything else; without it the class
keeps its Python methods.

A list runs in C when it is shorter than ``C_SCAN_REACH`` times the
dispatcher's limit for the op (``engines.LIMITS``: where the SIMD engines
start to beat the builtin; a plain C scan beats them for a while longer,
because calling them costs a Python method and a cffi call), so forcing an
engine (limit 0) sends every call to the Python method and its kernels.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from dxpy.simd import engines

try:
    from dxpy.simd import _listfront
except ImportError as exc:  # not built (no compiler at install): the Python methods stay
    _listfront, WHY_PURE = None, f"{exc.__class__.__name__}: {exc}"
else:
    WHY_PURE = ""

OPS: dict[str, tuple[str, str]] = {
    "sum": ("list_sum", "list_sum_float"),
    "min": ("list_min", "list_min"),
    "max": ("list_max", "list_max"),
    "index": ("list_index", "list_index"),
    "count": ("list_count", "list_count"),
    "filter": ("list_filter", "list_filter"),
    "map": ("list_map", "list_map"),
}
"""method -> the dispatcher's ops whose limits bound it for int64 and for float64 storage."""
C_SCAN_REACH: dict[str, int] = {"sum": 10, "min": 3, "max": 3, "index": 3, "count": 10, "filter": 10, "map": 100}
"""Lists shorter than this times the op's engine crossover run in C.  Measured 2026-12-03
18:35 UTC (load 5-6; C time / forced native engine time, int64 and float64, `/tmp`-free
re-run: ``python benchmarks/simd_bench.py --only reach``): sum 0.15-0.24 at 1e3, 0.68-0.75
at 1e4, 0.88-0.97 at 3e4; min/max 0.17 at 1e3, 0.48 at 3e3, 1.22 at 1e4; count 0.15, 0.38,
0.91; filter 0.20-0.22, 0.48, 1.02-1.23 (branchy; the branch-free scan since is faster);
map 0.09-0.13 at 1e3, 0.13-0.30 at 1e4, 0.48-0.91 at 1e5 (the C loop builds the result in
one pass; the engines check overflow first)."""
PURE: dict[str, Callable[..., Any]] = {}
"""The Python methods (what the C methods call for anything they do not handle)."""


def _text_signature(method: Callable[..., Any]) -> str:
    """``method``'s ``__text_signature__`` (``($self, start=0)``), without annotations."""
    params = list(inspect.signature(method).parameters.values())[1:]
    return "($self, " + str(inspect.Signature([p.replace(annotation=p.empty) for p in params]))[1:]


def install(cls: type) -> None:
    """Give ``cls`` (SimdList) the C methods, if the extension was built."""
    PURE.update({name: cls.__dict__[name] for name in OPS})
    if _listfront is None:
        return
    docs = {name: f"{name}{_text_signature(fn)}\n--\n\n{inspect.getdoc(fn) or ''}" for name, fn in PURE.items()}
    storage = (np.empty, np.dtype(np.int64), np.dtype(np.float64), _array_api())
    for name, method in _listfront.install(cls, dict(PURE), docs, *storage).items():
        setattr(cls, name, method)
    engines.on_limits_change(_refresh)
    _refresh()


def _array_api() -> Any:
    """NumPy's C-API capsule (``_ARRAY_API``), which the C methods check before use; None if absent."""
    for home in ("numpy._core._multiarray_umath", "numpy.core._multiarray_umath"):
        try:
            return getattr(importlib.import_module(home), "_ARRAY_API", None)
        except ImportError:
            continue
    return None


def _refresh() -> None:
    forced = engines.is_forced()
    for name, (int_op, float_op) in OPS.items():
        _listfront.set_limits(name, 0 if forced else _reach(name, int_op), 0 if forced else _reach(name, float_op))


def _reach(method: str, op: str) -> int:
    """Lists shorter than this run ``method`` in C: its ``C_SCAN_REACH`` times the limit of the
    dispatcher's ``op`` (no overflow)."""
    reach = C_SCAN_REACH[method]
    return min(engines.limit_of(op), sys.maxsize // reach) * reach


def implementation() -> str:
    """``"compiled"`` or ``"python (why)"``."""
    return "compiled" if _listfront is not None else f"python ({WHY_PURE})"
