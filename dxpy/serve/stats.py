"""``--stats``: what a server process reports, as a log line and an HTTP endpoint.

The issue's GC target ("p99 GC pause during request handling < 100 us") is
only useful if an operator can read it from a running server, so with
``--stats`` each worker process

* logs ``stats: {json}`` every ``--stats-interval`` seconds and at exit, and
* answers ``GET --stats-path`` (default ``/_dxpy/stats``) with the same JSON,
  before the app sees the request (``StatsEndpoint`` wraps the app; without
  ``--stats`` nothing is wrapped, so the request path pays nothing).

The report: pid, requests served, open connections, resident memory, whether
the heap tuning is in effect, and both GC pause histograms (the collections
the controller ran while the loop was idle, and those CPython started inside
request handling), each with its bucket counts and p50/p99/max.

With ``--workers N`` every worker keeps its own numbers (there is no shared
memory between the processes): a request to the endpoint is answered by the
worker that accepted its connection, and its ``pid`` says which one.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:  # pragma: no cover
    from .server import ServerState

DEFAULT_PATH = "/_dxpy/stats"
_HEADERS = [(b"content-type", b"application/json"), (b"cache-control", b"no-store")]


def report(state: "ServerState") -> dict[str, Any]:
    """This process's numbers (see module docstring)."""
    return {"pid": os.getpid(), "requests": state.requests,
            "connections": len(state.connections), "rss_kib": resident_kib(),
            "heap_tuned": state.heap_tuned, **state.gc.pause_report()}


def resident_kib() -> int | None:
    """VmRSS of this process (None where /proc is not there)."""
    try:
        with open("/proc/self/status", "rb") as status:
            for line in status:
                if line.startswith(b"VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


class StatsEndpoint:
    """ASGI middleware: ``GET``/``HEAD`` on ``path`` answers ``report()``; the
    rest (other paths, methods, WebSocket, lifespan) goes to the app."""

    def __init__(self, app: Callable[..., Any], path: str,
                 source: Callable[[], dict[str, Any]]) -> None:
        self.app = app
        self.path = path
        self.source = source

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != self.path:
            return await self.app(scope, receive, send)
        if scope["method"] not in ("GET", "HEAD"):
            await send({"type": "http.response.start", "status": 405,
                        "headers": [(b"allow", b"GET, HEAD"), *_HEADERS]})
            await send({"type": "http.response.body", "body": b'{"error": "use GET"}'})
            return
        body = json.dumps(self.source()).encode()
        await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
        await send({"type": "http.response.body", "body": body})
