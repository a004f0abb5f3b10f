"""Low-level ``sock_*`` methods, modelled on CPython's
``test_asyncio/test_sock_lowlevel.py`` (written anew), on both backends."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import socket

import pytest

import dxpy


async def tcp_listener() -> socket.socket:
    listener = socket.create_server(("127.0.0.1", 0))
    listener.setblocking(False)
    return listener


def test_sock_connect_accept_send_recv(loop: dxpy.Loop) -> None:
    async def main() -> tuple[bytes, bytes]:
        listener = await tcp_listener()
        client = socket.socket()
        client.setblocking(False)
        accept = asyncio.ensure_future(loop.sock_accept(listener))
        await loop.sock_connect(client, listener.getsockname())
        server, address = await accept
        assert address == client.getsockname()
        await loop.sock_sendall(client, b"ping" * 100_000)
        received = bytearray()
        while len(received) < 400_000:
            received += await loop.sock_recv(server, 65536)
        buf = bytearray(10)
        await loop.sock_sendall(server, b"pong")
        n = await loop.sock_recv_into(client, buf)
        for sock in (listener, client, server):
            sock.close()
        return bytes(received), bytes(buf[:n])

    received, reply = loop.run_until_complete(main())
    assert received == b"ping" * 100_000
    assert reply == b"pong"


def test_sock_methods_reject_blocking_sockets_in_debug_mode(loop: dxpy.Loop) -> None:
    loop.set_debug(True)  # asyncio checks this only in debug mode, as we do
    sock = socket.socket()
    with sock:
        with pytest.raises(ValueError, match="non-blocking"):
            loop.run_until_complete(loop.sock_recv(sock, 10))


def test_sock_connect_refused(loop: dxpy.Loop) -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        address = probe.getsockname()
    client = socket.socket()
    client.setblocking(False)
    with client, pytest.raises(ConnectionRefusedError):
        loop.run_until_complete(loop.sock_connect(client, address))


def test_cancelled_sock_recv_loses_no_data(loop: dxpy.Loop) -> None:
    """A recv cancelled before data arrives must not swallow that data."""
    async def main() -> bytes:
        a, b = socket.socketpair()
        a.setblocking(False)
        b.setblocking(False)
        with a, b:
            first = asyncio.ensure_future(loop.sock_recv(b, 100))
            await asyncio.sleep(0.01)
            first.cancel()
            a.send(b"kept")
            with pytest.raises(asyncio.CancelledError):
                await first
            return await asyncio.wait_for(loop.sock_recv(b, 100), 5)

    assert loop.run_until_complete(main()) == b"kept"


def test_cancelled_sock_recv_lets_close_reach_the_peer(loop: dxpy.Loop) -> None:
    """Cancelling a waiting recv ends the kernel's wait: closing the socket
    afterwards really closes it (a poll left armed would hold the file open)."""
    async def main() -> bytes:
        a, b = socket.socketpair()
        a.setblocking(False)
        b.setblocking(False)
        with a:
            waiting = asyncio.ensure_future(loop.sock_recv(b, 100))
            await asyncio.sleep(0.01)
            waiting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiting
            b.close()
            return await asyncio.wait_for(loop.sock_recv(a, 100), 5)

    assert loop.run_until_complete(main()) == b""


def test_sock_sendall_waits_for_a_slow_reader(loop: dxpy.Loop) -> None:
    """More than the socket buffers hold: sendall waits for room, in order."""
    payload = bytes(range(256)) * 40_000  # ~10 MiB

    async def main() -> bytes:
        a, b = socket.socketpair()
        a.setblocking(False)
        b.setblocking(False)
        with a, b:
            sending = asyncio.ensure_future(loop.sock_sendall(a, memoryview(payload)))
            received = bytearray()
            while len(received) < len(payload):
                await asyncio.sleep(0)
                received += await loop.sock_recv(b, 1 << 20)
            await asyncio.wait_for(sending, 5)
            return bytes(received)

    assert loop.run_until_complete(main()) == payload


def test_sock_recv_into_counts_bytes_of_any_format(loop: dxpy.Loop) -> None:
    async def main() -> tuple[int, bytes]:
        a, b = socket.socketpair()
        a.setblocking(False)
        b.setblocking(False)
        with a, b:
            target = memoryview(bytearray(8)).cast("I")  # 2 items, 8 bytes
            a.send(b"12345678")
            n = await asyncio.wait_for(loop.sock_recv_into(b, target), 5)
            return n, target.tobytes()

    assert loop.run_until_complete(main()) == (8, b"12345678")


def test_sock_recv_sees_peer_reset_and_eof(loop: dxpy.Loop) -> None:
    async def main() -> tuple[bytes, type]:
        listener = await tcp_listener()
        client = socket.socket()
        client.setblocking(False)
        accept = asyncio.ensure_future(loop.sock_accept(listener))
        await loop.sock_connect(client, listener.getsockname())
        server, _ = await accept
        client.shutdown(socket.SHUT_WR)
        eof = await loop.sock_recv(server, 10)
        # SO_LINGER 0 makes close() send a reset
        server.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
        server.close()
        await asyncio.sleep(0.01)
        try:
            await loop.sock_recv(client, 10)
            kind: type = type(None)
        except OSError as exc:
            kind = type(exc)
        client.close()
        listener.close()
        return eof, kind

    eof, kind = loop.run_until_complete(main())
    assert eof == b""
    assert kind is ConnectionResetError


def test_sock_udp_sendto_recvfrom(loop: dxpy.Loop) -> None:
    async def main() -> tuple[bytes, tuple, int, tuple]:
        rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for s in (rx, tx):
            s.setblocking(False)
            s.bind(("127.0.0.1", 0))
        await loop.sock_sendto(tx, b"dgram", rx.getsockname())
        data, address = await loop.sock_recvfrom(rx, 100)
        await loop.sock_sendto(rx, b"back", address)
        buf = bytearray(10)
        n, back_from = await loop.sock_recvfrom_into(tx, buf)
        result = (data, address, n, back_from)
        assert address == tx.getsockname() and back_from == rx.getsockname()
        rx.close()
        tx.close()
        return result

    data, _, n, _ = loop.run_until_complete(main())
    assert (data, n) == (b"dgram", 4)


def test_sock_sendfile(loop: dxpy.Loop, tmp_path) -> None:
    payload = os.urandom(3 << 20)
    path = tmp_path / "blob"
    path.write_bytes(payload)

    async def main() -> tuple[int, bytes]:
        a, b = socket.socketpair()
        a.setblocking(False)
        b.setblocking(False)

        async def drain() -> bytes:
            received = bytearray()
            while len(received) < len(payload):
                received += await loop.sock_recv(b, 1 << 20)
            return bytes(received)

        reader = asyncio.ensure_future(drain())
        with open(path, "rb") as f:
            sent = await loop.sock_sendfile(a, f)
        received = await reader
        a.close()
        b.close()
        return sent, received

    sent, received = loop.run_until_complete(main())
    assert sent == len(payload) and received == payload


def test_transport_sendfile_fallback_from_a_file_without_fd(loop: dxpy.Loop) -> None:
    """``loop.sendfile`` of a file with no descriptor (BytesIO) takes the
    read/write fallback on every core's transport; the bytes arrive whole
    and the file position ends after them."""
    import io

    payload = os.urandom(700_000)

    async def main() -> tuple[int, bytes, int]:
        received = bytearray()
        done = loop.create_future()

        class Sink(asyncio.Protocol):
            def data_received(self, data: bytes) -> None:
                received.extend(data)
                if len(received) >= len(payload) - 1000 and not done.done():
                    done.set_result(None)

        server = await loop.create_server(Sink, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        transport, _ = await loop.create_connection(asyncio.Protocol, "127.0.0.1", port)
        source = io.BytesIO(payload)
        sent = await loop.sendfile(transport, source, offset=1000)
        await asyncio.wait_for(done, 10)
        transport.close()
        server.close()
        await server.wait_closed()
        return sent, bytes(received), source.tell()

    sent, received, position = loop.run_until_complete(main())
    assert sent == len(payload) - 1000
    assert received == payload[1000:]
    assert position == len(payload)


@pytest.mark.parametrize("host, port", [("127.0.0.1", 80), ("::1", "443"), (None, 8080),
                                        (b"10.1.2.3", b"22"), ("localhost", 80),
                                        ("127.0.0.1", "http")])
def test_getaddrinfo_equals_the_system_resolver(any_loop: asyncio.AbstractEventLoop,
                                                host: object, port: object) -> None:
    expected = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
    got = any_loop.run_until_complete(any_loop.getaddrinfo(host, port, type=socket.SOCK_STREAM))
    assert got == expected


def test_numeric_getaddrinfo_stays_on_the_loop_thread(loop: dxpy.Loop) -> None:
    """A literal address needs no lookup: resolved without the executor
    (names still go there, as asyncio's)."""
    class Refusing(concurrent.futures.ThreadPoolExecutor):
        def submit(self, *args: object, **kwargs: object) -> concurrent.futures.Future:
            raise AssertionError("the executor was used")

    refusing = Refusing(1)
    loop.set_default_executor(refusing)
    try:
        got = loop.run_until_complete(loop.getaddrinfo("127.0.0.1", 80, family=socket.AF_INET))
        assert got == socket.getaddrinfo("127.0.0.1", 80, socket.AF_INET)
        with pytest.raises(AssertionError, match="executor"):
            loop.run_until_complete(loop.getaddrinfo("localhost", 80))
        with pytest.raises(socket.gaierror):  # a family the address is not: the resolver's error
            loop.run_until_complete(loop.getaddrinfo("127.0.0.1", 80, family=socket.AF_INET6))
    finally:
        refusing.shutdown()
