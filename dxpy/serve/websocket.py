"""WebSocket (RFC 6455) connections on ``wsproto``, as ASGI ``websocket`` scopes.

The HTTP protocol hands the connection over at the upgrade
(``ServerState.upgrade_to_websocket``): this protocol replaces it on the
transport and feeds wsproto the handshake request (re-serialised from the
parsed headers) plus whatever bytes followed it.  wsproto does the framing,
masking, fragmentation, UTF-8 checks, permessage-deflate and close
handshake; this module adds what a server must decide:

* ``--ws-max-size``: a message (all its fragments) over it closes with 1009;
* ``--ws-max-queue``: received messages the app has not taken; at the limit
  reading pauses (a slow app never buffers without bound), and a paused
  transport makes ``send`` wait (a slow client never grows server memory);
* ``--ws-ping-interval``/``--ws-ping-timeout``: the server's ticker pings and
  closes with 1011 when the pong does not come;
* ``websocket.close`` before ``accept`` is a 403; the ASGI
  ``websocket.http.response`` extension sends any other HTTP response.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from typing import TYPE_CHECKING, Any

from wsproto import ConnectionType, WSConnection
from wsproto.connection import ConnectionState
from wsproto.events import (AcceptConnection, BytesMessage, CloseConnection, Message, Ping, Pong,
                            RejectConnection, RejectData, Request, TextMessage)
from wsproto.extensions import PerMessageDeflate
from wsproto.utilities import LocalProtocolError, RemoteProtocolError

from .flow import WriteFlowControl

if TYPE_CHECKING:  # pragma: no cover
    from .server import ServerState

logger = logging.getLogger("dxpy.serve.error")

CLOSE_TOO_BIG = 1009
CLOSE_INTERNAL = 1011
CLOSE_RESTART = 1012
CLOSE_ABNORMAL = 1006


class ClientDisconnected(OSError):
    """``send`` on a WebSocket the client already closed (ASGI asks for an OSError)."""


class WebSocketProtocol(WriteFlowControl, asyncio.Protocol):
    """One upgraded connection; see module docstring."""

    def __init__(self, state: "ServerState", scope: dict, transport: Any) -> None:
        self.server = state
        self.config = state.config
        self.loop = state.loop
        self.transport = transport
        self.scope = scope
        self.conn = WSConnection(ConnectionType.SERVER)
        self.messages: collections.deque[dict] = collections.deque()
        self.accepted = False
        self.closed = False
        self.close_sent = False
        self._handshake_done = False
        self._waiter: asyncio.Future | None = None
        self._reading_paused = False
        self._fragments: list[Any] = []
        self._fragment_size = 0
        self._next_ping = state.clock + (self.config.ws_ping_interval or 0)
        self._pong_due = 0.0
        self._task: asyncio.Task | None = None
        #: A ``websocket.http.response`` denial being assembled: status, headers, body.
        self._denial: tuple[int, list, list[bytes]] | None = None

    # ---- taking over from HTTP ---------------------------------------------
    def start(self, handshake: bytes, rest: bytes) -> None:
        self.server.connections.add(self)
        self.data_received(handshake + rest)

    def data_received(self, data: bytes) -> None:
        try:
            self.conn.receive_data(data)
        except RemoteProtocolError as exc:
            self._protocol_error(exc)
            return
        self._handle_events()

    def _handle_events(self) -> None:
        try:
            for event in self.conn.events():
                kind = type(event)
                if kind is TextMessage or kind is BytesMessage:
                    self._on_message(event)
                elif kind is Ping:
                    self._write(self.conn.send(event.response()))
                elif kind is Pong:
                    self._pong_due = 0.0
                elif kind is CloseConnection:
                    self._on_close(event)
                elif kind is Request:
                    self._on_request(event)
        except RemoteProtocolError as exc:
            self._protocol_error(exc)

    def _protocol_error(self, exc: RemoteProtocolError) -> None:
        if not self._handshake_done and exc.event_hint is not None:
            self._write(self.conn.send(exc.event_hint))  # an HTTP 4xx for a bad handshake
            self.transport.close()
        else:
            self._close_with(1002, "protocol error")

    def _on_request(self, event: Request) -> None:
        self._handshake_done = True
        self.scope["subprotocols"] = list(event.subprotocols)
        self.scope["scheme"] = "wss" if self.scope["scheme"] in ("https", "wss") else "ws"
        self.scope["extensions"] = {"websocket.http.response": {}}
        self._push({"type": "websocket.connect"})
        self._task = self.loop.create_task(self._run_asgi())

    def _on_message(self, event: Message) -> None:
        self._fragment_size += len(event.data)
        if self._fragment_size > self.config.ws_max_size:
            self._close_with(CLOSE_TOO_BIG, "message too big")
            return
        self._fragments.append(event.data)
        if not event.message_finished:
            return
        parts, self._fragments, self._fragment_size = self._fragments, [], 0
        if type(event) is TextMessage:
            self._push({"type": "websocket.receive", "text": "".join(parts)})
        else:
            self._push({"type": "websocket.receive", "bytes": b"".join(parts)})

    def _on_close(self, event: CloseConnection) -> None:
        if self.conn.state is ConnectionState.REMOTE_CLOSING:
            self._write(self.conn.send(event.response()))
            self.close_sent = True
        self._push({"type": "websocket.disconnect", "code": event.code,
                    "reason": event.reason or ""})
        self.transport.close()

    # ---- the received-message queue -----------------------------------------
    def _push(self, message: dict) -> None:
        self.messages.append(message)
        if len(self.messages) >= self.config.ws_max_queue and not self._reading_paused:
            self._reading_paused = True
            self.transport.pause_reading()
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def receive(self) -> dict:
        while not self.messages:
            if self.closed:
                return {"type": "websocket.disconnect", "code": CLOSE_ABNORMAL, "reason": ""}
            self._waiter = self.loop.create_future()
            await self._waiter
        message = self.messages.popleft()
        if self._reading_paused and len(self.messages) < self.config.ws_max_queue // 2 + 1:
            self._reading_paused = False
            if not self.closed:
                self.transport.resume_reading()
        return message

    # ---- ASGI send -----------------------------------------------------------
    async def send(self, message: dict) -> None:
        await self.drain()
        kind = message["type"]
        if not self.accepted and not self.close_sent:
            self._send_handshake(kind, message)
        elif self.closed or self.close_sent:
            raise ClientDisconnected(f"WebSocket closed; cannot send {kind!r}")
        elif kind == "websocket.send":
            text, data = message.get("text"), message.get("bytes")
            if text is None and data is None:
                raise RuntimeError("websocket.send needs 'text' or 'bytes'")
            event = TextMessage(data=text) if text is not None else BytesMessage(data=data)
            self._write(self.conn.send(event))
        elif kind == "websocket.close":
            self._close_with(message.get("code", 1000), message.get("reason") or "",
                             tell_app=False)
        else:
            raise RuntimeError(f"Unexpected ASGI message {kind!r} on an accepted WebSocket")

    def _send_handshake(self, kind: str, message: dict) -> None:
        if kind == "websocket.accept":
            headers = [(bytes(n), bytes(v)) for n, v in message.get("headers", ())]
            self._write(self.conn.send(AcceptConnection(
                subprotocol=message.get("subprotocol"), extra_headers=headers,
                extensions=[PerMessageDeflate()])))
            self.accepted = True
        elif kind == "websocket.close":
            self._reject(403, [(b"content-length", b"0")], b"")
        elif kind == "websocket.http.response.start" and self._denial is None:
            self._denial = (message["status"], list(message.get("headers", ())), [])
        elif kind == "websocket.http.response.body" and self._denial is not None:
            status, headers, body = self._denial
            body.append(message.get("body", b""))
            if not message.get("more_body", False):
                self._reject(status, headers, b"".join(body))
        else:
            raise RuntimeError(f"Expected 'websocket.accept' or 'websocket.close', got {kind!r}")

    def _reject(self, status: int, headers: list, body: bytes) -> None:
        if not any(name.lower() == b"content-length" for name, _ in headers):
            headers = headers + [(b"content-length", str(len(body)).encode())]
        self._write(self.conn.send(RejectConnection(status_code=status, headers=headers,
                                                    has_body=True)))
        self._write(self.conn.send(RejectData(data=body)))
        self.close_sent = True
        self.transport.close()

    def _close_with(self, code: int, reason: str, *, tell_app: bool = True) -> None:
        """Send a close frame and close; ``tell_app``: the server decided, so the
        app's next ``receive()`` is the disconnect."""
        if self.close_sent or self.closed:
            return
        self.close_sent = True
        try:
            self._write(self.conn.send(CloseConnection(code=code, reason=reason)))
        except LocalProtocolError:
            pass  # the handshake never finished: there is no WebSocket to close
        if tell_app:
            self._push({"type": "websocket.disconnect", "code": code, "reason": reason})
        self.transport.close()

    def _write(self, data: bytes) -> None:
        if data and not self.closed:
            self.transport.write(data)

    # ---- transport callbacks ------------------------------------------------
    def connection_lost(self, exc: BaseException | None) -> None:
        self.closed = True
        self.server.connections.discard(self)
        if not self.close_sent and self.accepted:
            self._push({"type": "websocket.disconnect", "code": CLOSE_ABNORMAL, "reason": ""})
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        self.release_drain()

    def eof_received(self) -> bool | None:
        return None

    # ---- server hooks --------------------------------------------------------
    def tick(self, now: float) -> None:
        """Keep-alive pings; close when the pong is late."""
        interval = self.config.ws_ping_interval
        if not interval or not self.accepted or self.close_sent or self.closed:
            return
        if self._pong_due and now >= self._pong_due:
            self._close_with(CLOSE_INTERNAL, "keepalive ping timeout")
        elif now >= self._next_ping:
            self._write(self.conn.send(Ping(payload=b"dxpy")))
            self._next_ping = now + interval
            if self.config.ws_ping_timeout and not self._pong_due:
                self._pong_due = now + self.config.ws_ping_timeout

    def shutdown(self) -> None:
        if self.accepted:
            self._close_with(CLOSE_RESTART, "server shutting down")
        else:
            self.transport.close()

    async def _run_asgi(self) -> None:
        try:
            await self.server.app(self.scope, self.receive, self.send)
        except ClientDisconnected:
            pass
        except asyncio.CancelledError:
            self.transport.close()
            raise
        except BaseException as exc:  # noqa: BLE001 - reported, the server goes on
            logger.error("Exception in ASGI application", exc_info=exc)
            if not self.accepted and not self.close_sent:
                self._reject(500, [], b"")
            else:
                self._close_with(CLOSE_INTERNAL, "")
        else:
            if not self.accepted and not self.close_sent:
                logger.error("ASGI callable returned without accepting the WebSocket.")
                self._reject(500, [], b"")
            elif not self.close_sent:
                self._close_with(1000, "", tell_app=False)


def handshake_bytes(scope: dict, target: bytes) -> bytes:
    """The upgrade request re-serialised for wsproto (headers as parsed)."""
    lines = [b"GET ", target, b" HTTP/1.1\r\n"]
    for name, value in scope["headers"]:
        lines += (name, b": ", value, b"\r\n")
    lines.append(b"\r\n")
    return b"".join(lines)
