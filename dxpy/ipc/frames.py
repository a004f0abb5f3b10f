"""HBTP framing: the 8-byte header, message types, flags and the frame decoder.

A frame is an 8-byte little-endian header followed by ``length`` payload bytes::

    u16 magic 0xDEAD | u8 message type | u8 flags | u32 payload length

Why a fixed header with the length up front: the receiver knows how much to
read before parsing anything, rejects an oversized frame *before* buffering
it, and a stream cut mid-frame is detectable (``FrameDecoder.close``).

Flags say how to read the payload:

* ``SHARED_MEMORY``: the payload starts with a buffer table, a u32 count and
  that many ``(u32 segment, u64 offset, u64 length)`` entries naming blocks of
  the sender's shared-memory arena; the body follows.
* ``REQUIRES_ACK``: the receiver sends a ``RELEASE`` frame naming those blocks
  once it no longer uses them, so the sender may reuse them.
* ``COMPRESSED``: the body (not the table) is zlib-compressed.

Everything here is pure (bytes in, bytes out) so it is property-tested
without sockets; ``channel.py`` puts it on a Unix socket.
"""

from __future__ import annotations

import enum
import struct
import zlib
from dataclasses import dataclass, field

MAGIC = 0xDEAD
HEADER = struct.Struct("<HBBI")
HEADER_SIZE = HEADER.size  # 8
BUFFER_ENTRY = struct.Struct("<IQQ")
COUNT = struct.Struct("<I")
#: Default bound on one frame's payload; a larger length is a ProtocolError.
DEFAULT_MAX_PAYLOAD = 1 << 30


class ProtocolError(Exception):
    """A malformed, truncated or oversized HBTP frame (the channel it came from is closed)."""


class MessageType(enum.IntEnum):
    """What a frame carries."""

    OBJECT = 1    # a pickled Python object (large buffers out of band)
    ARRAY = 2     # a NumPy array: dtype, shape, then the data (inline or a shared block)
    CALL = 3      # (call id, function, args, kwargs), pickled
    REPLY = 4     # (call id, result), pickled
    ERROR = 5     # (call id, exception or its description), pickled
    RELEASE = 6   # arena blocks the receiver no longer uses: u32 count, (u32 seg, u64 off)*
    SEGMENT = 7   # a new arena segment: u32 segment id, u64 size; its fd rides SCM_RIGHTS


class Flags(enum.IntFlag):
    """Per-frame flags (bits of the header's flags byte)."""

    NONE = 0
    COMPRESSED = 1
    SHARED_MEMORY = 2
    REQUIRES_ACK = 4


_KNOWN_FLAGS = int(Flags.COMPRESSED | Flags.SHARED_MEMORY | Flags.REQUIRES_ACK)
# Header bytes -> enum members by table lookup: calling an enum class (or
# combining IntFlag members) runs Python code, and a small frame's whole
# budget is a few microseconds.
_TYPE_OF = {int(t): t for t in MessageType}
_FLAGS_OF = tuple(Flags(bits) for bits in range(_KNOWN_FLAGS + 1))
_SHARED, _ACK, _COMPRESSED = int(Flags.SHARED_MEMORY), int(Flags.REQUIRES_ACK), \
    int(Flags.COMPRESSED)


@dataclass(frozen=True)
class BufferRef:
    """One block of the sender's arena named by a frame's buffer table."""

    segment: int
    offset: int
    length: int


@dataclass
class Frame:
    """A decoded frame: type, flags, buffer table and (decompressed) body."""

    type: MessageType
    flags: Flags
    body: bytes | memoryview
    buffers: list[BufferRef] = field(default_factory=list)


def encode(msg_type: MessageType, body: bytes | bytearray | memoryview,
           buffers: list[BufferRef] | tuple[()] = (), *, requires_ack: bool = False,
           compress: bool = False, max_payload: int = DEFAULT_MAX_PAYLOAD) -> list[bytes]:
    """The frame as a list of byte strings to write in order (header, table, body)."""
    if compress:
        body = zlib.compress(body, 1)
    length = body.nbytes if isinstance(body, memoryview) else len(body)
    flags = (_ACK if requires_ack else 0) | (_COMPRESSED if compress else 0)
    if buffers:
        flags |= _SHARED
        table = COUNT.pack(len(buffers)) + b"".join(
            BUFFER_ENTRY.pack(ref.segment, ref.offset, ref.length) for ref in buffers)
        length += len(table)
    if length > max_payload:
        raise ProtocolError(f"HBTP frame payload of {length} bytes exceeds the limit "
                            f"of {max_payload}")
    header = HEADER.pack(MAGIC, msg_type, flags, length)
    return [header, table, body] if buffers else [header, body]  # type: ignore[list-item]


def parse_header(header: bytes | bytearray | memoryview, max_payload: int
                 ) -> tuple[MessageType, Flags, int]:
    """(type, flags, payload length) of an 8-byte header, or ``ProtocolError``."""
    return _parse_header_at(header, 0, max_payload)


def _parse_header_at(data: bytes | bytearray | memoryview, at: int, max_payload: int
                     ) -> tuple[MessageType, Flags, int]:
    magic, msg_type, flags, length = HEADER.unpack_from(data, at)
    if magic != MAGIC:
        raise ProtocolError(f"bad HBTP magic 0x{magic:04X} (expected 0x{MAGIC:04X})")
    kind = _TYPE_OF.get(msg_type)
    if kind is None:
        raise ProtocolError(f"unknown HBTP message type {msg_type}")
    if flags & ~_KNOWN_FLAGS:
        raise ProtocolError(f"unknown HBTP flag bits 0x{flags & ~_KNOWN_FLAGS:02X}")
    if length > max_payload:
        raise ProtocolError(f"HBTP frame announces {length} payload bytes, over the limit "
                            f"of {max_payload}")
    return kind, _FLAGS_OF[flags], length


def parse_payload(msg_type: MessageType, flags: Flags, payload: bytes | bytearray | memoryview,
                  max_payload: int) -> Frame:
    """Split a payload into buffer table and body (decompressing it)."""
    bits = int(flags)
    if not bits & (_SHARED | _COMPRESSED):  # the common small frame: the body as is
        return Frame(msg_type, flags, payload if isinstance(payload, bytes)
                     else memoryview(payload), [])
    view = memoryview(payload)
    buffers: list[BufferRef] = []
    if bits & _SHARED:
        if view.nbytes < COUNT.size:
            raise ProtocolError("HBTP shared-memory frame too short for its buffer table")
        (count,) = COUNT.unpack_from(view)
        end = COUNT.size + count * BUFFER_ENTRY.size
        if count == 0 or end > view.nbytes:
            raise ProtocolError(f"HBTP buffer table of {count} entries does not fit "
                                f"a {view.nbytes}-byte payload")
        buffers = [BufferRef(*BUFFER_ENTRY.unpack_from(view, COUNT.size + i * BUFFER_ENTRY.size))
                   for i in range(count)]
        view = view[end:]
    body: bytes | memoryview = view
    if bits & _COMPRESSED:
        body = _decompress(view, max_payload)
    return Frame(msg_type, flags, body, buffers)


def _decompress(data: memoryview, max_payload: int) -> bytes:
    """zlib-decompress at most ``max_payload`` bytes (a bomb is a ProtocolError)."""
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, max_payload)
    except zlib.error as exc:
        raise ProtocolError(f"HBTP compressed body is corrupt: {exc}") from None
    if inflater.unconsumed_tail:
        raise ProtocolError(f"HBTP compressed body inflates past the limit of {max_payload}")
    if not inflater.eof:
        raise ProtocolError("HBTP compressed body is truncated")
    return out


class FrameDecoder:
    """Incremental decoder: ``feed(data)`` returns the frames completed so far.

    The header is validated as soon as its 8 bytes arrive, so an oversized or
    garbled frame fails before its payload is buffered.  ``close()`` says
    whether the stream ended cleanly (between frames).
    """

    def __init__(self, max_payload: int = DEFAULT_MAX_PAYLOAD) -> None:
        self.max_payload = max_payload
        self._buffer = bytearray()
        self._pending: tuple[MessageType, Flags, int] | None = None

    def feed(self, data: bytes | bytearray | memoryview) -> list[Frame]:
        """Add received bytes; return every frame they complete, in order."""
        frames: list[Frame] = []
        if not self._buffer:
            data = self._whole_frames(data, frames)
        self._buffer += data
        while True:
            frame = self._next()
            if frame is None:
                return frames
            frames.append(frame)

    def _whole_frames(self, data: bytes | bytearray | memoryview, frames: list[Frame]
                      ) -> bytes | bytearray | memoryview:
        """With nothing buffered, decode the frames that lie whole in ``data``
        straight from it (one copy of each payload, not two through the
        buffer); what is left over."""
        view = memoryview(data).cast("B")
        at, end = 0, view.nbytes
        while end - at >= HEADER_SIZE:
            msg_type, flags, length = _parse_header_at(view, at, self.max_payload)
            stop = at + HEADER_SIZE + length
            if stop > end:
                break
            payload = bytes(view[at + HEADER_SIZE:stop])
            frames.append(parse_payload(msg_type, flags, payload, self.max_payload))
            at = stop
        return view[at:]

    def _next(self) -> Frame | None:
        if self._pending is None:
            if len(self._buffer) < HEADER_SIZE:
                return None
            self._pending = parse_header(self._buffer[:HEADER_SIZE], self.max_payload)
        msg_type, flags, length = self._pending
        if len(self._buffer) < HEADER_SIZE + length:
            return None
        payload = bytes(self._buffer[HEADER_SIZE:HEADER_SIZE + length])
        del self._buffer[:HEADER_SIZE + length]
        self._pending = None
        return parse_payload(msg_type, flags, payload, self.max_payload)

    @property
    def buffered(self) -> int:
        """Bytes received that belong to no complete frame yet."""
        return len(self._buffer)

    def close(self) -> None:
        """The stream ended: ``ProtocolError`` if it ended inside a frame."""
        if self._buffer:
            raise ProtocolError(f"HBTP stream ended inside a frame ({len(self._buffer)} bytes "
                                f"of an incomplete frame)")


__all__ = ["BufferRef", "DEFAULT_MAX_PAYLOAD", "Flags", "Frame", "FrameDecoder", "HEADER_SIZE",
           "MAGIC", "MessageType", "ProtocolError", "encode", "parse_header", "parse_payload"]
