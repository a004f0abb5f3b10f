"""The scalar engine: every kernel as a plain Python loop, the reference.

Deliberately naive (one position, one element at a time, Python's own
operators), so that it is obviously right; the other engines are tested
against it and against the builtins.  It is never picked automatically
when another engine loads, and never faster than a builtin.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable

import numpy as np
from numpy import ndarray

from dxpy.simd.kernels import CMP_OPS, FLOAT_MAP_OPS, INT_MAP_OPS

_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1
_CMP_FUNCS: dict[int, Callable] = {code: getattr(operator, name) for code, name in zip(
    CMP_OPS.values(), ("lt", "le", "eq", "ne", "gt", "ge"))}
_ARITH = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
          "//": operator.floordiv, "%": operator.mod, "**": operator.pow}
INT_MAP_FUNCS: dict[int, Callable] = {code: _ARITH[sym] for sym, code in INT_MAP_OPS.items()}
FLOAT_MAP_FUNCS: dict[int, Callable] = {code: _ARITH[sym] for sym, code in FLOAT_MAP_OPS.items()}


class ScalarEngine:
    """Plain-Python kernels (see ``dxpy.simd.kernels.Engine``)."""

    name = "scalar"

    # ---- bytes ---------------------------------------------------------
    def find(self, buf: bytes, sub: bytes, start: int, end: int) -> int:
        data, m = bytes(buf), len(sub)
        for i in range(start, end - m + 1):
            if data[i:i + m] == sub:
                return i
        return -1

    def rfind(self, buf: bytes, sub: bytes, start: int, end: int) -> int:
        data, m = bytes(buf), len(sub)
        for i in range(end - m, start - 1, -1):
            if data[i:i + m] == sub:
                return i
        return -1

    def find_all(self, buf: bytes, sub: bytes, start: int, end: int, overlapping: bool) -> list[int]:
        data, m = bytes(buf), len(sub)
        found: list[int] = []
        i = start
        while i + m <= end:
            if data[i:i + m] == sub:
                found.append(i)
                i += 1 if overlapping or m == 0 else m
            else:
                i += 1
        return found

    def count(self, buf: bytes, sub: bytes, start: int, end: int) -> int:
        return len(self.find_all(buf, sub, start, end, False))

    def count_byte(self, buf: bytes, byte: int) -> int:
        total = 0
        for value in bytes(buf):
            total += value == byte
        return total

    def equal(self, a: bytes, b: bytes) -> bool:
        return all(x == y for x, y in zip(bytes(a), bytes(b)))

    def lower(self, buf: bytes) -> bytes:
        return bytes(c | 0x20 if 0x41 <= c <= 0x5A else c for c in bytes(buf))

    def upper(self, buf: bytes) -> bytes:
        return bytes(c & ~0x20 if 0x61 <= c <= 0x7A else c for c in bytes(buf))

    def word_spans(self, buf: bytes, whitespace: bytes) -> list[tuple[int, int]]:
        spans: list[tuple[int, int]] = []
        begin = -1
        for i, c in enumerate(bytes(buf)):
            if c in whitespace:
                if begin >= 0:
                    spans.append((begin, i))
                    begin = -1
            elif begin < 0:
                begin = i
        if begin >= 0:
            spans.append((begin, len(buf)))
        return spans

    # ---- int64 / float64 arrays ----------------------------------------
    def sum_i64(self, data: ndarray) -> int:
        total = 0
        for x in data.tolist():
            total += x
        return total

    def sum_f64(self, data: ndarray, start: float) -> float:
        total = start
        for x in data.tolist():
            total += x
        return total

    def minmax_i64(self, data: ndarray, want_max: bool) -> int:
        best = int(data[0])
        for x in data.tolist():
            if (x > best) if want_max else (x < best):
                best = x
        return best

    def minmax_f64(self, data: ndarray, want_max: bool) -> float:
        best = math.nan
        for x in data.tolist():
            if x == x and (best != best or ((x > best) if want_max else (x < best))):
                best = x
        return best

    def filter_indices(self, data: ndarray, op: int, value: float) -> ndarray:
        test = _CMP_FUNCS[op]
        return np.array([i for i, x in enumerate(data.tolist()) if test(x, value)], dtype=np.int64)

    def count_cmp(self, data: ndarray, op: int, value: float) -> int:
        test = _CMP_FUNCS[op]
        return sum(1 for x in data.tolist() if test(x, value))

    def index(self, data: ndarray, value: float, start: int, stop: int) -> int:
        values = data.tolist()
        for i in range(start, stop):
            if values[i] == value:
                return i
        return -1

    def map_i64(self, data: ndarray, op: int, value: int) -> ndarray | None:
        if op == INT_MAP_OPS["**"] and value < 0:
            return None
        apply = INT_MAP_FUNCS[op]
        results = [apply(x, value) for x in data.tolist()]
        if any(not _INT64_MIN <= r <= _INT64_MAX for r in results):
            return None
        return np.array(results, dtype=np.int64)

    def map_f64(self, data: ndarray, op: int, value: float) -> ndarray | None:
        apply = FLOAT_MAP_FUNCS[op]
        results = []
        for x in data.tolist():
            try:
                r = apply(x, value)
            except (OverflowError, ZeroDivisionError):
                return None
            if not isinstance(r, float):
                return None
            results.append(r)
        return np.array(results, dtype=np.float64)
