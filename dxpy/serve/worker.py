"""A worker process of ``dxpy serve --workers`` / ``--reload`` (started by ``supervisor``).

``python -m dxpy.serve.worker --index I [--core C] --heartbeat-fd FD``, with
the server's options as JSON in ``DXPY_SERVE_CONFIG``.  The worker pins
itself to its core (``--pin-workers``), then serves on a fresh dxpy loop exactly as a
single-process ``dxpy serve`` does; its ticker writes the heartbeat.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from ..cores import pin_current
from .config import Config, ConfigError
from .logs import configure
from .server import STARTUP_FAILURE, serve_in_this_process

logger = logging.getLogger("dxpy.serve.error")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dxpy.serve.worker")
    parser.add_argument("--index", type=int, required=True)
    parser.add_argument("--core", type=int)
    parser.add_argument("--heartbeat-fd", type=int, required=True)
    options = parser.parse_args(argv)
    try:
        config = Config.from_json(os.environ["DXPY_SERVE_CONFIG"])
    except (KeyError, ValueError, TypeError, ConfigError) as exc:
        print(f"dxpy.serve.worker: no usable DXPY_SERVE_CONFIG ({exc})", file=sys.stderr)
        return STARTUP_FAILURE
    configure(config)
    if options.core is not None and not pin_current(options.core):
        logger.info("worker %d: could not pin to core %d", options.index, options.core)
    return serve_in_this_process(config, heartbeat_fd=options.heartbeat_fd)


if __name__ == "__main__":
    sys.exit(main())
