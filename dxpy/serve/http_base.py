"""``HttpProtocolBase``: what both HTTP/1.1 parser protocols share.

A protocol instance is one connection.  It owns: the ASGI scope template of
the connection (server/client addresses, scheme, root path: built once, copied
per request), the pipeline (requests parsed while an earlier one is still
being answered wait here, with reading paused so a client cannot queue
without bound), write flow control (``pause_writing`` -> ``send`` waits), the
connection's deadline (the server's ticker enforces it: header timeout
against slowloris, keep-alive idle timeout) and the error responses the
server gives by itself (400/408/413/431/503).

Subclasses feed it parsed requests through ``start_request``.
"""

from __future__ import annotations

import abc
import asyncio
import collections
import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from .cycle import RequestCycle
from .flow import WriteFlowControl
from .headers import simple_response

if TYPE_CHECKING:  # pragma: no cover
    from .server import ServerState

logger = logging.getLogger("dxpy.serve.error")
access_logger = logging.getLogger("dxpy.serve.access")

_ASGI = {"version": "3.0", "spec_version": "2.4"}
#: Seconds a refused connection is drained before it is closed.
LINGER = 2.0
_METHODS = {m.encode(): m for m in ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH",
                                    "OPTIONS", "CONNECT", "TRACE")}


class RequestRejected(Exception):
    """Raised inside parser callbacks: answer ``status`` and close."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class HttpProtocolBase(WriteFlowControl, asyncio.Protocol, metaclass=abc.ABCMeta):
    """One HTTP/1.1 connection; see module docstring."""

    def __init__(self, state: "ServerState") -> None:
        self.server = state
        self.config = state.config
        self.loop = state.loop
        self.app = state.app
        self.transport: Any = None
        self.cycle: RequestCycle | None = None
        self.pipeline: collections.deque[RequestCycle] = collections.deque()
        self._reading_paused = 0
        #: The request whose body the parser is reading, and its size so far.
        self.parsing: RequestCycle | None = None
        self.body_size = 0
        self.deadline = 0.0
        self.requests = 0
        self.closed = False
        #: Set once the server refused a request: nothing more is parsed.
        self.refused = False
        self.scope_base: dict = {}
        self.client: tuple[str, int] | None = None
        self.trusted_proxy = False
        self.limit_body = state.config.limit_request_body
        self.header_limit = state.config.h11_max_incomplete_event_size

    # ---- connection life ---------------------------------------------------
    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        state = self.server
        state.connections.add(self)
        sockname = transport.get_extra_info("sockname")
        peername = transport.get_extra_info("peername")
        server = tuple(sockname[:2]) if isinstance(sockname, tuple) else (str(sockname), None)
        self.client = tuple(peername[:2]) if isinstance(peername, tuple) and peername else None
        self.trusted_proxy = self.config.proxy_headers and state.trusted.trusts(
            self.client[0] if self.client else None)
        self.scope_base = {"type": "http", "asgi": _ASGI, "http_version": "1.1",
                           "server": server, "client": self.client,
                           "scheme": "https" if transport.get_extra_info("sslcontext") else "http",
                           "root_path": self.config.root_path}
        self.deadline = state.clock + self.config.timeout_keep_alive
        if state.shutting_down:
            transport.close()

    def connection_lost(self, exc: BaseException | None) -> None:
        self.closed = True
        self.server.connections.discard(self)
        if self.cycle is not None:
            self.cycle.lost()
        for queued in self.pipeline:
            queued.lost()
        self.pipeline.clear()
        self.release_drain()

    def eof_received(self) -> bool | None:
        return None  # close our side: no half-open HTTP connections

    # ---- flow control (writing: WriteFlowControl) --------------------------
    def pause_reading(self) -> None:
        """Counted: the body limit and the pipeline may both want reading off."""
        self._reading_paused += 1
        if self._reading_paused == 1 and not self.closed:
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        self._reading_paused -= 1
        if self._reading_paused == 0 and not self.closed:
            self.transport.resume_reading()

    # ---- requests ----------------------------------------------------------
    def build_scope(self, method: bytes, target: bytes, http_version: str,
                    headers: list[tuple[bytes, bytes]]) -> dict:
        """The ASGI HTTP scope for one request (target: origin-form or absolute)."""
        raw_path, _, query = target.partition(b"?")
        if raw_path[:1] != b"/":
            raw_path = _origin_path(raw_path)
        path = raw_path.decode("latin-1")
        if "%" in path:
            path = unquote(path, encoding="utf-8", errors="surrogateescape")
        scope = self.scope_base.copy()
        scope["method"] = _METHODS.get(method) or method.decode("ascii")
        scope["http_version"] = http_version
        root = self.config.root_path
        scope["path"] = root + path if root else path
        scope["raw_path"] = root.encode() + raw_path if root else raw_path
        scope["query_string"] = query
        scope["headers"] = headers
        state = self.server.lifespan_state
        if state is not None:
            scope["state"] = state.copy()
        if self.trusted_proxy:
            _apply_forwarded(scope, headers)
        return scope

    def start_request(self, scope: dict, keep_alive: bool, expect_continue: bool,
                      more_body: bool, length: int | None) -> RequestCycle:
        """A request's headers are complete: make its cycle, run or queue it."""
        self.deadline = 0.0
        self.requests += 1
        if self.limit_body is not None and length is not None and length > self.limit_body:
            raise RequestRejected(413, "Request body too large")
        if self.server.shutting_down:
            keep_alive = False
        cycle = RequestCycle(self, scope, keep_alive, expect_continue, more_body)
        if self.cycle is None:
            self._run(cycle)
        else:
            self.pipeline.append(cycle)
            if len(self.pipeline) == 1:
                self.pause_reading()
        return cycle

    def _run(self, cycle: RequestCycle) -> None:
        self.cycle = cycle
        state = self.server
        app = self.app
        if state.overloaded():
            app = _service_unavailable
        cycle.task = state.new_task(cycle.run_asgi(app))
        state.cycles.add(cycle)

    def body_received(self, data: bytes) -> None:
        """Request body bytes from the parser (``--limit-request-body`` -> 413)."""
        self.body_size += len(data)
        if self.limit_body is not None and self.body_size > self.limit_body:
            raise RequestRejected(413, "Request body too large")
        cycle = self.parsing
        if cycle is not None and not cycle.response_complete:
            cycle.feed_body(data)

    def message_complete(self) -> None:
        cycle, self.parsing = self.parsing, None
        if cycle is not None:
            cycle.body_complete()

    def on_response_complete(self, cycle: RequestCycle) -> None:
        """Called by the cycle when its last byte is written."""
        state = self.server
        if state.access_log:
            _log_access(cycle, self.client)
        state.requests += 1
        state.gc.after_response()
        if self.cycle is not cycle:
            return
        if not cycle.keep_alive or cycle.more_body:
            # An unread request body would be parsed as the next request.
            self.cycle = None
            self.transport.close()
            return
        self.cycle = None
        if self.pipeline:
            self._run(self.pipeline.popleft())
            if not self.pipeline:
                self.resume_reading()
        else:
            self.deadline = state.clock + self.config.timeout_keep_alive

    # ---- the server's own answers -------------------------------------------
    def reject(self, status: int, reason: str) -> None:
        """Answer a request the server refuses (if nothing was sent) and close."""
        logger.info("%s: %d %s", self._peer(), status, reason)
        self.refused = True
        cycle = self.cycle
        if cycle is not None:
            cycle.lost()
        if self.closed:
            return
        transport = self.transport
        if cycle is None or not cycle.response_started:
            transport.write(simple_response(status, reason.encode()))
        if not transport.can_write_eof():
            transport.close()
            return
        # Lingering close: FIN after the response, then read and drop what the
        # client still sends until it closes (or LINGER seconds), so the kernel
        # does not answer unread data with a reset that destroys the response.
        transport.write_eof()
        if self._reading_paused:
            self._reading_paused = 0
            transport.resume_reading()
        self.deadline = self.server.clock + LINGER

    def tick(self, now: float) -> None:
        """The server's ticker: enforce this connection's deadline."""
        if self.deadline and now >= self.deadline and not self.closed:
            if self.refused:
                self.transport.close()  # the lingering close is over
            elif self.in_headers():
                self.reject(408, "Request header timeout")
            else:
                self.transport.close()  # idle keep-alive connection

    @abc.abstractmethod
    def in_headers(self) -> bool:
        """Whether a request's header block is partly received (the parser knows)."""

    def shutdown(self) -> None:
        """Graceful shutdown: close when idle, else after the current response."""
        if self.cycle is None or self.cycle.response_complete:
            self.transport.close()
        else:
            self.cycle.keep_alive = False
            self.pipeline.clear()

    def _peer(self) -> str:
        return "%s:%s" % self.client if self.client else "unix-peer"


def _origin_path(target: bytes) -> bytes:
    """The path of an absolute-form target (``http://host/path``) or ``*``."""
    if target == b"*":
        return target
    scheme, sep, rest = target.partition(b"://")
    if not sep:
        raise RequestRejected(400, "Invalid request target")
    slash = rest.find(b"/")
    return rest[slash:] if slash >= 0 else b"/"


def _apply_forwarded(scope: dict, headers: list[tuple[bytes, bytes]]) -> None:
    """``X-Forwarded-Proto``/``-For`` from a trusted proxy (``--forwarded-allow-ips``)."""
    for name, value in headers:
        if name == b"x-forwarded-proto":
            proto = value.decode("latin-1").strip().lower()
            if proto in ("http", "https", "ws", "wss"):
                scope["scheme"] = proto
        elif name == b"x-forwarded-for":
            host = value.decode("latin-1").split(",")[0].strip()
            if host:
                scope["client"] = (host, 0)


async def _service_unavailable(scope: dict, receive: Any, send: Any) -> None:
    """``--limit-concurrency`` reached: what the app is replaced with."""
    await send({"type": "http.response.start", "status": 503,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": b"Service Unavailable"})


def _log_access(cycle: RequestCycle, client: tuple | None) -> None:
    scope = cycle.scope
    query = scope["query_string"]
    target = scope["path"] + ("?" + query.decode("latin-1") if query else "")
    access_logger.info('%s - "%s %s HTTP/%s" %d', "%s:%s" % client if client else "-",
                       scope["method"], target, scope["http_version"], cycle.status)
