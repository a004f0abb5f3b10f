"""HTTP/1.1 on ``httptools`` (llhttp, C): the default parser.

llhttp itself rejects malformed request lines and headers, bad or duplicated
``Content-Length``, ``Content-Length`` together with ``Transfer-Encoding``
and bad chunk sizes; this module adds the limits llhttp does not have (header
block size -> 431, body size -> 413) and turns parser callbacks into cycles.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import httptools

from .http_base import HttpProtocolBase, RequestRejected

if TYPE_CHECKING:  # pragma: no cover
    from .server import ServerState

logger = logging.getLogger("dxpy.serve.error")

_HTTP_VERSIONS = ("1.1", "1.0")


class HttpToolsProtocol(HttpProtocolBase):
    """One connection parsed by llhttp; see module docstring."""

    def __init__(self, state: "ServerState") -> None:
        super().__init__(state)
        self.parser = httptools.HttpRequestParser(self)
        self._url = b""
        self._headers: list[tuple[bytes, bytes]] = []
        self._header_size = 0
        self._in_headers = False
        self._length: int | None = None
        self._chunked = False
        self._expect = False
        self._upgrade: bytes | None = None
        self._ws_scope: dict | None = None

    def data_received(self, data: bytes) -> None:
        if self.refused:
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade as exc:
            self._upgraded(data[exc.args[0]:])
        except httptools.HttpParserCallbackError as exc:
            cause = exc.__context__
            if isinstance(cause, RequestRejected):
                self.reject(cause.status, cause.reason)
            else:
                logger.error("HTTP protocol failure", exc_info=cause)
                self.reject(500, "Internal Server Error")
        except httptools.HttpParserError as exc:
            self.reject(400, f"Invalid HTTP request ({exc})")

    def in_headers(self) -> bool:
        return self._in_headers

    # ---- llhttp callbacks ----------------------------------------------------
    def on_message_begin(self) -> None:
        self._url = b""
        self._headers = []
        self._header_size = 0
        self._in_headers = True
        self._length = None
        self._chunked = self._expect = False
        self._upgrade = None
        self.body_size = 0
        self.deadline = self.server.clock + self.config.timeout_request_header

    def on_url(self, url: bytes) -> None:
        self._url += url
        self._header_size += len(url)
        if self._header_size > self.header_limit:
            raise RequestRejected(414, "Request target too long")

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_size += len(name) + len(value) + 4
        if self._header_size > self.header_limit:
            raise RequestRejected(431, "Request header fields too large")
        name = name.lower()
        self._headers.append((name, value))
        if name == b"content-length":
            self._length = int(value)  # llhttp accepts digits only, once
        elif name == b"transfer-encoding":
            self._chunked = True
        elif name == b"expect":
            self._expect = value.lower() == b"100-continue"
        elif name == b"upgrade":
            self._upgrade = value.lower()

    def on_headers_complete(self) -> None:
        self._in_headers = False
        parser = self.parser
        version = parser.get_http_version()
        if version not in _HTTP_VERSIONS:
            raise RequestRejected(505, "HTTP version not supported")
        scope = self.build_scope(parser.get_method(), self._url, version, self._headers)
        if self._upgrade == b"websocket" and self.server.ws_enabled and parser.should_upgrade():
            scope["type"] = "websocket"
            self._ws_scope = scope  # taken over at HttpParserUpgrade
            return
        more_body = self._chunked or bool(self._length)
        self.parsing = self.start_request(scope, parser.should_keep_alive(), self._expect,
                                           more_body, self._length)

    on_body = HttpProtocolBase.body_received
    on_message_complete = HttpProtocolBase.message_complete

    # ---- protocol switch -----------------------------------------------------
    def _upgraded(self, rest: bytes) -> None:
        scope, self._ws_scope = self._ws_scope, None
        if scope is None:
            # An upgrade we do not speak (h2c, ...): answered as HTTP/1.1, go on parsing.
            self.parser = httptools.HttpRequestParser(self)
            if rest:
                self.data_received(rest)
            return
        self.deadline = 0.0
        self.server.upgrade_to_websocket(self, scope, rest)
