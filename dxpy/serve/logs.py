"""Logging for ``dxpy serve``: the ``dxpy.serve.error`` and ``dxpy.serve.access`` loggers.

As uvicorn does with its own loggers: server messages go to stderr, the
access log to stdout, both at ``--log-level``; ``--no-access-log`` silences
the access logger (and the server then skips formatting access lines
altogether: ``ServerState.access_log``).
"""

from __future__ import annotations

import logging
import sys

from .config import Config

_FORMAT = "%(levelname)s:     %(message)s"


def configure(config: Config) -> None:
    """Attach handlers to the server's loggers (idempotent: run once per process)."""
    level = config.log_level_number
    logging.addLevelName(5, "TRACE")
    root = logging.getLogger("dxpy.serve")
    root.setLevel(level)
    root.propagate = False
    _replace_handler(root, sys.stderr)
    access = logging.getLogger("dxpy.serve.access")
    access.propagate = False
    access.setLevel(level if config.access_log else logging.CRITICAL + 1)
    _replace_handler(access, sys.stdout)


def _replace_handler(logger: logging.Logger, stream: object) -> None:
    for handler in list(logger.handlers):
        if getattr(handler, "_dxpy_serve", False):
            logger.removeHandler(handler)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(_FORMAT))
    handler._dxpy_serve = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
