"""The smallest ASGI app: ``dxpy serve examples.hello:app --workers 2``.

Plain ASGI 3, no framework: what the server costs per request is what a
benchmark of this app measures (``benchmarks/serve_bench.py``).
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable

_HEADERS = [(b"content-type", b"text/plain; charset=utf-8")]


async def app(scope: dict, receive: Callable[[], Awaitable[dict]],
              send: Callable[[dict], Awaitable[None]]) -> Any:
    """Answer every HTTP request with ``Hello, world!``."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
    await send({"type": "http.response.body", "body": b"Hello, world!"})
