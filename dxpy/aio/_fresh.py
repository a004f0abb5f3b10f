"""A new ``bytes`` object whose contents a read fills in place.

Why: ``read(n)`` must return a new ``bytes``.  Reading into a reused buffer
and copying out costs a second pass over the data plus, for large objects,
page faults on the fresh allocation: measured, that made a sequential read in
1 MiB chunks 2x slower than ``open()``, whose C reader reads straight into
the ``bytes`` it returns.  This module does what ``_io`` does: allocate the
object uninitialised (``PyBytes_FromStringAndSize(NULL, n)``, public C API)
and hand the kernel a writable view of it.

Large objects are advised to use transparent huge pages
(``madvise(MADV_HUGEPAGE)``, where THP is in "madvise" mode): the kernel's
copy into fresh memory otherwise takes a page fault (and a page zeroing)
per 4 KiB, which measured ~45% of a 1 GiB cached ``read()``; with 2 MiB
pages the same read took 0.55x the time of ``open().read()``.

The object is writable only here, before anyone else has seen it (its hash
is not computed yet and nothing shares it); the caller returns it once the
read is complete, or a slice of it after a short read at EOF.  The view keeps
the object alive, so a read abandoned by a cancelled task still writes into
memory that exists, and the object is then just dropped.
"""

from __future__ import annotations

import ctypes

import _cffi_backend

# cffi's own backend type, as compiled cffi modules use it: only from_buffer and
# buffer are needed, and ``cffi.FFI()`` would import pycparser (~10 ms at start-up).
_ffi = _cffi_backend.FFI()

#: Objects at least this large get the huge-page advice.
HUGE_FROM = 4 << 20
_HUGE = 2 << 20
_MADV_HUGEPAGE = 14

try:
    _madvise = ctypes.CDLL(None, use_errno=True).madvise
    _madvise.restype = ctypes.c_int
    _madvise.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
except (AttributeError, OSError):  # pragma: no cover - no libc symbol: plain pages
    _madvise = None

try:
    _new_bytes = ctypes.pythonapi.PyBytes_FromStringAndSize
    _new_bytes.restype = ctypes.py_object
    _new_bytes.argtypes = (ctypes.c_char_p, ctypes.c_ssize_t)
except AttributeError:  # pragma: no cover - not CPython: zero-filled bytes are correct too
    _new_bytes = None


def fresh_bytes(size: int) -> tuple[bytes, memoryview]:
    """A new ``bytes`` of ``size`` (> 0) unset bytes and a writable view of it."""
    if size <= 0:
        raise ValueError(f"fresh_bytes needs a positive size, not {size}")
    data = _new_bytes(None, size) if _new_bytes is not None else bytes(size)
    pointer = _ffi.from_buffer(data)
    if size >= HUGE_FROM:
        advise_huge_pages(int(_ffi.cast("uintptr_t", pointer)), size)
    return data, memoryview(_ffi.buffer(pointer, size))


def writable_view(data: bytes) -> memoryview:
    """A writable view of a new ``bytes`` that nobody else has seen yet (one
    from ``fresh_bytes`` or ``_pagecache.pread_cached``), to finish its read."""
    return memoryview(_ffi.buffer(_ffi.from_buffer(data), len(data)))


def advise_huge_pages(address: int, size: int) -> None:
    """Ask for huge pages on the whole 2 MiB pages inside ``[address,
    address + size)``; untouched memory only, so no data moves.  A refusal
    (THP off, old kernel) leaves ordinary pages: nothing to report."""
    start = -(-address // _HUGE) * _HUGE
    stop = (address + size) // _HUGE * _HUGE
    if _madvise is not None and stop > start:
        _madvise(start, stop - start, _MADV_HUGEPAGE)
