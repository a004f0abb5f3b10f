"""WebSocket through dxpy serve with the ``websockets`` client (both HTTP parsers)."""

from __future__ import annotations

import socket
import time

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from .serve_support import PARSERS, eventually, read_until_closed, status_of, thread_server


async def ws_app(scope, receive, send):
    if scope["type"] != "websocket":
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"plain http"})
        return
    path = scope["path"]
    message = await receive()
    assert message["type"] == "websocket.connect"
    if path == "/deny":
        await send({"type": "websocket.close"})
        return
    if path == "/teapot":
        await send({"type": "websocket.http.response.start", "status": 418,
                    "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "websocket.http.response.body", "body": b"short and stout"})
        return
    subprotocol = scope["subprotocols"][0] if scope["subprotocols"] else None
    await send({"type": "websocket.accept", "subprotocol": subprotocol,
                "headers": [(b"x-accepted", b"yes")]})
    if path == "/close-4000":
        await send({"type": "websocket.close", "code": 4000, "reason": "bye"})
        return
    if path == "/scope":
        await send({"type": "websocket.send", "text": f"{scope['scheme']} {scope['path']} "
                                                      f"{scope['query_string'].decode()}"})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        if message.get("text") is not None:
            await send({"type": "websocket.send", "text": message["text"]})
        else:
            await send({"type": "websocket.send", "bytes": message["bytes"]})


@pytest.fixture(scope="module", params=PARSERS)
def server(request):
    with thread_server(ws_app, http=request.param, ws_max_size=100_000) as running:
        yield running


def ws_url(server, path: str) -> str:
    return f"ws://127.0.0.1:{server.port}{path}"


def test_echo_text_and_bytes(server):
    with connect(ws_url(server, "/echo"), subprotocols=["chat"]) as ws:
        assert ws.subprotocol == "chat"
        assert ws.response.headers["x-accepted"] == "yes"
        ws.send("héllo")
        assert ws.recv(timeout=5) == "héllo"
        ws.send(b"\x00\x01" * 1000)
        assert ws.recv(timeout=5) == b"\x00\x01" * 1000


def test_scope_and_plain_http_beside(server):
    with connect(ws_url(server, "/scope?x=1")) as ws:
        assert ws.recv(timeout=5) == "ws /scope x=1"
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert read_until_closed(sock).endswith(b"plain http")


def test_fragmented_message_is_reassembled(server):
    with connect(ws_url(server, "/echo")) as ws:
        ws.send(["frag", "mented ", "message"])  # an iterable is sent as fragments
        assert ws.recv(timeout=5) == "fragmented message"


def test_ping_pong(server):
    with connect(ws_url(server, "/echo")) as ws:
        pong = ws.ping(b"are you there")
        assert pong.wait(5)


def test_oversized_message_closes_1009(server):
    with connect(ws_url(server, "/echo"), max_size=None) as ws:
        ws.send(b"x" * 200_000)
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=5)
    assert closed.value.rcvd.code == 1009


def test_server_close_code(server):
    with connect(ws_url(server, "/close-4000")) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=5)
    assert closed.value.rcvd.code == 4000 and closed.value.rcvd.reason == "bye"


def test_close_before_accept_is_403_and_denial_response(server):
    with pytest.raises(InvalidStatus) as denied:
        connect(ws_url(server, "/deny"))
    assert denied.value.response.status_code == 403
    with pytest.raises(InvalidStatus) as teapot:
        connect(ws_url(server, "/teapot"))
    assert teapot.value.response.status_code == 418
    assert teapot.value.response.body == b"short and stout"


def test_client_close_reaches_app(server):
    with connect(ws_url(server, "/echo")) as ws:
        ws.send("x")
        ws.recv(timeout=5)
    assert eventually(lambda: not [c for c in server.state.connections
                                   if type(c).__name__ == "WebSocketProtocol"])


def test_bad_handshake_is_4xx(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                     b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n")  # no key
        response = read_until_closed(sock)
    assert 400 <= status_of(response) < 500


def test_server_pings_and_drops_silent_peer():
    with thread_server(ws_app, ws_ping_interval=0.3, ws_ping_timeout=0.5) as s:
        with connect(ws_url(s, "/echo")) as ws:
            time.sleep(1.0)  # the client library answers pings: still open
            ws.send("alive")
            assert ws.recv(timeout=5) == "alive"
        with socket.create_connection(("127.0.0.1", s.port), timeout=10) as sock:
            sock.sendall(b"GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                         b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                         b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
            frames = read_until_closed(sock)  # never answers the pings
    assert status_of(frames) == 101
    frames = frames.split(b"\r\n\r\n", 1)[1]
    opcodes = []
    while frames:
        opcodes.append(frames[0] & 0x0F)
        length = frames[1] & 0x7F
        payload, frames = frames[2:2 + length], frames[2 + length:]
    assert opcodes[0] == 0x9 and opcodes[-1] == 0x8  # ping(s), then close
    assert int.from_bytes(payload[:2], "big") == 1011
