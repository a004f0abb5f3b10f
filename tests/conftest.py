"""Shared fixtures: every loop test runs on BOTH reactor backends.

``backend`` is parametrised over "uring" and "epoll"; the uring case is
skipped (with the reason in the report) only where io_uring cannot run.  The
header of every pytest run says which backends this machine exercised.
"""

from __future__ import annotations

import asyncio
import gc
import os
from typing import Any, Callable, Iterator

import pytest

import dxpy
from dxpy.reactor import uring_status

URING_OK, URING_WHY = uring_status()
BACKENDS = ["uring", "epoll"]


def pytest_report_header(config: pytest.Config) -> str:
    state = "io_uring: available" if URING_OK else f"io_uring: UNAVAILABLE ({URING_WHY})"
    return f"dxpy reactor backends under test: {', '.join(BACKENDS)}; {state}"


BACKEND_PARAMS = [
    pytest.param("uring", marks=pytest.mark.skipif(
        not URING_OK, reason=f"io_uring unavailable here: {URING_WHY}")),
    "epoll",
]


@pytest.fixture(params=BACKEND_PARAMS)
def backend(request: pytest.FixtureRequest) -> str:
    """The reactor backend name; uring is skipped where the kernel refuses it."""
    return request.param


def _current_until_closed(loop: asyncio.AbstractEventLoop) -> Iterator[Any]:
    """Set ``loop`` as current for one test, then close it (and collect)."""
    asyncio.set_event_loop(loop)
    try:
        yield loop
    finally:
        if not loop.is_closed():
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
        asyncio.set_event_loop(None)
        gc.collect()


@pytest.fixture
def loop(backend: str) -> Iterator[dxpy.Loop]:
    """A fresh dxpy loop, set as current, closed (and checked) afterwards."""
    yield from _current_until_closed(dxpy.new_event_loop(backend))


@pytest.fixture(params=["asyncio", *BACKEND_PARAMS])
def loop_kind(request: pytest.FixtureRequest) -> str:
    """'asyncio' (the stdlib's default loop: the reference that conformance
    tests run the same assertions on) or a dxpy reactor backend name."""
    return request.param


@pytest.fixture
def any_loop(loop_kind: str) -> Iterator[asyncio.AbstractEventLoop]:
    """A fresh loop of ``loop_kind``, set as current, closed afterwards."""
    fresh = asyncio.new_event_loop() if loop_kind == "asyncio" else dxpy.new_event_loop(loop_kind)
    yield from _current_until_closed(fresh)


async def eventually(condition: Callable[[], object], timeout: float = 5.0) -> None:
    """Poll ``condition`` on the running loop until it holds or ``timeout``
    passes (the caller's assertions then say what did not happen)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition() and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.01)


def open_fds() -> int:
    """How many file descriptors this process holds right now."""
    return len(os.listdir("/proc/self/fd"))
