"""Values <-> HBTP bodies: pickle protocol 5 with out-of-band buffers, and raw arrays.

Why pickle protocol 5: it hands every large contiguous buffer inside an
object (NumPy arrays, ``bytes``, ``PickleBuffer``) to a callback instead of
copying it into the stream.  The callback places buffers over the threshold
in the shared-memory arena and the body only names them; the receiver
rebuilds the object around read-only views of those blocks (no copy).
Smaller buffers stay in band, where a copy is cheaper than a block.

``ARRAY`` frames carry one NumPy array without pickle (dtype string, shape,
data), so a peer that is not Python can read them too.

Trust: pickle runs code named by the sender.  A channel connects processes
of one program (or a server and its clients on one machine, behind the
socket's file permissions); it is not a boundary against a hostile peer.
"""

from __future__ import annotations

import pickle
import struct
import traceback
from typing import Any, Callable

import numpy as np

from .frames import BufferRef, MessageType, ProtocolError

#: Buffers and arrays of at least this many bytes travel through shared memory.
DEFAULT_SHM_THRESHOLD = 64 << 10

Place = Callable[[memoryview], BufferRef | None]
View = Callable[[BufferRef], memoryview]

_SHAPE_DIM = struct.Struct("<Q")


class RemoteError(Exception):
    """An exception raised in the peer that could not be sent as itself
    (its type does not pickle); carries the peer's type name and traceback."""


class RemoteTraceback(Exception):
    """The ``__cause__`` of an exception re-raised from the peer: its traceback text."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return self.text


def array_is_raw(value: object) -> bool:
    """Whether ``value`` can go as an ``ARRAY`` frame (plain, non-object dtypes)."""
    if type(value) is not np.ndarray:
        return False
    dtype = value.dtype
    return not dtype.hasobject and dtype.fields is None and dtype.subdtype is None


def encode_value(value: Any, place: Place, threshold: int) -> tuple[bytes, list[BufferRef]]:
    """Pickle ``value``; buffers of ``threshold`` bytes or more go to ``place``
    (which copies them into the arena and names the block, or returns None to
    keep the buffer in band)."""
    refs: list[BufferRef] = []

    def out_of_band(buffer: pickle.PickleBuffer) -> bool:
        raw = buffer.raw()
        if raw.nbytes < threshold:
            return True
        ref = place(raw)
        if ref is None:
            return True
        refs.append(ref)
        return False

    body = pickle.dumps(value, protocol=5, buffer_callback=out_of_band)
    return body, refs


def encode_array(array: np.ndarray, place: Place, threshold: int
                 ) -> tuple[bytes, list[BufferRef]]:
    """An ``ARRAY`` body: u8 dtype-string length, dtype string, u8 ndim,
    u64 dims, then the C-order data inline (or nothing, and one block)."""
    dtype = array.dtype.str.encode("ascii")
    head = struct.pack(f"<B{len(dtype)}sB{array.ndim}Q", len(dtype), dtype, array.ndim,
                       *array.shape)
    if array.nbytes < threshold:  # in band: one copy, C order whatever the strides
        return head + array.tobytes(), []
    contiguous = np.ascontiguousarray(array)
    # as bytes: memoryview refuses datetime dtypes, a uint8 view takes every dtype
    raw = (memoryview(contiguous.reshape(-1).view(np.uint8)) if contiguous.nbytes
           else memoryview(b""))
    if raw.nbytes >= threshold:
        ref = place(raw)
        if ref is not None:
            return head, [ref]
    return head + raw.tobytes(), []


def decode_value(body: bytes | memoryview, views: list[memoryview]) -> Any:
    """Unpickle a body around the blocks' views; any failure is a ProtocolError."""
    try:
        return pickle.loads(body, buffers=views)
    except Exception as exc:  # noqa: BLE001 - a body that does not unpickle is malformed
        raise ProtocolError(f"HBTP body does not unpickle: {type(exc).__name__}: {exc}") from exc


def decode_array(body: bytes | memoryview, views: list[memoryview]) -> np.ndarray:
    """The read-only array of an ``ARRAY`` body (a view of the block, no copy)."""
    view = memoryview(body)
    try:
        dtype_len = view[0]
        dtype = np.dtype(bytes(view[1:1 + dtype_len]).decode("ascii"))
        ndim = view[1 + dtype_len]
        start = 2 + dtype_len
        shape = tuple(_SHAPE_DIM.unpack_from(view, start + 8 * i)[0] for i in range(ndim))
    except (IndexError, struct.error, TypeError, ValueError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"malformed HBTP array header: {exc}") from None
    if dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None:
        raise ProtocolError(f"HBTP array frames do not carry dtype {dtype}")
    data = views[0] if views else view[start + 8 * ndim:]
    if len(views) > 1:
        raise ProtocolError(f"HBTP array frame names {len(views)} blocks (expected 1)")
    count = 1
    for dim in shape:
        count *= dim
    if count * dtype.itemsize != data.nbytes:
        raise ProtocolError(f"HBTP array of shape {shape} and dtype {dtype} needs "
                            f"{count * dtype.itemsize} bytes, the frame carries {data.nbytes}")
    array = np.frombuffer(data, dtype=dtype).reshape(shape) if count else np.empty(shape, dtype)
    array.flags.writeable = False
    return array


def error_value(call_id: int, exc: BaseException) -> tuple[int, Any, str, str]:
    """What an ``ERROR`` frame carries: the exception if it pickles, and always
    its type name and formatted traceback."""
    text = "".join(traceback.format_exception(exc))
    try:
        pickle.loads(pickle.dumps(exc, protocol=5))
        portable: Any = exc
    except Exception:  # noqa: BLE001 - its type or arguments do not pickle
        portable = None
    return call_id, portable, f"{type(exc).__module__}.{type(exc).__qualname__}", text


def raise_remote(value: Any) -> BaseException:
    """The exception to raise for a received ``ERROR`` value."""
    try:
        _call_id, exc, type_name, text = value
    except (TypeError, ValueError):
        raise ProtocolError(f"malformed HBTP error body: {value!r:.200}") from None
    if not isinstance(exc, BaseException):
        exc = RemoteError(f"{type_name} raised in the peer (not picklable):\n{text}")
    exc.__cause__ = RemoteTraceback(text)
    return exc


def kind_of(value: Any) -> MessageType:
    """The frame type ``Channel.send`` uses for ``value``."""
    return MessageType.ARRAY if array_is_raw(value) else MessageType.OBJECT


__all__ = ["DEFAULT_SHM_THRESHOLD", "RemoteError", "RemoteTraceback", "array_is_raw",
           "decode_array", "decode_value", "encode_array", "encode_value", "error_value",
           "kind_of", "raise_remote"]
