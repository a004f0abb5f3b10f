"""The ASGI lifespan protocol: startup and shutdown, with state.

``--lifespan auto`` (the default) runs it and, if the app fails before it
ever answered (apps that do not speak lifespan usually raise on the unknown
scope type), logs that lifespan is unsupported and serves anyway; ``on``
makes that failure fatal; ``off`` never calls the app with a lifespan scope.
The ``state`` dict the app fills at startup is shallow-copied into every
request's scope (``HttpProtocolBase.build_scope``).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable

logger = logging.getLogger("dxpy.serve.error")


class LifespanError(RuntimeError):
    """Startup or shutdown failed with ``--lifespan on`` (or the app said so)."""


class Lifespan:
    """Runs the app's lifespan task alongside the server."""

    def __init__(self, app: Callable[..., Any], mode: str, loop: asyncio.AbstractEventLoop) -> None:
        self.app = app
        self.mode = mode
        self.loop = loop
        self.state: dict[str, Any] = {}
        self.supported = mode != "off"
        self._events: asyncio.Queue[dict] = asyncio.Queue()
        self._startup = loop.create_future()
        self._shutdown = loop.create_future()
        self._answered = False
        self._task: asyncio.Task | None = None

    async def startup(self) -> None:
        """Send ``lifespan.startup``; raise ``LifespanError`` if the app refuses."""
        if not self.supported:
            return
        logger.info("Waiting for application startup.")
        self._task = self.loop.create_task(self._main())
        await self._events.put({"type": "lifespan.startup"})
        await asyncio.wait([self._startup, self._task], return_when=asyncio.FIRST_COMPLETED)
        if not self.supported:
            return
        if not self._startup.done():
            raise LifespanError("the app's lifespan ended before it answered lifespan.startup")
        failed = self._startup.result()
        if failed is not None:
            raise LifespanError(f"Application startup failed: {failed}")
        logger.info("Application startup complete.")

    async def shutdown(self) -> None:
        if not self.supported or self._task is None or self._task.done():
            return
        logger.info("Waiting for application shutdown.")
        await self._events.put({"type": "lifespan.shutdown"})
        await asyncio.wait([self._shutdown, self._task], return_when=asyncio.FIRST_COMPLETED)
        if self._shutdown.done() and self._shutdown.result() is not None:
            logger.error("Application shutdown failed: %s", self._shutdown.result())
        else:
            logger.info("Application shutdown complete.")

    async def _main(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"},
                 "state": self.state}
        try:
            await self.app(scope, self._receive, self._send)
        except BaseException as exc:  # noqa: BLE001 - reported according to the mode
            if not self._answered and self.mode == "auto":
                logger.info("ASGI 'lifespan' protocol appears unsupported.")
                self.supported = False
            else:
                logger.error("Exception in 'lifespan' protocol", exc_info=exc)
                _resolve(self._startup, repr(exc))
                _resolve(self._shutdown, repr(exc))
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
        finally:
            _resolve(self._startup, None)
            _resolve(self._shutdown, None)

    async def _receive(self) -> dict:
        return await self._events.get()

    async def _send(self, message: dict) -> None:
        kind = message["type"]
        self._answered = True
        if kind == "lifespan.startup.complete":
            _resolve(self._startup, None)
        elif kind == "lifespan.startup.failed":
            _resolve(self._startup, message.get("message", "") or "lifespan.startup.failed")
        elif kind == "lifespan.shutdown.complete":
            _resolve(self._shutdown, None)
        elif kind == "lifespan.shutdown.failed":
            _resolve(self._shutdown, message.get("message", "") or "lifespan.shutdown.failed")
        else:
            raise RuntimeError(f"Unexpected ASGI lifespan message {kind!r}")


def _resolve(future: asyncio.Future, value: Any) -> None:
    if not future.done():
        future.set_result(value)
