"""A socket transport's receives switch modes with message size (on io_uring:
a multishot receive into provided buffers for small messages, readiness plus
a recv() into the delivered bytes for large ones; see docs/architecture.md,
"The loop core").  Whatever the mix of sizes and pauses, every byte arrives
once, in order, followed by EOF, on every loop (asyncio's is the reference)."""

from __future__ import annotations

import asyncio
import socket

from hypothesis import HealthCheck, given, settings, strategies as st

#: Message sizes on both sides of the switch (32 KiB) and of a provided buffer (256 KiB).
SIZES = st.sampled_from([1, 100, 4096, 40_000, 65_536, 300_000])


class Collector(asyncio.Protocol):
    """Gathers what arrives; pauses reading after every ``pause_every``-th
    chunk and resumes one iteration later."""

    def __init__(self, pause_every: int) -> None:
        self.data = bytearray()
        self.chunks = 0
        self.pause_every = pause_every
        self.done: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        assert not self.done.done(), "data after EOF"
        self.data += data
        self.chunks += 1
        if self.pause_every and self.chunks % self.pause_every == 0:
            self.transport.pause_reading()
            asyncio.get_running_loop().call_soon(self.transport.resume_reading)

    def eof_received(self) -> None:
        self.done.set_result(bytes(self.data))


async def exchange(sizes: list[int], pause_every: int) -> tuple[bytes, bytes]:
    loop = asyncio.get_running_loop()
    payload = b"".join(bytes([i % 251]) * size for i, size in enumerate(sizes))
    a, b = socket.socketpair()
    a.setblocking(False)
    protocol = Collector(pause_every)
    transport, _ = await loop.connect_accepted_socket(lambda: protocol, b)
    try:
        offset = 0
        for size in sizes:  # one message at a time, each a separate send
            await loop.sock_sendall(a, payload[offset:offset + size])
            offset += size
            await asyncio.sleep(0)
        a.shutdown(socket.SHUT_WR)
        received = await asyncio.wait_for(protocol.done, 20)
    finally:
        transport.close()
        a.close()
    return received, payload


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # one loop serves every example
@given(sizes=st.lists(SIZES, min_size=1, max_size=24), pause_every=st.sampled_from([0, 1, 3]))
def test_every_byte_arrives_once_in_order_then_eof(any_loop: asyncio.AbstractEventLoop,
                                                   sizes: list[int], pause_every: int) -> None:
    received, payload = any_loop.run_until_complete(exchange(sizes, pause_every))
    assert len(received) == len(payload)
    assert received == payload


def test_large_then_small_messages_echo(any_loop: asyncio.AbstractEventLoop) -> None:
    """A connection that switched to large receives keeps serving small ones
    (and back): a request/response exchange of alternating sizes."""
    class Echo(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.transport = transport

        def data_received(self, data: bytes) -> None:
            self.transport.write(data)

    async def main() -> list[int]:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(Echo, "127.0.0.1", 0)
        reader, writer = await asyncio.open_connection(*server.sockets[0].getsockname())
        got = []
        for size in [10, 200_000, 10, 10, 65_536, 1] + [10] * 12 + [100_000, 5]:
            writer.write(b"x" * size)
            got.append(len(await asyncio.wait_for(reader.readexactly(size), 10)))
        writer.close()
        await writer.wait_closed()
        server.close()
        await server.wait_closed()
        return got

    sizes = [10, 200_000, 10, 10, 65_536, 1] + [10] * 12 + [100_000, 5]
    assert any_loop.run_until_complete(main()) == sizes
