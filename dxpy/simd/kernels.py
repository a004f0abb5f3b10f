"""The kernel interface every engine implements, and the codes it shares.

An *engine* is a set of primitive kernels over contiguous bytes and over
one-dimensional contiguous NumPy arrays of int64 or float64 (``SimdList`` storage).  Three
engines implement it with identical results: ``scalar`` (plain Python, the
reference), ``numpy`` (NumPy's vectorised loops) and ``native`` (C with
AVX2/SSE2 variants, ``dxpy.simd._native``).  Everything user-facing
(``dxpy.simd.find``, ``SimdList.sum``, ...) is written once on top of these
primitives, so the engines differ only where the work is.

Arguments are already normalised by the caller: ``0 <= start <= end <=
len(buf)`` for byte kernels, non-empty arrays where a reduction needs one.
"""

from __future__ import annotations

from typing import Protocol

from numpy import ndarray

CMP_OPS: dict[str, int] = {"<": 0, "<=": 1, "==": 2, "!=": 3, ">": 4, ">=": 5}
"""Comparison operators of ``SimdList.filter``, with the codes the native kernels take."""

INT_MAP_OPS: dict[str, int] = {"+": 0, "-": 1, "*": 2, "//": 3, "%": 4, "**": 5}
"""int64 storage, int scalar: operators whose result is an int (``/`` goes through float64)."""

FLOAT_MAP_OPS: dict[str, int] = {"+": 0, "-": 1, "*": 2, "/": 3, "//": 4, "%": 5, "**": 6}
"""float64 operands: every arithmetic operator."""

WHITESPACE = b" \t\n\r\x0b\x0c"
"""What ``bytes.split()`` splits on (ASCII whitespace; ``str.split`` adds \\x1c-\\x1f for ASCII str)."""


class Engine(Protocol):
    """What ``dxpy.simd`` asks of an engine.  Results equal Python's exactly."""

    name: str

    def find(self, buf: bytes, sub: bytes, start: int, end: int) -> int:
        """Lowest offset of ``sub`` in ``buf[start:end]`` (as an offset into ``buf``), or -1."""

    def rfind(self, buf: bytes, sub: bytes, start: int, end: int) -> int:
        """Highest offset of ``sub`` in ``buf[start:end]``, or -1."""

    def find_all(self, buf: bytes, sub: bytes, start: int, end: int, overlapping: bool) -> list[int]:
        """Every offset of ``sub`` in ``buf[start:end]``: left to right, non-overlapping unless asked."""

    def count(self, buf: bytes, sub: bytes, start: int, end: int) -> int:
        """Non-overlapping occurrences of ``sub`` (``bytes.count``)."""

    def count_byte(self, buf: bytes, byte: int) -> int:
        """Occurrences of one byte value in ``buf``."""

    def equal(self, a: bytes, b: bytes) -> bool:
        """Whether two buffers of the same length hold the same bytes."""

    def lower(self, buf: bytes) -> bytes:
        """ASCII letters lowered, every other byte unchanged (``bytes.lower``)."""

    def upper(self, buf: bytes) -> bytes:
        """ASCII letters raised (``bytes.upper``)."""

    def word_spans(self, buf: bytes, whitespace: bytes) -> list[tuple[int, int]]:
        """``(start, end)`` of each maximal run of bytes not in ``whitespace``."""

    def sum_i64(self, data: ndarray) -> int:
        """Exact sum of an int64 array (a Python int, never wrapped)."""

    def sum_f64(self, data: ndarray, start: float) -> float:
        """Left-to-right float sum from ``start``, as the builtin ``sum`` adds."""

    def minmax_i64(self, data: ndarray, want_max: bool) -> int:
        """Least (greatest) element of a non-empty int64 array."""

    def minmax_f64(self, data: ndarray, want_max: bool) -> float:
        """Least (greatest) non-NaN element, NaN if there is none (ties between zeros unspecified)."""

    def filter_indices(self, data: ndarray, op: int, value: float) -> ndarray:
        """int64 array of the indices ``i`` with ``data[i] <op> value`` (value of the storage's kind)."""

    def count_cmp(self, data: ndarray, op: int, value: float) -> int:
        """How many elements satisfy ``<op> value``."""

    def index(self, data: ndarray, value: float, start: int, stop: int) -> int:
        """First ``i`` in ``[start, stop)`` with ``data[i] == value``, or -1."""

    def map_i64(self, data: ndarray, op: int, value: int) -> ndarray | None:
        """``x <op> value`` for each int64 ``x`` (``INT_MAP_OPS``); None when a result leaves int64
        or the operation needs Python's exact path (the caller computes Python ints then)."""

    def map_f64(self, data: ndarray, op: int, value: float) -> ndarray | None:
        """``x <op> value`` for each float64 ``x`` (``FLOAT_MAP_OPS``); None when Python would raise
        or leave float (overflow, a complex power): the caller redoes it in Python."""
