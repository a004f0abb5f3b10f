"""``Channel``: HBTP over a Unix stream socket, blocking and async, with a shared-memory arena.

Each end owns an ``Arena`` for what it sends and maps the peer's segments for
what it receives.  A buffer or array of ``shm_threshold`` bytes or more is
copied once into a block of the sender's arena; the frame names the block and
the receiver gets a read-only view of it (no copy, no pickling of the data).
The view's last reference dying queues a ``RELEASE`` back, which the channel
sends with its next operation, and the sender reuses the block.  A new
segment's memfd travels with its ``SEGMENT`` frame as ``SCM_RIGHTS``, so the
arena has no name anywhere and cannot leak.

Blocking ``send``/``recv`` use the socket in blocking mode; ``asend``/
``arecv`` use the same socket with ``MSG_DONTWAIT`` and wait for readiness on
the running loop (``add_reader``/``add_writer``: poll operations on the dxpy
reactor).  A channel has one sender and one receiver at a time: callers that
share an end across threads or tasks serialise their own use of it.

Any malformed, truncated or oversized frame raises ``ProtocolError`` and
closes this channel (and nothing else); a clean end of stream between frames
raises ``ChannelClosed``.
"""

from __future__ import annotations

import array
import asyncio
import collections
import os
import socket
import struct
from typing import Any, Iterable

from . import codec
from .arena import DEFAULT_ARENA_LIMIT, DEFAULT_SEGMENT_SIZE, Arena, PeerSegments, Segment
from .frames import (COUNT, DEFAULT_MAX_PAYLOAD, BufferRef, Flags, Frame, FrameDecoder,
                     MessageType, ProtocolError, encode)

_RECV_CHUNK = 256 << 10
_MAX_FDS = 16
_ANC_SIZE = socket.CMSG_SPACE(_MAX_FDS * array.array("i").itemsize)
_SEGMENT = struct.Struct("<IQ")
_RELEASED = struct.Struct("<IQ")
_CONTROL = (MessageType.SEGMENT, MessageType.RELEASE)
# plain ints: socket.MSG_* are IntFlag members, and ``&`` on one runs Python code
_DONTWAIT, _CTRUNC = int(socket.MSG_DONTWAIT), int(socket.MSG_CTRUNC)


class ChannelClosed(EOFError):
    """The peer closed the channel cleanly (between frames), or this end was closed."""


class Channel:
    """One end of an HBTP connection over a Unix stream socket."""

    def __init__(self, sock: socket.socket, *, shm_threshold: int = codec.DEFAULT_SHM_THRESHOLD,
                 max_payload: int = DEFAULT_MAX_PAYLOAD, compress: bool = False,
                 segment_size: int = DEFAULT_SEGMENT_SIZE,
                 arena_limit: int = DEFAULT_ARENA_LIMIT) -> None:
        if sock.family != socket.AF_UNIX or sock.type != socket.SOCK_STREAM:
            raise ValueError(f"a Channel needs an AF_UNIX SOCK_STREAM socket, not {sock!r}")
        sock.setblocking(True)
        self._sock = sock
        self.shm_threshold = shm_threshold
        self.max_payload = max_payload
        self.compress = compress
        self._arena = Arena(segment_size, arena_limit)
        self._peer = PeerSegments(self._released)
        self._decoder = FrameDecoder(max_payload)
        # one receive buffer for the channel's life: a fresh 256 KiB bytes per
        # recvmsg costs an mmap + munmap and page faults (measured: 1 ms a frame)
        self._landing = memoryview(bytearray(_RECV_CHUNK))
        self._inbox: collections.deque[Frame] = collections.deque()
        self._fds: collections.deque[int] = collections.deque()
        self._releases: list[tuple[int, int]] = []
        self._closed = False
        self._eof = False

    # -- construction ----------------------------------------------------------------
    @classmethod
    def pair(cls, **options: Any) -> tuple["Channel", "Channel"]:
        """Two connected ends.  Their sockets are inheritable: after ``fork``
        each process keeps one end (and closes the other); for a child started
        by ``subprocess``, pass ``end.fileno()`` in ``pass_fds`` and rebuild it
        there with ``Channel.from_fd``."""
        left, right = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        for sock in (left, right):
            sock.set_inheritable(True)
        return cls(left, **options), cls(right, **options)

    @classmethod
    def from_fd(cls, fd: int, **options: Any) -> "Channel":
        """The channel end on an inherited socket fd (takes ownership of it)."""
        return cls(socket.socket(fileno=fd), **options)

    @classmethod
    def connect(cls, path: str | os.PathLike[str], **options: Any) -> "Channel":
        """Connect to a ``dxpy.ipc.serve`` server listening on ``path``."""
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(os.fspath(path))
        except OSError:
            sock.close()
            raise
        return cls(sock, **options)

    def fileno(self) -> int:
        """The socket's fd (to pass to a child process)."""
        return self._sock.fileno()

    @property
    def closed(self) -> bool:
        """Whether this end is closed (by ``close()`` or a protocol error)."""
        return self._closed

    @property
    def arena(self) -> Arena:
        """This end's sending arena (blocks in use, segments mapped)."""
        return self._arena

    def close(self) -> None:
        """Close the socket and unmap the arenas (idempotent).  Arrays received
        earlier stay valid: their mapping lives as long as they do."""
        if self._closed:
            return
        self._closed = True
        self._sock.close()
        self._arena.close()
        self._peer.close()
        while self._fds:
            os.close(self._fds.popleft())

    def __enter__(self) -> "Channel":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"fd={self._sock.fileno()}"
        return f"<Channel {state} arena={self._arena.mapped >> 20} MiB>"

    # -- values --------------------------------------------------------------------
    def send(self, value: Any) -> None:
        """Send an object (an ``ARRAY`` frame for a plain NumPy array)."""
        self.send_message(codec.kind_of(value), value)

    def recv(self) -> Any:
        """The next value; an ``ERROR`` frame raises the peer's exception."""
        return self._value(self._next_frame())

    async def asend(self, value: Any) -> None:
        """``send`` on the running loop."""
        await self.asend_message(codec.kind_of(value), value)

    async def arecv(self) -> Any:
        """``recv`` on the running loop."""
        return self._value(await self._anext_frame())

    def request(self, value: Any) -> Any:
        """Send ``value`` and return the reply (a ``serve`` handler's result)."""
        self.send(value)
        return self.recv()

    async def arequest(self, value: Any) -> Any:
        """``request`` on the running loop."""
        await self.asend(value)
        return await self.arecv()

    # -- messages (the executor and ``serve`` speak CALL / REPLY / ERROR) ------------
    def send_message(self, msg_type: MessageType, value: Any) -> None:
        """Send ``value`` as a frame of ``msg_type``."""
        for parts, segment in self._outgoing(msg_type, value):
            self._send_parts(parts, segment)

    async def asend_message(self, msg_type: MessageType, value: Any) -> None:
        """``send_message`` on the running loop."""
        for parts, segment in self._outgoing(msg_type, value):
            await self._asend_parts(parts, segment)

    def recv_message(self) -> tuple[MessageType, Any]:
        """The next frame's type and decoded value (``ERROR`` is not raised here)."""
        frame = self._next_frame()
        return frame.type, self._decode(frame)

    async def arecv_message(self) -> tuple[MessageType, Any]:
        """``recv_message`` on the running loop."""
        frame = await self._anext_frame()
        return frame.type, self._decode(frame)

    # -- encoding ------------------------------------------------------------------
    def _outgoing(self, msg_type: MessageType, value: Any
                  ) -> Iterable[tuple[list[Any], Segment | None]]:
        """The frames to write for one message: pending releases, any new
        segment announcements, then the message itself."""
        self._check_open()
        if msg_type in _CONTROL:
            raise ValueError(f"{msg_type.name} frames are the channel's own")
        frames = self._release_frames()
        body, refs = self._encode(msg_type, value)
        for segment in self._arena.unannounced():
            frames.append((encode(MessageType.SEGMENT, _SEGMENT.pack(segment.id, segment.size)),
                           segment))
        compress = self.compress and len(body) >= 4096
        frames.append((encode(msg_type, body, refs, requires_ack=bool(refs), compress=compress,
                              max_payload=self.max_payload), None))
        return frames

    def _encode(self, msg_type: MessageType, value: Any) -> tuple[bytes, list[BufferRef]]:
        """The body and arena blocks of ``value``; if it does not encode (an
        unpicklable part), the blocks already filled for it are freed again."""
        placed: list[BufferRef] = []

        def place(raw: memoryview) -> BufferRef | None:
            ref = self._place(raw)
            if ref is not None:
                placed.append(ref)
            return ref

        try:
            if msg_type is MessageType.ARRAY:
                return codec.encode_array(value, place, self.shm_threshold)
            return codec.encode_value(value, place, self.shm_threshold)
        except BaseException:
            for ref in placed:
                self._arena.release(ref.segment, ref.offset)
            raise

    def _place(self, raw: memoryview) -> BufferRef | None:
        """Copy a buffer into a free arena block (None: keep it in band)."""
        block = self._arena.alloc(raw.nbytes)
        if block is None:
            self._poll_releases()
            block = self._arena.alloc(raw.nbytes)
            if block is None:
                return None
        ref, target = block
        target[:] = raw.cast("B") if raw.format != "B" or raw.ndim != 1 else raw
        target.release()
        return ref

    def _released(self, segment: int, offset: int) -> None:
        """Finalizer of a received view: queue its block's release (any thread;
        sent with the next operation, never from inside the finalizer)."""
        if not self._closed:
            self._releases.append((segment, offset))

    def _release_frames(self) -> list[tuple[list[Any], Segment | None]]:
        """A RELEASE frame for the blocks released since the last one (or none)."""
        if not self._releases:
            return []
        releases, self._releases = self._releases, []
        body = COUNT.pack(len(releases)) + b"".join(_RELEASED.pack(s, o) for s, o in releases)
        return [(encode(MessageType.RELEASE, body), None)]

    # -- writing -------------------------------------------------------------------
    def _send_parts(self, parts: list[Any], segment: Segment | None) -> None:
        """Write one frame; a SEGMENT frame carries its segment's fd."""
        views, fds = self._frame_views(parts, segment)
        while views:
            views, fds = self._write_step(views, fds, 0), []
        if segment is not None:
            self._arena.announced(segment)

    async def _asend_parts(self, parts: list[Any], segment: Segment | None) -> None:
        views, fds = self._frame_views(parts, segment)
        while views:
            try:
                views, fds = self._write_step(views, fds, _DONTWAIT), []
            except BlockingIOError:
                await _ready(self._sock, writable=True)
        if segment is not None:
            self._arena.announced(segment)

    def _frame_views(self, parts: list[Any], segment: Segment | None
                     ) -> tuple[list[bytes | memoryview], list[int]]:
        """The frame's parts as ``sendmsg`` buffers (bytes as they are, other
        buffers as byte views, so that a partial write can be cut anywhere)."""
        self._check_open()
        return ([p if type(p) is bytes else memoryview(p).cast("B") for p in parts],
                [segment.fd] if segment is not None else [])

    def _write_step(self, views: list[bytes | memoryview], fds: list[int], flags: int
                    ) -> list[bytes | memoryview]:
        """One ``sendmsg`` (the fds ride on the first); the views still to write."""
        try:
            sent = self._sock.sendmsg(views, _fd_ancillary(fds) if fds else (), flags)
        except BlockingIOError:
            raise
        except OSError as exc:
            self.close()
            raise ChannelClosed(f"the peer is gone: {exc}") from exc
        return _advance(views, sent)

    # -- reading -------------------------------------------------------------------
    def _next_frame(self) -> Frame:
        while True:
            self._check_open()
            if self._releases:
                for parts, _ in self._release_frames():
                    self._send_parts(parts, None)
            if self._inbox:
                return self._inbox.popleft()
            self._fill(0)

    async def _anext_frame(self) -> Frame:
        while True:
            self._check_open()
            for parts, _ in self._release_frames():
                await self._asend_parts(parts, None)
            if self._inbox:
                return self._inbox.popleft()
            try:
                self._fill(_DONTWAIT)
            except BlockingIOError:
                await _ready(self._sock, writable=False)

    def _poll_releases(self) -> None:
        """Read what has arrived without blocking (RELEASE frames free blocks)."""
        try:
            while not self._eof:
                self._fill(_DONTWAIT)
        except BlockingIOError:
            pass

    def _fill(self, flags: int) -> None:
        """One ``recvmsg``: frames go to the inbox, control frames act at once."""
        if self._eof:
            raise ChannelClosed("the peer closed the channel")
        try:
            count, ancillary, msg_flags, _ = self._sock.recvmsg_into([self._landing], _ANC_SIZE,
                                                                    flags)
        except BlockingIOError:
            raise
        except OSError as exc:
            self.close()
            raise ChannelClosed(f"the channel broke: {exc}") from exc
        if ancillary or msg_flags & _CTRUNC:
            self._take_fds(ancillary, msg_flags)
        if not count:
            self._eof = True
            try:
                self._decoder.close()
            except ProtocolError:
                self.close()
                raise
            raise ChannelClosed("the peer closed the channel")
        try:
            frames = self._decoder.feed(self._landing[:count])
            for frame in frames:
                self._accept(frame)
        except ProtocolError:
            self.close()
            raise

    def _take_fds(self, ancillary: list[tuple[int, int, bytes]], msg_flags: int) -> None:
        for level, kind, payload in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds = array.array("i")
                fds.frombytes(payload[:len(payload) - len(payload) % fds.itemsize])
                self._fds.extend(fds)
        if msg_flags & _CTRUNC:
            self.close()
            raise ProtocolError("HBTP peer sent more file descriptors than a frame may carry")

    def _accept(self, frame: Frame) -> None:
        if frame.type is MessageType.SEGMENT:
            if len(frame.body) != _SEGMENT.size or not self._fds:
                raise ProtocolError("HBTP SEGMENT frame without its segment fd or size")
            segment_id, size = _SEGMENT.unpack(frame.body)
            self._peer.add(segment_id, self._fds.popleft(), size)
        elif frame.type is MessageType.RELEASE:
            body = memoryview(frame.body)
            if len(body) < COUNT.size:
                raise ProtocolError("HBTP RELEASE frame too short")
            (count,) = COUNT.unpack_from(body)
            if len(body) != COUNT.size + count * _RELEASED.size:
                raise ProtocolError(f"HBTP RELEASE frame of {len(body)} bytes for {count} blocks")
            for i in range(count):
                self._arena.release(*_RELEASED.unpack_from(body, COUNT.size + i * _RELEASED.size))
        else:
            self._inbox.append(frame)

    # -- decoding ------------------------------------------------------------------
    def _decode(self, frame: Frame) -> Any:
        try:
            views = ([self._peer.view(ref, bool(frame.flags & Flags.REQUIRES_ACK))
                      for ref in frame.buffers] if frame.buffers else [])
            if frame.type is MessageType.ARRAY:
                return codec.decode_array(frame.body, views)
            return codec.decode_value(frame.body, views)
        except ProtocolError:
            self.close()
            raise

    def _value(self, frame: Frame) -> Any:
        value = self._decode(frame)
        if frame.type is MessageType.ERROR:
            raise codec.raise_remote(value)
        if frame.type is MessageType.REPLY and isinstance(value, tuple) and len(value) == 2:
            return value[1]
        return value

    def _check_open(self) -> None:
        if self._closed:
            raise ChannelClosed("the channel is closed")

    # -- passing to a spawned child ------------------------------------------------
    def __reduce__(self) -> Any:
        """Picklable while ``multiprocessing`` spawns a child (the fd is duplicated)."""
        from multiprocessing import reduction
        return (_rebuild, (reduction.DupFd(self.fileno()), self.shm_threshold, self.max_payload))


def _rebuild(dup: Any, shm_threshold: int, max_payload: int) -> Channel:
    return Channel.from_fd(dup.detach(), shm_threshold=shm_threshold, max_payload=max_payload)


def _fd_ancillary(fds: list[int]) -> list[tuple[int, int, bytes]]:
    if not fds:
        return []
    return [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds).tobytes())]


def _advance(views: list[bytes | memoryview], sent: int) -> list[bytes | memoryview]:
    """The views still to write after ``sent`` bytes went out."""
    while views and sent >= len(views[0]):  # len: bytes, or a byte view's nbytes
        sent -= len(views[0])
        views = views[1:]
    if views and sent:
        views[0] = memoryview(views[0])[sent:]
    return views


async def _ready(sock: socket.socket, writable: bool) -> None:
    """Wait on the running loop until ``sock`` is readable (or writable)."""
    loop = asyncio.get_running_loop()
    waiter = loop.create_future()

    def wake() -> None:
        if not waiter.done():
            waiter.set_result(None)

    fd = sock.fileno()
    (loop.add_writer if writable else loop.add_reader)(fd, wake)
    try:
        await waiter
    finally:
        (loop.remove_writer if writable else loop.remove_reader)(fd)


__all__ = ["Channel", "ChannelClosed"]
