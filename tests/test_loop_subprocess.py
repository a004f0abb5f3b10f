"""Subprocesses and datagram endpoints, modelled on CPython's
``test_asyncio/test_subprocess.py`` and the datagram tests of
``test_events.py`` (written anew), on both backends."""

from __future__ import annotations

import asyncio
import signal
import socket
import sys

import pytest

import dxpy

from .conftest import eventually

PY = sys.executable


def test_exec_communicate_roundtrip(loop: dxpy.Loop) -> None:
    async def main() -> tuple[bytes, bytes, int]:
        proc = await asyncio.create_subprocess_exec(
            PY, "-c", "import sys; d = sys.stdin.buffer.read(); "
                      "sys.stdout.buffer.write(d[::-1]); sys.stderr.write('err'); sys.exit(3)",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE)
        out, err = await proc.communicate(b"0123456789" * 100_000)
        return out, err, proc.returncode

    out, err, code = loop.run_until_complete(main())
    assert out == (b"0123456789" * 100_000)[::-1]
    assert (err, code) == (b"err", 3)


def test_shell_and_line_reading(loop: dxpy.Loop) -> None:
    async def main() -> list[bytes]:
        proc = await asyncio.create_subprocess_shell(
            "printf 'a\\nb\\nc\\n'", stdout=asyncio.subprocess.PIPE)
        lines = [line async for line in proc.stdout]
        assert await proc.wait() == 0
        return lines

    assert loop.run_until_complete(main()) == [b"a\n", b"b\n", b"c\n"]


def test_kill_and_terminate(loop: dxpy.Loop) -> None:
    async def main() -> tuple[int, int]:
        sleeper = await asyncio.create_subprocess_exec(PY, "-c", "import time; time.sleep(30)")
        sleeper.kill()
        killed = await asyncio.wait_for(sleeper.wait(), 10)
        other = await asyncio.create_subprocess_exec(PY, "-c", "import time; time.sleep(30)")
        other.send_signal(signal.SIGTERM)
        terminated = await asyncio.wait_for(other.wait(), 10)
        return killed, terminated

    assert loop.run_until_complete(main()) == (-signal.SIGKILL, -signal.SIGTERM)


def test_missing_program_raises(loop: dxpy.Loop) -> None:
    with pytest.raises(FileNotFoundError):
        loop.run_until_complete(asyncio.create_subprocess_exec("/nonexistent/program"))


def test_child_that_closes_stdin_early(loop: dxpy.Loop) -> None:
    """Writing more than the child reads must not hang or crash (EPIPE)."""
    async def main() -> int:
        proc = await asyncio.create_subprocess_exec(
            PY, "-c", "import os; os.close(0)", stdin=asyncio.subprocess.PIPE)
        await proc.communicate(b"x" * (4 << 20))
        return proc.returncode

    assert loop.run_until_complete(main()) == 0


def test_subprocess_exec_with_protocol(loop: dxpy.Loop) -> None:
    class Collect(asyncio.SubprocessProtocol):
        def __init__(self) -> None:
            self.out = bytearray()
            self.exited = loop.create_future()

        def pipe_data_received(self, fd: int, data: bytes) -> None:
            self.out += data

        def process_exited(self) -> None:
            self.exited.set_result(True)

    async def main() -> tuple[bytes, int]:
        transport, proto = await loop.subprocess_exec(Collect, PY, "-c", "print('hi')",
                                                      stdin=None)
        await asyncio.wait_for(proto.exited, 10)
        await eventually(lambda: proto.out)  # pipe data may trail the exit
        code = transport.get_returncode()
        transport.close()
        return bytes(proto.out), code

    assert loop.run_until_complete(main()) == (b"hi\n", 0)


class Datagrams(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.received: asyncio.Queue = asyncio.Queue()
        self.errors: list[Exception] = []

    def datagram_received(self, data: bytes, addr) -> None:
        self.received.put_nowait((data, addr))

    def error_received(self, exc: Exception) -> None:
        self.errors.append(exc)


def test_datagram_endpoints_exchange(loop: dxpy.Loop) -> None:
    async def main() -> None:
        server, server_proto = await loop.create_datagram_endpoint(
            Datagrams, local_addr=("127.0.0.1", 0))
        address = server.get_extra_info("sockname")
        client, client_proto = await loop.create_datagram_endpoint(
            Datagrams, remote_addr=address)
        for i in range(50):
            client.sendto(f"msg {i}".encode())
        got = [await asyncio.wait_for(server_proto.received.get(), 5) for _ in range(50)]
        assert [data for data, _ in got] == [f"msg {i}".encode() for i in range(50)]
        assert got[0][1] == client.get_extra_info("sockname")
        server.sendto(b"reply", got[0][1])
        assert (await asyncio.wait_for(client_proto.received.get(), 5))[0] == b"reply"
        with pytest.raises(ValueError):
            client.sendto(b"x", ("127.0.0.1", 1))  # connected: address must match
        client.close()
        server.close()
        await asyncio.sleep(0)

    loop.run_until_complete(main())


def test_datagram_to_closed_port_reports_error(loop: dxpy.Loop) -> None:
    async def main() -> list[Exception]:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind(("127.0.0.1", 0))
            address = probe.getsockname()
        client, proto = await loop.create_datagram_endpoint(Datagrams, remote_addr=address)
        client.sendto(b"nobody home")
        await eventually(lambda: proto.errors)
        client.close()
        return proto.errors

    errors = loop.run_until_complete(main())
    assert errors and isinstance(errors[0], ConnectionRefusedError)


def test_unix_datagrams(loop: dxpy.Loop, tmp_path) -> None:
    path = str(tmp_path / "dgram.sock")

    async def main() -> bytes:
        server, proto = await loop.create_datagram_endpoint(
            Datagrams, local_addr=path, family=socket.AF_UNIX)
        client, _ = await loop.create_datagram_endpoint(
            Datagrams, remote_addr=path, family=socket.AF_UNIX)
        client.sendto(b"unix dgram")
        data, _ = await asyncio.wait_for(proto.received.get(), 5)
        client.close()
        server.close()
        return data

    assert loop.run_until_complete(main()) == b"unix dgram"
