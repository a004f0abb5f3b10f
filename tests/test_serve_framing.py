"""Property tests for HTTP framing, with h11's client side as the reference.

Responses: whatever chunks the app sends, with or without its own
content-length, h11 (as a client) reads back the same status, headers and
body.  Requests: whatever chunked body h11 (as a client) serialises, split at
any points across sends, the app receives exactly those bytes, on both
parsers.  Header encoding: the block is the plain join, and any CR/LF/NUL in a
value is refused.
"""

from __future__ import annotations

import json
import socket

import h11
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dxpy.serve.headers import HeaderError, encode_headers, status_line

from .serve_support import PARSERS, thread_server

TOKEN = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12).map(
    lambda s: ("x-" + s).encode())
VALUE = st.binary(max_size=30).map(lambda b: bytes(c for c in b if c >= 0x20 and c != 0x7f))
CHUNKS = st.lists(st.binary(max_size=3000), max_size=8)


async def framing_app(scope, receive, send):
    """POST /respond: the body is a JSON spec of the response to send."""
    if scope["type"] != "http":
        return
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    if scope["path"] == "/echo":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})
        return
    spec = json.loads(body)
    chunks = [bytes.fromhex(c) for c in spec["chunks"]]
    headers = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in spec["headers"]]
    if spec["length"]:
        headers.append((b"content-length", str(sum(map(len, chunks))).encode()))
    await send({"type": "http.response.start", "status": spec["status"], "headers": headers})
    for chunk in chunks:
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b""})


@pytest.fixture(scope="module", params=PARSERS)
def server(request):
    with thread_server(framing_app, http=request.param) as running:
        yield running


def exchange(port: int, request: list[bytes]) -> tuple[h11.Response, bytes]:
    """Send pre-serialised request pieces; parse the answer with h11 as a client."""
    client = h11.Connection(h11.CLIENT)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        for piece in request:
            sock.sendall(piece)
        response, body = None, b""
        while True:
            event = client.next_event()
            if event is h11.NEED_DATA:
                client.receive_data(sock.recv(65536))
            elif isinstance(event, h11.Response):
                response = event
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                return response, body
            else:
                raise AssertionError(f"unexpected {event!r}")


def serialise(method: str, target: str, headers: list, body_chunks: list[bytes]) -> bytes:
    client = h11.Connection(h11.CLIENT)
    out = client.send(h11.Request(method=method, target=target,
                                  headers=[("host", "x"), *headers]))
    for chunk in body_chunks:
        if chunk:
            out += client.send(h11.Data(data=chunk))
    return out + client.send(h11.EndOfMessage())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chunks=CHUNKS, headers=st.lists(st.tuples(TOKEN, VALUE), max_size=5),
       length=st.booleans(), status=st.sampled_from([200, 201, 404, 500]))
def test_response_framing_round_trips(server, chunks, headers, length, status):
    spec = json.dumps({"chunks": [c.hex() for c in chunks], "length": length, "status": status,
                       "headers": [(n.decode(), v.decode("latin-1")) for n, v in headers]}).encode()
    request = serialise("POST", "/respond", [("content-length", str(len(spec)))], [spec])
    response, body = exchange(server.port, [request])
    assert response.status_code == status
    assert body == b"".join(chunks)
    got = [(n, v) for n, v in response.headers if n.startswith(b"x-")]
    assert got == [(n, v.strip()) for n, v in headers]
    framing = dict(response.headers)
    assert (b"content-length" in framing) != (framing.get(b"transfer-encoding") == b"chunked")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chunks=CHUNKS, cuts=st.lists(st.integers(min_value=0, max_value=30000), max_size=6))
def test_chunked_request_bodies_arrive_intact(server, chunks, cuts):
    raw = serialise("POST", "/echo", [("transfer-encoding", "chunked")], chunks)
    points = sorted({min(c, len(raw)) for c in cuts} | {0, len(raw)})
    pieces = [raw[a:b] for a, b in zip(points, points[1:])]
    response, body = exchange(server.port, pieces)
    assert response.status_code == 200 and body == b"".join(chunks)


@given(headers=st.lists(st.tuples(TOKEN, VALUE), max_size=6))
def test_header_block_is_the_plain_join(headers):
    block, length, chunked, close = encode_headers(headers)
    assert block == b"".join(n + b": " + v + b"\r\n" for n, v in headers)
    assert (length, chunked, close) == (None, False, False)


@given(headers=st.lists(st.tuples(TOKEN, VALUE), min_size=1, max_size=4),
       where=st.integers(min_value=0), bad=st.sampled_from([b"\r", b"\n", b"\0", b"\r\n"]))
def test_line_breaks_in_values_are_refused(headers, where, bad):
    index = where % len(headers)
    name, value = headers[index]
    headers[index] = (name, value[: len(value) // 2] + bad + value[len(value) // 2:])
    with pytest.raises(HeaderError):
        encode_headers(headers)


def test_status_lines():
    assert status_line(200) == b"HTTP/1.1 200 OK\r\n"
    assert status_line(299) == b"HTTP/1.1 299 \r\n"
    for bad in (99, 1000, "200", 200.0):
        with pytest.raises(HeaderError):
            status_line(bad)
