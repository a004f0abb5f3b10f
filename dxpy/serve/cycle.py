"""``RequestCycle``: one HTTP request and its response, as the ASGI app sees them.

The parser protocols (``http_httptools``, ``http_h11``) feed a cycle the
request body; the app drives it through ``receive``/``send``; the cycle writes
the response bytes itself, so both parsers share one response writer.

Per-request leanness, because this runs for every request:
* the response head is held back until the first body message, so a
  response of one ``http.response.start`` and one final body is a single
  ``transport.write`` (status line, cached ``date``/``server`` block, the
  app's headers and the body, joined once);
* framing is decided once: the app's ``content-length`` if it gave one, else
  ``content-length`` when the whole body came in one message, else chunked
  (HTTP/1.1) or close-delimited (HTTP/1.0);
* no future is created unless the app really has to wait (body not yet
  arrived, transport paused for writing).

Backpressure: a body larger than ``BODY_HIGH_WATER`` that the app does not
read pauses reading on the transport until ``receive()`` drains it; a paused
transport (slow client) makes ``send()`` wait for ``resume_writing``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any, Callable

from .headers import CONTINUE_100, encode_headers, simple_response, status_line

if TYPE_CHECKING:  # pragma: no cover
    from .http_base import HttpProtocolBase

logger = logging.getLogger("dxpy.serve.error")

#: Request body bytes buffered for an app that has not called receive() yet
#: before the transport stops reading.
BODY_HIGH_WATER = 64 * 1024
#: Status codes whose responses never carry a body (RFC 9110 6.4.1).
_NO_BODY_STATUS = frozenset((204, 304))

_DISCONNECT = {"type": "http.disconnect"}


class RequestCycle:
    """See module docstring.  Created by the protocol at end of headers."""

    __slots__ = ("protocol", "transport", "scope", "keep_alive", "expect_continue",
                 "head_only", "body", "body_size", "more_body", "disconnected",
                 "response_started", "response_complete", "status", "_head_pending", "_headers",
                 "_chunked", "_no_body", "_length", "_sent", "_waiter", "_reading_paused",
                 "_delivered", "task", "on_complete")

    def __init__(self, protocol: "HttpProtocolBase", scope: dict, keep_alive: bool,
                 expect_continue: bool, more_body: bool) -> None:
        self.protocol = protocol
        self.transport = protocol.transport
        self.scope = scope
        self.keep_alive = keep_alive
        self.expect_continue = expect_continue
        self.head_only = scope["method"] == "HEAD"
        self.body: list[bytes] = []
        self.body_size = 0
        self.more_body = more_body
        self.disconnected = False
        self.response_started = False
        self.response_complete = False
        self.status = 0
        self._head_pending = False
        self._headers: Any = ()
        self._chunked = False
        self._no_body = self.head_only
        self._delivered = False
        self._length: int | None = None
        self._sent = 0
        self._waiter: asyncio.Future | None = None
        self._reading_paused = False
        self.task: asyncio.Task | None = None
        #: Called once the response is fully written (the protocol's hook).
        self.on_complete: Callable[["RequestCycle"], None] = protocol.on_response_complete

    # ---- fed by the protocol ----------------------------------------------
    def feed_body(self, data: bytes) -> None:
        """Request body bytes from the parser."""
        self.body.append(data)
        self.body_size += len(data)
        if self.body_size > BODY_HIGH_WATER and not self._reading_paused:
            self._reading_paused = True
            self.protocol.pause_reading()
        self._wake()

    def body_complete(self) -> None:
        self.more_body = False
        self._wake()

    def lost(self) -> None:
        """The connection closed: wake any waiter, later sends are dropped."""
        self.disconnected = True
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    async def _wait(self) -> None:
        waiter = self._waiter = self.protocol.loop.create_future()
        await waiter

    # ---- ASGI receive ------------------------------------------------------
    async def receive(self) -> dict:
        if self.expect_continue:
            self.expect_continue = False
            if not self.response_started and not self.disconnected:
                self.transport.write(CONTINUE_100)
        if self._delivered:  # the whole body was handed over: next comes the disconnect
            while not (self.disconnected or self.response_complete):
                await self._wait()
        while not (self.body or not self.more_body or self.disconnected or self.response_complete):
            await self._wait()
        if self.disconnected or self.response_complete:
            return _DISCONNECT
        chunks, self.body = self.body, []
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        self.body_size = 0
        if self._reading_paused:
            self._reading_paused = False
            self.protocol.resume_reading()
        self._delivered = not self.more_body
        return {"type": "http.request", "body": body, "more_body": self.more_body}

    # ---- ASGI send ---------------------------------------------------------
    async def send(self, message: dict) -> None:
        protocol = self.protocol
        if protocol.write_paused and not self.disconnected:
            await protocol.drain()
        if self.disconnected:
            return
        kind = message["type"]
        if not self.response_started:
            if kind != "http.response.start":
                raise RuntimeError(f"Expected ASGI message 'http.response.start', but got {kind!r}.")
            self.response_started = True
            self.expect_continue = False
            self.status = message["status"]
            self._headers = message.get("headers", ())
            status_line(self.status)  # a bad status fails here, in the app's send()
            self._head_pending = True
        elif not self.response_complete:
            if kind != "http.response.body":
                raise RuntimeError(f"Expected ASGI message 'http.response.body', but got {kind!r}.")
            self._write_body(message.get("body", b""), message.get("more_body", False))
        else:
            raise RuntimeError(f"Unexpected ASGI message {kind!r} sent, after response "
                               f"already completed.")

    def _write_body(self, body: bytes, more_body: bool) -> None:
        if self._head_pending:
            head = self._head(body, more_body)
            self._head_pending = False
        else:
            head = b""
        if self._no_body:
            out = head
        elif self._chunked:
            out = head + (b"%x\r\n%b\r\n" % (len(body), body) if body else b"")
            if not more_body:
                out += b"0\r\n\r\n"
        else:
            self._sent += len(body)
            if self._length is not None and self._sent > self._length:
                raise RuntimeError("Response content longer than Content-Length")
            out = head + body if head else body
        if out:
            self.transport.write(out)
        if not more_body:
            if self._length is not None and self._sent < self._length and not self._no_body:
                raise RuntimeError("Response content shorter than Content-Length")
            self.response_complete = True
            self._wake()
            self.on_complete(self)

    def _head(self, body: bytes, more_body: bool) -> bytes:
        """The response head: framing chosen from the app's headers and the body."""
        status = self.status
        block, length, chunked, close = encode_headers(self._headers)
        framing = b""
        if close:
            self.keep_alive = False
        if status in _NO_BODY_STATUS or status < 200:
            self._no_body = True
        elif length is not None:
            self._length = length
        elif chunked:
            self._chunked = True
        elif not more_body:
            self._length = len(body)
            framing = b"content-length: %d\r\n" % len(body)
        elif self.scope["http_version"] == "1.0":
            self.keep_alive = False  # no chunked in HTTP/1.0: the close ends the body
        else:
            self._chunked = True
            framing = b"transfer-encoding: chunked\r\n"
        if not self.keep_alive and not close:
            framing += b"connection: close\r\n"
        return b"".join((status_line(status), self.protocol.server.date_block, block,
                         framing, b"\r\n"))

    # ---- running the app ---------------------------------------------------
    async def run_asgi(self, app: Callable[..., Any]) -> None:
        """Call the app; turn what goes wrong into a 500 or a closed connection."""
        try:
            result = await app(self.scope, self.receive, self.send)
        except asyncio.CancelledError:
            self.transport.close()  # forced shutdown: the response cannot finish
            raise
        except BaseException as exc:  # noqa: BLE001 - the app's failure is reported, not fatal
            logger.error("Exception in ASGI application", exc_info=exc)
            self._failed()
        else:
            if result is not None:
                logger.error("ASGI callable returned a value (%r); expected None", result)
            if not self.response_started and not self.disconnected:
                logger.error("ASGI callable returned without starting a response.")
                self._failed()
            elif not self.response_complete and not self.disconnected:
                logger.error("ASGI callable returned without completing the response.")
                self._failed()
        finally:
            self.protocol.server.cycle_done(self)

    def _failed(self) -> None:
        """500 if nothing was sent yet, else the only honest signal: closing."""
        if self.disconnected or self.response_complete:
            return
        if self.response_started and not self._head_pending:
            self.transport.close()
        else:
            self.keep_alive = False
            self.status = 500
            self.response_started = self.response_complete = True
            self.transport.write(simple_response(500, b"Internal Server Error"))
            self._wake()
            self.on_complete(self)
