"""Transports, protocols, servers and streams over TCP and Unix sockets,
modelled on CPython's ``test_asyncio/test_streams.py``, ``test_server.py``
and the transport parts of ``test_events.py`` (written anew)."""

from __future__ import annotations

import asyncio
import os
import socket

import pytest

import dxpy

from .conftest import URING_OK, URING_WHY, eventually


async def echo_handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while data := await reader.read(65536):
        writer.write(data)
        await writer.drain()
    writer.close()


@pytest.mark.parametrize("size", [1, 1024, 65536, 5_000_000])
def test_streams_echo(loop: dxpy.Loop, size: int) -> None:
    payload = os.urandom(size)

    async def main() -> bytes:
        server = await asyncio.start_server(echo_handler, "127.0.0.1", 0)
        reader, writer = await asyncio.open_connection(*server.sockets[0].getsockname())
        writer.write(payload)
        await writer.drain()
        echoed = await reader.readexactly(size)
        writer.close()
        await writer.wait_closed()
        server.close()
        await server.wait_closed()
        return echoed

    assert loop.run_until_complete(main()) == payload


def test_unix_streams_echo(loop: dxpy.Loop, tmp_path) -> None:
    path = str(tmp_path / "echo.sock")

    async def main() -> bytes:
        server = await asyncio.start_unix_server(echo_handler, path)
        reader, writer = await asyncio.open_unix_connection(path)
        writer.write(b"over unix")
        echoed = await reader.readexactly(9)
        writer.close()
        await writer.wait_closed()
        server.close()
        await server.wait_closed()
        return echoed

    assert loop.run_until_complete(main()) == b"over unix"


class Recorder(asyncio.Protocol):
    """Records the protocol callbacks it sees, in order."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self.data = bytearray()
        self.done = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.events.append("made")

    def data_received(self, data: bytes) -> None:
        self.data += data

    def eof_received(self) -> bool:
        self.events.append("eof")
        return True  # keep the transport open for writing (half-close)

    def connection_lost(self, exc: Exception | None) -> None:
        self.events.append(f"lost:{type(exc).__name__ if exc else None}")
        if not self.done.done():
            self.done.set_result(None)


def test_protocol_callbacks_and_half_close(loop: dxpy.Loop) -> None:
    async def main() -> tuple[list[str], bytes, bytes]:
        server_side: list[Recorder] = []

        def factory() -> Recorder:
            server_side.append(Recorder())
            return server_side[-1]

        server = await loop.create_server(factory, "127.0.0.1", 0)
        transport, client = await loop.create_connection(Recorder, *server.sockets[0].getsockname())
        assert transport.can_write_eof()
        transport.write(b"request")
        transport.write_eof()  # half-close: the server still answers
        await asyncio.sleep(0.05)
        peer = server_side[0]
        assert peer.events == ["made", "eof"]
        peer.transport.write(b"answer")
        peer.transport.close()
        await asyncio.wait_for(peer.done, 5)
        await asyncio.sleep(0.05)
        # eof_received() returned True: the transport stays open until closed
        assert client.events == ["made", "eof"] and not client.done.done()
        transport.close()
        await asyncio.wait_for(client.done, 5)
        server.close()
        await server.wait_closed()
        return client.events, bytes(peer.data), bytes(client.data)

    events, request, answer = loop.run_until_complete(main())
    assert (request, answer) == (b"request", b"answer")
    assert events == ["made", "eof", "lost:None"]


def test_peer_reset_reaches_connection_lost(loop: dxpy.Loop) -> None:
    async def main() -> list[str]:
        accepted: list[socket.socket] = []
        listener = socket.create_server(("127.0.0.1", 0))
        listener.setblocking(False)
        transport, client = await loop.create_connection(Recorder, *listener.getsockname())
        conn, _ = await loop.sock_accept(listener)
        accepted.append(conn)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
        conn.close()  # abortive close: RST
        await asyncio.wait_for(client.done, 5)
        listener.close()
        return client.events

    events = loop.run_until_complete(main())
    assert events[0] == "made" and events[-1] in ("lost:ConnectionResetError", "lost:None")
    assert len(events) <= 3


def test_pause_and_resume_reading(loop: dxpy.Loop) -> None:
    async def main() -> tuple[int, int]:
        server = await asyncio.start_server(echo_handler, "127.0.0.1", 0)
        transport, client = await loop.create_connection(Recorder, *server.sockets[0].getsockname())
        transport.pause_reading()
        assert not transport.is_reading()
        transport.write(b"x" * 100_000)
        await asyncio.sleep(0.05)
        while_paused = len(client.data)
        transport.resume_reading()
        await eventually(lambda: len(client.data) == 100_000)
        transport.close()
        server.close()
        await server.wait_closed()
        return while_paused, len(client.data)

    while_paused, total = loop.run_until_complete(main())
    assert while_paused == 0
    assert total == 100_000


def test_write_flow_control_and_drain(loop: dxpy.Loop) -> None:
    """A slow reader makes the writer's buffer grow, pausing then resuming it."""
    async def main() -> tuple[bool, int]:
        got = bytearray()
        release = asyncio.Event()

        async def slow_reader(reader, writer) -> None:
            await release.wait()
            while data := await reader.read(1 << 20):
                got.extend(data)
            writer.close()

        server = await asyncio.start_server(slow_reader, "127.0.0.1", 0)
        reader, writer = await asyncio.open_connection(*server.sockets[0].getsockname())
        writer.transport.set_write_buffer_limits(high=64 * 1024)
        writer.write(b"y" * (32 << 20))  # more than kernel buffers hold
        drained = asyncio.ensure_future(writer.drain())
        await asyncio.sleep(0.05)
        blocked = not drained.done()
        release.set()
        await asyncio.wait_for(drained, 10)
        writer.close()
        await writer.wait_closed()
        await eventually(lambda: len(got) == 32 << 20)
        server.close()
        await server.wait_closed()
        return blocked, len(got)

    blocked, total = loop.run_until_complete(main())
    assert blocked
    assert total == 32 << 20


def test_abort_discards_buffer_and_reports_lost(loop: dxpy.Loop) -> None:
    async def main() -> list[str]:
        server = await asyncio.start_server(echo_handler, "127.0.0.1", 0)
        transport, client = await loop.create_connection(Recorder, *server.sockets[0].getsockname())
        transport.abort()
        await asyncio.wait_for(client.done, 5)
        assert transport.is_closing()
        server.close()
        await server.wait_closed()
        return client.events

    assert loop.run_until_complete(main()) == ["made", "lost:None"]


def test_write_after_close_is_ignored_without_crash(loop: dxpy.Loop) -> None:
    async def main() -> list[str]:
        server = await asyncio.start_server(echo_handler, "127.0.0.1", 0)
        transport, client = await loop.create_connection(Recorder, *server.sockets[0].getsockname())
        transport.close()
        transport.write(b"ignored")
        await asyncio.wait_for(client.done, 5)
        server.close()
        await server.wait_closed()
        return client.events

    assert loop.run_until_complete(main()) == ["made", "lost:None"]


def test_server_lifecycle(loop: dxpy.Loop) -> None:
    async def main() -> None:
        server = await loop.create_server(asyncio.Protocol, "127.0.0.1", 0, start_serving=False)
        assert not server.is_serving()
        await server.start_serving()
        assert server.is_serving()
        address = server.sockets[0].getsockname()
        r, w = await asyncio.open_connection(*address)
        w.close()
        await w.wait_closed()
        server.close()
        await server.wait_closed()
        assert not server.is_serving()
        with pytest.raises(ConnectionRefusedError):
            await asyncio.open_connection(*address)

    loop.run_until_complete(main())


def test_serve_forever_cancelled(loop: dxpy.Loop) -> None:
    async def main() -> bool:
        server = await asyncio.start_server(echo_handler, "127.0.0.1", 0)
        task = asyncio.ensure_future(server.serve_forever())
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return server.is_serving()

    assert loop.run_until_complete(main()) is False


def test_many_concurrent_clients(loop: dxpy.Loop) -> None:
    async def client(address, n: int) -> bytes:
        reader, writer = await asyncio.open_connection(*address)
        message = f"client {n}".encode() * 100
        writer.write(message)
        echoed = await reader.readexactly(len(message))
        writer.close()
        await writer.wait_closed()
        return echoed == message

    async def main() -> list[bool]:
        server = await asyncio.start_server(echo_handler, "127.0.0.1", 0, backlog=512)
        address = server.sockets[0].getsockname()
        results = await asyncio.gather(*(client(address, i) for i in range(200)))
        server.close()
        await server.wait_closed()
        return results

    assert all(loop.run_until_complete(main()))


def test_cancelled_stream_read_then_read_again(loop: dxpy.Loop) -> None:
    async def main() -> bytes:
        server = await asyncio.start_server(echo_handler, "127.0.0.1", 0)
        reader, writer = await asyncio.open_connection(*server.sockets[0].getsockname())
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(reader.read(10), 0.02)
        writer.write(b"after")
        data = await asyncio.wait_for(reader.readexactly(5), 5)
        writer.close()
        await writer.wait_closed()
        server.close()
        await server.wait_closed()
        return data

    assert loop.run_until_complete(main()) == b"after"


def test_loop_sendfile_over_transport(loop: dxpy.Loop, tmp_path) -> None:
    payload = os.urandom(2 << 20)
    path = tmp_path / "file"
    path.write_bytes(payload)

    async def main() -> tuple[int, bytes]:
        received = bytearray()
        finished = asyncio.Event()

        async def collect(reader, writer) -> None:
            while data := await reader.read(1 << 20):
                received.extend(data)
            finished.set()
            writer.close()

        server = await asyncio.start_server(collect, "127.0.0.1", 0)
        reader, writer = await asyncio.open_connection(*server.sockets[0].getsockname())
        with open(path, "rb") as f:
            sent = await loop.sendfile(writer.transport, f)
        writer.close()
        await asyncio.wait_for(finished.wait(), 10)
        server.close()
        await server.wait_closed()
        return sent, bytes(received)

    sent, received = loop.run_until_complete(main())
    assert sent == len(payload) and received == payload


def test_connect_accepted_socket_and_sock_argument(loop: dxpy.Loop) -> None:
    async def main() -> bytes:
        a, b = socket.socketpair()
        server_transport, server_proto = await loop.connect_accepted_socket(Recorder, a)
        client_transport, client_proto = await loop.create_unix_connection(Recorder, sock=b)
        client_transport.write(b"via socketpair")
        await eventually(lambda: server_proto.data)
        client_transport.close()
        await asyncio.wait_for(client_proto.done, 5)
        server_transport.close()
        await asyncio.wait_for(server_proto.done, 5)
        assert server_proto.events == ["made", "eof", "lost:None"]
        return bytes(server_proto.data)

    assert loop.run_until_complete(main()) == b"via socketpair"


@pytest.mark.skipif(not URING_OK, reason=f"io_uring unavailable: {URING_WHY}")
def test_recv_buffer_exhaustion_rearms_without_losing_data() -> None:
    """With only two provided buffers, multishot receives run out (ENOBUFS)
    all the time; transports must re-arm and deliver every byte in order."""
    from dxpy.reactor.uring import IoUringReactor

    loop = dxpy.Loop(IoUringReactor(recv_buffers=2, recv_buffer_size=1024))
    payloads = [os.urandom(200_000) for _ in range(20)]

    async def client(address, payload: bytes) -> bool:
        reader, writer = await asyncio.open_connection(*address)
        writer.write(payload)
        echoed = await reader.readexactly(len(payload))
        writer.close()
        await writer.wait_closed()
        return echoed == payload

    async def main() -> list[bool]:
        server = await asyncio.start_server(echo_handler, "127.0.0.1", 0)
        address = server.sockets[0].getsockname()
        results = await asyncio.gather(*(client(address, p) for p in payloads))
        server.close()
        await server.wait_closed()
        return results

    try:
        assert all(loop.run_until_complete(main()))
    finally:
        loop.close()


def test_closing_a_transport_after_its_loop_closed_frees_the_fd(backend: str) -> None:
    """A transport closed late (e.g. from a __del__ after loop.close()) must
    not raise 'Event loop is closed', and its fd must not leak."""
    loop = dxpy.new_event_loop(backend)
    a, b = socket.socketpair()
    transport, _ = loop.run_until_complete(loop.create_unix_connection(asyncio.Protocol, sock=a))
    fd = transport.get_extra_info("socket").fileno()
    loop.close()
    transport.close()
    with pytest.raises(OSError):
        os.fstat(fd)
    b.close()


def test_write_during_sendfile_is_refused(loop: dxpy.Loop, tmp_path) -> None:
    """As on asyncio's own loops: bytes written during sendfile would land
    in the middle of the file's bytes, so write() raises instead."""
    path = tmp_path / "big"
    path.write_bytes(os.urandom(8 << 20))

    async def main() -> None:
        async def drain(reader, writer) -> None:
            while await reader.read(1 << 20):
                pass
            writer.close()

        server = await asyncio.start_server(drain, "127.0.0.1", 0)
        reader, writer = await asyncio.open_connection(*server.sockets[0].getsockname())
        with open(path, "rb") as f:
            sending = asyncio.ensure_future(loop.sendfile(writer.transport, f))
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            with pytest.raises(RuntimeError, match="sendfile is in progress"):
                writer.transport.write(b"interleaved")
            await sending
        writer.transport.write(b"after")  # allowed again
        writer.close()
        await writer.wait_closed()
        server.close()
        await server.wait_closed()

    loop.run_until_complete(main())
