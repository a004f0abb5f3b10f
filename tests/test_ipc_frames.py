"""HBTP framing and codecs: property round trips, truncation and damage -> ProtocolError."""

from __future__ import annotations

import os
import pickle
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from dxpy.ipc import codec
from dxpy.ipc.arena import Arena, PeerSegments
from dxpy.ipc.frames import (HEADER, HEADER_SIZE, MAGIC, BufferRef, Flags, FrameDecoder,
                             MessageType, ProtocolError, encode)

PICKLED_TYPES = [MessageType.OBJECT, MessageType.CALL, MessageType.REPLY, MessageType.ERROR]
values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
    | st.binary(max_size=2000),
    lambda inner: st.lists(inner, max_size=5) | st.tuples(inner, inner)
    | st.dictionaries(st.text(max_size=5), inner, max_size=5),
    max_leaves=20)
arrays = hnp.arrays(
    dtype=hnp.integer_dtypes() | hnp.unsigned_integer_dtypes() | hnp.floating_dtypes()
    | hnp.complex_number_dtypes() | hnp.boolean_dtypes() | hnp.datetime64_dtypes()
    | hnp.byte_string_dtypes(max_len=4) | hnp.unicode_string_dtypes(max_len=4),
    shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=6))


class Loopback:
    """An arena and the peer mapping of it in one process (what a channel pair does)."""

    def __init__(self, threshold: int) -> None:
        self.threshold = threshold
        self.arena = Arena(segment_size=1 << 20)
        self.released: list[tuple[int, int]] = []
        self.peer = PeerSegments(lambda seg, off: self.released.append((seg, off)))

    def place(self, raw: memoryview) -> BufferRef | None:
        block = self.arena.alloc(raw.nbytes)
        assert block is not None
        ref, target = block
        target[:] = raw.cast("B")
        for segment in self.arena.unannounced():
            self.peer.add(segment.id, os.dup(segment.fd), segment.size)
            self.arena.announced(segment)
        return ref

    def round_trip(self, msg_type: MessageType, value: object, compress: bool = False) -> object:
        if msg_type is MessageType.ARRAY:
            body, refs = codec.encode_array(value, self.place, self.threshold)  # type: ignore
        else:
            body, refs = codec.encode_value(value, self.place, self.threshold)
        wire = b"".join(bytes(p) for p in encode(msg_type, body, refs, requires_ack=bool(refs),
                                                  compress=compress))
        decoder = FrameDecoder()
        frames = decoder.feed(wire[:3]) + decoder.feed(wire[3:])
        decoder.close()
        assert len(frames) == 1 and frames[0].type is msg_type
        views = [self.peer.view(r, True) for r in frames[0].buffers]
        if msg_type is MessageType.ARRAY:
            return codec.decode_array(frames[0].body, views)
        return codec.decode_value(frames[0].body, views)

    def close(self) -> None:
        self.peer.close()
        self.arena.close()


@settings(max_examples=60, deadline=None)
@given(msg_type=st.sampled_from(PICKLED_TYPES), value=values, compress=st.booleans())
def test_pickled_message_types_round_trip(msg_type: MessageType, value: object,
                                          compress: bool) -> None:
    loop = Loopback(threshold=64)
    try:
        assert loop.round_trip(msg_type, value, compress) == value
    finally:
        loop.close()


@settings(max_examples=60, deadline=None)
@given(array=arrays, threshold=st.sampled_from([1, 64, 1 << 20]), transpose=st.booleans())
def test_arrays_round_trip_every_dtype_and_layout(array: np.ndarray, threshold: int,
                                                  transpose: bool) -> None:
    if transpose:
        array = array.T  # Fortran order / non-contiguous
    loop = Loopback(threshold)
    try:
        got = loop.round_trip(MessageType.ARRAY, array)
        assert isinstance(got, np.ndarray) and not got.flags.writeable
        assert got.dtype == array.dtype and got.shape == array.shape
        np.testing.assert_array_equal(got, array)
        boxed = loop.round_trip(MessageType.OBJECT, {"a": array})
        np.testing.assert_array_equal(boxed["a"], array)  # type: ignore[index]
    finally:
        loop.close()


def test_blocks_are_released_when_the_last_view_dies() -> None:
    loop = Loopback(threshold=64)
    try:
        got = loop.round_trip(MessageType.OBJECT, [np.arange(1000), np.arange(2000)])
        part = got[1][10:]  # type: ignore[index]
        del got
        assert len(loop.released) == 1  # the first array's block; the second lives in `part`
        del part
        assert len(loop.released) == 2
    finally:
        loop.close()


@settings(max_examples=80, deadline=None)
@given(msg_type=st.sampled_from(PICKLED_TYPES), value=values, data=st.data())
def test_any_truncation_is_a_protocol_error(msg_type: MessageType, value: object,
                                            data: st.DataObject) -> None:
    body = pickle.dumps(value, protocol=5)
    wire = b"".join(bytes(p) for p in encode(msg_type, body))
    cut = data.draw(st.integers(1, len(wire) - 1))
    decoder = FrameDecoder()
    assert decoder.feed(wire[:cut]) == []
    with pytest.raises(ProtocolError, match="ended inside a frame"):
        decoder.close()


@settings(max_examples=80, deadline=None)
@given(value=values, data=st.data())
def test_a_damaged_header_is_a_protocol_error_or_harmless(value: object,
                                                          data: st.DataObject) -> None:
    body = pickle.dumps(value, protocol=5)
    wire = bytearray(b"".join(bytes(p) for p in encode(MessageType.OBJECT, body)))
    index = data.draw(st.integers(0, HEADER_SIZE - 1))
    wire[index] ^= data.draw(st.integers(1, 255))
    decoder = FrameDecoder(max_payload=1 << 20)
    try:
        frames = decoder.feed(bytes(wire))
        decoder.close()
        for frame in frames:
            codec.decode_value(frame.body, [])
    except ProtocolError:
        return
    # only the type and flag bytes can turn into another valid frame (the length cannot)
    assert index in (2, 3) and frames


@pytest.mark.parametrize("header, message", [
    (HEADER.pack(0xBEEF, 1, 0, 0), "bad HBTP magic"),
    (HEADER.pack(MAGIC, 99, 0, 0), "unknown HBTP message type 99"),
    (HEADER.pack(MAGIC, 1, 0x80, 0), "unknown HBTP flag bits"),
    (HEADER.pack(MAGIC, 1, 0, 5000), "over the limit of 4096"),
])
def test_bad_headers_are_rejected_before_the_payload(header: bytes, message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        FrameDecoder(max_payload=4096).feed(header)


def test_malformed_bodies_and_tables_are_protocol_errors() -> None:
    decoder = FrameDecoder()
    bad_table = HEADER.pack(MAGIC, 1, int(Flags.SHARED_MEMORY), 4) + struct.pack("<I", 3)
    with pytest.raises(ProtocolError, match="buffer table of 3 entries"):
        decoder.feed(bad_table)
    with pytest.raises(ProtocolError, match="does not unpickle"):
        codec.decode_value(b"\x80\x05garbage", [])
    with pytest.raises(ProtocolError, match="needs 80 bytes"):
        codec.decode_array(b"\x03<f8\x01" + struct.pack("<Q", 10) + b"\0" * 8, [])
    with pytest.raises(ProtocolError, match="array header"):
        codec.decode_array(b"\x03<q", [])
    bomb = HEADER.pack(MAGIC, 1, int(Flags.COMPRESSED), 0)
    import zlib
    packed = zlib.compress(b"\0" * 100_000)
    with pytest.raises(ProtocolError, match="inflates past"):
        FrameDecoder(max_payload=50_000).feed(bomb[:4] + struct.pack("<I", len(packed)) + packed)
    loop = Loopback(threshold=64)
    try:
        with pytest.raises(ProtocolError, match="never announced"):
            loop.peer.view(BufferRef(7, 0, 10), True)
    finally:
        loop.close()


def test_remote_errors_keep_their_type_and_traceback() -> None:
    try:
        raise KeyError("missing")
    except KeyError as exc:
        value = codec.error_value(3, exc)
    raised = codec.raise_remote(pickle.loads(pickle.dumps(value)))
    assert isinstance(raised, KeyError) and "test_remote_errors" in str(raised.__cause__)

    class Local(Exception):
        pass
    value = codec.error_value(4, Local("not importable by the peer"))
    assert isinstance(codec.raise_remote(value), codec.RemoteError)
