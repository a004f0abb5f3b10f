"""Channel: blocking and async transfer, shared-memory views, fork/subprocess ends, serve, errors."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import struct
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import dxpy
from dxpy.ipc import Channel, ChannelClosed, ProtocolError, serve
from dxpy.ipc.frames import HEADER, MAGIC
from tests.conftest import open_fds


def memfd_ranges() -> list[tuple[int, int]]:
    """Address ranges of this process's arena mappings (memfd segments)."""
    ranges = []
    with open("/proc/self/maps") as maps:
        for line in maps:
            if "/memfd:dxpy-arena" in line:
                start, end = line.split()[0].split("-")
                ranges.append((int(start, 16), int(end, 16)))
    return ranges


def in_shared_memory(array: np.ndarray) -> bool:
    address = array.__array_interface__["data"][0]
    return any(start <= address < end for start, end in memfd_ranges())


def wait_child(pid: int, timeout: float = 20.0) -> int:
    """waitpid with a deadline: a child still running then is killed (and the test fails)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    raise AssertionError(f"child {pid} did not finish within {timeout} s")


def test_values_and_arrays_round_trip_and_large_arrays_are_shared_views() -> None:
    fds = open_fds()
    a, b = Channel.pair()
    with a, b:
        for value in [None, 42, "text", {"k": [1, 2.5]}, b"x" * 10, np.arange(5)]:
            a.send(value)
            got = b.recv()
            if isinstance(value, np.ndarray):
                np.testing.assert_array_equal(got, value)
            else:
                assert got == value
        big = np.random.default_rng(1).random((512, 300))
        a.send(big)
        got = b.recv()
        assert not got.flags.writeable and in_shared_memory(got)
        np.testing.assert_array_equal(got, big)
        assert a.arena.in_use() >= big.nbytes
        del got
        b.send("done")  # the release rides along with b's next frame
        assert a.recv() == "done" and a.arena.in_use() == 0
        a.send(big)
        view = b.recv()
        with pytest.raises(ValueError, match="read-only"):
            view[0, 0] = 1.0
        del view
    assert open_fds() == fds


def test_a_full_arena_sends_in_band_instead() -> None:
    a, b = Channel.pair(segment_size=1 << 20, arena_limit=1 << 20)
    with a, b:
        def send_three() -> None:
            for i in range(3):
                a.send(np.full(100_000, i, dtype=np.float64))  # 800 KB: one fits the arena
        sender = threading.Thread(target=send_three)
        sender.start()
        held = [b.recv() for _ in range(3)]
        sender.join(10)
        assert in_shared_memory(held[0]) and not in_shared_memory(held[1])
        assert [int(h[0]) for h in held] == [0, 1, 2]


def test_an_end_survives_fork_and_the_child_computes_on_the_shared_view() -> None:
    a, b = Channel.pair()
    pid = os.fork()
    if pid == 0:  # child: explicit signal disposition, never returns into pytest
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        try:
            a.close()
            array = b.recv()
            b.send((float(array.sum()), in_shared_memory(array)))
            b.recv()
        finally:
            os._exit(0)
    b.close()
    with a:
        array = np.arange(1 << 20, dtype=np.float64)
        a.send(array)
        assert a.recv() == (float(array.sum()), True)
        a.send("bye")
        assert wait_child(pid) == 0
        with pytest.raises(ChannelClosed):
            a.recv()


def test_an_end_passed_to_a_subprocess_with_pass_fds(tmp_path: Path) -> None:
    a, b = Channel.pair()
    script = textwrap.dedent("""
        import signal, sys
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        from dxpy.ipc import Channel
        ch = Channel.from_fd(int(sys.argv[1]))
        x = ch.recv()
        ch.send(x * 2)
    """)
    with a:
        child = subprocess.Popen([sys.executable, "-c", script, str(b.fileno())],
                                 pass_fds=[b.fileno()])
        b.close()
        try:
            a.send(np.ones(200_000))
            assert float(a.recv().sum()) == 400_000.0
        finally:
            assert child.wait(timeout=30) == 0


def test_async_send_and_receive_on_the_dxpy_loop(loop: dxpy.Loop) -> None:
    a, b = Channel.pair()

    async def main() -> list[object]:
        async def echo() -> None:
            for _ in range(3):
                await b.asend(await b.arecv())
        task = asyncio.ensure_future(echo())
        got = []
        for value in ["hi", np.arange(100_000), {"n": 1}]:
            await a.asend(value)
            got.append(await a.arecv())
        await task
        return got

    with a, b:
        got = loop.run_until_complete(main())
    assert got[0] == "hi" and got[2] == {"n": 1}
    np.testing.assert_array_equal(got[1], np.arange(100_000))


def test_garbage_from_the_peer_is_a_protocol_error_and_closes_only_that_channel() -> None:
    left, right = socket.socketpair()
    other_a, other_b = Channel.pair()
    channel = Channel(left)
    with other_a, other_b:
        right.sendall(b"\x00\x01not hbtp")
        with pytest.raises(ProtocolError, match="bad HBTP magic"):
            channel.recv()
        assert channel.closed
        with pytest.raises(ChannelClosed):
            channel.send(1)
        other_a.send("still fine")
        assert other_b.recv() == "still fine"
    right.close()


def test_oversized_and_truncated_frames() -> None:
    left, right = socket.socketpair()
    channel = Channel(left, max_payload=1024)
    right.sendall(HEADER.pack(MAGIC, 1, 0, 4096))
    with pytest.raises(ProtocolError, match="over the limit of 1024"):
        channel.recv()
    right.close()

    left, right = socket.socketpair()
    channel = Channel(left)
    right.sendall(HEADER.pack(MAGIC, 1, 0, 100) + b"only part")
    right.close()
    with pytest.raises(ProtocolError, match="ended inside a frame"):
        channel.recv()
    assert channel.closed

    left, right = socket.socketpair()
    channel = Channel(left)
    right.sendall(HEADER.pack(MAGIC, 7, 0, 12) + struct.pack("<IQ", 1, 4096))  # no fd
    with pytest.raises(ProtocolError, match="without its segment fd"):
        channel.recv()
    right.close()


def test_a_clean_close_is_channel_closed_and_bad_sockets_are_refused() -> None:
    a, b = Channel.pair()
    a.close()
    with pytest.raises(ChannelClosed):
        b.recv()
    b.close()
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    with pytest.raises(ValueError, match="AF_UNIX SOCK_STREAM"):
        Channel(udp)
    udp.close()


def test_serve_and_connect(loop: dxpy.Loop, tmp_path: Path) -> None:
    path = tmp_path / "hbtp.sock"

    async def handler(value: object) -> object:
        if isinstance(value, str) and value == "fail":
            raise LookupError("handler refused")
        await asyncio.sleep(0)
        return ("echo", value)

    async def main() -> None:
        async with await serve(path, handler) as server:
            run = asyncio.get_running_loop().run_in_executor
            client = await run(None, Channel.connect, path)
            assert await run(None, client.request, 5) == ("echo", 5)
            with pytest.raises(LookupError, match="handler refused"):
                await run(None, client.request, "fail")
            bad = socket.socket(socket.AF_UNIX)
            bad.connect(str(path))
            bad.sendall(b"GET / HTTP/1.1\r\n\r\n")
            async_client = Channel.connect(path)
            reply = await async_client.arequest(np.arange(200_000))
            assert reply[0] == "echo" and int(reply[1][-1]) == 199_999
            while server.protocol_errors == 0:
                await asyncio.sleep(0.01)
            assert await run(None, client.request, "after") == ("echo", "after")
            for closing in (client, async_client, bad):
                closing.close()
        assert not path.exists()

    loop.run_until_complete(main())
