"""The DPM module file: reading and writing (normative spec: ``docs/dpm-format.md``).

A DPM file is one compiled module: a 64-byte header, then five sections
(meta, imports, exports, code, annotations), each starting 8-aligned.  The
export table is a perfect hash (hash-and-displace over ``zlib.crc32`` with a
per-bucket seed), so looking a symbol up is two crc32s and one comparison
whatever the module's size; ``write`` checks every symbol resolves to itself
before it produces a file.  The BLAKE3 digest in the header covers the
header's first 32 bytes and everything after byte 64, so any damaged byte is
caught by ``read``.  Every malformed file is a ``DpmError`` naming the file
and what is wrong; nothing else escapes ``read``.
"""

from __future__ import annotations

import struct
import sys
import zlib
from collections import namedtuple

MAGIC = b"DPM\x01"
VERSION = 1
HEADER = struct.Struct("<4sHH6I32s")  # magic, version, flags, 5 offsets, length: 64 bytes
FLAG_PACKAGE = 1

IMPORT_FROM, IMPORT_STAR, IMPORT_RELATIVE = 1, 2, 4
KIND_FUNCTION, KIND_CLASS, KIND_VARIABLE, KIND_IMPORT = 1, 2, 3, 4
EXPORT_IN_ALL = 1
NO_ANNOTATION = 0xFFFFFFFF
_EMPTY = 0


#: the code section's engine tag: marshal data is only valid for one CPython version
ENGINE = sys.implementation.cache_tag


def source_hash(source: bytes) -> bytes:
    """BLAKE3 of the source bytes (what the meta section records)."""
    from blake3 import blake3

    return blake3(source).digest()


class DpmError(ImportError):
    """A DPM file that cannot be used: damaged, truncated, foreign, or a newer version."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}", path=path)
        self.reason = reason


class Import(namedtuple("Import", "module symbol level flags", defaults=("", 0, 0))):
    """One import statement's binding: ``module`` (as written, without dots),
    ``symbol`` ("" for ``import module``), ``level`` (leading dots), ``flags``."""

    __slots__ = ()


class Export(namedtuple("Export", "name kind flags annotation", defaults=(0, NO_ANNOTATION))):
    """A name the module defines at top level; ``annotation`` indexes ``annotations``."""

    __slots__ = ()


class Annotation(namedtuple("Annotation", "qualname params returns", defaults=("",))):
    """A function's annotations as source text ("" where absent), for the JIT:
    ``params`` is a tuple of (name, annotation) pairs."""

    __slots__ = ()


class DpmModule(namedtuple("DpmModule", "name source_path source_size source_mtime_ns "
                                        "source_hash engine code package imports exports "
                                        "annotations", defaults=(False, (), (), ()))):
    """Everything a DPM file holds, decoded (imports, exports, annotations: sequences
    of the records above).  Why named tuples and not dataclasses: this is on the
    import path of built programs, and ``dataclasses`` imports ``inspect`` (~5 ms)."""

    __slots__ = ()


# -- strings -----------------------------------------------------------------------
def _pack_str(text: str) -> bytes:
    raw = text.encode("utf-8")
    if len(raw) > 0xFFFF:
        raise ValueError(f"string too long for DPM ({len(raw)} bytes): {text[:40]!r}...")
    return struct.pack("<H", len(raw)) + raw


class _Reader:
    """Bounds-checked little-endian reads over one section (errors name the file)."""

    def __init__(self, data: bytes, start: int, end: int, path: str, section: str) -> None:
        self.data, self.pos, self.end, self.path, self.section = data, start, end, path, section

    def take(self, size: int) -> bytes:
        if size < 0 or self.pos + size > self.end:
            raise DpmError(self.path, f"{self.section} section is truncated")
        chunk = self.data[self.pos:self.pos + size]
        self.pos += size
        return chunk

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        return struct.unpack("<H", self.take(2))[0]

    def u32(self) -> int:
        return struct.unpack("<I", self.take(4))[0]

    def u64(self) -> int:
        return struct.unpack("<Q", self.take(8))[0]

    def string(self) -> str:
        raw = self.take(self.u16())
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise DpmError(self.path, f"{self.section} section holds invalid UTF-8") from None


# -- the perfect hash ----------------------------------------------------------------
_M32 = 0xFFFFFFFF
_GOLDEN = 0x9E3779B9


def _fmix32(h: int) -> int:
    """MurmurHash3's 32-bit finaliser (a bijection that mixes every bit)."""
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & _M32
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & _M32
    return h ^ (h >> 16)


def symbol_hash(seed: int, name: str) -> int:
    """The table's hash: ``fmix32(crc32(n) ^ fmix32((adler32(n) + seed * 0x9E3779B9)
    mod 2^32))`` over the UTF-8 name ``n`` (zlib's crc32 and adler32).  Why both: CRC
    is affine, so two names of one length differ by the same bits under every seed;
    the seed must go through a non-linear mix to separate them."""
    raw = name.encode("utf-8")
    return _fmix32(zlib.crc32(raw) ^ _fmix32((zlib.adler32(raw) + seed * _GOLDEN) & _M32))


def build_hash(names: list[str]) -> tuple[list[int], list[int]]:
    """Seeds per bucket and slot -> export index + 1 (0 = empty), hash and displace:
    buckets by ``symbol_hash(0, name)``, largest first, each given the first seed
    that puts all its names in free slots.  Slots are the smallest power of two
    >= 2 x names (a half-empty table keeps every bucket's search short); buckets
    hold two names on average."""
    if len(set(names)) != len(names):
        raise ValueError("duplicate export names")
    slots = 1
    while slots < 2 * len(names):
        slots *= 2
    buckets_n = max(1, (len(names) + 1) // 2)
    buckets: list[list[int]] = [[] for _ in range(buckets_n)]
    for index, name in enumerate(names):
        buckets[symbol_hash(0, name) % buckets_n].append(index)
    seeds = [0] * buckets_n
    table = [_EMPTY] * slots
    for bucket in sorted(range(buckets_n), key=lambda b: -len(buckets[b])):
        members = buckets[bucket]
        if not members:
            continue
        seeds[bucket] = _place(members, names, table)
    return seeds, table


def _place(members: list[int], names: list[str], table: list[int]) -> int:
    for seed in range(1, 1 << 20):
        wanted = [symbol_hash(seed, names[i]) % len(table) for i in members]
        if len(set(wanted)) == len(wanted) and all(table[s] == _EMPTY for s in wanted):
            for slot, index in zip(wanted, members):
                table[slot] = index + 1
            return seed
    # only names with equal crc32 *and* adler32 never separate (about 1 in 2^64 per pair)
    raise ValueError(f"no perfect hash seed separates {[names[i] for i in members]}")


def hash_slot(seeds: list[int] | tuple[int, ...], slots: int, name: str) -> int:
    """The one slot ``name`` can be in."""
    seed = seeds[symbol_hash(0, name) % len(seeds)]
    return symbol_hash(seed, name) % slots


# -- writing ---------------------------------------------------------------------------
def to_bytes(module: DpmModule) -> bytes:
    """The DPM file for ``module``; every export is looked up through the built
    hash before anything is returned (a failure is a ValueError, never a file)."""
    sections = [_meta(module), _imports(module.imports), _exports(module.exports),
                _code(module), _annotations(module.annotations)]
    offsets, body, position = [], b"", HEADER.size
    for section in sections:
        offsets.append(position)
        padded = section + b"\0" * (-len(section) % 8)
        body += padded
        position += len(padded)
    flags = FLAG_PACKAGE if module.package else 0
    head = HEADER.pack(MAGIC, VERSION, flags, *offsets, position, b"\0" * 32)
    digest = _digest(head[:32], body)
    data = head[:32] + digest + body
    check = read_bytes(data, "<built>")
    for index, export in enumerate(module.exports):
        if check.lookup(export.name) != export:
            raise ValueError(f"export {export.name!r} does not resolve to entry {index}")
    return data


def _digest(head32: bytes, body: bytes) -> bytes:
    from blake3 import blake3

    return blake3(head32 + body).digest()


def _meta(module: DpmModule) -> bytes:
    if len(module.source_hash) != 32:
        raise ValueError("source_hash must be a 32-byte BLAKE3 digest")
    return (struct.pack("<QQ", module.source_size, module.source_mtime_ns) + module.source_hash
            + _pack_str(module.name) + _pack_str(module.source_path))


def _imports(imports: list[Import]) -> bytes:
    out = [struct.pack("<I", len(imports))]
    for imp in imports:
        out.append(struct.pack("<BBH", imp.flags, imp.level, 0) + _pack_str(imp.module)
                   + _pack_str(imp.symbol))
    return b"".join(out)


def _exports(exports: list[Export]) -> bytes:
    names = [e.name for e in exports]
    seeds, table = build_hash(names)
    entries = [struct.pack("<BBHI", e.kind, e.flags, 0, e.annotation) + _pack_str(e.name)
               for e in exports]
    offsets, position = [], 0
    for entry in entries:
        offsets.append(position)
        position += len(entry)
    head = struct.pack("<III", len(exports), len(seeds), len(table))
    return (head + struct.pack(f"<{len(seeds)}I", *seeds) + struct.pack(f"<{len(table)}I", *table)
            + struct.pack(f"<{len(offsets)}I", *offsets) + b"".join(entries))


def _code(module: DpmModule) -> bytes:
    return _pack_str(module.engine) + struct.pack("<I", len(module.code)) + module.code


def _annotations(annotations: list[Annotation]) -> bytes:
    out = [struct.pack("<I", len(annotations))]
    for ann in annotations:
        out.append(_pack_str(ann.qualname) + struct.pack("<H", len(ann.params)))
        out.extend(_pack_str(name) + _pack_str(text) for name, text in ann.params)
        out.append(_pack_str(ann.returns))
    return b"".join(out)


# -- reading ---------------------------------------------------------------------------
class DpmFile:
    """A checked DPM file; sections decode on first use, ``lookup`` is O(1)."""

    def __init__(self, data: bytes, path: str, offsets: tuple[int, ...], flags: int) -> None:
        self.data, self.path, self.offsets, self.flags = data, path, offsets, flags
        self._exports_head: tuple[int, tuple[int, ...], tuple[int, ...], int] | None = None

    def _section(self, index: int, name: str) -> _Reader:
        start, end = self.offsets[index], self.offsets[index + 1]
        return _Reader(self.data, start, end, self.path, name)

    def meta(self) -> tuple[str, str, int, int, bytes]:
        """(module name, source path, source size, source mtime_ns, source BLAKE3)."""
        r = self._section(0, "meta")
        size, mtime = r.u64(), r.u64()
        digest = r.take(32)
        return r.string(), r.string(), size, mtime, digest

    def imports(self) -> list[Import]:
        r = self._section(1, "imports")
        out = []
        for _ in range(r.u32()):
            flags, level, _pad = r.u8(), r.u8(), r.u16()
            out.append(Import(r.string(), r.string(), level, flags))
        return out

    def _export_table(self) -> tuple[int, tuple[int, ...], tuple[int, ...], int]:
        """(count, seeds, slots, where the entry-offset array starts), decoded once."""
        if self._exports_head is None:
            r = self._section(2, "exports")
            count, buckets, slots = r.u32(), r.u32(), r.u32()
            if (count and (buckets == 0 or slots < count)) or slots & (slots - 1):
                raise DpmError(self.path, "export table sizes are inconsistent")
            seeds = struct.unpack(f"<{buckets}I", r.take(4 * buckets))
            table = struct.unpack(f"<{slots}I", r.take(4 * slots))
            if any(v > count for v in table):
                raise DpmError(self.path, "export table points past its entries")
            self._exports_head = (count, seeds, table, r.pos)
        return self._exports_head

    def _export_at(self, index: int) -> Export:
        count, _, _, offsets_at = self._export_table()
        r = self._section(2, "exports")
        r.pos = offsets_at + 4 * index
        r.pos = offsets_at + 4 * count + r.u32()
        kind, flags, _pad, annotation = r.u8(), r.u8(), r.u16(), r.u32()
        return Export(r.string(), kind, flags, annotation)

    def lookup(self, name: str) -> Export | None:
        """The export called ``name``, or None: one probe of the perfect hash."""
        count, seeds, table, _ = self._export_table()
        if not count:
            return None
        entry = table[hash_slot(seeds, len(table), name)]
        if entry == _EMPTY:
            return None
        export = self._export_at(entry - 1)
        return export if export.name == name else None

    def exports(self) -> list[Export]:
        return [self._export_at(i) for i in range(self._export_table()[0])]

    def code(self) -> tuple[str, bytes]:
        """(engine tag, code bytes): ``marshal`` data for ``cpython-*`` engines."""
        r = self._section(3, "code")
        engine = r.string()
        return engine, r.take(r.u32())

    def annotations(self) -> list[Annotation]:
        r = self._section(4, "annotations")
        out = []
        for _ in range(r.u32()):
            qualname = r.string()
            params = tuple((r.string(), r.string()) for _ in range(r.u16()))
            out.append(Annotation(qualname, params, r.string()))
        return out

    def to_module(self) -> DpmModule:
        name, source_path, size, mtime, digest = self.meta()
        engine, code = self.code()
        return DpmModule(name, source_path, size, mtime, digest, engine, code,
                         bool(self.flags & FLAG_PACKAGE), self.imports(), self.exports(),
                         self.annotations())


def read_bytes(data: bytes, path: str) -> DpmFile:
    """Check the header, the section layout and the digest; DpmError for anything off."""
    if len(data) < HEADER.size:
        raise DpmError(path, f"truncated: {len(data)} bytes, a header alone is {HEADER.size}")
    magic, version, flags, *offsets, length, digest = HEADER.unpack_from(data)
    if magic != MAGIC:
        raise DpmError(path, f"not a DPM file (magic {magic!r})")
    if version != VERSION:
        raise DpmError(path, f"DPM version {version}; this reader knows version {VERSION}")
    if length != len(data):
        raise DpmError(path, f"truncated or padded: header says {length} bytes, file has "
                             f"{len(data)}")
    bounds = [*offsets, length]
    if offsets[0] != HEADER.size or any(b < a or b % 8 for a, b in zip(bounds, bounds[1:])):
        raise DpmError(path, "section offsets are out of order or misaligned")
    if flags & ~FLAG_PACKAGE:
        raise DpmError(path, f"unknown header flags {flags:#x}")
    if _digest(data[:32], data[HEADER.size:]) != digest:
        raise DpmError(path, "content hash mismatch (the file is damaged)")
    return DpmFile(data, path, tuple(bounds), flags)


def read(path: str) -> DpmFile:
    """Read and check the DPM file at ``path``."""
    with open(path, "rb") as f:
        return read_bytes(f.read(), path)
