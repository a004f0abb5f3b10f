"""``dxpy.aio``: async file I/O without a thread per call.

asyncio has no file I/O of its own; ``aiofiles`` and ``anyio.Path`` hand every
call to a thread, and the hop costs more than reading a cached file.  On the
io_uring backend every operation here is a reactor operation (OPENAT, READ,
WRITE, STATX, FSYNC, CLOSE), so many files' operations issued in one loop
iteration share one ``io_uring_enter`` and the loop never blocks.  On the
epoll backend (and on a non-dxpy loop) the same API runs on a thread pool,
because epoll cannot wait for a regular file and the reactor would do the
I/O synchronously on the loop's thread; ``dxpy info`` says which is in use.

Design choices, and why:

* **Files** (``open``): the stdlib's buffered and text classes call their raw
  stream synchronously, so they cannot sit on async I/O without a thread.
  The async classes here (``BinaryFile``, ``TextFile``) keep ``open()``'s
  observable behaviour (same bytes, positions, ``tell()`` cookies, errors;
  checked by a hypothesis suite against ``open()``) and reuse what is
  reusable: the codec's incremental decoder/encoder and
  ``io.IncrementalNewlineDecoder`` do all decoding and newline handling.
  Raw I/O uses explicit offsets, so a cancelled operation never moves the
  reported position and a write is reported only once all its bytes are in.
* **Errors** are ``open()``'s and ``os``'s: ``FileNotFoundError``,
  ``IsADirectoryError``, ``PermissionError`` with the path as ``filename``,
  ``UnicodeDecodeError`` from the codec, ``ValueError`` on a closed file.
* **Whole files** (``read_bytes``, ``read_many``): one ``read_files``
  reactor call per window of 512 files, a kernel-side OPENAT -> READ ->
  CLOSE chain per file prepared in one C call (no per-op Python); files over
  64 KiB are then read with one batch of OPENATs, one of READs (sized by
  ``fstat``: measured cheaper than a STATX op), one of CLOSEs.
* **Large files** (``_large``): a read of 8 MiB or more is split into parts
  in flight together (offloaded to kernel workers on io_uring), straight into
  the returned ``bytes`` (advised huge pages) or the ``readinto`` buffer;
  ``read()`` is sized by ``fstat`` with an EOF probe beside it; runs of equal
  sequential ``read(n)`` get read-ahead.  One operation moves at most
  0x7FFFF000 bytes (the kernel's cap); every loop continues short reads and
  writes.
* ``copy`` is ``os.copy_file_range`` on the pool (io_uring has no such
  operation); ``truncate`` is ``ftruncate`` on the pool for the same reason.
* ``dxpy.aio.os`` (with ``os.path``) and ``dxpy.aio.tempfile`` are
  ``aiofiles.os``/``aiofiles.tempfile``'s surface: the short path calls of
  one loop iteration run as one batch (``_batch``: a few as reactor
  operations, STATX, RENAMEAT, UNLINKAT, MKDIRAT, SYMLINKAT, LINKAT; many as
  pool jobs of 64 calls), the rest on the pool.

Example::

    async with dxpy.aio.open("data.txt") as f:
        async for line in f:
            ...
    blobs = await dxpy.aio.read_many(paths)
"""

from __future__ import annotations

from ._binary import BinaryFile
from ._helpers import copy, read_bytes, read_many, read_text, stat, write_bytes, write_text
from ._open import AsyncFile, OpenContext, open
from ._text import TextFile
from . import os, ospath, tempfile  # noqa: E402 - submodules: dxpy.aio.os, dxpy.aio.tempfile

__all__ = [
    "AsyncFile", "BinaryFile", "OpenContext", "TextFile", "copy", "open",
    "read_bytes", "read_many", "read_text", "stat", "write_bytes", "write_text",
    "os", "ospath", "tempfile",
]

