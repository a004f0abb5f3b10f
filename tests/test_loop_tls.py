"""TLS through ``ssl=`` and ``start_tls``, modelled on CPython's
``test_asyncio/test_ssl.py`` (written anew), with a throwaway CA (trustme)."""

from __future__ import annotations

import asyncio
import os
import ssl

import pytest
import trustme

import dxpy


@pytest.fixture(scope="module")
def tls() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server context, client context) trusting each other."""
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost", "127.0.0.1").configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    return server_ctx, client_ctx


async def tls_echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while data := await reader.read(65536):
        writer.write(data)
        await writer.drain()
    writer.close()


def test_tls_streams_echo(loop: dxpy.Loop, tls) -> None:
    server_ctx, client_ctx = tls
    payload = os.urandom(3 << 20)

    async def main() -> tuple[bytes, str]:
        server = await asyncio.start_server(tls_echo, "127.0.0.1", 0, ssl=server_ctx)
        host, port = server.sockets[0].getsockname()
        reader, writer = await asyncio.open_connection(host, port, ssl=client_ctx,
                                                       server_hostname="localhost")
        version = writer.get_extra_info("ssl_object").version()
        writer.write(payload)
        echoed = await reader.readexactly(len(payload))
        writer.close()
        await writer.wait_closed()
        server.close()
        await server.wait_closed()
        return echoed, version

    echoed, version = loop.run_until_complete(main())
    assert echoed == payload
    assert version.startswith("TLS")


def test_tls_rejects_untrusted_server(loop: dxpy.Loop, tls) -> None:
    server_ctx, _ = tls

    async def main() -> None:
        server = await asyncio.start_server(tls_echo, "127.0.0.1", 0, ssl=server_ctx)
        host, port = server.sockets[0].getsockname()
        try:
            with pytest.raises(ssl.SSLCertVerificationError):
                await asyncio.open_connection(host, port, ssl=ssl.create_default_context(),
                                              server_hostname="localhost")
        finally:
            server.close()
            await server.wait_closed()

    loop.run_until_complete(main())


def test_start_tls_upgrades_a_plain_connection(loop: dxpy.Loop, tls) -> None:
    server_ctx, client_ctx = tls

    async def upgrade_then_echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert await reader.readline() == b"STARTTLS\n"
        writer.write(b"GO\n")
        await writer.drain()
        await writer.start_tls(server_ctx)
        await tls_echo(reader, writer)

    async def main() -> bytes:
        server = await asyncio.start_server(upgrade_then_echo, "127.0.0.1", 0)
        reader, writer = await asyncio.open_connection(*server.sockets[0].getsockname())
        writer.write(b"STARTTLS\n")
        assert await reader.readline() == b"GO\n"
        await writer.start_tls(client_ctx, server_hostname="localhost")
        assert writer.get_extra_info("ssl_object") is not None
        writer.write(b"secret")
        echoed = await reader.readexactly(6)
        writer.close()
        await writer.wait_closed()
        server.close()
        await server.wait_closed()
        return echoed

    assert loop.run_until_complete(main()) == b"secret"


def test_tls_handshake_timeout_on_silent_peer(loop: dxpy.Loop, tls) -> None:
    _, client_ctx = tls

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(5)
        writer.close()

    async def main() -> None:
        server = await asyncio.start_server(silent, "127.0.0.1", 0)
        host, port = server.sockets[0].getsockname()
        try:
            with pytest.raises((TimeoutError, ConnectionAbortedError)):
                await asyncio.open_connection(host, port, ssl=client_ctx,
                                              server_hostname="localhost",
                                              ssl_handshake_timeout=0.2)
        finally:
            server.close()

    loop.run_until_complete(main())
