"""C-heap tuning for a server process: keep freed request buffers for reuse.

Request bodies reach Python as ``bytes`` objects of up to one receive buffer
(64 KiB) each, at least twice per chunk (the transport's copy out of the
kernel's buffer, llhttp's ``on_body`` copy), and they are freed a loop
iteration later.  Allocations that size bypass CPython's small-object
allocator and go to glibc ``malloc``, which by default gives the top of the
heap back to the kernel (``sbrk`` down) as soon as more than 128 KiB of it is
free.  Under load a batch of requests allocates a few MiB of bodies, frees
them, the heap is trimmed, and the next batch faults every page in again:
in the profile of ``serve_bench`` ``upload`` at 64 connections that page
faulting (seen as ``memcpy`` into fresh pages, plus ``brk``) was a quarter of
the server's CPU time per request.

``tune_malloc()`` raises the trim threshold to ``TRIM_THRESHOLD`` (freed heap
up to that size stays mapped and is reused without faults; beyond it glibc
still trims) and fixes the ``mmap`` threshold at ``MMAP_THRESHOLD`` (glibc's
own adaptive threshold is switched off by setting the trim threshold, and the
default 128 KiB would send every joined body larger than that to a fresh
``mmap``).  The cost is bounded: at most ``TRIM_THRESHOLD`` bytes of free heap
kept resident after a burst.

It changes the whole process's allocator, so the server applies it only with
GC control on (``--no-gc-control`` leaves both the collector and the heap as
they are), and never over a user's own ``MALLOC_TRIM_THRESHOLD_`` /
``MALLOC_MMAP_THRESHOLD_`` environment settings.  On a C library without
glibc's ``mallopt`` (musl, macOS) it does nothing.
"""

from __future__ import annotations

import ctypes
import os

#: glibc's ``mallopt`` parameter numbers (malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
#: Free heap kept for reuse: 256 connections' worth of 64 KiB buffers in flight.
TRIM_THRESHOLD = 32 * 1024 * 1024
#: Allocations at least this large get their own mapping.
MMAP_THRESHOLD = 1024 * 1024


def user_tuned() -> bool:
    """Whether the environment already sets glibc's malloc thresholds."""
    return bool(os.environ.get("MALLOC_TRIM_THRESHOLD_") or os.environ.get(
        "MALLOC_MMAP_THRESHOLD_") or "glibc.malloc." in os.environ.get("GLIBC_TUNABLES", ""))


def tune_malloc() -> bool:
    """Apply the thresholds above; whether they are now in effect."""
    if user_tuned():
        return False
    mallopt = _glibc_mallopt()
    if mallopt is None:
        return False
    # mallopt returns 1 on success, 0 for a parameter it rejects.
    return bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)) and bool(
        mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))


def _glibc_mallopt() -> "ctypes._CFuncPtr | None":
    """glibc's ``mallopt``, or None where the C library is not glibc."""
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # glibc only: musl also has a (no-op) mallopt
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return None
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return mallopt
