"""``dxpy serve``: an ASGI 3 server on dxpy loops, one process per core.

``dxpy.serve.run(app, **options)`` from Python, ``dxpy serve module:app`` from
the shell (options are uvicorn's; see ``dxpy serve --help``).  The modules,
one concept each:

* ``config``: the options and how the app is imported;
* ``http_base`` + ``http_httptools`` / ``http_h11``: HTTP/1.1 connections
  (llhttp, or h11 as the fallback) and ``cycle``: one request/response as
  the app sees it; ``headers``: the response-head bytes;
* ``websocket``: RFC 6455 on wsproto; ``lifespan``: startup/shutdown;
* ``gc``: garbage collection out of the request path;
* ``server``: one process's server; ``supervisor``, ``worker``, ``reload``:
  ``--workers`` and ``--reload``.
"""

from __future__ import annotations

from .config import AppLoadError, Config, ConfigError
from .main import run
from .server import Server

__all__ = ["AppLoadError", "Config", "ConfigError", "Server", "run"]
