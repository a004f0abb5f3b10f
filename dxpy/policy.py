"""The user-facing entry points: ``Policy``, ``new_event_loop``, ``run``, ``install``.

These mirror uvloop's so that switching is a one-line change.  The policy
subclasses asyncio's default Unix policy, so child-watcher and thread
semantics stay asyncio's; only the loop class differs.

Why ``dxpy.loop`` is imported by ``_new_loop`` and not at the top: ``dxpy
run`` installs the policy the moment the program imports asyncio, and many
programs (or their libraries) import asyncio without ever running a loop;
the loop layer (reactor, transports, the compiled core: ~10 ms of imports)
is paid for by the first loop instead.
"""

from __future__ import annotations

import asyncio
from typing import Any, Coroutine, TypeVar

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .loop import Loop

T = TypeVar("T")


def _new_loop(reactor: str | None, core: str | None) -> Loop:
    from .loop import Loop

    return Loop(reactor, core=core)


def new_event_loop(reactor: str | None = None, *, core: str | None = None) -> Loop:
    """Return a new dxpy loop (``reactor``: "uring", "epoll" or None = best;
    ``core``: "compiled", "python" or None = ``$DXPY_CORE`` or the best built)."""
    return _new_loop(reactor, core)


class Policy(asyncio.DefaultEventLoopPolicy):
    """Event loop policy whose loops are ``dxpy.Loop``."""

    def __init__(self, reactor: str | None = None, *, core: str | None = None) -> None:
        super().__init__()
        self._reactor_name = reactor
        self._core_name = core

    def new_event_loop(self) -> Loop:
        return _new_loop(self._reactor_name, self._core_name)


def install(reactor: str | None = None, *, core: str | None = None) -> None:
    """Make dxpy the event loop policy of this process."""
    asyncio.set_event_loop_policy(Policy(reactor, core=core))


def run(main: Coroutine[Any, Any, T], *, debug: bool | None = None,
        reactor: str | None = None, core: str | None = None) -> T:
    """Run ``main`` to completion on a fresh dxpy loop (like ``asyncio.run``)."""
    with asyncio.Runner(debug=debug, loop_factory=lambda: _new_loop(reactor, core)) as runner:
        return runner.run(main)
