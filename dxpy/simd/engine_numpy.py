"""The NumPy engine: each kernel as a few whole-array NumPy operations.

Searches compare the needle's first and last byte against every candidate
position at once (one boolean array each) and verify only the survivors;
searches that may stop early work in chunks so a match near the start costs
one chunk.  Integer sums are exact by summing the high and low 32-bit halves
separately (neither can overflow int64 within a chunk); float sums use
``np.add.accumulate``, which adds left to right like the builtin ``sum``.
"""

from __future__ import annotations

import math

import numpy as np
from numpy import ndarray

from dxpy.simd.kernels import FLOAT_MAP_OPS, INT_MAP_OPS

_CHUNK = 1 << 20
"""Bytes (or elements) per step of a search that may stop early."""
_HALF_CHUNK = 1 << 30
"""Elements per exact int64 half-sum: 2**30 values below 2**32 stay below 2**62."""
_EXACT_VERIFY = 8
"""Needles up to this long are matched entirely with array compares (no per-candidate check)."""

_COMPARE = (np.less, np.less_equal, np.equal, np.not_equal, np.greater, np.greater_equal)
_INT_UFUNCS = {INT_MAP_OPS["+"]: np.add, INT_MAP_OPS["-"]: np.subtract, INT_MAP_OPS["*"]: np.multiply,
               INT_MAP_OPS["//"]: np.floor_divide, INT_MAP_OPS["%"]: np.remainder}
_FLOAT_UFUNCS = {FLOAT_MAP_OPS["+"]: np.add, FLOAT_MAP_OPS["-"]: np.subtract,
                 FLOAT_MAP_OPS["*"]: np.multiply, FLOAT_MAP_OPS["/"]: np.true_divide,
                 FLOAT_MAP_OPS["//"]: np.floor_divide, FLOAT_MAP_OPS["%"]: np.remainder}
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1
_SAFE_PRODUCT = float(1 << 62)


def _bytes_view(buf: bytes) -> ndarray:
    return np.frombuffer(buf, dtype=np.uint8)


def _candidates(hay: ndarray, sub: bytes) -> ndarray:
    """Offsets ``i`` of ``hay`` (``len(hay) >= len(sub) >= 1``) where ``sub`` may start, sorted.

    Exact for needles up to ``_EXACT_VERIFY`` bytes; longer needles compare
    their first ``_EXACT_VERIFY - 1`` bytes and the last, and the caller verifies.
    """
    m = len(sub)
    span = len(hay) - m + 1
    probe = list(range(min(m, _EXACT_VERIFY - 1))) + ([m - 1] if m >= _EXACT_VERIFY else [])
    mask = hay[probe[0]:probe[0] + span] == sub[probe[0]]
    for k in probe[1:]:
        mask &= hay[k:k + span] == sub[k]
    return np.flatnonzero(mask)


def _verified(buf: bytes, sub: bytes, offsets: ndarray) -> list[int]:
    positions = offsets.tolist()
    if len(sub) <= _EXACT_VERIFY:
        return positions
    view = memoryview(buf)
    m = len(sub)
    return [i for i in positions if view[i:i + m] == sub]


def _non_overlapping(positions: list[int], m: int) -> list[int]:
    """Left-to-right greedy choice of matches that do not overlap (``bytes.count``'s rule)."""
    chosen: list[int] = []
    next_free = -1
    for i in positions:
        if i >= next_free:
            chosen.append(i)
            next_free = i + m
    return chosen


class NumpyEngine:
    """NumPy kernels (see ``dxpy.simd.kernels.Engine``)."""

    name = "numpy"

    # ---- bytes ---------------------------------------------------------
    def find(self, buf: bytes, sub: bytes, start: int, end: int) -> int:
        m = len(sub)
        if m == 0:
            return start
        hay = _bytes_view(buf)
        at = start
        while at + m <= end:
            stop = min(end, at + _CHUNK + m - 1)
            found = _verified(buf, sub, _candidates(hay[at:stop], sub) + at)
            if found:
                return found[0]
            at = stop - m + 1
        return -1

    def rfind(self, buf: bytes, sub: bytes, start: int, end: int) -> int:
        m = len(sub)
        if m == 0:
            return end
        hay = _bytes_view(buf)
        stop = end
        while stop - m >= start:
            at = max(start, stop - _CHUNK - m + 1)
            found = _verified(buf, sub, _candidates(hay[at:stop], sub) + at)
            if found:
                return found[-1]
            stop = at + m - 1
        return -1

    def find_all(self, buf: bytes, sub: bytes, start: int, end: int, overlapping: bool) -> list[int]:
        m = len(sub)
        if m == 0:
            return list(range(start, end + 1))
        if end - start < m:
            return []
        found = _verified(buf, sub, _candidates(_bytes_view(buf)[start:end], sub) + start)
        if overlapping or len(found) < 2 or int(np.diff(found).min()) >= m:
            return found
        return _non_overlapping(found, m)

    def count(self, buf: bytes, sub: bytes, start: int, end: int) -> int:
        if len(sub) == 1:
            return self.count_byte(memoryview(buf)[start:end], sub[0])
        return len(self.find_all(buf, sub, start, end, False))

    def count_byte(self, buf: bytes, byte: int) -> int:
        hay = _bytes_view(buf)
        return sum(int(np.count_nonzero(hay[i:i + _CHUNK] == byte)) for i in range(0, len(hay), _CHUNK))

    def equal(self, a: bytes, b: bytes) -> bool:
        return bool(np.array_equal(_bytes_view(a), _bytes_view(b)))

    def lower(self, buf: bytes) -> bytes:
        return _convert_case(_bytes_view(buf), 0x41, np.bitwise_or)

    def upper(self, buf: bytes) -> bytes:
        return _convert_case(_bytes_view(buf), 0x61, np.bitwise_xor)

    def word_spans(self, buf: bytes, whitespace: bytes) -> list[tuple[int, int]]:
        table = np.zeros(256, dtype=np.int8)
        table[list(whitespace)] = 1
        word = np.empty(len(buf) + 2, dtype=np.int8)
        word[0] = word[-1] = 0
        word[1:-1] = 1 - table[_bytes_view(buf)]
        edges = np.diff(word)
        starts = np.flatnonzero(edges == 1).tolist()
        ends = np.flatnonzero(edges == -1).tolist()
        return list(zip(starts, ends))

    # ---- int64 / float64 arrays ----------------------------------------
    def sum_i64(self, data: ndarray) -> int:
        total = 0
        for i in range(0, len(data), _HALF_CHUNK):
            part = data[i:i + _HALF_CHUNK]
            high = int(np.right_shift(part, 32).sum())
            low = int(np.bitwise_and(part, 0xFFFFFFFF).sum())
            total += (high << 32) + low
        return total

    def sum_f64(self, data: ndarray, start: float) -> float:
        total = start
        scratch = np.empty(min(len(data), _CHUNK) + 1, dtype=np.float64)
        for i in range(0, len(data), _CHUNK):
            part = data[i:i + _CHUNK]
            work = scratch[:len(part) + 1]
            work[0] = total
            work[1:] = part
            with np.errstate(all="ignore"):  # inf - inf is NaN here as in the builtin, silently
                total = float(np.add.accumulate(work, out=work)[-1])
        return total

    def minmax_i64(self, data: ndarray, want_max: bool) -> int:
        return int(data.max() if want_max else data.min())

    def minmax_f64(self, data: ndarray, want_max: bool) -> float:
        return float(np.fmax.reduce(data) if want_max else np.fmin.reduce(data))

    def filter_indices(self, data: ndarray, op: int, value: float) -> ndarray:
        return np.flatnonzero(_COMPARE[op](data, value)).astype(np.int64, copy=False)

    def count_cmp(self, data: ndarray, op: int, value: float) -> int:
        return int(np.count_nonzero(_COMPARE[op](data, value)))

    def index(self, data: ndarray, value: float, start: int, stop: int) -> int:
        for at in range(start, stop, _CHUNK):
            hits = np.flatnonzero(data[at:min(stop, at + _CHUNK)] == value)
            if len(hits):
                return at + int(hits[0])
        return -1

    def map_i64(self, data: ndarray, op: int, value: int) -> ndarray | None:
        if not len(data):
            return data.copy()
        low, high = int(data.min()), int(data.max())
        if not _fits_int64(op, value, low, high):
            return None
        if op == INT_MAP_OPS["**"]:
            return np.power(data, value)
        with np.errstate(all="ignore"):
            return _INT_UFUNCS[op](data, value)

    def map_f64(self, data: ndarray, op: int, value: float) -> ndarray | None:
        if op == FLOAT_MAP_OPS["**"]:
            return None  # NumPy's pow may not be libm's (SVML on AVX-512): Python's own pow is exact
        with np.errstate(all="ignore"):
            return _FLOAT_UFUNCS[op](data, value)


def _convert_case(data: ndarray, first: int, flip: np.ufunc) -> bytes:
    """Flip bit 5 of the 26 letters from ``first``: OR lowers ``A-Z``, XOR raises ``a-z``.

    ``data - first`` wraps in uint8, so one unsigned compare finds the letters.
    """
    out = np.empty_like(data)
    for i in range(0, len(data), _CHUNK):
        part = data[i:i + _CHUNK]
        letters = np.less(part - np.uint8(first), np.uint8(26))
        flip(part, np.left_shift(letters.view(np.uint8), np.uint8(5)), out=out[i:i + _CHUNK])
    return out.tobytes()


def _fits_int64(op: int, value: int, low: int, high: int) -> bool:
    """Whether ``x <op> value`` stays in int64 for every ``low <= x <= high`` (Python ints here)."""
    if op == INT_MAP_OPS["+"]:
        return _INT64_MIN <= low + value and high + value <= _INT64_MAX
    if op == INT_MAP_OPS["-"]:
        return _INT64_MIN <= low - value and high - value <= _INT64_MAX
    if op == INT_MAP_OPS["*"]:
        return float(max(-low, high)) * abs(value) < _SAFE_PRODUCT
    if op == INT_MAP_OPS["//"]:
        return not (value == -1 and low == _INT64_MIN)
    if op == INT_MAP_OPS["%"]:
        return True
    base = max(-low, high)
    return value >= 0 and (base <= 1 or value * math.log2(base) < 62)
