"""Write flow control exactly as asyncio shows it (issue #16, item 7).

What a protocol can observe of a transport's write side is part of the
contract libraries are written against: ``get_write_buffer_size()`` right
after ``write()``, and when ``pause_writing``/``resume_writing`` are called.
asyncio's socket transport (and uvloop's) tries the send at once when
nothing is queued, so a write the kernel takes whole leaves nothing buffered
and never pauses the protocol; once bytes are queued, every write is queued
behind them, the protocol is paused when the buffer exceeds the high-water
mark and resumed when it drains to the low-water mark.  Libraries whose drain
helper allows a single waiter (websockets' legacy protocol, asyncio's old
``FlowControlMixin``) depend on it: a loop that defers sends and so pauses
where asyncio does not breaks them.

Each test runs on asyncio's default loop too (the ``asyncio`` parameter) with
the same assertions, and on every dxpy reactor and loop core.
"""

from __future__ import annotations

import asyncio
import hashlib
import socket
import warnings
from collections.abc import Awaitable
from typing import Any

with warnings.catch_warnings():  # the legacy protocol is deprecated, and the point here
    warnings.simplefilter("ignore", DeprecationWarning)
    from websockets.legacy.client import connect as legacy_connect
    from websockets.legacy.server import WebSocketServerProtocol
    from websockets.legacy.server import serve as legacy_serve

STEP_TIMEOUT_S = 20.0
HIGH_WATER = 4096
LOW_WATER = 1024
BIG_SNDBUF = 1 << 20  # the kernel takes any write below this at once (Linux doubles it)
SMALL_SNDBUF = 16 << 10


def run(loop: asyncio.AbstractEventLoop, coro: Awaitable[Any]) -> Any:
    return loop.run_until_complete(asyncio.wait_for(coro, 2 * STEP_TIMEOUT_S))


def payload(n: int, seed: int) -> bytes:
    """``n`` bytes that differ from message to message (a lost or reordered
    chunk shows in the digest)."""
    block = hashlib.sha256(seed.to_bytes(4, "big")).digest()
    return (block * (n // len(block) + 1))[:n]


class FlowProbe(asyncio.Protocol):
    """Records every pause/resume with the write buffer size at that moment."""

    def __init__(self) -> None:
        self.events: list[tuple[str, int]] = []
        self.resumed = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: Any = transport

    def pause_writing(self) -> None:
        self.events.append(("pause", self.transport.get_write_buffer_size()))

    def resume_writing(self) -> None:
        self.events.append(("resume", self.transport.get_write_buffer_size()))
        if not self.resumed.done():
            self.resumed.set_result(None)


async def probe_pair(sndbuf: int, rcvbuf: int) -> tuple[Any, FlowProbe, socket.socket]:
    """A TCP loopback connection: a FlowProbe transport with the test's
    write limits on one end (its socket's SO_SNDBUF set), a non-blocking
    reader socket (SO_RCVBUF set) on the other."""
    loop = asyncio.get_running_loop()
    with socket.create_server(("127.0.0.1", 0)) as listener:
        # accepted sockets inherit it
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        writer_sock = socket.socket()
        writer_sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
        writer_sock.connect(listener.getsockname())
        reader, _ = listener.accept()
    reader.setblocking(False)
    transport, probe = await loop.create_connection(FlowProbe, sock=writer_sock)
    transport.set_write_buffer_limits(high=HIGH_WATER, low=LOW_WATER)
    return transport, probe, reader


async def read_exactly(sock: socket.socket, n: int) -> bytes:
    loop = asyncio.get_running_loop()
    got = bytearray()
    while len(got) < n:
        chunk = await asyncio.wait_for(loop.sock_recv(sock, n - len(got)), STEP_TIMEOUT_S)
        assert chunk, f"EOF after {len(got)} of {n} bytes"
        got += chunk
    return bytes(got)


# sizes around the high-water mark, and the default limit's
WRITE_SIZES = (1, HIGH_WATER - 1, HIGH_WATER, HIGH_WATER + 1, 2 * HIGH_WATER, 16 << 10,
               (64 << 10) + 1, 256 << 10)


def test_write_with_nothing_queued_is_sent_at_once(
        any_loop: asyncio.AbstractEventLoop) -> None:
    """With room in the kernel's send buffer and nothing queued, asyncio's
    ``write()`` hands the bytes to the kernel before it returns: nothing is
    buffered and the protocol is never paused, whatever the size relative to
    the high-water mark."""

    async def main() -> list[tuple[int, int, list[tuple[str, int]]]]:
        transport, probe, reader = await probe_pair(BIG_SNDBUF, BIG_SNDBUF)
        seen = []
        with reader:
            for seed, size in enumerate(WRITE_SIZES):
                data = payload(size, seed)
                transport.write(data)
                seen.append((size, transport.get_write_buffer_size(), list(probe.events)))
                assert await read_exactly(reader, size) == data
            transport.close()
        return seen

    assert run(any_loop, main()) == [(size, 0, []) for size in WRITE_SIZES]


def test_writes_behind_queued_bytes_pause_and_resume_at_the_marks(
        any_loop: asyncio.AbstractEventLoop) -> None:
    """Once the kernel refuses bytes, each later write is queued whole:
    the buffer grows by exactly its size, ``pause_writing`` runs once, on the
    write that takes the buffer above the high-water mark, and
    ``resume_writing`` once, when the reader has drained it to the low-water
    mark or below; every byte arrives, in order."""

    async def main() -> tuple[list[int], list[tuple[str, int]], bool]:
        transport, probe, reader = await probe_pair(SMALL_SNDBUF, SMALL_SNDBUF)
        sent = bytearray()
        with reader:
            seed = 0
            while transport.get_write_buffer_size() == 0:  # fill the kernel's buffers
                chunk = payload(512, seed := seed + 1)
                transport.write(chunk)
                sent += chunk
            assert probe.events == []  # the first leftover is below the mark
            growth = []
            while not probe.events:
                before = transport.get_write_buffer_size()
                chunk = payload(256, seed := seed + 1)
                transport.write(chunk)
                sent += chunk
                growth.append(transport.get_write_buffer_size() - before)
            paused_at = probe.events[0][1]
            received = await read_exactly(reader, len(sent))
            await asyncio.wait_for(probe.resumed, STEP_TIMEOUT_S)
            transport.close()
        return growth, probe.events, received == bytes(sent) and paused_at > HIGH_WATER

    growth, events, intact = run(any_loop, main())
    assert set(growth) == {256}
    assert [name for name, _ in events] == ["pause", "resume"]
    assert HIGH_WATER < events[0][1] <= HIGH_WATER + 256
    assert events[1][1] <= LOW_WATER
    assert intact


MESSAGES = 100
MESSAGE_SIZE = 1 << 20


async def concurrent_legacy_sends() -> bool:
    """websockets' legacy client sends MESSAGES messages of MESSAGE_SIZE
    bytes from concurrent tasks over one connection; returns whether the
    server received every one intact (errors of the sends propagate)."""
    received: list[str] = []
    done = asyncio.get_running_loop().create_future()

    async def handler(ws: WebSocketServerProtocol, path: str | None = None) -> None:
        async for message in ws:
            received.append(hashlib.sha256(message).hexdigest())
            if len(received) == MESSAGES and not done.done():
                done.set_result(None)

    messages = [payload(MESSAGE_SIZE, seed) for seed in range(MESSAGES)]
    async with legacy_serve(handler, "127.0.0.1", 0, max_size=None) as server:
        port = server.sockets[0].getsockname()[1]
        async with legacy_connect(f"ws://127.0.0.1:{port}", max_size=None) as ws:
            await asyncio.gather(*(ws.send(m) for m in messages))
            await asyncio.wait_for(done, STEP_TIMEOUT_S)
    return sorted(received) == sorted(hashlib.sha256(m).hexdigest() for m in messages)


def test_websockets_legacy_concurrent_large_sends(
        any_loop: asyncio.AbstractEventLoop) -> None:
    assert run(any_loop, concurrent_legacy_sends())
