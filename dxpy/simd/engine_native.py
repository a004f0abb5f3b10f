"""The native engine: the C kernels of ``simd_kernels.c`` through cffi.

The extension (``dxpy.simd._native``) is built at install when a C compiler
is present; importing this module raises ``ImportError`` otherwise and
``dxpy.simd`` falls back to NumPy.  Inside the extension the AVX2, SSE2 or
portable variant of each kernel is chosen once from the CPU's features;
``set_level`` forces a lower one (the tests run every variant).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy import ndarray

from dxpy.simd._native import ffi, lib  # ImportError: not built (no compiler at install)

LEVELS = ("portable", "sse2", "avx2")
"""Kernel variants, by the level number the extension uses."""

_FIRST_GUESS = 4096
"""Offsets find_all collects before it knows how many there are (most calls need no second pass)."""


def level() -> str:
    """The kernel variant in use."""
    return LEVELS[lib.dxs_get_level()]


def best_level() -> str:
    """The best variant this CPU supports."""
    return LEVELS[lib.dxs_best_level()]


def set_level(name: str) -> str:
    """Use variant ``name`` (capped at what the CPU has); returns the variant now in use."""
    if name not in LEVELS:
        raise ValueError(f"unknown SIMD level {name!r}: expected one of {', '.join(LEVELS)}")
    return LEVELS[lib.dxs_set_level(LEVELS.index(name))]


def _u8(buf: bytes):
    return ffi.from_buffer("uint8_t[]", buf)


def _fresh_bytes(n: int) -> tuple[bytes, object]:
    """A new, unshared bytes object of length ``n`` and a pointer to fill it through.

    The C API's PyBytes_FromStringAndSize(NULL, n) pattern: the object is not
    visible to anyone until it is returned, so filling it once is safe.
    ``bytes(n)`` for ``n < 2`` may be a shared singleton, so those are copied.
    """
    out = bytes(n) if n >= 2 else bytearray(n)
    return out, ffi.from_buffer("uint8_t[]", out)


class NativeEngine:
    """C kernels (see ``dxpy.simd.kernels.Engine``)."""

    name = "native"

    # ---- bytes ---------------------------------------------------------
    def find(self, buf: bytes, sub: bytes, start: int, end: int) -> int:
        at = lib.dxs_find(_u8(buf) + start, end - start, _u8(sub), len(sub), 0)
        return at + start if at >= 0 else -1

    def rfind(self, buf: bytes, sub: bytes, start: int, end: int) -> int:
        at = lib.dxs_rfind(_u8(buf) + start, end - start, _u8(sub), len(sub))
        return at + start if at >= 0 else -1

    def find_all(self, buf: bytes, sub: bytes, start: int, end: int, overlapping: bool) -> list[int]:
        hay, needle, n = _u8(buf) + start, _u8(sub), end - start
        cap = min(_FIRST_GUESS, n + 1)
        out = np.empty(cap, dtype=np.int64)
        total = lib.dxs_find_all(hay, n, needle, len(sub), overlapping, ffi.from_buffer("int64_t[]", out), cap)
        if total > cap:
            out = np.empty(total, dtype=np.int64)
            lib.dxs_find_all(hay, n, needle, len(sub), overlapping, ffi.from_buffer("int64_t[]", out), total)
        return (out[:total] + start).tolist()

    def count(self, buf: bytes, sub: bytes, start: int, end: int) -> int:
        return lib.dxs_find_all(_u8(buf) + start, end - start, _u8(sub), len(sub), 0, ffi.NULL, 0)

    def count_byte(self, buf: bytes, byte: int) -> int:
        return lib.dxs_count_byte(_u8(buf), len(buf), byte)

    def equal(self, a: bytes, b: bytes) -> bool:
        return bool(lib.dxs_equal(_u8(a), _u8(b), len(a)))

    def lower(self, buf: bytes) -> bytes:
        out, target = _fresh_bytes(len(buf))
        lib.dxs_lower(_u8(buf), target, len(buf))
        return bytes(out) if isinstance(out, bytearray) else out

    def upper(self, buf: bytes) -> bytes:
        out, target = _fresh_bytes(len(buf))
        lib.dxs_upper(_u8(buf), target, len(buf))
        return bytes(out) if isinstance(out, bytearray) else out

    def word_spans(self, buf: bytes, whitespace: bytes) -> list[tuple[int, int]]:
        # No dedicated C kernel: the byte classification is one table lookup
        # per byte, which NumPy already does at memory speed.
        from dxpy.simd.engine_numpy import NumpyEngine

        return NumpyEngine().word_spans(buf, whitespace)

    # ---- int64 / float64 arrays ----------------------------------------
    def sum_i64(self, data: ndarray) -> int:
        high, low = ffi.new("int64_t *"), ffi.new("uint64_t *")
        lib.dxs_sum_i64(ffi.from_buffer("int64_t[]", data), len(data), high, low)
        return (high[0] << 64) | low[0]

    def sum_f64(self, data: ndarray, start: float) -> float:
        return lib.dxs_sum_f64(ffi.from_buffer("double[]", data), len(data), start)

    def minmax_i64(self, data: ndarray, want_max: bool) -> int:
        return lib.dxs_minmax_i64(ffi.from_buffer("int64_t[]", data), len(data), want_max)

    def minmax_f64(self, data: ndarray, want_max: bool) -> float:
        return lib.dxs_minmax_f64(ffi.from_buffer("double[]", data), len(data), want_max)

    def filter_indices(self, data: ndarray, op: int, value: float) -> ndarray:
        source, kernel = self._typed(data)
        out = np.empty(len(data), dtype=np.int64)  # untouched pages cost nothing
        total = kernel(source, len(data), op, value, ffi.from_buffer("int64_t[]", out))
        return out[:total].copy() if total < len(data) // 4 else out[:total]  # one pass

    def count_cmp(self, data: ndarray, op: int, value: float) -> int:
        source, kernel = self._typed(data)
        return kernel(source, len(data), op, value, ffi.NULL)

    def index(self, data: ndarray, value: float, start: int, stop: int) -> int:
        if data.dtype == np.int64:
            return lib.dxs_index_i64(ffi.from_buffer("int64_t[]", data), stop, value, start)
        return lib.dxs_index_f64(ffi.from_buffer("double[]", data), stop, value, start)

    def map_i64(self, data: ndarray, op: int, value: int) -> ndarray | None:
        out = np.empty(len(data), dtype=np.int64)
        status = lib.dxs_map_i64(ffi.from_buffer("int64_t[]", data), len(data), op, value,
                                 ffi.from_buffer("int64_t[]", out))
        return out if status == 0 else None

    def map_f64(self, data: ndarray, op: int, value: float) -> ndarray | None:
        out = np.empty(len(data), dtype=np.float64)
        status = lib.dxs_map_f64(ffi.from_buffer("double[]", data), len(data), op, value,
                                 ffi.from_buffer("double[]", out))
        return out if status == 0 else None  # 1: Python overflows/raises, 2: zero divisor

    def swiss_probe(self, keys: ndarray, ctrl: bytearray, slots: Any, int_keys: Any, gmask: int) -> ndarray:
        """``swiss_batch.probe`` in C: one SSE2 compare per 16-slot group."""
        out = np.empty(len(keys), dtype=np.int64)
        lib.dxs_swiss_probe(ffi.from_buffer("int64_t[]", keys), len(keys), ffi.from_buffer("uint8_t[]", ctrl),
                            ffi.from_buffer("int64_t[]", slots), ffi.from_buffer("int64_t[]", int_keys),
                            gmask, ffi.from_buffer("int64_t[]", out))
        return out

    @staticmethod
    def _typed(data: ndarray) -> tuple[object, object]:
        if data.dtype == np.int64:
            return ffi.from_buffer("int64_t[]", data), lib.dxs_filter_i64
        return ffi.from_buffer("double[]", data), lib.dxs_filter_f64

