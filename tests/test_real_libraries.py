"""Real third-party async libraries running on the dxpy loop, on BOTH backends.

Each section drives a real library (pytest-asyncio, anyio, httpx, aiohttp,
websockets, starlette + uvicorn, trustme TLS) on a ``dxpy.Loop`` built on the
io_uring reactor and again on the epoll reactor, and asserts on real results
(bytes echoed, status codes, digests, close codes), so a broken transport,
server, timer, subprocess or TLS path fails the test rather than hiding.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import hashlib
import json
import os
import ssl
import sys
import threading
import time
from typing import Any, AsyncIterator, Callable

import aiohttp
import anyio
import httpx
import pytest
import trustme
import websockets
from aiohttp import web
from websockets.asyncio.client import connect as ws_connect
from websockets.asyncio.server import serve as ws_serve

import dxpy
from dxpy.reactor import uring_status

from tests.conftest import COMPILED_OK, COMPILED_WHY, CORES, open_fds

URING_OK, URING_WHY = uring_status()
BACKENDS = ["uring", "epoll"]
#: (reactor, loop core) pairs: every library runs on both cores too.
LOOPS = [(name, core) for name in BACKENDS for core in CORES]

ONE_MB = 1_000_000


def _payload(n: int, seed: int = 0) -> bytes:
    """Deterministic, non-repeating-looking bytes (not all zeros)."""
    block = hashlib.sha256(str(seed).encode()).digest()
    reps = n // len(block) + 1
    out = bytearray()
    for i in range(reps):
        out += hashlib.sha256(block + i.to_bytes(4, "big")).digest()
    return bytes(out[:n])


def _backend_param(loop: tuple[str, str], value: Any, id: str) -> Any:
    """A parameter for the (reactor, core) ``loop``; skipped where io_uring
    cannot run or the compiled core was not built."""
    name, core = loop
    marks = [pytest.mark.skipif(name == "uring" and not URING_OK,
                                reason=f"io_uring unavailable here: {URING_WHY}"),
             pytest.mark.skipif(core == "compiled" and not COMPILED_OK,
                                reason=f"compiled core: {COMPILED_WHY}")]
    return pytest.param(value, id=f"{id}-{core}", marks=marks)


def _assert_dxpy_loop(expected_backend: str | None = None,
                      expected_core: str | None = None) -> asyncio.AbstractEventLoop:
    loop = asyncio.get_running_loop()
    assert type(loop).__module__ == "dxpy.loop", type(loop)
    assert isinstance(loop, dxpy.Loop)
    if expected_backend is not None:
        assert loop.reactor.backend == expected_backend
    if expected_core is not None:
        assert loop.core_name == expected_core
    return loop


# ===========================================================================
# 1. pytest-asyncio, with the loop coming from a dxpy policy
# ===========================================================================
#
# pytest-asyncio 1.x still honours an overriding ``event_loop_policy`` fixture
# (its newer ``pytest_asyncio_loop_factories`` hook must live in a conftest or
# plugin, which this file cannot be).  The override is scoped to this class so
# that only these tests are parametrised by it.

_POLICY_DEPRECATION = "ignore:Overriding the \"event_loop_policy\" fixture is deprecated"


@pytest.mark.filterwarnings(_POLICY_DEPRECATION)
class TestPytestAsyncio:
    @pytest.fixture(params=[_backend_param(loop, loop, loop[0]) for loop in LOOPS])
    def event_loop_policy(self, request: pytest.FixtureRequest) -> dxpy.Policy:
        name, core = request.param
        return dxpy.Policy(name, core=core)

    @pytest.mark.asyncio
    async def test_running_loop_is_dxpy(self, event_loop_policy: dxpy.Policy) -> None:
        loop = _assert_dxpy_loop(event_loop_policy._reactor_name, event_loop_policy._core_name)
        assert loop.is_running()
        fut = loop.create_future()
        loop.call_later(0.01, fut.set_result, "timer fired")
        assert await fut == "timer fired"

    @pytest.mark.asyncio
    async def test_streams_tcp_echo(self, event_loop_policy: dxpy.Policy) -> None:
        _assert_dxpy_loop(event_loop_policy._reactor_name, event_loop_policy._core_name)

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
            finally:
                writer.close()
                await writer.wait_closed()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            # many small line round trips
            for i in range(50):
                line = f"line {i}\n".encode()
                writer.write(line)
                await writer.drain()
                assert await reader.readline() == line
            # one big payload, written and read concurrently
            blob = _payload(ONE_MB, seed=1)

            async def send() -> None:
                writer.write(blob)
                await writer.drain()
                writer.write_eof()

            sender = asyncio.create_task(send())
            echoed = await reader.readexactly(len(blob))
            await sender
            assert echoed == blob
            assert await reader.read() == b""  # server closed after our EOF
            writer.close()
            await writer.wait_closed()

    @pytest.mark.asyncio
    async def test_gather_and_timeouts(self, event_loop_policy: dxpy.Policy) -> None:
        loop = _assert_dxpy_loop(event_loop_policy._reactor_name, event_loop_policy._core_name)

        async def work(i: int) -> int:
            await asyncio.sleep(0.001 * (20 - i))
            return i * i

        assert await asyncio.gather(*(work(i) for i in range(20))) == [i * i for i in range(20)]

        t0 = loop.time()
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.sleep(10), timeout=0.05)
        assert 0.04 <= loop.time() - t0 < 2

        t0 = loop.time()
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.05):
                await asyncio.Event().wait()
        assert 0.04 <= loop.time() - t0 < 2

        # a gather whose child fails propagates the error, and the others are
        # left running (gather's documented behaviour) until cancelled
        async def boom() -> None:
            await asyncio.sleep(0.01)
            raise ValueError("boom")

        slow = asyncio.ensure_future(asyncio.sleep(10))
        with pytest.raises(ValueError, match="boom"):
            await asyncio.gather(boom(), slow)
        assert not slow.done()
        slow.cancel()
        with pytest.raises(asyncio.CancelledError):
            await slow

    @pytest.mark.asyncio
    async def test_subprocess(self, event_loop_policy: dxpy.Policy) -> None:
        _assert_dxpy_loop(event_loop_policy._reactor_name, event_loop_policy._core_name)
        data = _payload(200_000, seed=2).hex().encode()  # 400 kB of text
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c",
            "import sys, hashlib; d = sys.stdin.buffer.read(); "
            "sys.stdout.buffer.write(d[::-1]); sys.stderr.write(hashlib.sha256(d).hexdigest()); "
            "sys.exit(3)",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(data), 30)
        assert proc.returncode == 3
        assert out == data[::-1]
        assert err.decode() == hashlib.sha256(data).hexdigest()

        shell = await asyncio.create_subprocess_shell(
            "echo hello; echo oops >&2; exit 0",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(shell.communicate(), 30)
        assert (out, err, shell.returncode) == (b"hello\n", b"oops\n", 0)


# ===========================================================================
# 2. anyio's pytest plugin, asyncio backend with a dxpy loop_factory
# ===========================================================================

@pytest.fixture(params=[
    _backend_param(loop, ("asyncio", {"loop_factory": functools.partial(
        dxpy.new_event_loop, loop[0], core=loop[1])}), f"dxpy-{loop[0]}")
    for loop in LOOPS
])
def anyio_backend(request: pytest.FixtureRequest) -> tuple[str, dict[str, Any]]:
    return request.param


def _anyio_loop(anyio_backend: tuple[str, dict[str, Any]]) -> tuple[str, str]:
    """(reactor, core) of an ``anyio_backend`` parameter."""
    factory = anyio_backend[1]["loop_factory"]
    return factory.args[0], factory.keywords["core"]


@pytest.mark.anyio
async def test_anyio_task_group(anyio_backend: tuple[str, dict[str, Any]]) -> None:
    _assert_dxpy_loop(*_anyio_loop(anyio_backend))
    assert anyio.get_current_task() is not None
    results: dict[int, int] = {}

    async def child(i: int) -> None:
        await anyio.sleep(0.001 * (10 - i))
        results[i] = i * 10

    async with anyio.create_task_group() as tg:
        for i in range(10):
            tg.start_soon(child, i)
    assert results == {i: i * 10 for i in range(10)}

    # an error in one child cancels its siblings and surfaces as an ExceptionGroup
    cancelled = []

    async def sleeper() -> None:
        try:
            await anyio.sleep(10)
        except anyio.get_cancelled_exc_class():
            cancelled.append(True)
            raise

    async def failer() -> None:
        await anyio.sleep(0.01)
        raise KeyError("child failed")

    with pytest.raises(ExceptionGroup) as info:
        async with anyio.create_task_group() as tg:
            tg.start_soon(sleeper)
            tg.start_soon(sleeper)
            tg.start_soon(failer)
    assert info.group_contains(KeyError)
    assert cancelled == [True, True]


@pytest.mark.anyio
async def test_anyio_tcp_echo(anyio_backend: tuple[str, dict[str, Any]]) -> None:
    _assert_dxpy_loop(*_anyio_loop(anyio_backend))

    async def handler(stream: anyio.abc.SocketStream) -> None:
        async with stream:
            try:
                while True:
                    await stream.send(await stream.receive())
            except anyio.EndOfStream:
                pass

    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, handler)
        async with await anyio.connect_tcp("127.0.0.1", port) as client:
            for i in range(20):
                msg = f"ping {i}".encode()
                await client.send(msg)
                assert await client.receive() == msg
            blob = _payload(ONE_MB, seed=3)
            received = bytearray()

            async def reader() -> None:
                while len(received) < len(blob):
                    received.extend(await client.receive())

            async with anyio.create_task_group() as inner:
                inner.start_soon(reader)
                await client.send(blob)
            assert bytes(received) == blob
            await client.send_eof()
            with pytest.raises(anyio.EndOfStream):
                await client.receive()
        tg.cancel_scope.cancel()


@pytest.mark.anyio
async def test_anyio_to_thread(anyio_backend: tuple[str, dict[str, Any]]) -> None:
    _assert_dxpy_loop(*_anyio_loop(anyio_backend))
    main_thread = threading.get_ident()

    def blocking(x: int) -> tuple[int, int]:
        time.sleep(0.02)
        return threading.get_ident(), x * 2

    async with anyio.create_task_group() as tg:
        results: list[tuple[int, int]] = []

        async def run(i: int) -> None:
            results.append(await anyio.to_thread.run_sync(blocking, i))

        for i in range(8):
            tg.start_soon(run, i)
    assert sorted(r[1] for r in results) == [i * 2 for i in range(8)]
    assert all(tid != main_thread for tid, _ in results)

    # and back from the worker thread into the loop
    def calls_back() -> str:
        return anyio.from_thread.run(anyio.sleep, 0.001) or "back"

    assert await anyio.to_thread.run_sync(calls_back) == "back"


@pytest.mark.anyio
async def test_anyio_cancel_scopes(anyio_backend: tuple[str, dict[str, Any]]) -> None:
    _assert_dxpy_loop(*_anyio_loop(anyio_backend))
    t0 = anyio.current_time()
    with anyio.move_on_after(0.05) as scope:
        await anyio.sleep(10)
    elapsed = anyio.current_time() - t0
    assert scope.cancelled_caught
    assert 0.04 <= elapsed < 2

    with anyio.move_on_after(5) as scope:
        await anyio.sleep(0.01)
    assert not scope.cancelled_caught

    t0 = anyio.current_time()
    with pytest.raises(TimeoutError):
        with anyio.fail_after(0.05):
            await anyio.Event().wait()
    assert 0.04 <= anyio.current_time() - t0 < 2

    # a deadline on blocked socket I/O must cancel the pending receive
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    async with listener, anyio.create_task_group() as tg:
        accepted = anyio.Event()

        async def silent(stream: anyio.abc.SocketStream) -> None:
            accepted.set()
            async with stream:
                await anyio.sleep(10)

        tg.start_soon(listener.serve, silent)
        async with await anyio.connect_tcp("127.0.0.1", port) as client:
            await accepted.wait()
            with anyio.move_on_after(0.05) as scope:
                await client.receive()
            assert scope.cancelled_caught
            # the stream is still usable afterwards
            await client.send(b"still alive")
        tg.cancel_scope.cancel()


@pytest.mark.anyio
async def test_anyio_memory_object_streams(anyio_backend: tuple[str, dict[str, Any]]) -> None:
    _assert_dxpy_loop(*_anyio_loop(anyio_backend))
    send, receive = anyio.create_memory_object_stream[int](max_buffer_size=5)
    got: list[int] = []

    async def producer() -> None:
        async with send:
            for i in range(1000):
                await send.send(i)

    async def consumer() -> None:
        async with receive:
            async for item in receive:
                got.append(item)

    async with anyio.create_task_group() as tg:
        tg.start_soon(consumer)
        tg.start_soon(producer)
    assert got == list(range(1000))

    # fan-out to several consumers, each item delivered exactly once
    send, receive = anyio.create_memory_object_stream[int]()
    seen: list[int] = []

    async def worker(r: anyio.abc.ObjectReceiveStream[int]) -> None:
        async with r:
            async for item in r:
                seen.append(item)
                await anyio.sleep(0)

    async with anyio.create_task_group() as tg:
        for _ in range(4):
            tg.start_soon(worker, receive.clone())
        receive.close()
        async with send:
            for i in range(500):
                await send.send(i)
    assert sorted(seen) == list(range(500))


@pytest.mark.anyio
async def test_anyio_open_process(anyio_backend: tuple[str, dict[str, Any]]) -> None:
    _assert_dxpy_loop(*_anyio_loop(anyio_backend))
    data = b"".join(f"line {i}\n".encode() for i in range(5000))
    async with await anyio.open_process(["cat"]) as proc:
        assert proc.stdin is not None and proc.stdout is not None
        out = bytearray()

        async def read_all() -> None:
            assert proc.stdout is not None
            async for chunk in proc.stdout:
                out.extend(chunk)

        async with anyio.create_task_group() as tg:
            tg.start_soon(read_all)
            await proc.stdin.send(data)
            await proc.stdin.aclose()
        assert await proc.wait() == 0
    assert bytes(out) == data

    result = await anyio.run_process(
        [sys.executable, "-c", "import sys; print('out'); print('err', file=sys.stderr); sys.exit(5)"],
        check=False)
    assert result.returncode == 5
    assert result.stdout == b"out\n"
    assert result.stderr == b"err\n"


# ===========================================================================
# helpers shared by the server tests (sections 3-6)
# ===========================================================================

def _aiohttp_app() -> web.Application:
    async def hello(request: web.Request) -> web.Response:
        return web.Response(text=f"hello {request.query.get('name', 'world')}")

    async def echo_digest(request: web.Request) -> web.Response:
        body = await request.read()
        return web.json_response({"length": len(body), "sha256": hashlib.sha256(body).hexdigest()})

    async def echo_back(request: web.Request) -> web.Response:
        return web.Response(body=await request.read(), content_type="application/octet-stream")

    async def stream(request: web.Request) -> web.StreamResponse:
        n = int(request.query.get("chunks", "100"))
        resp = web.StreamResponse()
        resp.content_type = "application/octet-stream"
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        for i in range(n):
            await resp.write(_payload(10_000, seed=i))
            if i % 10 == 0:
                await asyncio.sleep(0.001)
        await resp.write_eof()
        return resp

    app = web.Application(client_max_size=4 * ONE_MB)
    app.router.add_get("/hello", hello)
    app.router.add_post("/digest", echo_digest)
    app.router.add_post("/echo", echo_back)
    app.router.add_get("/stream", stream)
    return app


def _expected_stream(n: int = 100) -> bytes:
    return b"".join(_payload(10_000, seed=i) for i in range(n))


async def _start_aiohttp(ssl_context: ssl.SSLContext | None = None) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(_aiohttp_app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, port


def _run_without_fd_leak(loop: dxpy.Loop, main: Callable[[], Any]) -> Any:
    """Run ``main()`` on ``loop`` and assert the process holds no new fds after."""
    gc.collect()
    before = open_fds()
    result = loop.run_until_complete(main())
    # let closing transports finish their connection_lost callbacks; no
    # gc.collect() here: a socket freed only by the garbage collector was leaked
    loop.run_until_complete(asyncio.sleep(0.05))
    after = open_fds()
    assert after <= before, f"fd leak: {before} fds before, {after} after"
    return result


# ===========================================================================
# 3. aiohttp server + httpx.AsyncClient + aiohttp.ClientSession
# ===========================================================================

def test_httpx_and_aiohttp_against_aiohttp_server(loop: dxpy.Loop, backend: str) -> None:
    async def main() -> None:
        _assert_dxpy_loop(backend)
        runner, port = await _start_aiohttp()
        base = f"http://127.0.0.1:{port}"
        big = _payload(ONE_MB, seed=10)
        try:
            # --- httpx ---
            async with httpx.AsyncClient(base_url=base, timeout=30) as client:
                r = await client.get("/hello", params={"name": "dxpy"})
                assert r.status_code == 200 and r.text == "hello dxpy"
                # keep-alive reuse: many requests on the pooled connection
                rs = await asyncio.gather(*(client.get("/hello", params={"name": str(i)})
                                            for i in range(20)))
                assert [x.text for x in rs] == [f"hello {i}" for i in range(20)]
                r = await client.post("/digest", content=big)
                assert r.status_code == 200
                assert r.json() == {"length": ONE_MB, "sha256": hashlib.sha256(big).hexdigest()}
                r = await client.post("/echo", content=big)
                assert r.content == big
                got = bytearray()
                chunks = 0
                async with client.stream("GET", "/stream") as resp:
                    assert resp.status_code == 200
                    assert resp.headers.get("transfer-encoding") == "chunked"
                    async for chunk in resp.aiter_bytes():
                        got.extend(chunk)
                        chunks += 1
                assert bytes(got) == _expected_stream()
                assert chunks > 1
                r = await client.get("/missing")
                assert r.status_code == 404

            # --- aiohttp client ---
            async with aiohttp.ClientSession(base) as session:
                async with session.get("/hello") as resp:
                    assert resp.status == 200
                    assert await resp.text() == "hello world"
                async with session.post("/digest", data=big) as resp:
                    assert await resp.json() == {"length": ONE_MB,
                                                 "sha256": hashlib.sha256(big).hexdigest()}
                async with session.post("/echo", data=big) as resp:
                    assert await resp.read() == big
                got = bytearray()
                async with session.get("/stream") as resp:
                    async for chunk in resp.content.iter_chunked(4096):
                        got.extend(chunk)
                assert bytes(got) == _expected_stream()
                async with session.get("/missing") as resp:
                    assert resp.status == 404
        finally:
            await runner.cleanup()

    _run_without_fd_leak(loop, main)


# ===========================================================================
# 4. websockets: server + client
# ===========================================================================

def test_websockets_echo(loop: dxpy.Loop, backend: str) -> None:
    server_saw: list[tuple[int | None, str | None]] = []

    async def handler(ws: Any) -> None:
        try:
            async for msg in ws:
                if msg == "please close":
                    await ws.close(4000, "bye")
                    return
                await ws.send(msg)
        finally:
            await ws.wait_closed()
            server_saw.append((ws.close_code, ws.close_reason))

    async def main() -> None:
        _assert_dxpy_loop(backend)
        big = _payload(ONE_MB, seed=20)
        async with ws_serve(handler, "127.0.0.1", 0, max_size=4 * ONE_MB) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            uri = f"ws://127.0.0.1:{port}"
            async with ws_connect(uri, max_size=4 * ONE_MB) as ws:
                sent: list[str | bytes] = []
                for i in range(99):
                    msg: str | bytes = f"text {i}" if i % 2 else _payload(i * 100 + 1, seed=i)
                    sent.append(msg)
                sent.insert(50, big)
                assert len(sent) == 100
                for msg in sent:
                    await ws.send(msg)
                for msg in sent:
                    echoed = await asyncio.wait_for(ws.recv(), 30)
                    assert type(echoed) is type(msg)
                    assert echoed == msg
                latency = await ws.ping()
                assert await asyncio.wait_for(latency, 10) >= 0
            # normal client-initiated close
            assert ws.close_code == 1000
            await asyncio.sleep(0.05)
            assert server_saw == [(1000, "")]

            # server-initiated close with an application close code
            async with ws_connect(uri) as ws:
                await ws.send("please close")
                with pytest.raises(websockets.exceptions.ConnectionClosed) as info:
                    await asyncio.wait_for(ws.recv(), 10)
                assert info.value.rcvd is not None
                assert info.value.rcvd.code == 4000
                assert info.value.rcvd.reason == "bye"
            assert ws.close_code == 4000
            assert ws.close_reason == "bye"
            await asyncio.sleep(0.05)
            assert server_saw[-1] == (4000, "bye")

    _run_without_fd_leak(loop, main)


# ===========================================================================
# 5. Starlette app served by uvicorn on the dxpy loop
# ===========================================================================

def test_starlette_on_uvicorn(loop: dxpy.Loop, backend: str) -> None:
    import contextlib

    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, StreamingResponse
    from starlette.routing import Route

    lifespan_events: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        lifespan_events.append("startup")
        yield {"greeting": "hi from lifespan"}
        lifespan_events.append("shutdown")

    async def json_route(request: Request) -> JSONResponse:
        return JSONResponse({
            "loop": type(asyncio.get_running_loop()).__module__,
            "reactor": asyncio.get_running_loop().reactor.backend,  # type: ignore[attr-defined]
            "greeting": request.state.greeting,
            "q": request.query_params.get("q"),
        })

    async def upload(request: Request) -> JSONResponse:
        body = await request.body()
        return JSONResponse({"length": len(body), "sha256": hashlib.sha256(body).hexdigest()})

    async def stream_route(request: Request) -> StreamingResponse:
        async def gen() -> AsyncIterator[bytes]:
            for i in range(50):
                yield f"chunk {i}\n".encode()
                await asyncio.sleep(0.001)
        return StreamingResponse(gen(), media_type="text/plain")

    app = Starlette(routes=[
        Route("/json", json_route),
        Route("/upload", upload, methods=["POST"]),
        Route("/stream", stream_route),
    ], lifespan=lifespan)

    async def main() -> None:
        _assert_dxpy_loop(backend)
        config = uvicorn.Config(app, host="127.0.0.1", port=0, loop="none", lifespan="on",
                                log_level="warning", http="h11", ws="none")
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve())
        try:
            for _ in range(500):
                if server.started or task.done():
                    break
                await asyncio.sleep(0.01)
            assert server.started, "uvicorn did not start"
            port = server.servers[0].sockets[0].getsockname()[1]
            assert lifespan_events == ["startup"]
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
                r = await client.get("/json", params={"q": "x"})
                assert r.status_code == 200
                assert r.json() == {"loop": "dxpy.loop", "reactor": backend,
                                    "greeting": "hi from lifespan", "q": "x"}
                big = _payload(ONE_MB, seed=30)
                r = await client.post("/upload", content=big)
                assert r.json() == {"length": ONE_MB, "sha256": hashlib.sha256(big).hexdigest()}
                lines = []
                async with client.stream("GET", "/stream") as resp:
                    assert resp.status_code == 200
                    async for line in resp.aiter_lines():
                        lines.append(line)
                assert lines == [f"chunk {i}" for i in range(50)]
                r = await client.get("/nope")
                assert r.status_code == 404
        finally:
            server.should_exit = True
            await asyncio.wait_for(task, 30)
        assert lifespan_events == ["startup", "shutdown"]

    _run_without_fd_leak(loop, main)


# ===========================================================================
# 6. TLS: aiohttp HTTPS server with a trustme CA; httpx + aiohttp clients
# ===========================================================================

def test_tls_with_trustme(loop: dxpy.Loop, backend: str) -> None:
    ca = trustme.CA()
    server_cert = ca.issue_cert("127.0.0.1", "localhost")
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_cert.configure_cert(server_ctx)
    client_ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    ca.configure_trust(client_ctx)
    untrusted_ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    trustme.CA().configure_trust(untrusted_ctx)  # some other CA

    async def main() -> None:
        _assert_dxpy_loop(backend)
        runner, port = await _start_aiohttp(server_ctx)
        base = f"https://127.0.0.1:{port}"
        big = _payload(ONE_MB, seed=40)
        try:
            async with httpx.AsyncClient(base_url=base, verify=client_ctx, timeout=30) as client:
                r = await client.get("/hello", params={"name": "tls"})
                assert r.status_code == 200 and r.text == "hello tls"
                r = await client.post("/echo", content=big)
                assert r.content == big
                got = bytearray()
                async with client.stream("GET", "/stream") as resp:
                    async for chunk in resp.aiter_bytes():
                        got.extend(chunk)
                assert bytes(got) == _expected_stream()
                ext = r.extensions.get("network_stream")
                if ext is not None:
                    ssl_obj = ext.get_extra_info("ssl_object")
                    assert ssl_obj is not None and ssl_obj.version().startswith("TLS")

            async with aiohttp.ClientSession(base) as session:
                async with session.post("/digest", data=big, ssl=client_ctx) as resp:
                    assert await resp.json() == {"length": ONE_MB,
                                                 "sha256": hashlib.sha256(big).hexdigest()}
                    assert resp.connection is None or resp.connection.transport is not None
                # a client that does not trust this CA must be refused
                with pytest.raises(aiohttp.ClientConnectorCertificateError):
                    async with session.get("/hello", ssl=untrusted_ctx):
                        pass

            async with httpx.AsyncClient(base_url=base, verify=untrusted_ctx, timeout=30) as bad:
                with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                    await bad.get("/hello")
            # plain HTTP to the TLS port must not succeed either
            async with httpx.AsyncClient(timeout=10) as plain:
                with pytest.raises(httpx.HTTPError):
                    await plain.get(f"http://127.0.0.1:{port}/hello")
        finally:
            await runner.cleanup()

    _run_without_fd_leak(loop, main)


# ===========================================================================
# 7. asyncio debug mode (pytest-asyncio --asyncio-debug, PYTHONASYNCIODEBUG,
#    python -X dev): the same library traffic must still work
# ===========================================================================

def test_debug_mode_eof_streams_and_websockets(loop: dxpy.Loop, backend: str) -> None:
    loop.set_debug(True)
    errors: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: errors.append(context))
    closes: list[int | None] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        data = await reader.read()  # returns only once the peer's EOF arrives
        writer.write(data[::-1])
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    async def ws_handler(ws: Any) -> None:
        async for msg in ws:
            await ws.send(msg)
        closes.append(ws.close_code)

    async def main() -> None:
        _assert_dxpy_loop(backend)
        assert loop.get_debug()
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"debug mode payload")
            writer.write_eof()
            assert await asyncio.wait_for(reader.read(), 10) == b"debug mode payload"[::-1]
            writer.close()
            await writer.wait_closed()

        async with ws_serve(ws_handler, "127.0.0.1", 0) as ws_server:
            ws_port = next(iter(ws_server.sockets)).getsockname()[1]
            async with ws_connect(f"ws://127.0.0.1:{ws_port}") as ws:
                await ws.send("hello")
                assert await asyncio.wait_for(ws.recv(), 10) == "hello"
            assert ws.close_code == 1000
            for _ in range(100):
                if closes:
                    break
                await asyncio.sleep(0.01)
            assert closes == [1000]

    failure: BaseException | None = None
    try:
        _run_without_fd_leak(loop, lambda: asyncio.wait_for(main(), 30))
    except Exception as exc:  # report the loop's own errors first: they are the cause
        failure = exc
    assert not errors, "loop exception handler called in debug mode:\n" + "\n".join(
        f"{c.get('message')}: {c.get('exception')!r}" for c in errors)
    if failure is not None:
        raise failure
