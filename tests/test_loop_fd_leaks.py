"""No file descriptor survives churn: thousands of connections opened,
used, reset or cancelled, then ``/proc/self/fd`` is counted again."""

from __future__ import annotations

import asyncio
import gc
import socket

import dxpy

from .conftest import open_fds


async def echo_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    data = await reader.read(100)
    writer.write(data)
    await writer.drain()
    writer.close()
    await writer.wait_closed()


async def one_client(address, n: int) -> None:
    reader, writer = await asyncio.open_connection(*address)
    if n % 3 == 0:  # clean round trip
        writer.write(b"hello")
        assert await reader.read(100) == b"hello"
        writer.close()
        await writer.wait_closed()
    elif n % 3 == 1:  # abortive close (RST) mid-conversation
        writer.transport.abort()
    else:  # a read cancelled by a timeout, then a close
        try:
            await asyncio.wait_for(reader.read(100), 0.001)
        except TimeoutError:
            pass
        writer.close()
        await writer.wait_closed()


def churn(backend: str, connections: int) -> None:
    loop = dxpy.new_event_loop(backend)

    async def main() -> None:
        server = await asyncio.start_server(echo_once, "127.0.0.1", 0, backlog=1024)
        address = server.sockets[0].getsockname()
        for start in range(0, connections, 100):
            await asyncio.gather(*(one_client(address, n) for n in range(start, start + 100)),
                                 return_exceptions=True)
        server.close()
        await server.wait_closed()
        await asyncio.sleep(0.05)

    try:
        loop.run_until_complete(main())
    finally:
        loop.close()


def test_connection_churn_leaks_no_fds(backend: str) -> None:
    churn(backend, 100)  # warm up lazily created resources (executors, ...)
    gc.collect()
    before = open_fds()
    churn(backend, 3000)
    gc.collect()
    assert open_fds() == before


def test_loop_open_close_leaks_no_fds(backend: str) -> None:
    before = open_fds()
    for _ in range(300):
        loop = dxpy.new_event_loop(backend)
        loop.run_until_complete(asyncio.sleep(0))
        loop.close()
    gc.collect()
    assert open_fds() == before


def test_cancelled_sock_ops_leak_no_fds(backend: str) -> None:
    before = open_fds()
    loop = dxpy.new_event_loop(backend)

    async def main() -> None:
        for _ in range(500):
            a, b = socket.socketpair()
            a.setblocking(False)
            b.setblocking(False)
            pending = asyncio.ensure_future(loop.sock_recv(b, 10))
            await asyncio.sleep(0)
            pending.cancel()
            try:
                await pending
            except asyncio.CancelledError:
                pass
            a.close()
            b.close()

    try:
        loop.run_until_complete(main())
    finally:
        loop.close()
    gc.collect()
    assert open_fds() == before
