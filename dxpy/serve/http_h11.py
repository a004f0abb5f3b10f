"""HTTP/1.1 on ``h11`` (pure Python): the fallback parser (``--http h11``, or
when httptools is not installed).

h11 is used for parsing only; responses are written by ``RequestCycle``, the
same bytes as on the httptools path.  Each request gets a fresh
``h11.Connection`` fed with what the previous one left over (pipelined
bytes), so h11's response-side state never needs to be driven.  h11 accepts
``Content-Length`` beside ``Transfer-Encoding`` (it frames by the latter);
that request-smuggling shape is refused here, as llhttp refuses it.  One
difference remains, both readings allowed by RFC 9110 8.6: h11 folds a
repeated *identical* ``Content-Length`` into one, llhttp refuses it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import h11

from .http_base import HttpProtocolBase, RequestRejected

if TYPE_CHECKING:  # pragma: no cover
    from .server import ServerState


class H11Protocol(HttpProtocolBase):
    """One connection parsed by h11; see module docstring."""

    def __init__(self, state: "ServerState") -> None:
        super().__init__(state)
        self._conn = self._fresh()
        self._ws_scope: dict | None = None

    def _fresh(self) -> h11.Connection:
        return h11.Connection(h11.SERVER, max_incomplete_event_size=self.header_limit)

    def data_received(self, data: bytes) -> None:
        if self.refused:
            return
        if self._conn.their_state is h11.IDLE and not self.in_headers():
            self.deadline = self.server.clock + self.config.timeout_request_header
        self._conn.receive_data(data)
        try:
            self._next_events()
        except RequestRejected as exc:
            self.reject(exc.status, exc.reason)
        except h11.RemoteProtocolError as exc:
            self.reject(exc.error_status_hint, f"Invalid HTTP request ({exc})")

    def in_headers(self) -> bool:
        conn = self._conn
        return conn.their_state is h11.IDLE and bool(conn.trailing_data[0])

    def _next_events(self) -> None:
        while not self.refused:
            event = self._conn.next_event()
            kind = type(event)
            if kind is h11.Request:
                self._on_request(event)
            elif kind is h11.Data:
                self.body_received(event.data)
            elif kind is h11.EndOfMessage:
                if self._on_complete():
                    return
            else:  # NEED_DATA, PAUSED, ConnectionClosed: wait for more bytes or the close
                return

    def _on_request(self, event: h11.Request) -> None:
        length = _checked_length(event)
        size = len(event.target) + sum(len(name) + len(value) + 4 for name, value in event.headers)
        if size > self.header_limit:  # h11 checks only what is still incomplete
            raise RequestRejected(431, "Request header fields too large")
        headers = list(event.headers)
        self.body_size = 0
        expect = upgrade = False
        chunked = False
        keep_alive = event.http_version == b"1.1"
        for name, value in headers:
            if name == b"connection":
                tokens = value.lower()
                if b"close" in tokens:
                    keep_alive = False
                elif b"keep-alive" in tokens:
                    keep_alive = True
                upgrade = upgrade or b"upgrade" in tokens
            elif name == b"expect":
                expect = value.lower() == b"100-continue"
            elif name == b"transfer-encoding":
                chunked = True
        scope = self.build_scope(event.method, event.target,
                                 event.http_version.decode("ascii"), headers)
        if upgrade and self.server.ws_enabled and any(
                name == b"upgrade" and value.lower() == b"websocket" for name, value in headers):
            scope["type"] = "websocket"
            self._ws_scope = scope
            return
        self.parsing = self.start_request(scope, keep_alive, expect,
                                           chunked or bool(length), length)

    def _on_complete(self) -> bool:
        """End of one request; True when the connection left HTTP (upgrade)."""
        self.message_complete()
        rest, closed = self._conn.trailing_data
        scope, self._ws_scope = self._ws_scope, None
        if scope is not None:
            self.deadline = 0.0
            self.server.upgrade_to_websocket(self, scope, rest)
            return True
        self._conn = self._fresh()
        if rest:
            self._conn.receive_data(rest)
        if closed:
            self._conn.receive_data(b"")
        return False


def _checked_length(request: h11.Request) -> int | None:
    """The request's Content-Length (h11 validated it), refusing it beside
    ``Transfer-Encoding`` as llhttp does."""
    length = None
    chunked = False
    for name, value in request.headers:
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding":
            chunked = True
    if length is not None and chunked:
        raise RequestRejected(400, "Invalid HTTP request (Transfer-Encoding can't be present "
                                   "with Content-Length)")
    return length
