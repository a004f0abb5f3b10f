"""Reactors: the only code in dxpy that talks to io_uring or epoll.

``create_reactor()`` picks the best backend available; ``DXPY_REACTOR=uring``
or ``=epoll`` forces one, and a forced backend that cannot start raises
``ReactorError`` instead of silently falling back.
"""

from __future__ import annotations

import os

from .base import (F_MORE, F_TRUNCATED, POLLERR, POLLHUP, POLLIN, POLLOUT, Completion, FileBatch,
                   FileStat, Message, Reactor, ReactorError, error_for)

TYPE_CHECKING = False
if TYPE_CHECKING:
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


def __getattr__(name: str) -> object:
    """``EpollReactor`` is imported when first named: a loop on io_uring never loads
    the epoll backend (its module and its extension)."""
    if name == "EpollReactor":
        from .epoll import EpollReactor

        return EpollReactor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def create_reactor(name: str | None = None) -> Reactor:
    """Return a new reactor: ``name`` or ``$DXPY_REACTOR`` or the best one."""
    choice = (name or os.environ.get("DXPY_REACTOR") or "").strip().lower()
    if choice not in ("", *BACKENDS):
        raise ReactorError(f"unknown reactor backend {choice!r}: expected one of {BACKENDS}")
    if choice == "epoll":
        return _epoll()
    reactor, why = _uring_reactor()
    if reactor is not None:
        return reactor
    if choice == "uring":
        raise ReactorError(f"io_uring reactor requested but unavailable: {why}")
    return _epoll()


def _uring_reactor() -> tuple[Reactor | None, str]:
    """A new io_uring reactor, or None and why not, decided as ``uring_status`` decides
    but on the reactor itself: the status call sets up and tears down a probe ring,
    which here would come right before the real one.  Only when the real ring fails
    is the probe asked: if it starts (the small ring works, this one does not), the
    real ring's error is raised, as when the probe came first."""
    try:
        from . import uring
    except ImportError:  # pragma: no cover - the module always ships
        return None, uring_status()[1]
    if uring.lib is None:
        return None, uring.available()[1]
    try:
        return uring.IoUringReactor(), ""
    except ReactorError:
        ok, why = uring.available()
        if ok:
            raise
        return None, why


def _epoll() -> Reactor:
    from .epoll import EpollReactor

    return EpollReactor()
