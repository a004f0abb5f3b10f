"""dxpy serve over HTTP/1.1 with real clients (httpx, raw sockets), on both parsers."""

from __future__ import annotations

import asyncio
import json
import socket
import time

import httpx
import pytest

from .serve_support import PARSERS, eventually, raw_exchange, read_until_closed, status_of, thread_server


async def echo_app(scope, receive, send):
    """/echo: body back; /scope: the scope as JSON; /stream: chunks; others below."""
    if scope["type"] != "http":
        return
    path = scope["path"][len(scope["root_path"]):]
    if path == "/stream":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for i in range(5):
            await send({"type": "http.response.body", "body": b"part%d;" % i, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        return
    if path == "/scope":
        body = json.dumps({k: v for k, v in scope.items() if k in (
            "method", "path", "raw_path", "query_string", "http_version", "scheme", "root_path",
            "client", "server")}, default=lambda b: b.decode("latin-1")).encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})
        return
    if path == "/boom":
        raise ValueError("boom")
    if path == "/boom-late":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"partial", "more_body": True})
        raise ValueError("late boom")
    if path == "/nothing":
        return
    if path == "/empty":
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    if path == "/badheader":
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"x-evil", b"a\r\nset-cookie: pwned")]})
        await send({"type": "http.response.body", "body": b"x"})
        return
    if path == "/disconnect":
        while (await receive())["type"] != "http.disconnect":
            pass
        return
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    body = b"".join(chunks)
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/octet-stream"),
                            (b"x-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


@pytest.fixture(params=PARSERS)
def server(request):
    with thread_server(echo_app, http=request.param, root_path="") as running:
        yield running


def test_get_post_and_keep_alive(server):
    with httpx.Client(base_url=server.url) as client:
        first = client.get("/hello")
        assert first.status_code == 200 and first.content == b""
        assert first.headers["server"] == "dxpy" and "date" in first.headers
        posted = client.post("/echo", content=b"x" * 100_000)
        assert posted.content == b"x" * 100_000
        assert posted.headers["content-length"] == "100000"
    assert eventually(lambda: server.state.requests == 2)  # counted after the write


def test_scope_fields(server):
    with httpx.Client(base_url=server.url) as client:
        scope = client.get("/scope", params={"a": "1 2"}).json()
        encoded = client.get("/sc%6Fpe").json()
    assert scope["method"] == "GET" and scope["path"] == "/scope"
    assert scope["query_string"] == "a=1+2" and scope["http_version"] == "1.1"
    assert scope["scheme"] == "http" and scope["client"][0] == "127.0.0.1"
    assert scope["server"] == ["127.0.0.1", server.port]
    assert encoded["path"] == "/scope" and encoded["raw_path"] == "/sc%6Fpe"


def test_chunked_upload_and_streamed_response(server):
    def chunks():
        for i in range(50):
            yield b"%04d" % i * 1000

    with httpx.Client(base_url=server.url) as client:
        response = client.post("/echo", content=chunks())
        assert response.content == b"".join(chunks())
        streamed = client.get("/stream")
        assert streamed.headers["transfer-encoding"] == "chunked"
        assert streamed.content == b"part0;part1;part2;part3;part4;"


def test_head_and_no_body_status(server):
    with httpx.Client(base_url=server.url) as client:
        head = client.head("/echo")
        assert head.status_code == 200 and head.content == b""
        empty = client.get("/empty")
        assert empty.status_code == 204 and "content-length" not in empty.headers


def test_pipelined_requests_answer_in_order(server):
    requests = b"".join(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n%03d" % i
                        for i in range(20)) + b"GET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    response = raw_exchange(server.port, requests)
    bodies = [part.split(b"\r\n\r\n", 1)[1][:3] for part in response.split(b"HTTP/1.1 200 OK")[1:]]
    assert bodies[:20] == [b"%03d" % i for i in range(20)]
    assert response.count(b"HTTP/1.1 200 OK") == 21


def test_expect_100_continue(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                     b"Expect: 100-continue\r\nConnection: close\r\n\r\n")
        interim = sock.recv(1024)
        assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(b"hello")
        final = read_until_closed(sock)
    assert status_of(final) == 200 and final.endswith(b"hello")


def test_http_10_closes_and_frames_by_close(server):
    response = raw_exchange(server.port, b"GET /stream HTTP/1.0\r\n\r\n")
    assert status_of(response) == 200
    assert b"connection: close" in response and b"transfer-encoding" not in response
    assert response.endswith(b"part0;part1;part2;part3;part4;")


def test_app_errors_give_500_or_close(server, caplog):
    with httpx.Client(base_url=server.url) as client:
        assert client.get("/boom").status_code == 500
        assert client.get("/nothing").status_code == 500
        assert client.get("/badheader").status_code == 500
        with pytest.raises(httpx.RemoteProtocolError):
            client.get("/boom-late")
        assert client.get("/hello").status_code == 200  # still serving
    assert "Exception in ASGI application" in caplog.text


def test_disconnect_is_delivered(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"GET /disconnect HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.1)
    assert eventually(lambda: not server.state.cycles)  # the app saw http.disconnect


@pytest.mark.parametrize("http", PARSERS)
def test_root_path_and_proxy_headers(http):
    with thread_server(echo_app, http=http, root_path="/api", forwarded_allow_ips="127.0.0.1") as s:
        with httpx.Client(base_url=s.url) as client:
            scope = client.get("/scope", headers={"x-forwarded-proto": "https",
                                                  "x-forwarded-for": "10.1.2.3, 127.0.0.1"}).json()
    assert scope["path"] == "/api/scope" and scope["root_path"] == "/api"
    assert scope["scheme"] == "https" and scope["client"][0] == "10.1.2.3"


def test_untrusted_proxy_headers_are_ignored():
    with thread_server(echo_app, forwarded_allow_ips="10.0.0.1") as s:
        with httpx.Client(base_url=s.url) as client:
            scope = client.get("/scope", headers={"x-forwarded-for": "6.6.6.6"}).json()
    assert scope["client"][0] == "127.0.0.1"


async def slow_app(scope, receive, send):
    if scope["type"] != "http":
        return
    await asyncio.sleep(0.5)
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"slow"})


def test_limit_concurrency_answers_503():
    with thread_server(slow_app, limit_concurrency=2) as s:
        socks = []
        for _ in range(4):  # one at a time: the first two are in flight when the others come
            sock = socket.create_connection(("127.0.0.1", s.port), timeout=10)
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            socks.append(sock)
            time.sleep(0.05)
        statuses = sorted(status_of(read_until_closed(sock)) for sock in socks)
        for sock in socks:
            sock.close()
    assert statuses == [200, 200, 503, 503]


async def infinite_app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    chunk = b"z" * 65536
    for _ in range(2000):  # 128 MiB if nothing pushed back
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b""})


def test_slow_client_does_not_grow_server_memory():
    with thread_server(infinite_app) as s:
        with socket.create_connection(("127.0.0.1", s.port), timeout=10) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            time.sleep(0.5)  # the client reads nothing
            (protocol,) = list(s.state.connections)
            buffered = protocol.transport.get_write_buffer_size()
            assert buffered < 1024 * 1024, buffered
            assert protocol.write_paused


async def unread_body_app(scope, receive, send):
    if scope["type"] != "http":
        return
    await asyncio.sleep(1.0)  # does not read the body meanwhile
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"done"})


def test_app_not_reading_does_not_buffer_the_whole_body():
    with thread_server(unread_body_app) as s:
        with socket.create_connection(("127.0.0.1", s.port), timeout=10) as sock:
            sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 50000000\r\n\r\n")
            sock.setblocking(False)
            sent = 0
            deadline = time.monotonic() + 0.6
            while time.monotonic() < deadline:
                try:
                    sent += sock.send(b"b" * 65536)
                except BlockingIOError:
                    time.sleep(0.01)
            (protocol,) = list(s.state.connections)
            assert protocol.cycle.body_size < 1024 * 1024
            assert sent < 50_000_000


@pytest.mark.parametrize("http", PARSERS)
def test_epoll_backend_serves_the_same(http):
    """The server only uses the loop's public API: the epoll reactor serves alike."""
    with thread_server(echo_app, http=http, reactor="epoll") as s:
        with httpx.Client(base_url=s.url) as client:
            assert client.post("/echo", content=(b"e" * 1000 for _ in range(64))).content == \
                b"e" * 64000
            assert client.get("/stream").content == b"part0;part1;part2;part3;part4;"
        pipelined = raw_exchange(s.port, b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n" * 5 +
                                 b"GET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert pipelined.count(b"HTTP/1.1 200 OK") == 6
