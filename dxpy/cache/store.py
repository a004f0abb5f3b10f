"""``CodeStore``: one append-only data file plus an index, shared by processes.

Layout of a store directory (one per cache directory and purpose)::

    index        the index, replaced whole by write-then-rename (never torn)
    data-<id>    the append-only log of records, read through one mmap
    lock         flock(2) target: writers serialise on it, readers never take it

A **record** is ``magic "DXC1" | u32 payload length | u32 crc32 | u32 0 |
32-byte key | payload``, padded to 8 bytes.  The key is the BLAKE3 hash of
what the payload was made from (for bytecode: the kind tag and the source),
so a file reverted to an earlier content finds that content's record again.

The **index** is ``magic "DXI1" | u32 crc32 | u32 length | marshal(dict)``
holding the data file's name and committed length, ``key -> (offset,
length)`` for records and ``name -> (stamp, key)`` for entries, where a name
is what the user looks things up by (``"<kind>:<source path>"``) and a stamp
is the quick-check tuple ``(mtime_ns, ctime_ns, size, inode, device)``.

Why this shape:

* **Crash safety without fsync on the hot path.**  The index is renamed into
  place only after its records are written, so a writer killed at any point
  leaves either the old or the new index, and the old one never references
  bytes past its committed length.  The next writer truncates the torn tail
  before appending.  Every record is checked (crc32) when read, so damage
  from outside (a bad disk, a foreign program) is caught too: the record is
  dropped with one warning and rebuilt by the caller.
* **Two processes never corrupt it**: all writes happen under an exclusive
  flock; a writer re-reads the index under the lock and merges its own
  pending entries into the latest one, so concurrent writers lose nothing.
* **Readers are cheap**: one read of the index, one mmap, then a lookup is a
  dict probe, a slice and a crc32.  BLAKE3 (``blake3``, ~1 ms to import) is
  only needed when a quick check fails and the source must be hashed.
* **Compaction** happens when dead records (replaced content) make up most of
  the log, or the log passes the size cap: live records are copied into a new
  data file and the index switched to it; readers still holding the old
  mapping keep reading it (an unlinked file stays mapped).
"""

from __future__ import annotations

import marshal
import mmap
import os
import struct
import zlib

from . import config

RECORD_MAGIC = b"DXC1"
INDEX_MAGIC = b"DXI1"
_RECORD_HEAD = struct.Struct("<4sIII32s")
_INDEX_HEAD = struct.Struct("<4sII")
INDEX_VERSION = 1
KEY_SIZE = 32

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

Stamp = tuple  # (mtime_ns, ctime_ns, size, inode, device)


#: a file changed less than this long ago may change again within the same
#: timestamp tick (filesystems stamp with a coarse clock): its stamp proves nothing
RACY_NS = 2_000_000_000
#: what such a file is recorded with: it matches no stat, so it is hashed each time
RACY_STAMP: Stamp = (-1, -1, -1, -1, -1)


def stamp_of(st: os.stat_result) -> Stamp:
    """The quick-check tuple of a stat result.  ctime is in it because no
    ordinary tool can set it back: a ``touch -r`` or an editor that restores
    mtime still changes it."""
    return (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino, st.st_dev)


def trustworthy(stamp: Stamp) -> Stamp:
    """``stamp``, or ``RACY_STAMP`` for a file modified within ``RACY_NS`` of now
    (as git's "racily clean" entries: two writes in one clock tick, same size,
    would otherwise share a stamp and the second would load the first's code)."""
    import time

    return RACY_STAMP if time.time_ns() - max(stamp[0], stamp[1]) < RACY_NS else stamp


def _empty_index() -> dict[str, Any]:
    return {"version": INDEX_VERSION, "data": "", "end": 0, "records": {}, "entries": {}}


class CodeStore:
    """Content-keyed blobs with path-keyed quick checks, in one directory."""

    def __init__(self, directory: str, max_bytes: int | None = None) -> None:
        self.directory = directory
        self.max_bytes = config.max_bytes() if max_bytes is None else max_bytes
        self._index: dict[str, Any] | None = None
        self._map: mmap.mmap | None = None
        self._pending: dict[str, tuple[Stamp, bytes]] = {}
        self._pending_records: dict[bytes, bytes] = {}
        self._dropped_names: set[str] = set()
        self._dropped_keys: set[bytes] = set()
        self._old_data: str | None = None
        self.writable = True

    # -- reading -------------------------------------------------------------------
    @property
    def index(self) -> dict[str, Any]:
        if self._index is None:
            self._index = self._read_index()
            self._map = self._open_data(self._index)
        return self._index

    def lookup(self, name: str, stamp: Stamp) -> bytes | None:
        """The payload stored for ``name`` if its stamp still matches (quick check)."""
        pending = self._pending.get(name)
        entry = pending if pending is not None else self.index["entries"].get(name)
        if entry is None or entry[0] != stamp:
            return None
        return self.payload(entry[1], name)

    def payload(self, key: bytes, name: str = "") -> bytes | None:
        """The payload of the record ``key`` (None: absent, or damaged and dropped)."""
        pending = self._pending_records.get(key)
        if pending is not None:
            return pending
        location = self.index["records"].get(key)
        if location is None or self._map is None:
            return None
        data = self._read_record(key, *location)
        if data is None:
            self._drop(key, name)
        return data

    def stamped_key(self, name: str) -> tuple[Stamp, bytes] | None:
        """``(stamp, key)`` last recorded for ``name`` (None if never)."""
        return self._pending.get(name) or self.index["entries"].get(name)

    def names(self) -> list[str]:
        """Every name with an entry (the index's and this process's pending ones)."""
        return sorted({*self.index["entries"], *self._pending})

    def _read_record(self, key: bytes, offset: int, length: int) -> bytes | None:
        head = self._map[offset:offset + _RECORD_HEAD.size]
        if len(head) != _RECORD_HEAD.size:
            return None
        magic, size, crc, _, stored_key = _RECORD_HEAD.unpack(head)
        start = offset + _RECORD_HEAD.size
        data = self._map[start:start + size]
        if (magic != RECORD_MAGIC or stored_key != key or size != length or len(data) != size
                or zlib.crc32(data, zlib.crc32(key)) != crc):
            return None
        return data

    def _drop(self, key: bytes, name: str) -> None:
        """A damaged record: warn once, forget it here and (at flush) in the index."""
        config.warn_once(f"record:{self.directory}",
                         f"damaged record in {self.directory} (for {name or key.hex()[:16]}); "
                         f"dropped, it will be rebuilt")
        self.index["records"].pop(key, None)
        self._dropped_keys.add(key)

    def _read_index(self) -> dict[str, Any]:
        path = os.path.join(self.directory, "index")
        try:
            with open(path, "rb") as f:
                raw = f.read()
        except (FileNotFoundError, NotADirectoryError):  # nothing cached yet
            return _empty_index()
        except OSError as exc:
            config.warn_once(f"read:{path}", f"cannot read {path} ({exc.strerror}); not using it")
            return _empty_index()
        index = _decode_index(raw)
        if index is None:
            config.warn_once(f"index:{path}", f"{path} is damaged or not a dxpy cache index; "
                                              f"dropped, it will be rebuilt")
            return _empty_index()
        return index

    def _open_data(self, index: dict[str, Any]) -> mmap.mmap | None:
        if not index["data"] or not index["end"]:
            return None
        path = os.path.join(self.directory, index["data"])
        try:
            with open(path, "rb") as f:
                if os.fstat(f.fileno()).st_size < index["end"]:
                    raise OSError(0, "shorter than its index says")
                return mmap.mmap(f.fileno(), index["end"], access=mmap.ACCESS_READ)
        except (OSError, ValueError) as exc:
            reason = getattr(exc, "strerror", None) or exc
            config.warn_once(f"data:{path}", f"cannot map {path} ({reason}); "
                                             f"dropped, it will be rebuilt")
            index.update(_empty_index())
            return None

    # -- writing -------------------------------------------------------------------
    def add(self, name: str, stamp: Stamp, key: bytes, payload: bytes | None) -> None:
        """Record ``name`` -> ``key`` at ``stamp``; ``payload`` None means the record
        exists already (a touched or reverted file).  Written at ``flush``."""
        if payload is not None:
            self._pending_records[key] = payload
        self._pending[name] = (stamp, key)

    def forget(self, name: str) -> None:
        """Drop ``name``'s entry (its source changed or went away)."""
        self._pending.pop(name, None)
        if self.index["entries"].pop(name, None) is not None:
            self._dropped_names.add(name)

    @property
    def pending_count(self) -> int:
        return len(self._pending)

    @property
    def dirty(self) -> bool:
        return bool(self._pending or self._dropped_names or self._dropped_keys)

    def flush(self) -> None:
        """Write pending records and entries (under the lock); problems become one warning."""
        if not self.dirty or not self.writable:
            return
        if not config.ensure_dir(self.directory):
            self.writable = False
            return
        try:
            self._flush_locked()
        except OSError as exc:
            self.writable = False
            config.write_failed(self.directory, exc)

    def _flush_locked(self) -> None:
        import fcntl

        fd = os.open(os.path.join(self.directory, "lock"), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            index = self._read_index()  # the latest one: another process may have written
            self._merge(index)
            self._write_records(index)
            if _needs_compaction(index, self.max_bytes):
                self._compact(index)
            self._write_index(index)
        finally:
            os.close(fd)  # releases the lock
        self._pending.clear()
        self._pending_records.clear()
        self._dropped_names.clear()
        self._dropped_keys.clear()
        self._reopen(index)

    def _merge(self, index: dict[str, Any]) -> None:
        for name in self._dropped_names:
            index["entries"].pop(name, None)
        for key in self._dropped_keys:
            index["records"].pop(key, None)
        index["entries"].update(self._pending)

    def _write_records(self, index: dict[str, Any]) -> None:
        """Append the records the index lacks, after cutting any torn tail."""
        new = {k: v for k, v in self._pending_records.items() if k not in index["records"]}
        if not new:
            return
        if not index["data"]:
            index["data"], index["end"] = f"data-{os.urandom(6).hex()}", 0
        path = os.path.join(self.directory, index["data"])
        with open(path, "ab") as f:
            f.truncate(index["end"])
            f.seek(index["end"])
            chunks = []
            offset = index["end"]
            for key, payload in new.items():
                record = _encode_record(key, payload)
                index["records"][key] = (offset, len(payload))
                chunks.append(record)
                offset += len(record)
            f.write(b"".join(chunks))
            index["end"] = offset

    def _compact(self, index: dict[str, Any]) -> None:
        """Copy live records (an entry refers to them) into a fresh data file."""
        old = os.path.join(self.directory, index["data"])
        live = {key for _, key in index["entries"].values()}
        with open(old, "rb") as f:
            mapped = mmap.mmap(f.fileno(), index["end"], access=mmap.ACCESS_READ)
        name = f"data-{os.urandom(6).hex()}"
        records, offset, chunks = {}, 0, []
        with mapped:
            for key, (start, length) in index["records"].items():
                if key not in live:
                    continue
                begin = start + _RECORD_HEAD.size
                record = _encode_record(key, mapped[begin:begin + length])
                records[key] = (offset, length)
                chunks.append(record)
                offset += len(record)
        with open(os.path.join(self.directory, name), "wb") as f:
            f.write(b"".join(chunks))
        index.update(data=name, end=offset, records=records)
        self._old_data = old

    def _write_index(self, index: dict[str, Any]) -> None:
        path = os.path.join(self.directory, "index")
        temp = f"{path}.{os.getpid()}.tmp"
        with open(temp, "wb") as f:
            f.write(_encode_index(index))
        os.replace(temp, path)
        old = self._old_data
        if old is not None:  # only now: the previous index referenced it until the rename
            self._old_data = None
            try:
                os.unlink(old)
            except OSError:
                pass

    def _reopen(self, index: dict[str, Any]) -> None:
        self._index = index
        self._map = self._open_data(index)

    def close(self) -> None:
        """Release the mapping (pending writes are not flushed: call ``flush`` first)."""
        if self._map is not None:
            self._map.close()
            self._map = None


def _needs_compaction(index: dict[str, Any], max_bytes: int) -> bool:
    """Most of the log is dead, or it is past the size cap with anything dead in it."""
    live = {key for _, key in index["entries"].values()}
    live_bytes = sum(length for key, (_, length) in index["records"].items() if key in live)
    dead = len(index["records"]) - len(live & index["records"].keys())
    return dead > 0 and (index["end"] > 2 * live_bytes + 65536 or index["end"] > max_bytes)


def _encode_record(key: bytes, payload: bytes) -> bytes:
    head = _RECORD_HEAD.pack(RECORD_MAGIC, len(payload), zlib.crc32(payload, zlib.crc32(key)),
                             0, key)
    pad = -(len(head) + len(payload)) % 8
    return head + payload + b"\0" * pad


def _encode_index(index: dict[str, Any]) -> bytes:
    body = marshal.dumps(index)
    return _INDEX_HEAD.pack(INDEX_MAGIC, zlib.crc32(body), len(body)) + body


def _decode_index(raw: bytes) -> dict[str, Any] | None:
    """The index in ``raw``, or None if it is not one this version wrote intact."""
    if len(raw) < _INDEX_HEAD.size:
        return None
    magic, crc, length = _INDEX_HEAD.unpack_from(raw)
    body = raw[_INDEX_HEAD.size:]
    if magic != INDEX_MAGIC or len(body) != length or zlib.crc32(body) != crc:
        return None
    try:
        index = marshal.loads(body)
    except (EOFError, ValueError, TypeError):
        return None
    if not isinstance(index, dict) or index.get("version") != INDEX_VERSION:
        return None
    return index
