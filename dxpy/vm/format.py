"""The DPB on-disk format: data model, layout, validation and the writer.

A DPB file is a 64-byte header followed by six sections (code, constants,
names, symbols, types, debug), each starting on an 8-byte boundary.  The
normative description is docs/dpb-format.md; this module is its reference
implementation, and ``dxpy.vm.loader`` reads what it writes.

Design points the rest of the VM relies on:

* **Canonical.**  Every module has one encoding and every valid file is the
  encoding of one module: readers reject any other layout (gaps, non-zero
  padding, non-minimal ints...).  So ``to_bytes`` is deterministic and
  load -> to_bytes reproduces a file byte for byte.
* **Indices, not strings.**  Code objects refer to names, constants and
  other code objects by index, exactly as stored; resolving them is the
  reader's job and costs nothing until asked for.
* **One validator.**  ``check_code`` is run by the writer on every code
  object and by the loader on each code object it decodes, so a loaded code
  object satisfies the same invariants as one about to be written.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass
from typing import Sequence

import blake3

from dxpy.vm.constants import Constant, ConstantError, encode_constant
from dxpy.vm.errors import DpbError
from dxpy.vm.opcodes import ARG_KIND_BY_VALUE, INSTRUCTION_SIZE, ArgKind, Opcode, decode_words

MAGIC = b"DPB\x01"
FORMAT_VERSION = 2
HEADER_SIZE = 64
ALIGNMENT = 8
HASH_SIZE = 32
U32_MAX = 0xFFFFFFFF

HEADER = struct.Struct("<4sHH6I32s")
"""magic, version, flags, six section sizes, BLAKE3 digest: exactly 64 bytes."""
assert HEADER.size == HEADER_SIZE

HASHED_HEADER_BYTES = 32
"""The header bytes (all but the digest) that the digest also covers."""

WRITER = "<to_bytes>"
"""The ``path`` of DpbErrors raised while writing a module."""

RECORD_FIELDS = 13
"""Fixed u32 fields at the start of a code-object record (see ``encode_record``)."""


class Section(enum.IntEnum):
    """Section order in the file and in the header's size table."""

    CODE = 0
    CONSTANTS = 1
    NAMES = 2
    SYMBOLS = 3
    TYPES = 4
    DEBUG = 5


class CodeFlags(enum.IntFlag):
    """Code-object flags; readers reject bits not listed here."""

    VARARGS = 0x01          # the local after the keyword-only ones is *args
    VARKEYWORDS = 0x02      # the next local is **kwargs
    GENERATOR = 0x04
    COROUTINE = 0x08
    ASYNC_GENERATOR = 0x10
    HAS_DOCSTRING = 0x20    # consts[0] is the function's docstring (a str)


KNOWN_CODE_FLAGS = int(CodeFlags.VARARGS | CodeFlags.VARKEYWORDS | CodeFlags.GENERATOR
                       | CodeFlags.COROUTINE | CodeFlags.ASYNC_GENERATOR | CodeFlags.HAS_DOCSTRING)
# Plain ints: IntFlag arithmetic is Python-level and showed up in the load profile.
_STAR_FLAGS = (int(CodeFlags.VARARGS), int(CodeFlags.VARKEYWORDS))
_KIND_FLAGS = (int(CodeFlags.GENERATOR), int(CodeFlags.COROUTINE), int(CodeFlags.ASYNC_GENERATOR))
_HAS_DOCSTRING = int(CodeFlags.HAS_DOCSTRING)


Position = tuple[int, int, "int | None", "int | None"]
"""A position run: (first word index, end line - line, column, end column)."""


@dataclass(frozen=True)
class CodeObject:
    """One function, class body, comprehension, lambda or module body.

    Names (``name``, ``qualname``, the three name tuples) are indices into
    the module's name table; ``consts`` are indices into its constant pool,
    and an instruction's CONST argument indexes ``consts``.  ``nested``
    lists the code objects defined directly inside this one; each index is
    greater than this code object's own, which keeps the tree acyclic.
    ``linetable`` is ``(instruction word index, line)`` pairs with strictly
    increasing indices: an instruction's line is that of the last entry at
    or before it.  ``positions`` adds the rest of CPython's ``co_positions()``
    the same way: ``(word index, end line - line, column, end column)`` runs
    (columns are UTF-8 byte offsets, None when unknown), one per change of
    those three values.  ``instructions`` is ``bytes`` when built in memory and a
    read-only memoryview into the file's map when loaded.  A loaded code
    object's ``positions`` is empty: tracebacks are their only reader, so
    ``DpbFile.positions`` decodes them when first asked for.
    """

    name: int
    qualname: int
    argcount: int = 0
    posonly: int = 0
    kwonly: int = 0
    flags: int = 0
    nlocals: int = 0
    localnames: tuple[int, ...] = ()
    cellnames: tuple[int, ...] = ()
    freenames: tuple[int, ...] = ()
    firstline: int = 0
    instructions: bytes | memoryview = b""
    linetable: tuple[tuple[int, int], ...] = ()
    consts: tuple[int, ...] = ()
    nested: tuple[int, ...] = ()
    positions: tuple[Position, ...] = ()


@dataclass(frozen=True)
class DpbModule:
    """Everything one DPB file holds; ``code[0]`` is the module body."""

    code: tuple[CodeObject, ...]
    constants: tuple[Constant, ...] = ()
    names: tuple[str, ...] = ()


# -- layout ----------------------------------------------------------------

def align(offset: int) -> int:
    """Round up to the section alignment."""
    return -(-offset // ALIGNMENT) * ALIGNMENT


def section_spans(sizes: Sequence[int]) -> tuple[list[tuple[int, int]], int]:
    """Section (offset, size) pairs implied by the header's sizes, and the file length.

    Offsets are not stored: the first section starts right after the header
    and each next one at the aligned end of the previous, so the header has
    room for the full-size digest and a file cannot describe overlapping or
    out-of-order sections.
    """
    spans = []
    offset = HEADER_SIZE
    for size in sizes:
        spans.append((offset, size))
        offset = align(offset + size)
    return spans, offset


def content_hash(data: bytes | memoryview) -> bytes:
    """BLAKE3 of the header's first 32 bytes followed by everything after the header.

    Covering the header fields too (all but the digest itself) means no
    single changed byte anywhere in a file goes unnoticed.
    """
    hasher = blake3.blake3(data[:HASHED_HEADER_BYTES])
    hasher.update(data[HEADER_SIZE:])
    return hasher.digest()


# -- sections --------------------------------------------------------------

def encode_table(entries: Sequence[bytes | memoryview], extra: bytes = b"") -> bytes:
    """An indexed table: u32 count, u32 offsets[count+1], ``extra``, entries.

    Offsets are relative to the start of the table, so entry i is the bytes
    from offsets[i] to offsets[i+1]: O(1) access without parsing the others.
    """
    start = 4 + 4 * (len(entries) + 1) + len(extra)
    offsets = [start]
    for entry in entries:
        offsets.append(offsets[-1] + len(entry))
    if offsets[-1] > U32_MAX:
        raise DpbError(WRITER, f"section of {offsets[-1]} bytes exceeds the u32 offset range")
    head = struct.pack(f"<{len(offsets) + 1}I", len(entries), *offsets)
    return b"".join([head, extra, *entries])


def encode_record(code: CodeObject) -> bytes:
    """A code object's symbols-section record: 13 u32 fields, then five u32 arrays."""
    arrays = (code.localnames, code.cellnames, code.freenames, code.consts, code.nested)
    values = [code.name, code.qualname, code.argcount, code.posonly, code.kwonly, code.flags,
              code.nlocals, code.firstline, *map(len, arrays)]
    for array in arrays:
        values.extend(array)
    return struct.pack(f"<{len(values)}I", *values)


def decode_record(data: memoryview, instructions: bytes | memoryview,
                  linetable: tuple[tuple[int, int], ...], where: str) -> CodeObject:
    """Inverse of ``encode_record``; checks only that the record's size adds up."""
    if len(data) < 4 * RECORD_FIELDS or len(data) % 4:
        raise DpbError(where, f"code-object record of {len(data)} bytes is malformed")
    values = struct.unpack(f"<{len(data) // 4}I", data)
    lengths = values[8:RECORD_FIELDS]
    if RECORD_FIELDS + sum(lengths) != len(values):
        raise DpbError(where, "code-object record's array lengths do not match its size")
    arrays = []
    pos = RECORD_FIELDS
    for length in lengths:
        arrays.append(values[pos:pos + length])
        pos += length
    name, qualname, argcount, posonly, kwonly, flags, nlocals, firstline = values[:8]
    return CodeObject(name, qualname, argcount, posonly, kwonly, flags, nlocals,
                      arrays[0], arrays[1], arrays[2], firstline, instructions,
                      linetable, arrays[3], arrays[4])


def encode_linetable(linetable: Sequence[tuple[int, int]]) -> bytes:
    """Line table entry: (u32 instruction word index, u32 line) pairs."""
    flat = [value for pair in linetable for value in pair]
    return struct.pack(f"<{len(flat)}I", *flat)


def decode_linetable(data: memoryview, where: str) -> tuple[tuple[int, int], ...]:
    """Inverse of ``encode_linetable``."""
    if len(data) % 8:
        raise DpbError(where, f"line table of {len(data)} bytes is not whole (index, line) pairs")
    flat = struct.unpack(f"<{len(data) // 4}I", data)
    return tuple(zip(flat[0::2], flat[1::2]))


def encode_positions(positions: Sequence[Position]) -> bytes:
    """Position runs as unsigned LEB128 varints, four per run.

    Per run: word index delta (the first run's own index), end-line span,
    column + 1 and end column + 1 (0 encodes "unknown").  Runs are few and
    their values small, so this is a byte or two per value where fixed u32s
    would be sixteen bytes per run.
    """
    out = bytearray()
    previous = 0
    for word, span, column, end_column in positions:
        for value in (word - previous, span, 0 if column is None else column + 1,
                      0 if end_column is None else end_column + 1):
            if value < 0x80:  # the common case, without a call
                out.append(value)
            else:
                _write_varint(out, value)
        previous = word
    return bytes(out)


def decode_positions(data: bytes | memoryview, words: int, label: str,
                     where: str) -> tuple[Position, ...]:
    """Inverse of ``encode_positions``; rejects every non-canonical encoding.

    ``words`` is the instruction word count of the code object ``label``
    names.  Raises DpbError naming ``where``.
    """
    values = []
    offset = 0
    while offset < len(data):
        value, offset = _read_varint(data, offset, where)
        values.append(value)
    if len(values) % 4:
        raise DpbError(where, f"{label}: position table of {len(values)} varints is not whole runs")
    runs: list[Position] = []
    word = 0
    for index in range(0, len(values), 4):
        delta, span, column, end_column = values[index:index + 4]
        word += delta
        runs.append((word, span, column - 1 if column else None, end_column - 1 if end_column else None))
    _check_positions(tuple(runs), words, label, where)
    return tuple(runs)


def _write_varint(out: bytearray, value: int) -> None:
    while value > 0x7F:
        out.append(0x80 | value & 0x7F)
        value >>= 7
    out.append(value)


def _read_varint(data: bytes | memoryview, offset: int, where: str) -> tuple[int, int]:
    """One minimal LEB128 varint of at most 32 bits starting at ``offset``; returns (value, next)."""
    value = shift = 0
    start = offset
    while True:
        if offset >= len(data):
            raise DpbError(where, f"position table: varint at byte {start} is truncated")
        byte = data[offset]
        offset += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            break
    if (byte == 0 and offset - start > 1) or value > U32_MAX:
        raise DpbError(where, f"position table: varint at byte {start} is not a minimal u32")
    return value, offset


# -- validation ------------------------------------------------------------

def check_code(code: CodeObject, index: int, counts: tuple[int, int, int], where: str) -> None:
    """Check one code object against the format's invariants.

    ``counts`` is (code objects, constants, names) of its module.  Raises
    DpbError naming ``where`` and the code object.
    """
    label = f"code object {index}"
    code_count, constant_count, name_count = counts
    scalars = (code.name, code.qualname, code.argcount, code.posonly, code.kwonly,
               code.flags, code.nlocals, code.firstline)
    if any(not isinstance(v, int) or not 0 <= v <= U32_MAX for v in scalars):
        raise DpbError(where, f"{label}: a header field is not a u32")
    _check_indices(code.localnames + code.cellnames + code.freenames + (code.name, code.qualname),
                   0, name_count, f"{label}: name index", where)
    _check_indices(code.consts, 0, constant_count, f"{label}: constant index", where)
    _check_indices(code.nested, index + 1, code_count, f"{label}: nested code index", where)
    _check_signature(code, label, where)
    _check_operands(code, name_count, label, where)
    _check_linetable(code, label, where)
    _check_positions(code.positions, len(code.instructions) // INSTRUCTION_SIZE, label, where)


def _check_indices(values: Sequence[int], low: int, high: int, what: str, where: str) -> None:
    for value in values:
        if not isinstance(value, int) or not low <= value < high:
            raise DpbError(where, f"{what} {value!r} not in range [{low}, {high})")


def _check_signature(code: CodeObject, label: str, where: str) -> None:
    """Arguments occupy the first locals: positional, keyword-only, *args, **kwargs."""
    if code.flags & ~KNOWN_CODE_FLAGS:
        raise DpbError(where, f"{label}: unknown flags {code.flags & ~KNOWN_CODE_FLAGS:#x}")
    if sum(1 for flag in _KIND_FLAGS if code.flags & flag) > 1:
        raise DpbError(where, f"{label}: more than one of GENERATOR/COROUTINE/ASYNC_GENERATOR")
    if code.flags & _HAS_DOCSTRING and not code.consts:
        raise DpbError(where, f"{label}: HAS_DOCSTRING set but there is no consts[0]")
    star = sum(1 for flag in _STAR_FLAGS if code.flags & flag)
    if code.posonly > code.argcount:
        raise DpbError(where, f"{label}: posonly {code.posonly} > argcount {code.argcount}")
    if not code.argcount + code.kwonly + star <= len(code.localnames) <= code.nlocals:
        raise DpbError(where, f"{label}: arguments, local names and nlocals {code.nlocals} disagree")


def _check_linetable(code: CodeObject, label: str, where: str) -> None:
    words = len(code.instructions) // INSTRUCTION_SIZE
    previous = -1
    for entry in code.linetable:
        if len(entry) != 2:
            raise DpbError(where, f"{label}: line-table entry {entry!r} is not a pair")
        word, line = entry
        if not isinstance(word, int) or not previous < word < words:
            raise DpbError(where, f"{label}: line-table index {word!r} out of order or past the code")
        if not isinstance(line, int) or not 0 <= line <= U32_MAX:
            raise DpbError(where, f"{label}: line number {line!r} is not a u32")
        previous = word


def _check_positions(positions: Sequence[Position], words: int, label: str, where: str) -> None:
    """Runs start at strictly increasing words inside the code, each changing the position."""
    previous_word, previous_rest = -1, None
    for run in positions:
        if len(run) != 4:
            raise DpbError(where, f"{label}: position run {run!r} is not 4 values")
        word, span, column, end_column = run
        if not isinstance(word, int) or not previous_word < word < words:
            raise DpbError(where, f"{label}: position index {word!r} out of order or past the code")
        if not (isinstance(span, int) and 0 <= span <= U32_MAX and _is_column(column)
                and _is_column(end_column)):
            raise DpbError(where, f"{label}: position {run!r} has a value outside u32")
        rest = (span, column, end_column)
        if rest == previous_rest:
            raise DpbError(where, f"{label}: position run at {word} repeats the previous one")
        previous_word, previous_rest = word, rest


def _is_column(value: object) -> bool:
    """None (unknown) or a column whose encoding, column + 1, is a u32."""
    return value is None or (isinstance(value, int) and 0 <= value < U32_MAX)


def _check_operands(code: CodeObject, name_count: int, label: str, where: str) -> None:
    """Every opcode defined, every argument in range for its kind, jumps land on instructions."""
    limits = [0] * len(ArgKind)  # exclusive upper bound per kind, indexed by ArgKind
    limits[ArgKind.NONE] = 1
    limits[ArgKind.CONST] = len(code.consts)
    limits[ArgKind.NAME] = name_count
    limits[ArgKind.LOCAL] = code.nlocals
    limits[ArgKind.DEREF] = len(code.cellnames) + len(code.freenames)
    limits[ArgKind.JUMP] = limits[ArgKind.COUNT] = limits[ArgKind.FLAGS] = U32_MAX + 1
    kinds = ARG_KIND_BY_VALUE
    try:
        decoded = decode_words(code.instructions)
    except ValueError as exc:
        raise DpbError(where, f"{label}: {exc}") from None
    for start, value, arg in decoded:
        if arg >= limits[kinds[value]]:
            raise DpbError(where, f"{label}: {Opcode(value).name} argument {arg} out of range "
                                  f"at instruction {start}")
    starts = {start for start, _, _ in decoded}
    jump = int(ArgKind.JUMP)
    jumps = [(start, arg) for start, value, arg in decoded if kinds[value] == jump]
    for start, target in jumps:
        if target not in starts:
            raise DpbError(where, f"{label}: jump at instruction {start} to {target}, "
                                  "which is not the start of an instruction")


def _check_names(names: Sequence[str]) -> None:
    if any(type(name) is not str for name in names):
        raise DpbError(WRITER, "name table entries must be str")
    if len(set(names)) != len(names):
        raise DpbError(WRITER, "name table has duplicates (it must be interned)")


# -- writer ----------------------------------------------------------------

def to_bytes(module: DpbModule) -> bytes:
    """Serialise ``module``; the same module always yields the same bytes.

    Raises DpbError (path ``<to_bytes>``) if the module breaks a format
    invariant, so an invalid file is never produced.
    """
    codes, constants, names = tuple(module.code), tuple(module.constants), tuple(module.names)
    if not codes:
        raise DpbError(WRITER, "a module needs at least one code object (the module body)")
    _check_names(names)
    counts = (len(codes), len(constants), len(names))
    for index, code in enumerate(codes):
        check_code(code, index, counts, WRITER)
    sections = [b"".join(code.instructions for code in codes),
                _constants_section(constants, len(codes)),
                encode_table([name.encode("utf-8", "surrogatepass") for name in names]),
                _symbols_section(codes),
                b"",
                encode_table([encode_linetable(code.linetable) for code in codes]
                             + [encode_positions(code.positions) for code in codes])]
    return _assemble(sections)


def _constants_section(constants: Sequence[Constant], code_count: int) -> bytes:
    try:
        return encode_table([encode_constant(value, code_count) for value in constants])
    except ConstantError as exc:
        raise DpbError(WRITER, f"constant pool: {exc}") from None


def _symbols_section(codes: Sequence[CodeObject]) -> bytes:
    """Code-object records, with each one's instruction offset in the code section."""
    code_offsets = [0]
    for code in codes:
        code_offsets.append(code_offsets[-1] + len(code.instructions))
    extra = struct.pack(f"<{len(code_offsets)}I", *code_offsets)
    return encode_table([encode_record(code) for code in codes], extra)


def _assemble(sections: Sequence[bytes]) -> bytes:
    """Header + aligned sections + digest."""
    sizes = [len(section) for section in sections]
    spans, total = section_spans(sizes)
    if total > U32_MAX:
        raise DpbError(WRITER, f"file of {total} bytes exceeds the u32 offset range")
    out = bytearray(total)
    for (offset, size), section in zip(spans, sections):
        out[offset:offset + size] = section
    out[:HEADER_SIZE] = HEADER.pack(MAGIC, FORMAT_VERSION, 0, *sizes, bytes(HASH_SIZE))
    out[HEADER_SIZE - HASH_SIZE:HEADER_SIZE] = content_hash(out)
    return bytes(out)
