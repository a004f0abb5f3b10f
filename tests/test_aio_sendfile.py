"""``loop.sock_sendfile`` and ``loop.sendfile(transport, file)`` on both
backends (io_uring: SPLICE through a pipe, ``dxpy/zerocopy.py``; epoll:
``os.sendfile``): a 100 MiB file arrives byte for byte, offsets and counts
and the file position follow asyncio's contract, and files that cannot be
spliced fall back."""

from __future__ import annotations

import asyncio
import gc
import hashlib
import io
import os
import socket
from pathlib import Path
from typing import Any

import pytest

import dxpy
from tests.conftest import open_fds

BIG = 100 << 20


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: Any) -> tuple[Path, str]:
    path = tmp_path_factory.mktemp("sendfile") / "big"
    digest = hashlib.sha256()
    block = os.urandom(1 << 20)
    with open(path, "wb") as f:
        for i in range(BIG >> 20):
            chunk = bytes([i % 251]) + block[1:]
            f.write(chunk)
            digest.update(chunk)
    return path, digest.hexdigest()


async def _drain(loop: asyncio.AbstractEventLoop, sock: socket.socket) -> tuple[int, str]:
    """Receive until EOF; (byte count, sha256)."""
    digest, total = hashlib.sha256(), 0
    buf = bytearray(1 << 20)
    while True:
        count = await loop.sock_recv_into(sock, buf)
        if not count:
            return total, digest.hexdigest()
        digest.update(memoryview(buf)[:count])
        total += count


def _tcp_pair() -> tuple[socket.socket, socket.socket]:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        client = socket.create_connection(listener.getsockname())
        server, _ = listener.accept()
    for sock in (client, server):
        sock.setblocking(False)
    return client, server


@pytest.mark.parametrize("kind", ["tcp", "unix"])
def test_sock_sendfile_100_mib(backend: str, big_file: tuple[Path, str], kind: str) -> None:
    path, digest = big_file

    async def run() -> None:
        loop = asyncio.get_running_loop()
        sender, receiver = _tcp_pair() if kind == "tcp" else socket.socketpair()
        sender.setblocking(False)
        receiver.setblocking(False)
        gc.collect()  # loops of earlier tests close their fds when collected
        before = open_fds()
        with open(path, "rb") as f, sender, receiver:
            async def send() -> int:
                try:
                    return await loop.sock_sendfile(sender, f)
                finally:
                    sender.shutdown(socket.SHUT_WR)

            sent, (received, got) = await asyncio.gather(send(), _drain(loop, receiver))
            assert sent == received == BIG and got == digest
            assert f.tell() == BIG
        assert open_fds() == before - 2  # the pipe is closed (and both sockets)

    dxpy.run(run(), reactor=backend)


def test_transport_sendfile_100_mib(backend: str, big_file: tuple[Path, str]) -> None:
    path, digest = big_file

    async def run() -> None:
        loop = asyncio.get_running_loop()
        received = hashlib.sha256()
        done = loop.create_future()
        total = 0

        class Sink(asyncio.Protocol):
            def data_received(self, data: bytes) -> None:
                nonlocal total
                total += len(data)
                received.update(data)

            def eof_received(self) -> None:
                done.set_result(None)

        server = await loop.create_server(Sink, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        transport, _ = await loop.create_connection(asyncio.Protocol, "127.0.0.1", port)
        with open(path, "rb") as f:
            transport.write(b"head")
            sent = await loop.sendfile(transport, f, fallback=False)
            transport.write(b"tail")
        transport.write_eof()
        await asyncio.wait_for(done, 60)
        transport.close()
        server.close()
        await server.wait_closed()
        assert sent == BIG and total == BIG + 8

    dxpy.run(run(), reactor=backend)


def test_offset_count_and_position(backend: str, tmp_path: Path) -> None:
    data = os.urandom(300_000)
    path = tmp_path / "f"
    path.write_bytes(data)

    async def run() -> None:
        loop = asyncio.get_running_loop()
        for offset, count, expected in ((1000, 5000, data[1000:6000]),
                                        (250_000, None, data[250_000:]),
                                        (299_990, 1000, data[299_990:]),
                                        (400_000, 10, b"")):
            a, b = socket.socketpair()
            a.setblocking(False)
            b.setblocking(False)
            with open(path, "rb") as f, a, b:
                sent = await loop.sock_sendfile(a, f, offset, count)
                a.shutdown(socket.SHUT_WR)
                got = bytearray()
                while chunk := await loop.sock_recv(b, 65536):
                    got += chunk
                assert (sent, bytes(got)) == (len(expected), expected)
                assert f.tell() == (offset + sent if sent else 0)

    dxpy.run(run(), reactor=backend)


def test_unspliceable_files_fall_back(backend: str, tmp_path: Path) -> None:
    async def run() -> None:
        loop = asyncio.get_running_loop()
        a, b = socket.socketpair()
        a.setblocking(False)
        b.setblocking(False)
        with a, b:
            memory = io.BytesIO(b"in memory")
            with pytest.raises(asyncio.SendfileNotAvailableError):
                await loop.sock_sendfile(a, memory, fallback=False)
            assert await loop.sock_sendfile(a, memory) == 9  # fallback: read + send
            assert await loop.sock_recv(b, 100) == b"in memory"

    dxpy.run(run(), reactor=backend)


def test_peer_gone_raises_and_leaks_nothing(backend: str, tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(os.urandom(8 << 20))

    async def run() -> None:
        loop = asyncio.get_running_loop()
        gc.collect()  # loops of earlier tests close their fds when collected
        before = open_fds()
        a, b = socket.socketpair()
        a.setblocking(False)
        b.close()
        with open(path, "rb") as f, a:
            with pytest.raises(OSError):
                await loop.sock_sendfile(a, f)
        assert open_fds() == before

    dxpy.run(run(), reactor=backend)
