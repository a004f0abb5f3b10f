"""Bad input gets a 4xx and a closed connection, and the server keeps serving.

Every case runs against both parsers (httptools and h11) with a raw-socket
client; ``raw_exchange`` reads until the server closes, so a server that
answered but kept the connection open fails the test by timeout.
"""

from __future__ import annotations

import select
import socket
import struct
import time

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .serve_support import (PARSERS, cli_server, open_fds, raw_exchange, read_until_closed,
                            status_of, thread_server)


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    if scope["path"] == "/big":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for _ in range(200):
            await send({"type": "http.response.body", "body": b"y" * 65536, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


@pytest.fixture(scope="module", params=PARSERS)
def server(request):
    with thread_server(app, http=request.param, limit_request_body=1000,
                       timeout_request_header=1.0) as running:
        yield running


def still_serving(port: int) -> None:
    response = raw_exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert status_of(response) == 200 and response.endswith(b"\r\n\r\nok")


CASES = {
    "request line": (b"GET\r\n\r\n", 400),
    "header without colon": (b"GET / HTTP/1.1\r\nHost x\r\n\r\n", 400),
    "space before colon": (b"GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400),
    "header block too large": (b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n",
                               431),
    "invalid content-length": (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3x\r\n\r\nabc", 400),
    "negative content-length": (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400),
    "conflicting content-length": (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                                   b"Content-Length: 4\r\n\r\nabcd", 400),
    "content-length with transfer-encoding": (
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3\r\nabc\r\n0\r\n\r\n", 400),
    "bad chunk size": (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                       b"zz\r\nabc\r\n0\r\n\r\n", 400),
    "body over the limit (length)": (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n",
                                     413),
    "body over the limit (chunked)": (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                                      b"\r\n400\r\n" + b"c" * 1024 + b"\r\n0\r\n\r\n", 413),
    "unsupported transfer-encoding": (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n"
                                      b"\r\nabc", (400, 501)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_malformed_request_gets_4xx_and_close(server, case):
    payload, expected = CASES[case]
    response = raw_exchange(server.port, payload)
    status = status_of(response)
    assert status in (expected if isinstance(expected, tuple) else (expected,)), response[:300]
    assert b"connection: close" in response
    still_serving(server.port)


def test_slowloris_headers_time_out(server):
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\n")
        for byte in b"Host: example.org\r\nX-Slow: " + b"s" * 50:
            sock.sendall(bytes([byte]))  # one byte per 0.2 s, never the blank line
            if select.select([sock], [], [], 0.2)[0]:
                break  # the server answered
        response = read_until_closed(sock)
    assert time.monotonic() - start < 5
    assert status_of(response) == 408
    still_serving(server.port)


def test_client_vanishing_mid_response(server):
    for _ in range(5):
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        sock.sendall(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
        sock.recv(1000)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()  # RST while the server is still writing
    still_serving(server.port)


def test_eof_mid_request_closes(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
        sock.shutdown(socket.SHUT_WR)
        assert read_until_closed(sock) == b""
    still_serving(server.port)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(garbage=st.binary(min_size=1, max_size=400))
def test_garbage_never_hangs_or_crashes(server, garbage):
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(garbage)
        sock.shutdown(socket.SHUT_WR)
        response = read_until_closed(sock)
    if response:
        assert 200 <= status_of(response) < 500
    still_serving(server.port)


def test_no_fd_growth_after_10k_connections():
    with cli_server("tests.test_serve_malformed:app", "--port", "0", "--no-access-log",
                    "--limit-request-body", "1000") as child:
        port = child.port
        assert httpx.get(f"http://127.0.0.1:{port}/", timeout=10).status_code == 200
        time.sleep(0.3)
        before = open_fds(child.process.pid)
        for i in range(10_000):
            sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            kind = i % 4
            if kind == 0:
                sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                read_until_closed(sock)
            elif kind == 1:
                sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                sock.recv(4096)
            elif kind == 2:
                sock.sendall(b"GET\r\n\r\n")
                read_until_closed(sock)
            else:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()
        deadline = time.monotonic() + 10
        while open_fds(child.process.pid) > before and time.monotonic() < deadline:
            time.sleep(0.1)
        assert open_fds(child.process.pid) <= before
        assert httpx.get(f"http://127.0.0.1:{port}/", timeout=10).status_code == 200
