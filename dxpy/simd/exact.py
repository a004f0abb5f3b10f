"""Exact Python comparisons and arithmetic on int64/float64 storage.

Python compares an ``int`` with a ``float`` exactly (``2**53 + 1 > 2.0**53``)
and never overflows an ``int``; a vector kernel compares two machine numbers
of one type.  These helpers rewrite a comparison or an operand into one the
kernel computes with Python's answer, or say that none exists (the caller
then runs the plain Python loop, which also raises Python's exceptions).
"""

from __future__ import annotations

import math
from typing import Any

from dxpy.simd.kernels import CMP_OPS

INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1
EXACT_FLOAT_INT = 1 << 53
"""Every int of at most this magnitude converts to float64 and back unchanged."""

ALL, NONE = "all", "none"
"""Outcomes of a comparison that is the same for every element."""


def fits_int64(x: Any) -> bool:
    """Whether ``x`` is stored exactly by int64 storage (exact ``int``, not ``bool``)."""
    return type(x) is int and INT64_MIN <= x <= INT64_MAX


def int_comparison(op: str, value: Any) -> tuple[str, int] | str | None:
    """``x <op> value`` for every int64 ``x`` as ``(op', int64 value')``, ``ALL``/``NONE``, or ``None``."""
    if type(value) is bool:
        value = int(value)
    if type(value) is float:
        if math.isnan(value):
            return ALL if op == "!=" else NONE
        if math.isinf(value):
            return _beyond(op, value > 0)
        if not value.is_integer():
            if op in ("==", "!="):
                return NONE if op == "==" else ALL
            # x < 2.5 <=> x <= 2, x > 2.5 <=> x > 2: compare with the floor
            op, value = ("<=" if op in ("<", "<=") else ">"), math.floor(value)
        value = int(value)
    if type(value) is not int:
        return None
    if value > INT64_MAX or value < INT64_MIN:
        return _beyond(op, value > 0)
    return op, value


def float_comparison(op: str, value: Any) -> tuple[str, float] | None:
    """``x <op> value`` for every float64 ``x`` as ``(op, float value)``, or ``None``."""
    if type(value) is float:
        return op, value
    if type(value) in (int, bool) and -EXACT_FLOAT_INT <= value <= EXACT_FLOAT_INT:
        return op, float(value)
    return None


def _beyond(op: str, above: bool) -> str:
    """The outcome of comparing every int64 with a value above (below) all of them."""
    less = op in ("<", "<=")
    greater = op in (">", ">=")
    if op == "==":
        return NONE
    if op == "!=":
        return ALL
    return ALL if (less and above) or (greater and not above) else NONE


def check_op(op: str) -> int:
    """The kernel code of comparison ``op``; ``ValueError`` naming the choices otherwise."""
    try:
        return CMP_OPS[op]
    except (KeyError, TypeError):
        raise ValueError(f"unknown comparison {op!r}: expected one of {', '.join(CMP_OPS)}") from None


def float_operand(value: Any) -> float | None:
    """``value`` as the float Python would convert it to in float arithmetic, or ``None``."""
    if type(value) is float:
        return value
    if type(value) in (int, bool):
        try:
            return float(value)
        except OverflowError:
            return None
    return None
