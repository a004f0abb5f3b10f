"""SimdList's ``sum``/``min``/``max``/``index``/``count`` as C methods for small lists.

The Python methods pay their own frame, the dispatcher's size check and a
``tolist()`` of the NumPy storage before the builtin runs -- 1-2 us on a
10-element SimdList, where ``sum(list)`` takes 0.1-0.2 us.  When
``dxpy.simd._listfront`` was built (``_listfront.c``, optional at install),
``install`` replaces the five methods with method descriptors that scan
small int64/float64 storage in C and call the Python method (kept in
``PURE``) for everything else; without it the class keeps its Python methods.

A list runs in C when it is shorter than ``C_SCAN_REACH`` times the
dispatcher's limit for the op (``engines.LIMITS``: where the SIMD engines
start to beat the builtin; a plain C scan beats them for a while longer,
because calling them costs a Python method and a cffi call), so forcing an
engine (limit 0) sends every call to the Python method and its kernels.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable
from typing import Any

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
}
"""method -> the dispatcher's ops whose limits bound it for int64 and for float64 storage."""
C_SCAN_REACH = 3
"""Measured 2026-12-03 (C scan time / forced native engine time, int64 and float64 sum, min,
max, index, count): 0.13-0.34 at 1e3 elements, 0.29-0.79 at 3e3, 0.73-1.63 at 1e4; the
engines' crossover with the builtin is 1e3, so the scan keeps lists below 3e3."""
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
    for name, method in _listfront.install(cls, dict(PURE), docs).items():
        setattr(cls, name, method)
    engines.on_limits_change(_refresh)
    _refresh()


def _refresh() -> None:
    forced = engines.is_forced()
    for name, (int_op, float_op) in OPS.items():
        _listfront.set_limits(name, 0 if forced else _reach(int_op), 0 if forced else _reach(float_op))


def _reach(op: str) -> int:
    """Lists shorter than this run in C: ``C_SCAN_REACH`` times the op's limit (no overflow)."""
    return min(engines.limit_of(op), sys.maxsize // C_SCAN_REACH) * C_SCAN_REACH


def implementation() -> str:
    """``"compiled"`` or ``"python (why)"``."""
    return "compiled" if _listfront is not None else f"python ({WHY_PURE})"
