"""Which ``contextvars`` context each protocol callback runs in (issue #16, item 6).

asyncio's rule, observable from any program: a transport's callbacks (the
protocol factory, ``connection_made``, ``data_received``, ``eof_received``,
``connection_lost``, and the datagram and subprocess callbacks) run in a copy
of the context that was current when the program called ``create_server``,
``create_connection``, ``create_datagram_endpoint``, ``subprocess_exec``...,
because the loop schedules them with ``call_soon`` (or registers readers)
while that call runs.  Libraries rely on it (request-scoped ``ContextVar``s
set before starting a server, tracing spans around a client connection).

Every test sets ``where`` to ``'inner'`` just before the awaited ``create_*``
call and back to ``'outer'`` right after it, drives the connection, and
compares what each callback saw with what asyncio's own default loop gives
(the ``asyncio`` parameter runs the very same test on it, so the expectation
is checked against the reference on every run), on every dxpy reactor and
loop core.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import os
import socket
import ssl
import sys
import tempfile
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import trustme

where: contextvars.ContextVar[str] = contextvars.ContextVar("where", default="unset")

STEP_TIMEOUT_S = 10.0
PING = b"ping"
STREAM_CALLBACKS = ("factory", "connection_made", "data_received", "eof_received",
                    "connection_lost")


@pytest.fixture
def ctx_loop(any_loop: asyncio.AbstractEventLoop) -> asyncio.AbstractEventLoop:
    """``any_loop`` (asyncio's default loop or a dxpy loop on each core)."""
    return any_loop


def asyncio_gives(*inner: str, **other: str) -> dict[str, set[str]]:
    """asyncio's observations: the ``inner`` callbacks saw the value set
    before the create_* call (they are caused by I/O on the transport); each
    of ``other`` saw the value given (a callback caused by a method call runs
    in the caller's context: ``close()`` from 'outer' gives an 'outer'
    ``connection_lost``)."""
    return {name: {"inner"} for name in inner} | {name: {value} for name, value in other.items()}


# asyncio 3.11 reaps children in ThreadedChildWatcher's own thread, whose
# context is empty; 3.12+ waits on a pidfd registered on the loop during
# subprocess_exec, in the call's context (both checked with CPython builds).
CHILD_WATCHER_CONTEXT = "unset" if sys.version_info < (3, 12) else "inner"


@dataclass(frozen=True)
class Tls:
    """The ``ssl=`` arguments of both ends (all None for plain TCP)."""

    server: ssl.SSLContext | None = None
    client: ssl.SSLContext | None = None
    hostname: str | None = None  # the client's server_hostname


@pytest.fixture(scope="module")
def ca_contexts() -> Tls:
    """Server and client contexts of a throwaway CA."""
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    return Tls(server_ctx, client_ctx, "localhost")


@pytest.fixture(params=["plain", "tls"])
def tls(request: pytest.FixtureRequest, ca_contexts: Tls) -> Tls:
    """Each stream test runs over plain TCP (or Unix) and over TLS."""
    return ca_contexts if request.param == "tls" else Tls()


@pytest.fixture
def unix_path() -> Iterator[str]:
    """A socket path short enough for sun_path (pytest's tmp_path may not be)."""
    with tempfile.TemporaryDirectory(prefix="dxctx") as folder:
        yield os.path.join(folder, "s")


class Observed:
    """The value of ``where`` each named callback saw, and a future that is
    done when the transport's ``connection_lost`` has run."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.seen: dict[str, set[str]] = defaultdict(set)
        self.lost = loop.create_future()

    def note(self, callback: str) -> None:
        self.seen[callback].add(where.get())

    def note_lost(self) -> None:
        self.note("connection_lost")
        if not self.lost.done():
            self.lost.set_result(None)

    async def all_seen(self) -> dict[str, set[str]]:
        await asyncio.wait_for(self.lost, STEP_TIMEOUT_S)
        return dict(self.seen)


class NotingProtocol(asyncio.BaseProtocol):
    """What every recorder notes: its creation (the protocol factory),
    ``connection_made`` and ``connection_lost``."""

    def __init__(self, observed: Observed) -> None:
        self.observed = observed
        observed.note("factory")

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.observed.note("connection_made")
        self.transport: Any = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.observed.note_lost()


class Recorder(NotingProtocol, asyncio.Protocol):
    """Notes every stream callback; echoes what it receives when ``echo``
    (the server role); closes on EOF."""

    def __init__(self, observed: Observed, echo: bool) -> None:
        super().__init__(observed)
        self.echo = echo

    def data_received(self, data: bytes) -> None:
        self.observed.note("data_received")
        if self.echo:
            self.transport.write(data)

    def eof_received(self) -> None:
        self.observed.note("eof_received")  # returning None: the transport closes


async def as_inner(call: Callable[[], Awaitable[Any]]) -> Any:
    """Await ``call()`` with ``where`` set to 'inner' just before it, and set
    it to 'outer' right after, so a later callback that picked up the
    caller's current context instead of the call's would show 'outer'."""
    where.set("inner")
    try:
        return await call()
    finally:
        where.set("outer")


def run(loop: asyncio.AbstractEventLoop, coro: Awaitable[Any]) -> Any:
    return loop.run_until_complete(asyncio.wait_for(coro, 2 * STEP_TIMEOUT_S))


# --------------------------------------------------------------------------
# Servers: the recorder is the server's protocol; a streams client drives it
# --------------------------------------------------------------------------

async def ping_then_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """The client side: one echoed message, then close (TCP FIN or TLS close_notify)."""
    writer.write(PING)
    assert await asyncio.wait_for(reader.readexactly(len(PING)), STEP_TIMEOUT_S) == PING
    writer.close()
    await writer.wait_closed()


async def observe_server(start: Callable[[Callable[[], asyncio.Protocol]], Awaitable[Any]],
                         connect: Callable[[], Awaitable[tuple[asyncio.StreamReader,
                                                               asyncio.StreamWriter]]]
                         ) -> dict[str, set[str]]:
    """Start a server whose protocol is an echoing Recorder (as 'inner'), drive one
    connection through it from 'outer', return what the callbacks saw."""
    observed = Observed(asyncio.get_running_loop())
    server = await as_inner(lambda: start(functools.partial(Recorder, observed, True)))
    async with server:
        await ping_then_close(*await connect())
        return await observed.all_seen()


def test_create_server_callbacks_see_the_calls_context(
        ctx_loop: asyncio.AbstractEventLoop, tls: Tls) -> None:
    port = []

    async def start(factory: Callable[[], asyncio.Protocol]) -> asyncio.Server:
        server = await ctx_loop.create_server(factory, "127.0.0.1", 0, ssl=tls.server)
        port.append(server.sockets[0].getsockname()[1])
        return server

    async def connect() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection(
            "127.0.0.1", port[0], ssl=tls.client, server_hostname=tls.hostname)

    assert run(ctx_loop, observe_server(start, connect)) == asyncio_gives(*STREAM_CALLBACKS)


def test_create_unix_server_callbacks_see_the_calls_context(
        ctx_loop: asyncio.AbstractEventLoop, tls: Tls, unix_path: str) -> None:

    def start(factory: Callable[[], asyncio.Protocol]) -> Awaitable[asyncio.Server]:
        return ctx_loop.create_unix_server(factory, unix_path, ssl=tls.server)

    def connect() -> Awaitable[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
        return asyncio.open_unix_connection(
            unix_path, ssl=tls.client, server_hostname=tls.hostname)

    assert run(ctx_loop, observe_server(start, connect)) == asyncio_gives(*STREAM_CALLBACKS)


def test_connect_accepted_socket_callbacks_see_the_calls_context(
        ctx_loop: asyncio.AbstractEventLoop, tls: Tls) -> None:

    async def main() -> dict[str, set[str]]:
        observed = Observed(ctx_loop)
        ours, theirs = socket.socketpair()
        with ours, theirs:
            # the client connects concurrently: a TLS accept waits for its handshake
            client = asyncio.create_task(asyncio.open_connection(
                sock=theirs, ssl=tls.client, server_hostname=tls.hostname))
            await as_inner(lambda: ctx_loop.connect_accepted_socket(
                functools.partial(Recorder, observed, True), ours, ssl=tls.server))
            await ping_then_close(*await client)
            return await observed.all_seen()

    assert run(ctx_loop, main()) == asyncio_gives(*STREAM_CALLBACKS)


# --------------------------------------------------------------------------
# Clients: the recorder is the client's protocol; an echo server answers
# --------------------------------------------------------------------------

async def echo_once_then_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """The server side: echo one message, then close."""
    writer.write(await reader.readexactly(len(PING)))
    await writer.drain()
    writer.close()


async def observe_client(serve: Callable[[], Awaitable[asyncio.Server]],
                         connect: Callable[[asyncio.Server, Callable[[], asyncio.Protocol]],
                                           Awaitable[tuple[asyncio.BaseTransport, Any]]]
                         ) -> dict[str, set[str]]:
    """Connect a Recorder (as 'inner') to an echo server started from 'outer',
    send one message, let the server close; return what the callbacks saw."""
    observed = Observed(asyncio.get_running_loop())
    async with await serve() as server:
        transport, _ = await as_inner(
            lambda: connect(server, functools.partial(Recorder, observed, False)))
        transport.write(PING)  # type: ignore[attr-defined]
        return await observed.all_seen()


def test_create_connection_callbacks_see_the_calls_context(
        ctx_loop: asyncio.AbstractEventLoop, tls: Tls) -> None:

    def serve() -> Awaitable[asyncio.Server]:
        return asyncio.start_server(echo_once_then_close, "127.0.0.1", 0, ssl=tls.server)

    def connect(server: asyncio.Server, factory: Callable[[], asyncio.Protocol]
                ) -> Awaitable[tuple[asyncio.BaseTransport, Any]]:
        port = server.sockets[0].getsockname()[1]
        return ctx_loop.create_connection(factory, "127.0.0.1", port, ssl=tls.client,
                                          server_hostname=tls.hostname)

    assert run(ctx_loop, observe_client(serve, connect)) == asyncio_gives(*STREAM_CALLBACKS)


def test_create_unix_connection_callbacks_see_the_calls_context(
        ctx_loop: asyncio.AbstractEventLoop, tls: Tls, unix_path: str) -> None:

    def serve() -> Awaitable[asyncio.Server]:
        return asyncio.start_unix_server(echo_once_then_close, unix_path, ssl=tls.server)

    def connect(server: asyncio.Server, factory: Callable[[], asyncio.Protocol]
                ) -> Awaitable[tuple[asyncio.BaseTransport, Any]]:
        return ctx_loop.create_unix_connection(factory, unix_path, ssl=tls.client,
                                               server_hostname=tls.hostname)

    assert run(ctx_loop, observe_client(serve, connect)) == asyncio_gives(*STREAM_CALLBACKS)


def test_close_runs_connection_lost_in_the_closers_context(
        any_loop: asyncio.AbstractEventLoop) -> None:
    """``transport.close()`` schedules ``connection_lost`` from the caller."""

    def serve() -> Awaitable[asyncio.Server]:
        return asyncio.start_server(echo_once_then_close, "127.0.0.1", 0)

    async def main() -> dict[str, set[str]]:
        observed = Observed(any_loop)
        async with await serve() as server:
            port = server.sockets[0].getsockname()[1]
            transport, _ = await as_inner(lambda: any_loop.create_connection(
                functools.partial(Recorder, observed, False), "127.0.0.1", port))
            transport.close()
            return await observed.all_seen()

    assert run(any_loop, main()) == asyncio_gives(
        "factory", "connection_made", connection_lost="outer")


# --------------------------------------------------------------------------
# Datagrams and subprocesses
# --------------------------------------------------------------------------

class DatagramRecorder(NotingProtocol, asyncio.DatagramProtocol):
    """Notes every datagram callback; answers each datagram to its sender."""

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.observed.note("datagram_received")
        self.transport.sendto(data, addr)

    def error_received(self, exc: Exception) -> None:
        self.observed.note("error_received")
        self.transport.close()


def test_datagram_endpoint_callbacks_see_the_calls_context(
        ctx_loop: asyncio.AbstractEventLoop) -> None:

    async def main() -> dict[str, set[str]]:
        observed = Observed(ctx_loop)
        transport, _ = await as_inner(lambda: ctx_loop.create_datagram_endpoint(
            functools.partial(DatagramRecorder, observed), local_addr=("127.0.0.1", 0)))
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer:
            peer.setblocking(False)
            await ctx_loop.sock_sendto(peer, PING, transport.get_extra_info("sockname"))
            assert await asyncio.wait_for(ctx_loop.sock_recv(peer, 100), STEP_TIMEOUT_S) == PING
        transport.close()
        return await observed.all_seen()

    assert run(ctx_loop, main()) == asyncio_gives(
        "factory", "connection_made", "datagram_received", connection_lost="outer")


def closed_udp_port() -> int:
    """A UDP port nothing listens on (bound, read, released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_datagram_error_received_sees_the_calls_context(
        ctx_loop: asyncio.AbstractEventLoop) -> None:
    """A connected UDP endpoint sending to a closed port gets ECONNREFUSED
    (the kernel's ICMP port-unreachable) through ``error_received``."""

    async def main() -> dict[str, set[str]]:
        observed = Observed(ctx_loop)
        transport, _ = await as_inner(lambda: ctx_loop.create_datagram_endpoint(
            functools.partial(DatagramRecorder, observed),
            remote_addr=("127.0.0.1", closed_udp_port())))
        transport.sendto(PING)
        return await observed.all_seen()  # error_received closes the transport

    assert run(ctx_loop, main()) == asyncio_gives(
        "factory", "connection_made", "error_received", "connection_lost")


class SubprocessRecorder(NotingProtocol, asyncio.SubprocessProtocol):
    """Notes every subprocess callback."""

    def pipe_data_received(self, fd: int, data: bytes) -> None:
        self.observed.note("pipe_data_received")

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        self.observed.note(f"pipe_connection_lost({fd})")

    def process_exited(self) -> None:
        self.observed.note("process_exited")


SUBPROCESS_ECHO = "import sys; sys.stdout.write(sys.stdin.read())"


def test_subprocess_exec_callbacks_see_the_calls_context(
        ctx_loop: asyncio.AbstractEventLoop) -> None:

    async def main() -> dict[str, set[str]]:
        observed = Observed(ctx_loop)
        transport, _ = await as_inner(lambda: ctx_loop.subprocess_exec(
            functools.partial(SubprocessRecorder, observed), sys.executable, "-c",
            SUBPROCESS_ECHO))
        stdin = transport.get_pipe_transport(0)
        stdin.write(PING)
        stdin.close()
        try:
            return await observed.all_seen()
        finally:
            transport.close()

    # stdin is closed by the test (from 'outer'); stdout and stderr end by EOF
    assert run(ctx_loop, main()) == asyncio_gives(
        "factory", "connection_made", "pipe_data_received", "pipe_connection_lost(1)",
        "pipe_connection_lost(2)", **{"pipe_connection_lost(0)": "outer"},
        process_exited=CHILD_WATCHER_CONTEXT, connection_lost=CHILD_WATCHER_CONTEXT)
