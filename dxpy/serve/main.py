"""``dxpy serve module:app`` and ``dxpy.serve.run(app, **options)``.

Flags are spelled as uvicorn spells them, so ``uvicorn app:app --port 8000
--workers 4`` becomes ``dxpy serve app:app --port 8000 --workers 4``.  One
worker without ``--reload`` serves in this process; otherwise this process
becomes the supervisor (``supervisor.py``) of worker processes, each with
its own reactor and loop.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, Sequence

from .config import Config, ConfigError, HTTP_PARSERS, LIFESPAN_MODES, LOG_LEVELS, WS_MODES
from .logs import configure


def run(app: Any, **options: Any) -> int:
    """Serve ``app`` (an ASGI callable or ``"module:attr"``) with ``Config`` options;
    returns the exit status (0 after a graceful shutdown)."""
    config = Config(app, **options)
    configure(config)
    if config.workers > 1 or config.reload:
        from .supervisor import Supervisor
        return Supervisor(config).run()
    from .server import serve_in_this_process
    return serve_in_this_process(config)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dxpy serve",
                                     description="Serve an ASGI application on dxpy loops.")
    add = parser.add_argument
    add("app", help="the application, as 'module:attribute'")
    add("--host", default="127.0.0.1", help="bind address (default: %(default)s)")
    add("--port", type=int, default=8000, help="bind port (default: %(default)s)")
    add("--uds", help="bind to this Unix domain socket instead")
    add("--fd", type=int, help="serve on this already-listening file descriptor")
    add("--workers", default="1",
        help="worker processes, each with its own reactor and loop; 0 or 'auto': one per core")
    add("--pin-workers", dest="pin_workers", action="store_true", default=False,
        help="with --workers: pin worker i to core i (only where the server owns its "
             "cores: a pinned worker cannot leave a core that another busy process "
             "shares, and its connections then carry the latency tail)")
    add("--no-pin-workers", dest="pin_workers", action="store_false",
        help="let the OS scheduler place workers (the default)")
    add("--reload", action="store_true", help="restart the worker when source files change")
    add("--reload-dir", dest="reload_dirs", action="append", default=[],
        help="directory to watch with --reload (repeatable; default: the app directory)")
    add("--reload-delay", type=float, default=0.25,
        help="seconds to wait for more changes before restarting")
    add("--log-level", default="info", choices=tuple(LOG_LEVELS))
    add("--access-log", dest="access_log", action="store_true", default=True)
    add("--no-access-log", dest="access_log", action="store_false")
    add("--root-path", default="", help="ASGI root_path (an app mounted below a prefix)")
    add("--proxy-headers", dest="proxy_headers", action="store_true", default=True,
        help="trust X-Forwarded-Proto/For from --forwarded-allow-ips (default)")
    add("--no-proxy-headers", dest="proxy_headers", action="store_false")
    add("--forwarded-allow-ips", default="127.0.0.1",
        help="comma-separated addresses/networks trusted for proxy headers, or '*'")
    add("--server-header", dest="server_header", action="store_true", default=True)
    add("--no-server-header", dest="server_header", action="store_false")
    add("--date-header", dest="date_header", action="store_true", default=True)
    add("--no-date-header", dest="date_header", action="store_false")
    add("--limit-concurrency", type=int,
        help="answer 503 beyond this many concurrent connections or requests")
    add("--limit-request-body", type=int,
        help="largest request body in bytes; larger ones get 413")
    add("--backlog", type=int, default=2048, help="listen() backlog")
    add("--timeout-keep-alive", type=float, default=5.0,
        help="close idle keep-alive connections after this many seconds")
    add("--timeout-request-header", type=float, default=10.0,
        help="seconds a client has to send a request's headers (slowloris guard; 408)")
    add("--timeout-graceful-shutdown", type=float,
        help="seconds in-flight requests get at shutdown before they are cancelled")
    add("--timeout-worker-healthcheck", type=float, default=5.0,
        help="with --workers: restart a worker silent for this many seconds")
    add("--ssl-keyfile")
    add("--ssl-certfile")
    add("--ssl-keyfile-password")
    add("--factory", action="store_true", help="the app attribute is a factory: call it")
    add("--app-dir", default=".", help="directory put on sys.path before importing the app")
    add("--h11-max-incomplete-event-size", type=int, default=16 * 1024,
        help="largest request line + header block in bytes (431 beyond)")
    add("--lifespan", default="auto", choices=LIFESPAN_MODES)
    add("--http", default="auto", choices=HTTP_PARSERS, help="HTTP parser")
    add("--ws", default="auto", choices=WS_MODES, help="WebSocket implementation")
    add("--ws-max-size", type=int, default=16 * 1024 * 1024, help="largest WebSocket message")
    add("--ws-max-queue", type=int, default=32, help="received messages buffered per socket")
    add("--ws-ping-interval", type=float, default=20.0)
    add("--ws-ping-timeout", type=float, default=20.0)
    add("--no-gc-control", dest="gc_control", action="store_false", default=True,
        help="leave CPython's garbage collector as it is (no freeze, no idle collection)")
    add("--stats", action="store_true",
        help="report requests, connections, memory and the GC pause histograms: logged "
             "every --stats-interval seconds and at exit, and answered at --stats-path")
    add("--stats-interval", type=float, default=10.0)
    add("--stats-path", default="/_dxpy/stats",
        help="with --stats: the path answered with the stats as JSON (default: %(default)s)")
    add("--reactor", choices=("uring", "epoll"), help="force a reactor backend")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """``dxpy serve ...``; the exit status."""
    parser = build_parser()
    options = vars(parser.parse_args(argv))
    app = options.pop("app")
    workers = options.pop("workers")
    options["workers"] = int(workers) if workers.isdigit() else workers
    try:
        return run(app, **options)
    except ConfigError as exc:
        print(f"dxpy serve: {exc}", file=sys.stderr)
        return 2
