"""Encoding of DPB constant-pool entries.

Each entry is a tag byte followed by a tag-specific payload (see
docs/dpb-format.md, "Constants").  Containers (tuple, frozenset) hold their
elements inline, so one pool entry decodes without touching any other.

The encoding is canonical: every value has exactly one encoding and the
decoder rejects anything else (non-minimal ints, unsorted or duplicate
frozenset members, trailing bytes).  That is what makes
``to_bytes(load(f).to_module()) == f`` hold for every valid file, not just
for files this writer produced.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass
from types import EllipsisType
from typing import Union

MAX_DEPTH = 100
"""Deepest container nesting accepted; bounds decoder recursion on crafted input."""

_U32 = struct.Struct("<I")
_F64 = struct.Struct("<d")
_C128 = struct.Struct("<dd")


class Tag(enum.IntEnum):
    """The first byte of every encoded constant."""

    NONE = 0x00
    FALSE = 0x01
    TRUE = 0x02
    INT = 0x03
    FLOAT = 0x04
    COMPLEX = 0x05
    STR = 0x06
    BYTES = 0x07
    TUPLE = 0x08
    FROZENSET = 0x09
    ELLIPSIS = 0x0A
    CODE = 0x0B


@dataclass(frozen=True)
class CodeRef:
    """A constant naming a code object of the same file by index (for MAKE_FUNCTION)."""

    index: int


Constant = Union[None, bool, int, float, complex, str, bytes, tuple, frozenset, EllipsisType, CodeRef]


class ConstantError(ValueError):
    """Raised by the codec; the writer and loader re-raise it as DpbError with the file name."""


# -- encoding --------------------------------------------------------------

def encode_constant(value: object, code_count: int, depth: int = 0) -> bytes:
    """Encode one pool entry (or a member at ``depth``); ``code_count`` bounds CodeRef indices."""
    out = bytearray()
    _encode(value, code_count, out, depth)
    return bytes(out)


def _encode(value: object, code_count: int, out: bytearray, depth: int) -> None:
    """Append the encoding of ``value``; type checks are exact so subclasses are refused."""
    kind = type(value)
    if value is None:
        out.append(Tag.NONE)
    elif value is Ellipsis:
        out.append(Tag.ELLIPSIS)
    elif kind is bool:
        out.append(Tag.TRUE if value else Tag.FALSE)
    elif kind is int:
        body = int_to_bytes(value)  # type: ignore[arg-type]
        out += bytes([Tag.INT]) + _length(body) + body
    elif kind is float:
        out.append(Tag.FLOAT)
        out += _F64.pack(value)
    elif kind is complex:
        out.append(Tag.COMPLEX)
        out += _C128.pack(value.real, value.imag)  # type: ignore[union-attr]
    elif kind is str:
        body = value.encode("utf-8", "surrogatepass")  # type: ignore[union-attr]
        out += bytes([Tag.STR]) + _length(body) + body
    elif kind is bytes:
        out += bytes([Tag.BYTES]) + _length(value) + value  # type: ignore[operator]
    elif kind is tuple or kind is frozenset:
        _encode_container(value, code_count, out, depth)  # type: ignore[arg-type]
    elif kind is CodeRef:
        _encode_code_ref(value, code_count, out)  # type: ignore[arg-type]
    else:
        raise ConstantError(f"cannot store a {kind.__name__} constant: {value!r:.80}")


def _encode_container(value: tuple | frozenset, code_count: int, out: bytearray, depth: int) -> None:
    """Tuples keep their order; frozenset members are sorted by encoding (hash-seed independent)."""
    if depth >= MAX_DEPTH:
        raise ConstantError(f"constant nested deeper than {MAX_DEPTH} levels")
    items = [encode_constant(item, code_count, depth + 1) for item in value]
    if type(value) is frozenset:
        items.sort()
        if any(a == b for a, b in zip(items, items[1:])):
            raise ConstantError("frozenset holds two members with the same encoding "
                                "(distinct NaN objects with equal bits)")
        out.append(Tag.FROZENSET)
    else:
        out.append(Tag.TUPLE)
    out += _U32.pack(len(items))
    for item in items:
        out += item


def _encode_code_ref(ref: CodeRef, code_count: int, out: bytearray) -> None:
    if not isinstance(ref.index, int) or not 0 <= ref.index < code_count:
        raise ConstantError(f"CodeRef({ref.index!r}) out of range: module has {code_count} code objects")
    out.append(Tag.CODE)
    out += _U32.pack(ref.index)


def _length(body: bytes) -> bytes:
    if len(body) > 0xFFFFFFFF:
        raise ConstantError(f"constant of {len(body)} bytes exceeds the u32 length field")
    return _U32.pack(len(body))


def int_to_bytes(value: int) -> bytes:
    """Minimal signed little-endian two's complement; 0 is the empty string."""
    if value == 0:
        return b""
    size = (value.bit_length() + 8) // 8
    body = value.to_bytes(size, "little", signed=True)
    # bit_length()+8 can over-allocate by one byte for negative powers of two.
    if size > 1 and int.from_bytes(body[:-1], "little", signed=True) == value:
        body = body[:-1]
    return body


# -- decoding --------------------------------------------------------------

def decode_constant(data: memoryview, code_count: int) -> Constant:
    """Decode one pool entry that must span exactly ``data``."""
    value, end = _decode(data, 0, code_count, 0)
    if end != len(data):
        raise ConstantError(f"{len(data) - end} trailing bytes after the value")
    return value


def _need(data: memoryview, pos: int, size: int) -> None:
    if pos + size > len(data):
        raise ConstantError(f"truncated: needs {size} bytes at offset {pos}, entry has {len(data)}")


def _decode(data: memoryview, pos: int, code_count: int, depth: int) -> tuple[Constant, int]:
    """Decode the value at ``pos``; returns it and the offset just past it."""
    _need(data, pos, 1)
    tag = data[pos]
    pos += 1
    if tag == Tag.NONE:
        return None, pos
    if tag == Tag.FALSE:
        return False, pos
    if tag == Tag.TRUE:
        return True, pos
    if tag == Tag.ELLIPSIS:
        return Ellipsis, pos
    if tag == Tag.FLOAT:
        _need(data, pos, 8)
        return _F64.unpack_from(data, pos)[0], pos + 8
    if tag == Tag.COMPLEX:
        _need(data, pos, 16)
        real, imag = _C128.unpack_from(data, pos)
        return complex(real, imag), pos + 16
    if tag in (Tag.INT, Tag.STR, Tag.BYTES):
        return _decode_sized(data, pos, tag)
    if tag in (Tag.TUPLE, Tag.FROZENSET):
        return _decode_container(data, pos, tag, code_count, depth)
    if tag == Tag.CODE:
        _need(data, pos, 4)
        index = _U32.unpack_from(data, pos)[0]
        if index >= code_count:
            raise ConstantError(f"code reference {index} out of range: file has {code_count} code objects")
        return CodeRef(index), pos + 4
    raise ConstantError(f"unknown constant tag {tag:#04x}")


def _decode_sized(data: memoryview, pos: int, tag: int) -> tuple[Constant, int]:
    """INT, STR and BYTES: a u32 byte length, then the bytes."""
    _need(data, pos, 4)
    size = _U32.unpack_from(data, pos)[0]
    pos += 4
    _need(data, pos, size)
    body = bytes(data[pos:pos + size])
    end = pos + size
    if tag == Tag.BYTES:
        return body, end
    if tag == Tag.STR:
        try:
            return body.decode("utf-8", "surrogatepass"), end
        except UnicodeDecodeError as exc:
            raise ConstantError(f"string constant is not valid UTF-8: {exc.reason}") from None
    value = int.from_bytes(body, "little", signed=True)
    if int_to_bytes(value) != body:
        raise ConstantError("int constant is not minimally encoded")
    return value, end


def _decode_container(data: memoryview, pos: int, tag: int, code_count: int,
                      depth: int) -> tuple[Constant, int]:
    """TUPLE and FROZENSET: a u32 count, then inline members."""
    if depth >= MAX_DEPTH:
        raise ConstantError(f"constant nested deeper than {MAX_DEPTH} levels")
    _need(data, pos, 4)
    count = _U32.unpack_from(data, pos)[0]
    pos += 4
    if count > len(data) - pos:
        raise ConstantError(f"container claims {count} members but only {len(data) - pos} bytes remain")
    items: list[Constant] = []
    spans: list[bytes] = []
    for _ in range(count):
        start = pos
        item, pos = _decode(data, pos, code_count, depth + 1)
        items.append(item)
        if tag == Tag.FROZENSET:
            spans.append(bytes(data[start:pos]))
    if tag == Tag.TUPLE:
        return tuple(items), pos
    result = frozenset(items)
    if any(a >= b for a, b in zip(spans, spans[1:])) or len(result) != count:
        raise ConstantError("frozenset members are not sorted, distinct encodings of distinct values")
    return result, pos
