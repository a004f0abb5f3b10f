"""``Server``: one process's server on one dxpy loop.

It loads the app, runs lifespan startup, listens (TCP, optionally
``SO_REUSEPORT`` so that several worker processes each own a listener on the
same port; a Unix socket; or an inherited fd), freezes the start-up heap
(``gc.GcController``) and runs a ticker that, four times a second, refreshes
the cached ``date`` header, enforces every connection's deadline (header
timeout, keep-alive, WebSocket pings) and reports a heartbeat to the
supervisor.  Per-request state lives in the protocols; what every connection
shares lives in ``ServerState``.

Shutdown (SIGTERM/SIGINT, or ``request_shutdown()``): stop accepting, close
idle connections, let in-flight requests finish (their responses carry
``connection: close``) within ``--timeout-graceful-shutdown``, then cancel
what is left, run lifespan shutdown, return.  A second signal skips the wait.
"""

from __future__ import annotations

import asyncio
import functools
import importlib.util
import json
import logging
import os
import signal
import socket
import threading
import time
from typing import Any, Callable

from .config import AppLoadError, Config, ConfigError
from .gc import GcController
from .headers import date_block
from .heap import tune_malloc
from .lifespan import Lifespan, LifespanError
from .stats import StatsEndpoint, report as stats_report

logger = logging.getLogger("dxpy.serve.error")

#: Seconds between ticker runs (deadline checks, date refresh, heartbeat).
TICK = 0.25
#: Exit status of a worker that could not start (the supervisor does not restart it).
STARTUP_FAILURE = 3


class ServerState:
    """What every connection of one server shares."""

    def __init__(self, config: Config, loop: asyncio.AbstractEventLoop,
                 app: Callable[..., Any]) -> None:
        self.config = config
        self.loop = loop
        self.app = (StatsEndpoint(app, config.stats_path, lambda: stats_report(self))
                    if config.stats else app)
        self.connections: set[Any] = set()
        self.cycles: set[Any] = set()
        self.clock = loop.time()
        self.date_block = date_block(config.server_header, config.date_header)
        self.lifespan_state: dict | None = None
        self.trusted = config.trusted_proxies()
        self.shutting_down = False
        self.access_log = (config.access_log
                           and logging.getLogger("dxpy.serve.access").isEnabledFor(logging.INFO))
        self.requests = 0
        self.gc = GcController(loop, config.gc_control)
        #: Whether ``heap.tune_malloc`` is in effect (reported by --stats).
        self.heap_tuned = False
        #: ``loop.create_task`` without its Python-level checks when no task
        #: factory is set (one task per request: the checks show in profiles).
        self.new_task = (loop.create_task if loop.get_task_factory() is not None
                         else functools.partial(asyncio.Task, loop=loop))
        self.ws_enabled = config.ws != "none" and _wsproto_available(config.ws)
        self._limit = config.limit_concurrency

    def overloaded(self) -> bool:
        limit = self._limit
        return limit is not None and (len(self.connections) > limit or len(self.cycles) >= limit)

    def cycle_done(self, cycle: Any) -> None:
        self.cycles.discard(cycle)

    def upgrade_to_websocket(self, http: Any, scope: dict, rest: bytes) -> None:
        """Hand ``http``'s transport to a WebSocket protocol (the request was an upgrade)."""
        from .websocket import WebSocketProtocol, handshake_bytes

        self.connections.discard(http)
        transport = http.transport
        ws = WebSocketProtocol(self, scope, transport)
        transport.set_protocol(ws)
        root = self.config.root_path.encode()
        target = scope["raw_path"][len(root):] if root else scope["raw_path"]
        if scope["query_string"]:
            target += b"?" + scope["query_string"]
        ws.start(handshake_bytes(scope, target), rest)


def _wsproto_available(mode: str) -> bool:
    if importlib.util.find_spec("wsproto") is None:
        if mode == "wsproto":
            raise ConfigError("--ws wsproto: the wsproto package is not installed "
                              "(pip install 'dxpy[serve]')") from None
        logger.warning("wsproto is not installed: WebSocket upgrades are served as HTTP")
        return False
    return True


def protocol_class(choice: str) -> type:
    """``--http``: httptools (llhttp) when available, else h11."""
    if choice in ("auto", "httptools"):
        try:
            from .http_httptools import HttpToolsProtocol
            return HttpToolsProtocol
        except ImportError:
            if choice == "httptools":
                raise ConfigError("--http httptools: the httptools package is not installed "
                                  "(pip install 'dxpy[serve]')") from None
    try:
        from .http_h11 import H11Protocol
    except ImportError:
        raise ConfigError("dxpy serve needs httptools or h11: pip install 'dxpy[serve]'") from None
    return H11Protocol


class Server:
    """See module docstring."""

    def __init__(self, config: Config, *, heartbeat_fd: int | None = None) -> None:
        self.config = config
        self.heartbeat_fd = heartbeat_fd
        self.state: ServerState | None = None
        self.servers: list[asyncio.AbstractServer] = []
        self.started = threading.Event()
        self._exit: asyncio.Event | None = None
        self._force = False
        self._loop: asyncio.AbstractEventLoop | None = None

    # ---- control -----------------------------------------------------------
    def request_shutdown(self, force: bool = False) -> None:
        """Begin graceful shutdown (thread-safe); ``force`` skips the wait."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        loop.call_soon_threadsafe(self._on_signal if not force else self._force_exit)

    def _on_signal(self) -> None:
        if self._exit.is_set():
            self._force_exit()
        self._exit.set()

    def _force_exit(self) -> None:
        self._force = True
        self._exit.set()

    @property
    def sockets(self) -> list[socket.socket]:
        return [sock for server in self.servers for sock in server.sockets]

    # ---- running -----------------------------------------------------------
    async def serve(self) -> None:
        """Serve until shutdown is requested; raises on start-up failure."""
        loop = self._loop = asyncio.get_running_loop()
        self._exit = asyncio.Event()
        config = self.config
        factory = protocol_class(config.http)  # a missing parser fails before the app loads
        app = config.load_app()
        state = self.state = ServerState(config, loop, app)
        lifespan = Lifespan(app, config.lifespan, loop)
        await lifespan.startup()
        state.lifespan_state = lifespan.state if lifespan.supported else None
        self.servers = await self._listen(loop, lambda: factory(state))
        state.gc.install()
        state.heap_tuned = config.gc_control and tune_malloc()
        ticker = loop.create_task(self._tick(state))
        signals = self._install_signals(loop)
        self._log_started()
        self.started.set()
        try:
            await self._exit.wait()
        finally:
            for sig in signals:
                loop.remove_signal_handler(sig)
            await self._shutdown(state, lifespan)
            ticker.cancel()
            state.gc.uninstall()
            if config.stats:
                logger.info("stats: %s", json.dumps(self.stats()))

    async def _listen(self, loop: asyncio.AbstractEventLoop,
                      factory: Callable[[], asyncio.Protocol]) -> list[asyncio.AbstractServer]:
        config = self.config
        ssl = config.ssl_context()
        if config.fd is not None:
            sock = socket.socket(fileno=os.dup(config.fd))
            return [await loop.create_server(factory, sock=sock, backlog=config.backlog, ssl=ssl)]
        if config.uds is not None:
            if os.path.exists(config.uds) and not os.path.isdir(config.uds):
                os.unlink(config.uds)
            server = await loop.create_unix_server(factory, path=config.uds,
                                                   backlog=config.backlog, ssl=ssl)
            os.chmod(config.uds, 0o666)
            return [server]
        reuse = config.workers > 1 or config.reload
        return [await loop.create_server(factory, config.host, config.port, backlog=config.backlog,
                                         ssl=ssl, reuse_port=reuse or None)]

    def _install_signals(self, loop: asyncio.AbstractEventLoop) -> list[int]:
        if threading.current_thread() is not threading.main_thread():
            return []
        installed = []
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._on_signal)
            installed.append(sig)
        return installed

    def _log_started(self) -> None:
        config = self.config
        scheme = "https" if config.is_ssl else "http"
        for sock in self.sockets:
            name = sock.getsockname()
            where = (f"unix socket {name}" if isinstance(name, str)
                     else f"{scheme}://{name[0]}:{name[1]}" if sock.family == socket.AF_INET
                     else f"{scheme}://[{name[0]}]:{name[1]}")
            logger.info("dxpy serve (pid %d) listening on %s", os.getpid(), where)

    async def _tick(self, state: ServerState) -> None:
        loop = state.loop
        second = int(time.time())
        next_stats = loop.time() + self.config.stats_interval
        while True:
            await asyncio.sleep(TICK)
            now = state.clock = loop.time()
            if int(time.time()) != second:
                second = int(time.time())
                state.date_block = date_block(self.config.server_header, self.config.date_header)
                self._heartbeat()
            for connection in list(state.connections):
                connection.tick(now)
            if self.config.stats and now >= next_stats:
                next_stats = now + self.config.stats_interval
                logger.info("stats: %s", json.dumps(self.stats()))

    def _heartbeat(self) -> None:
        if self.heartbeat_fd is not None:
            try:
                os.write(self.heartbeat_fd, b".")
            except BlockingIOError:
                pass  # a full pipe is a busy parent
            except BrokenPipeError:
                logger.warning("supervisor gone: shutting down")
                self.heartbeat_fd = None
                self._exit.set()

    def stats(self) -> dict[str, Any]:
        """``stats.report``: requests, connections, memory, GC pause histograms."""
        return {} if self.state is None else stats_report(self.state)

    async def _shutdown(self, state: ServerState, lifespan: Lifespan) -> None:
        state.shutting_down = True
        for server in self.servers:
            server.close()
        for connection in list(state.connections):
            connection.shutdown()
        timeout = self.config.timeout_graceful_shutdown
        deadline = None if timeout is None else state.loop.time() + timeout
        while (state.connections or state.cycles) and not self._force:
            if deadline is not None and state.loop.time() >= deadline:
                logger.warning("graceful shutdown timed out: cancelling %d requests",
                               len(state.cycles))
                break
            await asyncio.sleep(0.02)
        for cycle in list(state.cycles):
            if cycle.task is not None:
                cycle.task.cancel()
        for connection in list(state.connections):
            connection.transport.abort()
        await asyncio.sleep(0)
        await lifespan.shutdown()


def serve_in_this_process(config: Config, heartbeat_fd: int | None = None) -> int:
    """Run one ``Server`` on a new dxpy loop until it is told to stop; the exit status."""
    from ..policy import new_event_loop
    from ..reactor import ReactorError

    try:
        loop = new_event_loop(config.reactor)
    except ReactorError as exc:
        logger.error("%s", exc)
        return STARTUP_FAILURE
    asyncio.set_event_loop(loop)
    server = Server(config, heartbeat_fd=heartbeat_fd)
    try:
        loop.run_until_complete(server.serve())
    except (ConfigError, LifespanError, AppLoadError, OSError) as exc:
        logger.error("%s", exc)
        return STARTUP_FAILURE
    except Exception as exc:  # noqa: BLE001 - e.g. the app's module failed to import
        logger.error("dxpy serve could not start", exc_info=exc)
        return STARTUP_FAILURE
    finally:
        _close_loop(loop)
    return 0


def _close_loop(loop: asyncio.AbstractEventLoop) -> None:
    try:
        pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
    finally:
        asyncio.set_event_loop(None)
        loop.close()
