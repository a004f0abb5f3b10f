"""The user-facing entry points: ``Policy``, ``new_event_loop``, ``run``, ``install``.

These mirror uvloop's so that switching is a one-line change.  The policy
subclasses asyncio's default Unix policy, so child-watcher and thread
semantics stay asyncio's; only the loop class differs.
"""

from __future__ import annotations

import asyncio
from typing import Any, Coroutine, TypeVar

from .loop import Loop

T = TypeVar("T")


def new_event_loop(reactor: str | None = None, *, core: str | None = None) -> Loop:
    """Return a new dxpy loop (``reactor``: "uring", "epoll" or None = best;
    ``core``: "compiled", "python" or None = ``$DXPY_CORE`` or the best built)."""
    return Loop(reactor, core=core)


class Policy(asyncio.DefaultEventLoopPolicy):
    """Event loop policy whose loops are ``dxpy.Loop``."""

    def __init__(self, reactor: str | None = None, *, core: str | None = None) -> None:
        super().__init__()
        self._reactor_name = reactor
        self._core_name = core

    def new_event_loop(self) -> Loop:
        return Loop(self._reactor_name, core=self._core_name)


def install(reactor: str | None = None, *, core: str | None = None) -> None:
    """Make dxpy the event loop policy of this process."""
    asyncio.set_event_loop_policy(Policy(reactor, core=core))


def run(main: Coroutine[Any, Any, T], *, debug: bool | None = None,
        reactor: str | None = None, core: str | None = None) -> T:
    """Run ``main`` to completion on a fresh dxpy loop (like ``asyncio.run``)."""
    with asyncio.Runner(debug=debug, loop_factory=lambda: Loop(reactor, core=core)) as runner:
        return runner.run(main)
