"""Reading DPB files: mmap, verify, then decode lazily.

``load(path)`` maps the file read-only and checks, before returning, what is
cheap and catches every corruption: size, magic, version, flags, the
section layout and padding, the BLAKE3 digest, every index table, and every
opcode byte (one C-level scan).  Nothing is copied: ``DpbFile.code`` and each
code object's ``instructions`` are slices of the map.  Constants, names,
code objects and code objects' position tables (columns, for tracebacks)
are decoded when first asked for, validated then, and cached.

Every problem is reported as ``DpbError(path, reason)``.  Since the digest
covers the whole file, any damage is caught by ``load`` itself; the lazy
checks guard against files that are intact but were written by a faulty
writer.  As with any mmap reader, a file truncated by another process while
mapped makes the OS raise SIGBUS: DPB files are written once, then read.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import struct
from dataclasses import replace
from typing import Callable, Generic, TypeVar

from dxpy.vm.constants import Constant, ConstantError, decode_constant
from dxpy.vm.errors import DpbError
from dxpy.vm.format import (
    FORMAT_VERSION, HEADER, HEADER_SIZE, MAGIC, CodeObject, DpbModule, Position, Section, check_code,
    content_hash, decode_linetable, decode_positions, decode_record, section_spans,
)
from dxpy.vm.opcodes import INSTRUCTION_SIZE, OPCODE_BYTES, Opcode

_T = TypeVar("_T")

SOURCE_TAG = "dxpy-source"
"""First member of the unreferenced last constant ``(SOURCE_TAG, path)`` with which
``dxpy compile`` records the source file of its output (docs/dpb-format.md)."""


def recorded_source(file: "DpbFile") -> str | None:
    """The source path ``dxpy compile`` recorded in ``file``, or None (other writers, caches)."""
    if file.constant_count == 0:
        return None
    last = file.constant(file.constant_count - 1)
    if (isinstance(last, tuple) and len(last) == 2 and last[0] == SOURCE_TAG
            and isinstance(last[1], str)):
        return last[1]
    return None
_U32 = struct.Struct("<I")


def load(path: str | os.PathLike[str]) -> "DpbFile":
    """Map and verify the DPB file at ``path``."""
    name = os.fspath(path)
    try:
        with open(name, "rb") as file:
            if os.fstat(file.fileno()).st_size == 0:
                raise DpbError(name, f"file is empty (a DPB file is at least {HEADER_SIZE} bytes)")
            mapping = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
    except OSError as exc:
        raise DpbError(name, f"cannot read: {exc.strerror or exc}") from exc
    view = memoryview(mapping)
    try:
        return DpbFile(view, name, mapping)
    except BaseException:
        # Slices held by the traceback may keep the map exported; it is then
        # unmapped when they are collected.
        view.release()
        with contextlib.suppress(BufferError):
            mapping.close()
        raise


def loads(data: bytes | bytearray | memoryview, path: str = "<bytes>") -> "DpbFile":
    """Verify in-memory DPB data; ``path`` is what error messages call it."""
    return DpbFile(memoryview(data).cast("B"), path, None)


class _Table:
    """An indexed table (count, offsets[count+1], extra, entries) inside one section.

    ``extra`` is the symbols section's code offsets (count+1 words).  The
    offsets are checked once, at load, to be in order and to tile the table
    exactly; entry i is then a bounds-safe slice.
    """

    def __init__(self, data: memoryview, path: str, what: str, code_offsets: bool = False) -> None:
        self.data = data
        count = _u32(data, 0, path, what)
        extra_words = count + 1 if code_offsets else 0
        head = 4 + 4 * (count + 1 + extra_words)
        if head > len(data):
            raise DpbError(path, f"{what}: count {count} does not fit in {len(data)} bytes")
        self.offsets = struct.unpack_from(f"<{count + 1}I", data, 4)
        self.extra = struct.unpack_from(f"<{extra_words}I", data, 4 + 4 * (count + 1))
        _check_tiling(self.offsets, head, len(data), path, f"{what} offsets")
        self.count = count

    def entry(self, index: int) -> memoryview:
        """The bytes of entry ``index`` (which the caller has range-checked)."""
        return self.data[self.offsets[index]:self.offsets[index + 1]]


class _LazyList(Generic[_T]):
    """Decode-on-first-access cache of a table's entries."""

    _MISSING = object()

    def __init__(self, count: int, decode: Callable[[int], _T], path: str, what: str) -> None:
        self._items: list[object] = [self._MISSING] * count
        self._decode = decode
        self._path = path
        self._what = what

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, index: int) -> _T:
        if not 0 <= index < len(self._items):
            raise DpbError(self._path, f"{self._what} index {index} out of range "
                                       f"(file has {len(self._items)})")
        item = self._items[index]
        if item is self._MISSING:
            item = self._items[index] = self._decode(index)
        return item  # type: ignore[return-value]


class DpbFile:
    """A verified DPB file, decoded on demand.

    ``code`` is the whole code section as a memoryview of the map (or of the
    buffer given to ``loads``), never a copy; ``constant(i)``, ``name(i)``
    and ``code_object(i)`` decode and cache one entry each.  ``to_module()`` decodes everything into a ``DpbModule``
    that serialises back to exactly this file.
    """

    def __init__(self, data: memoryview, path: str, mapping: mmap.mmap | None) -> None:
        self.path = path
        self._data = data
        self._mapping = mapping
        spans = _verify_frame(data, path)
        sections = [data[offset:offset + size] for offset, size in spans]
        self._views = list(sections)
        self.code = sections[Section.CODE]
        constants = _Table(sections[Section.CONSTANTS], path, "constants section")
        names = _Table(sections[Section.NAMES], path, "names section")
        symbols = _Table(sections[Section.SYMBOLS], path, "symbols section", code_offsets=True)
        code_count = symbols.count
        if code_count == 0:
            raise DpbError(path, "no code objects (a module needs at least its body)")
        _check_tiling(symbols.extra, 0, len(self.code), path, "code offsets")
        _check_code_section(self.code, symbols.extra, path)
        if len(sections[Section.TYPES]):
            raise DpbError(path, f"types section must be empty in format version {FORMAT_VERSION}")
        debug = _Table(sections[Section.DEBUG], path, "debug section")
        if debug.count != 2 * code_count:
            raise DpbError(path, f"debug section has {debug.count} entries for {code_count} code objects "
                                 "(expected a line table and a position table each)")
        self._counts = (code_count, constants.count, names.count)
        self._tables = (constants, names, symbols, debug)
        self._constants = _LazyList(constants.count, self._decode_constant, path, "constant")
        self._names = _LazyList(names.count, self._decode_name, path, "name")
        self._code = _LazyList(code_count, self._decode_code, path, "code object")
        self._positions = _LazyList(code_count, self._decode_positions, path, "code object")

    # -- access ------------------------------------------------------------
    @property
    def constant_count(self) -> int:
        return len(self._constants)

    @property
    def name_count(self) -> int:
        return len(self._names)

    @property
    def code_count(self) -> int:
        return len(self._code)

    def constant(self, index: int) -> Constant:
        """Constant-pool entry ``index``, decoded on first use."""
        return self._constants[index]

    def name(self, index: int) -> str:
        """Name-table entry ``index``, decoded on first use."""
        return self._names[index]

    def code_object(self, index: int) -> CodeObject:
        """Code object ``index`` (0 is the module body); instructions are a view of the map."""
        return self._code[index]

    def positions(self, index: int) -> tuple[Position, ...]:
        """Code object ``index``'s position runs (``CodeObject.positions``), decoded on first use.

        Kept apart from ``code_object`` because only tracebacks read them:
        running a program never pays for decoding its columns.
        """
        return self._positions[index]

    def to_module(self) -> DpbModule:
        """Decode everything; instructions are copied so the module outlives the map."""
        codes = []
        for index in range(self.code_count):
            code = self.code_object(index)
            codes.append(replace(code, instructions=bytes(code.instructions),
                                 positions=self.positions(index)))
        return DpbModule(tuple(codes),
                         tuple(self.constant(i) for i in range(self.constant_count)),
                         tuple(self.name(i) for i in range(self.name_count)))

    # -- lifetime ----------------------------------------------------------
    def close(self) -> None:
        """Release every view this file handed out, then unmap it.

        Afterwards every access, including to code objects decoded from it
        (their instructions are released views), raises ValueError, as with
        any closed file.  Views the caller sliced from them would keep the
        map alive; that is reported rather than ignored.
        """
        if self._mapping is None or self._mapping.closed:
            return
        try:
            for view in self._views:
                view.release()
            self._data.release()
            self._mapping.close()
        except BufferError:
            raise DpbError(self.path, "cannot unmap: views derived from this file's code "
                                      "are still in use") from None

    def __enter__(self) -> "DpbFile":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- decoding ----------------------------------------------------------
    def _decode_constant(self, index: int) -> Constant:
        try:
            return decode_constant(self._tables[0].entry(index), self._counts[0])
        except ConstantError as exc:
            raise DpbError(self.path, f"constant {index}: {exc}") from None

    def _decode_name(self, index: int) -> str:
        try:
            return bytes(self._tables[1].entry(index)).decode("utf-8", "surrogatepass")
        except UnicodeDecodeError as exc:
            raise DpbError(self.path, f"name {index} is not valid UTF-8: {exc.reason}") from None

    def _decode_code(self, index: int) -> CodeObject:
        symbols, debug = self._tables[2], self._tables[3]
        start, end = symbols.extra[index], symbols.extra[index + 1]
        linetable = decode_linetable(debug.entry(index), self.path)
        instructions = self.code[start:end]
        self._views.append(instructions)
        code = decode_record(symbols.entry(index), instructions, linetable, self.path)
        check_code(code, index, self._counts, self.path)
        return code


    def _decode_positions(self, index: int) -> tuple[Position, ...]:
        code = self.code_object(index)
        entry = self._tables[3].entry(self.code_count + index)
        return decode_positions(entry, len(code.instructions) // INSTRUCTION_SIZE,
                                f"code object {index}", self.path)


def _u32(data: memoryview, offset: int, path: str, what: str) -> int:
    if offset + 4 > len(data):
        raise DpbError(path, f"{what}: truncated (needs {offset + 4} bytes, has {len(data)})")
    return _U32.unpack_from(data, offset)[0]


def _check_tiling(offsets: tuple[int, ...], first: int, last: int, path: str, what: str) -> None:
    """Offsets start at ``first``, never decrease, and end at ``last``: no gaps, no overlap."""
    if offsets[0] != first or offsets[-1] != last or list(offsets) != sorted(offsets):
        raise DpbError(path, f"{what} do not tile their section (expected {first}..{last} in order)")


def _verify_frame(data: memoryview, path: str) -> list[tuple[int, int]]:
    """Header, length, padding and digest; returns the section spans."""
    if len(data) < HEADER_SIZE:
        raise DpbError(path, f"truncated: {len(data)} bytes, the header alone is {HEADER_SIZE}")
    magic, version, flags, *rest = HEADER.unpack_from(data)
    sizes, digest = rest[:6], rest[6]
    if magic != MAGIC:
        raise DpbError(path, f"not a DPB file (magic {magic!r}, expected {MAGIC!r})")
    if version != FORMAT_VERSION:
        raise DpbError(path, f"unsupported DPB format version {version} "
                             f"(this reader supports version {FORMAT_VERSION})")
    if flags:
        raise DpbError(path, f"unknown header flags {flags:#06x}")
    spans, total = section_spans(sizes)
    if len(data) != total:
        state = "truncated" if len(data) < total else f"{len(data) - total} trailing bytes"
        raise DpbError(path, f"{state}: header describes {total} bytes, file has {len(data)}")
    if content_hash(data) != digest:
        raise DpbError(path, "content hash mismatch: the file is corrupt or was modified")
    ends = [offset + size for offset, size in spans]
    starts = [offset for offset, _ in spans[1:]] + [total]
    if any(data[end:start] != bytes(start - end) for end, start in zip(ends, starts)):
        raise DpbError(path, "non-zero padding between sections")
    return spans


def _check_code_section(code: memoryview, offsets: tuple[int, ...], path: str) -> None:
    """Whole words, defined opcodes only, and no code object ending in a prefix."""
    if any(offset % INSTRUCTION_SIZE for offset in offsets):
        raise DpbError(path, "a code object's instructions are not whole 4-byte words")
    opcodes = bytes(code[::INSTRUCTION_SIZE])
    if opcodes.translate(None, OPCODE_BYTES):
        bad = next(i for i, op in enumerate(opcodes) if op not in OPCODE_BYTES)
        raise DpbError(path, f"undefined opcode {opcodes[bad]:#04x} at code-section word {bad}")
    for start, end in zip(offsets, offsets[1:]):
        if end > start and code[end - INSTRUCTION_SIZE] == Opcode.EXTENDED_ARG:
            raise DpbError(path, f"a code object ends with EXTENDED_ARG (code-section byte {end - 4})")
