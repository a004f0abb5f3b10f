"""Metadata calls run on the loop's thread when the kernel can answer from memory.

Why: every other way to run a ``stat``, ``rename`` or ``unlink`` costs far
more than the call.  Measured on this 2-vCPU VM (sequential awaits, wall
time per call): ``os.stat`` itself 3-8 us; a STATX/RENAMEAT/UNLINKAT
reactor operation 88-180 us (io_uring always hands these operations to a
kernel worker thread, ``REQ_F_FORCE_ASYNC``: a wake-up there and a wake-up
back); a pool hop, as ``aiofiles.os`` pays, 210-430 us.  A lookup that only
touches memory is cheaper on the loop's thread than any hand-over.

When: ``cached_lookup.c`` opens the path with ``openat2(RESOLVE_CACHED)``,
which resolves it through dentries already in memory or fails with EAGAIN
where it would read a directory from the disk or ask a server (the test
io_uring makes before it opens a file inline rather than on a worker), and
reads its attributes with ``statx(AT_STATX_DONT_SYNC)`` (never a server
round trip).  A call runs inline only if

* every path it names resolved from the cache (a cached "no such entry"
  counts: the call then fails at once, as ``os`` would),
* the entries are on a local filesystem (``LOCAL_TYPES``, by the mount id
  ``statx`` reports, looked up in ``/proc/self/mountinfo``): a network or
  FUSE filesystem may ask its server for attributes,
* ``rename``/``unlink`` touch no directory as their source or target (a
  directory's move rewrites its ``..`` entry and replacing one checks it is
  empty: reads of its blocks), and where they drop a file's last link the
  file has at most ``FREE_LIMIT`` bytes of blocks (freeing a large file's
  extents is journal work that can take milliseconds).

A cached ``stat`` is then answered from the ``statx`` the check made (no
second lookup).  ``rename``/``unlink`` make their system call after the
check.  They still write the directory: ext4 reads the directory block
holding the entry (almost always cached with its dentry) and joins the
journal (which can wait under heavy write load).  So two writes in a row
that each took longer than ``STALL_NS`` send writes to the batched path for
``PAUSE_NS``, bounding what one slow filesystem costs the loop.  Two, not
one: on a loaded machine a ~15 us call is preempted for milliseconds about
once in 200 calls, two in a row about once in 40,000, while a journal or
disk wait holds every write that follows.  (Telling a sleep from a
preemption with ``getrusage`` before and after cost two system calls per
write, ~10% of it.)  asyncio itself makes the same
choice for these calls where it needs them (``create_unix_server`` runs
``os.stat`` and ``os.remove`` on the loop's thread).

Everything else (no compiled ``_lookup``, an uncached path, another
filesystem) takes ``_batch``'s path; results and exceptions are identical.
``DXPY_AIO_INLINE`` picks the policy: ``all`` (default), ``stat`` (lookups
only, every write batched) or ``off``.
"""

from __future__ import annotations

import errno
import os
import struct
import threading
import time
from typing import Any

from ._ops import os_error

#: ``dxl_entry``: os.stat_result's 19 fields.
_ENTRY = struct.Struct("=6Q4q3d5qQ")

try:
    from ._lookup import ffi, lib
except ImportError:  # not built (no compiler): every call takes the batched path
    ffi = lib = None
else:
    if lib.dxl_entry_size() != _ENTRY.size:  # pragma: no cover - a stale build: unusable
        ffi = lib = None

#: Filesystems whose attribute and lookup work is memory-only once cached.
LOCAL_TYPES = frozenset({"ext2", "ext3", "ext4", "xfs", "btrfs", "f2fs", "bcachefs", "tmpfs",
                         "ramfs", "overlay"})
#: Removing the last link of a file with more blocks than this is batched.
FREE_LIMIT = 64 << 20
#: Two inline writes in a row slower than this pause inline writes ...
STALL_NS = 2_000_000
#: ... for this long.
PAUSE_NS = 1_000_000_000
#: How long a read of the mount table is trusted (mount ids are reused
#: after an unmount; a second bounds how stale the table can be).
MOUNTS_TTL_NS = 1_000_000_000

#: Cached failures that ``os`` would report the same way, at once.
_FAILS_AT_ONCE = frozenset({errno.ENOENT, errno.ENOTDIR})


def _policy() -> tuple[bool, bool]:
    """(lookups inline, writes inline) from ``DXPY_AIO_INLINE``."""
    choice = os.environ.get("DXPY_AIO_INLINE", "all").strip().lower()
    if choice not in ("all", "stat", "off"):
        raise ValueError(f"DXPY_AIO_INLINE must be all, stat or off, not {choice!r}")
    usable = lib is not None
    return usable and choice != "off", usable and choice == "all"


LOOKUPS, WRITES = _policy()


class _Mounts:
    """Mount id -> "is a local filesystem", read from ``/proc/self/mountinfo``."""

    def __init__(self) -> None:
        self._local: dict[int, bool] = {}
        self._read_at = -MOUNTS_TTL_NS

    def local(self, mount_id: int) -> bool:
        now = time.monotonic_ns()
        if now - self._read_at > MOUNTS_TTL_NS:
            self._local = self._read()
            self._read_at = now
        return self._local.get(mount_id, False)

    @staticmethod
    def _read() -> dict[int, bool]:
        """Each line: ``id parent major:minor root mountpoint opts [tags] - type ...``."""
        try:
            with open("/proc/self/mountinfo", "rb") as table:
                lines = table.read().decode("utf-8", "replace").splitlines()
        except OSError:  # no /proc: nothing is known to be local
            return {}
        local = {}
        for line in lines:
            head, _, tail = line.partition(" - ")
            fields, kind = head.split(), tail.split()
            if fields and kind and fields[0].isdigit():
                local[int(fields[0])] = kind[0] in LOCAL_TYPES
        return local


_mounts = _Mounts()
_writes_paused_until = 0
_slow_writes = 0  # consecutive inline writes slower than STALL_NS


class _Buffers(threading.local):
    """This thread's out-parameters for the C calls (they release the GIL,
    so threads running loops of their own must not share them): made once,
    because fresh cffi objects per call cost more than reading them."""

    def __init__(self) -> None:
        self.data = bytearray(_ENTRY.size)
        self.entry = ffi.cast("dxl_entry *", ffi.from_buffer(self.data))
        self.mount = ffi.new("uint64_t[1]")
        self.elapsed = ffi.new("int64_t[1]")


_buffers = _Buffers() if ffi is not None else None


def stat(encoded: bytes, dirfd: int, follow: bool, name: Any) -> os.stat_result | None:
    """``os.stat``'s result if the cache answers (raising its ``OSError``
    for a cached failure), else None: take the batched path."""
    if not LOOKUPS:
        return None
    buffers = _buffers
    code = lib.dxl_lookup(dirfd, encoded, follow, buffers.entry, buffers.mount)
    if code < 0:
        if -code in _FAILS_AT_ONCE:
            raise os_error(-code, name)
        return None
    if not _mounts.local(buffers.mount[0]):
        return None
    return os.stat_result(_ENTRY.unpack_from(buffers.data))


def _writable_on(encoded: bytes, dirfd: int) -> int | None:
    """Whether removing or replacing the entry ``encoded`` names is memory
    work (see the module doc): the mount id to check for locality, -1 if
    the call fails at once (nothing to check), None if it may block."""
    mount = _buffers.mount
    code = lib.dxl_probe(dirfd, encoded, FREE_LIMIT, mount)
    if code:
        return -1 if -code in _FAILS_AT_ONCE else None
    return mount[0]


def writes_allowed(encoded: bytes, dirfd: int, target: bytes | None = None,
                   target_dirfd: int = -100) -> bool:
    """Whether an unlink of ``encoded``, or its rename to ``target``, may run
    inline (one locality check when both names are on one mount, the rule)."""
    if not WRITES or (_writes_paused_until and time.monotonic_ns() < _writes_paused_until):
        return False
    first = _writable_on(encoded, dirfd)
    if first is None:
        return False
    second = first if target is None else _writable_on(target, target_dirfd)
    if second is None:
        return False
    return ((first < 0 or _mounts.local(first))
            and (second < 0 or second == first or _mounts.local(second)))


def rename(old: bytes, olddirfd: int, new: bytes, newdirfd: int, names: tuple) -> None:
    """``os.rename`` on the loop's thread (``writes_allowed`` said it may)."""
    _settle(lib.dxl_rename(olddirfd, old, newdirfd, new, _buffers.elapsed), names)


def unlink(encoded: bytes, dirfd: int, name: Any) -> None:
    """``os.unlink`` on the loop's thread (``writes_allowed`` said it may)."""
    _settle(lib.dxl_unlink(dirfd, encoded, _buffers.elapsed), (name,))


def _settle(result: int, names: tuple) -> None:
    """Raise ``os``'s error for ``-errno``; pause inline writes after the
    second call in a row slower than ``STALL_NS`` (see the module doc)."""
    global _writes_paused_until, _slow_writes
    if _buffers.elapsed[0] > STALL_NS:
        _slow_writes += 1
        if _slow_writes >= 2:
            _slow_writes = 0
            _writes_paused_until = time.monotonic_ns() + PAUSE_NS
    else:
        _slow_writes = 0
    if result < 0:
        raise os_error(-result, *names)
