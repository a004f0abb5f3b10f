"""Reactors: the only code in dxpy that talks to io_uring or epoll.

``create_reactor()`` picks the best backend available; ``DXPY_REACTOR=uring``
or ``=epoll`` forces one, and a forced backend that cannot start raises
``ReactorError`` instead of silently falling back.
"""

from __future__ import annotations

import os

from .base import (F_MORE, F_TRUNCATED, POLLERR, POLLHUP, POLLIN, POLLOUT, Completion, FileBatch,
                   FileStat, Message, Reactor, ReactorError, error_for)
from .epoll import EpollReactor

__all__ = [
    "F_MORE", "F_TRUNCATED", "POLLERR", "POLLHUP", "POLLIN", "POLLOUT", "Completion",
    "EpollReactor", "FileBatch", "FileStat",
    "Message", "Reactor", "ReactorError", "create_reactor", "error_for", "uring_status",
]

BACKENDS = ("uring", "epoll")


def uring_status() -> tuple[bool, str]:
    """Whether io_uring can be used here, and why (not)."""
    try:
        from .uring import available
    except ImportError as exc:  # pragma: no cover - the module always ships
        return False, f"dxpy.reactor.uring failed to import: {exc}"
    return available()


def create_reactor(name: str | None = None) -> Reactor:
    """Return a new reactor: ``name`` or ``$DXPY_REACTOR`` or the best one."""
    choice = (name or os.environ.get("DXPY_REACTOR") or "").strip().lower()
    if choice not in ("", *BACKENDS):
        raise ReactorError(f"unknown reactor backend {choice!r}: expected one of {BACKENDS}")
    if choice == "epoll":
        return EpollReactor()
    ok, why = uring_status()
    if ok:
        from .uring import IoUringReactor

        return IoUringReactor()
    if choice == "uring":
        raise ReactorError(f"io_uring reactor requested but unavailable: {why}")
    return EpollReactor()
