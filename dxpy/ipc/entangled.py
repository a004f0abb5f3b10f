"""``Entangled``: a versioned value in named shared memory, with compare-and-swap writes.

Several processes open the same name and see one value (bytes, a NumPy
array or an int64).  Reads are zero-copy views of a consistent snapshot;
writes are optimistic: ``write(value, expected_version)`` succeeds only if
the version is still ``expected_version`` (else ``ConcurrencyError``), and
``update(fn)`` retries ``fn`` on the latest value until its write wins.

Two protocols, chosen when the segment is created and recorded in its
header (every opener follows it).  Both need only a file in ``/dev/shm``
and open-file-description (OFD) locks, which the kernel drops when a holder
dies (even by SIGKILL); neither leaves anything locked or torn when a
process is killed at any instruction.

``"atomic"`` (the default where ``dxpy.ipc._atomics`` was built, see
``atomics.py``; it is 10x faster for counters than the lock protocol):

* The header's 16-byte pair (state, inline int) is replaced by one
  compare-and-swap per write: the CAS *is* the version check, so there is
  no writer lock.  An int value lives in the pair itself (state names the
  pseudo-slot ``INLINE``): reading it is one atomic load and an
  ``update`` is a load, ``fn`` and a CAS, with no system call at all.
* Other values go to a slot: the writer locks a slot no reader pins,
  checks that the pair has not moved meanwhile, fills and stamps the slot,
  then CASes the pair to name it; readers pin slots as below.

``"lock"`` (the pure fallback, same semantics):

* The segment holds a header and ``slots`` value slots.  The header's
  ``state`` word (version << 8 | slot) names the current slot; each slot
  has its own version word, zero while it is being written.
* A writer takes the writer lock, checks the version (the CAS), picks a
  slot that is not current and that no reader pins (an exclusive lock on
  the slot's lock byte), marks it incomplete, fills it, stamps its
  version, then publishes ``state`` with one aligned 8-byte store.  A writer
  killed at any point leaves ``state`` naming the old, complete slot:
  readers see the old or the new version, never a torn one.
* A reader reads ``state``, pins the slot with a shared lock, and checks
  that the slot's version is the one ``state`` named (else retries).  While
  a snapshot is held its slot cannot be rewritten.

Either way every open handle holds a shared lock on the "users" byte.
``close`` unlinks the name when no other handle holds one (it is the last
user); the creator's exit unlinks it too, through the guardian process if
the creator is killed (``guardian.py``).
"""

from __future__ import annotations

import atexit
import errno
import fcntl
import mmap
import os
import platform
import re
import struct
import threading
import time
import weakref
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from . import atomics, guardian

SHM_DIR = "/dev/shm"
PREFIX = "dxpy-ent-"
MAGIC = 0x32304E45544E4558  # "XENTNE02"
HEADER_SIZE = 4096
SLOT_HEADER = 128
MAX_NDIM = 8
_HEAD = struct.Struct("<QIIQQ")  # magic, slots, creator pid, capacity, protocol
_STATE_AT = 64  # the (state, inline int) pair: 16-byte aligned for the CAS
_INLINE_AT = _STATE_AT + 8
_INLINE = 0xFF  # state's slot byte when the value is the pair's inline int (slots <= 254)
PROTOCOLS = ("lock", "atomic")
_SLOT = struct.Struct("<QBB16sQ")  # version, kind, ndim, dtype, length
_SHAPE = struct.Struct(f"<{MAX_NDIM}Q")
_FLOCK = struct.Struct("hhqqi4x")  # struct flock on Linux x86-64 / arm64
_LOCK_BASE = 1 << 40  # lock bytes live past any data (OFD locks need no backing bytes)
_WRITER, _USERS, _SLOTS = _LOCK_BASE, _LOCK_BASE + 1, _LOCK_BASE + 2
_KIND_BYTES, _KIND_INT, _KIND_ARRAY = 1, 2, 3
_NAME = re.compile(r"[A-Za-z0-9_.-]{1,200}")
_TSO = platform.machine().lower() in ("x86_64", "amd64")  # int reads need no lock there


class ConcurrencyError(Exception):
    """A compare-and-swap write lost: the value's version is no longer the expected one."""


@dataclass
class Snapshot:
    """One consistent version of the value.  ``value`` is a read-only view of
    shared memory (an int for int values), stable until ``release()`` (or the
    end of a ``with`` block)."""

    version: int
    value: Any
    _release: Callable[[], None] | None = None

    def release(self) -> None:
        """Let writers reuse this snapshot's slot (idempotent)."""
        release, self._release = self._release, None
        if release is not None:
            release()

    def __enter__(self) -> "Snapshot":
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _path(name: str) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(f"an Entangled name is 1-200 letters, digits, '_', '.' or '-', "
                         f"not {name!r}")
    return os.path.join(SHM_DIR, PREFIX + name)


def _lock(fd: int, kind: int, start: int, wait: bool) -> bool:
    """An OFD lock on one byte; False when ``wait`` is off and it is held elsewhere."""
    request = _FLOCK.pack(kind, os.SEEK_SET, start, 1, 0)
    try:
        fcntl.fcntl(fd, fcntl.F_OFD_SETLKW if wait else fcntl.F_OFD_SETLK, request)
    except OSError as exc:
        if exc.errno in (errno.EAGAIN, errno.EACCES):
            return False
        raise
    return True


def _unlock(fd: int, start: int) -> None:
    _lock(fd, fcntl.F_UNLCK, start, False)


def _encoded_size(value: Any) -> int:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return memoryview(value).nbytes
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, int):
        return 8
    raise TypeError(f"an Entangled value is bytes, a NumPy array or an int, "
                    f"not {type(value).__name__}")


class Entangled:
    """A handle on a named, versioned shared value (see the module docstring)."""

    def __init__(self, path: str, fd: int, creator: bool,
                 layout: tuple[int, int, str] | None = None) -> None:
        """A handle on the open segment ``fd``; ``layout`` (slots, capacity,
        protocol) when creating it (the header is then written, without its magic)."""
        self._path = path
        self._fd = fd
        self._creator = creator
        self._inode = os.fstat(fd).st_ino
        self._map = mmap.mmap(fd, os.fstat(fd).st_size)
        if layout is not None:
            slots, capacity, protocol = layout
            _HEAD.pack_into(self._map, 0, 0, slots, os.getpid(), capacity,
                            PROTOCOLS.index(protocol))
        magic, self.slots, _, self.capacity, protocol_code = _HEAD.unpack_from(self._map)
        if layout is None and magic != MAGIC:
            self._map.close()
            raise ValueError(f"{path} is not (yet) an Entangled segment")
        #: "atomic" (16-byte CAS publishes) or "lock" (OFD locks), see the module docstring.
        self.protocol = PROTOCOLS[protocol_code]
        self._pair: atomics.SharedPair | None = None
        if self.protocol == "atomic":
            try:
                self._pair = atomics.SharedPair(self._map, _STATE_AT)
            except RuntimeError:
                self._map.close()
                raise
        self._stride = SLOT_HEADER + self.capacity
        self._pins: dict[int, int] = {}
        self._guard = threading.Lock()
        self._closed = False
        # a handle dropped without close() still gives up its locks, fd and name
        self._finalizer = weakref.finalize(self, _finish, fd, self._map, path, self._inode)

    # -- opening -------------------------------------------------------------------
    @classmethod
    def create(cls, name: str, value: Any, *, capacity: int | None = None,
               slots: int = 4, protocol: str | None = None) -> "Entangled":
        """A new segment ``name`` holding ``value`` at version 1.  ``capacity``:
        the largest value (bytes) it will hold (default: this value's size).
        ``protocol``: "atomic" or "lock" (default: "atomic" where the
        extension is built).  A stale segment of that name, which no live
        process uses, is replaced."""
        path = _path(name)
        size = _encoded_size(value)
        capacity = max(64, -(-(capacity if capacity is not None else size) // 64) * 64)
        if not 2 <= slots <= 254:
            raise ValueError(f"slots must be 2..254, not {slots}")
        protocol = _choose_protocol(protocol)
        fd = cls._create_file(path)
        guardian.register(path, os.fstat(fd).st_ino)
        try:
            os.ftruncate(fd, HEADER_SIZE + slots * (SLOT_HEADER + capacity))
            _lock(fd, fcntl.F_RDLCK, _USERS, True)
            handle = cls(path, fd, creator=True, layout=(slots, capacity, protocol))
            if handle._pair is not None and isinstance(value, int):
                _check_int64(value)
                struct.pack_into("<Qq", handle._map, _STATE_AT, 1 << 8 | _INLINE, value)
            else:
                handle._store(0, value, 1)
                struct.pack_into("<Q", handle._map, _STATE_AT, 1 << 8)
        except BaseException:
            os.close(fd)
            os.unlink(path)
            raise
        struct.pack_into("<Q", handle._map, 0, MAGIC)  # published: openers may use it now
        _created.add(handle)
        return handle

    @staticmethod
    def _create_file(path: str) -> int:
        flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
        try:
            return os.open(path, flags, 0o600)
        except FileExistsError:
            if not _stale(path):
                raise FileExistsError(errno.EEXIST, "an Entangled segment of this name is "
                                      "in use", path) from None
            os.unlink(path)
            return os.open(path, flags, 0o600)

    @classmethod
    def open(cls, name: str, timeout: float = 5.0) -> "Entangled":
        """Open the existing segment ``name`` (``FileNotFoundError`` if there is none)."""
        path = _path(name)
        deadline = time.monotonic() + timeout
        while True:
            fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
            _lock(fd, fcntl.F_RDLCK, _USERS, True)
            if os.fstat(fd).st_nlink == 0:  # the last user unlinked it as we opened it
                os.close(fd)
                raise FileNotFoundError(errno.ENOENT, "Entangled segment was just removed", path)
            try:
                return cls(path, fd, creator=False)
            except RuntimeError:  # an atomic segment, and no atomics in this process
                os.close(fd)
                raise
            except (ValueError, OSError):
                os.close(fd)
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.001)  # its creator is still filling it in

    def __reduce__(self) -> Any:
        """A handle pickles as its name: the receiving process reopens it."""
        return (Entangled.open, (self.name,))

    @property
    def name(self) -> str:
        """The segment's name (without the ``/dev/shm/dxpy-ent-`` prefix)."""
        return os.path.basename(self._path)[len(PREFIX):]

    @property
    def version(self) -> int:
        """The current version (it may change right after this returns)."""
        self._check_open()
        return struct.unpack_from("<Q", self._map, _STATE_AT)[0] >> 8

    # -- reading -------------------------------------------------------------------
    def read(self) -> Snapshot:
        """The current value as a consistent snapshot (zero-copy)."""
        self._check_open()
        while True:
            if self._pair is not None:
                state, number = self._pair.load()
                if state & 0xFF == _INLINE:
                    return Snapshot(state >> 8, number)
            else:
                state = struct.unpack_from("<Q", self._map, _STATE_AT)[0]
            version, slot = state >> 8, state & 0xFF
            if _TSO and self._pair is None:
                number = self._int_unpinned(slot, version)
                if number is not None:
                    return Snapshot(version, number)
            if not self._pin(slot):
                continue
            if self._slot_version(slot) != version:
                self._unpin(slot)
                continue
            value = self._load(slot)
            snapshot = Snapshot(version, value, lambda s=slot: self._unpin(s))
            if isinstance(value, int):
                snapshot.release()
            return snapshot

    @property
    def value(self) -> Any:
        """A copy of the current value (``read()`` gives the zero-copy view)."""
        with self.read() as snapshot:
            value = snapshot.value
            return value if isinstance(value, int) else (
                value.copy() if isinstance(value, np.ndarray) else bytes(value))

    def _int_unpinned(self, slot: int, version: int) -> int | None:
        """An int value read seqlock-style, without locks: the slot's stamp read
        before and after the copy is ``version`` (a writer zeroes it before it
        touches the data).  Valid where loads are not reordered with loads nor
        stores with stores (x86-64's TSO); None when it is not an int or a
        writer got in the way (the caller then pins)."""
        base = HEADER_SIZE + slot * self._stride
        stamp, kind, _, _, _ = _SLOT.unpack_from(self._map, base)
        if stamp != version or kind != _KIND_INT:
            return None
        (number,) = struct.unpack_from("<q", self._map, base + SLOT_HEADER)
        if struct.unpack_from("<Q", self._map, base)[0] != version:
            return None
        return number

    def _pin(self, slot: int) -> bool:
        with self._guard:
            count = self._pins.get(slot, 0)
            if count == 0 and not _lock(self._fd, fcntl.F_RDLCK, _SLOTS + slot, False):
                return False
            self._pins[slot] = count + 1
            return True

    def _unpin(self, slot: int) -> None:
        with self._guard:
            if self._closed:
                return
            count = self._pins[slot] - 1
            if count:
                self._pins[slot] = count
            else:
                del self._pins[slot]
                _unlock(self._fd, _SLOTS + slot)

    def _slot_version(self, slot: int) -> int:
        return struct.unpack_from("<Q", self._map, HEADER_SIZE + slot * self._stride)[0]

    def _load(self, slot: int) -> Any:
        base = HEADER_SIZE + slot * self._stride
        _, kind, ndim, dtype, length = _SLOT.unpack_from(self._map, base)
        data = memoryview(self._map)[base + SLOT_HEADER:base + SLOT_HEADER + length].toreadonly()
        if kind == _KIND_INT:
            return struct.unpack("<q", data)[0]
        if kind == _KIND_BYTES:
            return data
        shape = _SHAPE.unpack_from(self._map, base + _SLOT.size)[:ndim]
        array = np.frombuffer(data, dtype=np.dtype(dtype.rstrip(b"\0").decode())).reshape(shape)
        return array

    # -- writing -------------------------------------------------------------------
    def write(self, value: Any, expected_version: int, *, timeout: float = 10.0) -> int:
        """Store ``value`` if the version is still ``expected_version``; the
        new version, or ``ConcurrencyError`` if another write came first."""
        self._check_open()
        if _encoded_size(value) > self.capacity:
            raise ValueError(f"value of {_encoded_size(value)} bytes exceeds this Entangled's "
                             f"capacity of {self.capacity}")
        if self._pair is not None:
            return self._write_atomic(self._pair, value, expected_version, timeout)
        with self._guard:
            _lock(self._fd, fcntl.F_WRLCK, _WRITER, True)
            try:
                state = struct.unpack_from("<Q", self._map, _STATE_AT)[0]
                if state >> 8 != expected_version:
                    raise self._conflict(state >> 8, expected_version)
                slot = self._free_slot(state & 0xFF, timeout)
                try:
                    self._store(slot, value, expected_version + 1)
                    struct.pack_into("<Q", self._map, _STATE_AT, (expected_version + 1) << 8 | slot)
                finally:
                    _unlock(self._fd, _SLOTS + slot)
            finally:
                _unlock(self._fd, _WRITER)
        return expected_version + 1

    def _conflict(self, version: int, expected_version: int) -> ConcurrencyError:
        return ConcurrencyError(f"{self.name}: version is {version}, "
                                f"not the expected {expected_version}")

    def _write_atomic(self, pair: atomics.SharedPair, value: Any, expected_version: int,
                      timeout: float) -> int:
        """The atomic protocol's write: one CAS of the pair publishes it."""
        seen = pair.load()
        if seen[0] >> 8 != expected_version:
            raise self._conflict(seen[0] >> 8, expected_version)
        new_version = expected_version + 1
        if isinstance(value, int):
            if _cas_int(pair, seen, value) is None:
                raise self._conflict(pair.load()[0] >> 8, expected_version)
            return new_version
        with self._guard:
            slot = self._free_slot(seen[0] & 0xFF, timeout)
            try:
                # the pair may have moved to name this very slot before we locked it
                if pair.load() != seen:
                    raise self._conflict(pair.load()[0] >> 8, expected_version)
                self._store(slot, value, new_version)
                if not pair.compare_and_swap(*seen, new_version << 8 | slot, 0):
                    raise self._conflict(pair.load()[0] >> 8, expected_version)
            finally:
                _unlock(self._fd, _SLOTS + slot)
        return new_version

    def update(self, fn: Callable[[Any], Any], *, attempts: int | None = None) -> int:
        """Apply ``fn`` to the latest value and write its result, retrying on
        conflicts (``attempts`` bounds the tries); the new version."""
        if attempts is not None and attempts < 1:
            raise ValueError(f"attempts must be at least 1, not {attempts}")
        tries = 0
        pair = self._pair
        while True:
            # The atomic protocol's inline int: the C loop loads, calls fn and
            # CASes until it wins (the whole cost of a counter increment).  It
            # hands back a non-int result, or None for a value in a slot.
            outcome = (_update_inline(pair, fn, -1 if attempts is None else attempts - tries)
                       if pair is not None and not self._closed else None)
            if type(outcome) is int:
                if outcome:
                    return outcome
                tries = attempts  # type: ignore[assignment] # the C loop lost them all
            else:
                version = (self._try_update(fn) if outcome is None
                           else self._try_write(outcome[1], outcome[0]))
                if version is not None:
                    return version
                tries += 1
            if attempts is not None and tries >= attempts:
                raise ConcurrencyError(f"{self.name}: update lost to other writers "
                                       f"{tries} times")

    def _try_update(self, fn: Callable[[Any], Any]) -> int | None:
        """One attempt through a snapshot: the new version, or None when
        another write came first."""
        with self.read() as snapshot:
            new = fn(snapshot.value)
            expected = snapshot.version
        return self._try_write(new, expected)

    def _try_write(self, value: Any, expected_version: int) -> int | None:
        try:
            return self.write(value, expected_version)
        except ConcurrencyError:
            return None

    def _free_slot(self, current: int, timeout: float) -> int:
        """A slot that is not current and that no reader pins, locked for writing."""
        deadline = time.monotonic() + timeout
        candidates = (range(self.slots) if current == _INLINE else
                      [(current + step) % self.slots for step in range(1, self.slots)])
        while True:
            for slot in candidates:
                if slot not in self._pins and _lock(self._fd, fcntl.F_WRLCK, _SLOTS + slot, False):
                    return slot
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name}: readers pin all {self.slots - 1} spare slots")
            time.sleep(0.0005)

    def _store(self, slot: int, value: Any, version: int) -> None:
        base = HEADER_SIZE + slot * self._stride
        struct.pack_into("<Q", self._map, base, 0)  # incomplete until the version is stamped
        data = memoryview(self._map)[base + SLOT_HEADER:base + SLOT_HEADER + self.capacity]
        if isinstance(value, np.ndarray):
            if value.ndim > MAX_NDIM or value.dtype.hasobject or value.dtype.fields is not None:
                raise TypeError(f"Entangled arrays have plain dtypes and at most {MAX_NDIM} "
                                f"dimensions, not {value.dtype} x {value.ndim}")
            np.copyto(np.frombuffer(data, value.dtype, value.size).reshape(value.shape), value)
            kind, ndim, dtype, length = _KIND_ARRAY, value.ndim, value.dtype.str.encode(), \
                value.nbytes
            _SHAPE.pack_into(self._map, base + _SLOT.size,
                             *value.shape, *[0] * (MAX_NDIM - value.ndim))
        elif isinstance(value, int):
            _check_int64(value)
            struct.pack_into("<q", data, 0, value)
            kind, ndim, dtype, length = _KIND_INT, 0, b"", 8
        else:
            raw = memoryview(value).cast("B")
            data[:raw.nbytes] = raw
            kind, ndim, dtype, length = _KIND_BYTES, 0, b"", raw.nbytes
        data.release()
        _SLOT.pack_into(self._map, base, 0, kind, ndim, dtype, length)
        struct.pack_into("<Q", self._map, base, version)

    # -- closing -------------------------------------------------------------------
    def close(self) -> None:
        """Drop this handle; the last user removes the name."""
        with self._guard:
            if self._closed:
                return
            self._closed = True
            self._pins.clear()
            self._pair = None
        _created.discard(self)
        self._finalizer()

    def _unlink(self) -> None:
        """Remove the name now (the creator's exit), whoever else uses it."""
        _unlink_if_same(self._path, self._inode)

    @property
    def closed(self) -> bool:
        """Whether ``close()`` was called."""
        return self._closed

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError(f"Entangled {self.name!r} is closed")

    def __enter__(self) -> "Entangled":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"version={self.version}"
        return f"<Entangled {self.name!r} {state}>"


def _choose_protocol(protocol: str | None) -> str:
    if protocol is None:
        return "atomic" if atomics.AVAILABLE else "lock"
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {PROTOCOLS}, not {protocol!r}")
    if protocol == "atomic" and not atomics.AVAILABLE:
        raise RuntimeError(f"the atomic protocol is unavailable: {atomics.WHY_NOT}")
    return protocol


def _update_inline(pair: atomics.SharedPair, fn: Callable[[Any], Any], attempts: int) -> Any:
    try:
        return pair.update_inline(_INLINE, fn, attempts)
    except OverflowError as exc:
        raise OverflowError(f"Entangled ints are int64: the update's result does not fit "
                            f"({exc})") from None


def _cas_int(pair: atomics.SharedPair, seen: tuple[int, int], new: int) -> int | None:
    """Publish int ``new`` inline over the pair ``seen``: the new version, or
    None if the pair moved."""
    version = (seen[0] >> 8) + 1
    try:
        done = pair.compare_and_swap(*seen, version << 8 | _INLINE, new)
    except OverflowError:
        _check_int64(new)  # raises with the value in its message
        raise
    return version if done else None


def _check_int64(value: int) -> None:
    if not -(1 << 63) <= value < 1 << 63:
        raise OverflowError(f"Entangled ints are int64: {value} does not fit")


def _finish(fd: int, mapping: mmap.mmap, path: str, inode: int) -> None:
    """Close one handle: the last user (no other handle's lock) removes the name."""
    if _lock(fd, fcntl.F_WRLCK, _USERS, False):
        _unlink_if_same(path, inode)
    try:
        mapping.close()
    except BufferError:  # snapshot views still exist: unmapped when they die
        pass
    os.close(fd)


def _unlink_if_same(path: str, inode: int) -> None:
    try:
        if os.stat(path).st_ino == inode:
            os.unlink(path)
            guardian.unregister(path, inode)
    except FileNotFoundError:
        pass


def _stale(path: str) -> bool:
    """Whether no live handle uses the segment at ``path`` (its users' locks are gone)."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    except FileNotFoundError:
        return True
    try:
        return _lock(fd, fcntl.F_WRLCK, _USERS, False)
    finally:
        os.close(fd)


_created: "weakref.WeakSet[Entangled]" = weakref.WeakSet()


@atexit.register
def _close_created() -> None:
    """The creator exits: its segments' names go (open handles keep their mapping)."""
    for handle in list(_created):
        handle._unlink()
        handle.close()


def segments() -> list[str]:
    """Names of the Entangled segments that exist in ``/dev/shm`` right now."""
    return sorted(name[len(PREFIX):] for name in os.listdir(SHM_DIR) if name.startswith(PREFIX))


__all__ = ["ConcurrencyError", "Entangled", "Snapshot", "segments"]
