"""A (state, int64) pair in shared memory, read and replaced by 16-byte atomics.

Entangled's fast protocol publishes every version with one compare-and-swap
of this pair (``atomics.c``, a small C extension built at install).  It is
optional: ``AVAILABLE`` is False when the extension was not built (no
compiler) or the CPU lacks a 16-byte CAS; Entangled then uses its OFD-lock
protocol, and ``WHY_NOT`` says why.
"""

from __future__ import annotations

import functools
import mmap

try:
    from . import _atomics
except ImportError as exc:  # not built at install: the lock protocol is used
    _atomics = None
    WHY_NOT = f"dxpy.ipc._atomics is not built ({exc})"
else:
    WHY_NOT = "" if _atomics.usable() else "this CPU has no 16-byte compare-and-swap"

AVAILABLE = not WHY_NOT


class SharedPair:
    """The 16 bytes at ``offset`` (16-byte aligned) of a writable ``mapping``.

    ``load()`` returns (state, value), read together;
    ``compare_and_swap(state, value, new_state, new_value)`` replaces the
    pair if it is still (state, value) and says whether it did
    (``OverflowError`` for a value outside int64);
    ``update_inline(tag, fn, attempts)`` is Entangled's update loop for an
    int held in the pair (its contract is in ``atomics.c``).  All are the C functions
    with the mapping bound (``functools.partial``: no Python frame per call,
    which is most of an uncontended update's cost).  Each call holds the
    mapping's buffer while it runs, so a closed mapping raises
    ``ValueError``, never touches unmapped memory."""

    __slots__ = ("load", "compare_and_swap", "update_inline")

    def __init__(self, mapping: mmap.mmap, offset: int) -> None:
        if _atomics is None or not AVAILABLE:
            raise RuntimeError(f"16-byte atomics are unavailable: {WHY_NOT}")
        self.load = functools.partial(_atomics.load, mapping, offset)
        self.compare_and_swap = functools.partial(_atomics.compare_and_swap, mapping, offset)
        self.update_inline = functools.partial(_atomics.update_inline, mapping, offset)
        self.load()  # the offset's alignment and bounds, checked once up front


__all__ = ["AVAILABLE", "SharedPair", "WHY_NOT"]
