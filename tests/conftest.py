"""Shared fixtures: every loop test runs on BOTH reactor backends.

``backend`` is parametrised over "uring" and "epoll"; the uring case is
skipped (with the reason in the report) only where io_uring cannot run.  The
header of every pytest run says which backends this machine exercised.
"""

from __future__ import annotations

import asyncio
import gc
import os
from typing import Callable, Iterator

import pytest

import dxpy
from dxpy.reactor import uring_status

URING_OK, URING_WHY = uring_status()
BACKENDS = ["uring", "epoll"]


def pytest_report_header(config: pytest.Config) -> str:
    state = "io_uring: available" if URING_OK else f"io_uring: UNAVAILABLE ({URING_WHY})"
    return f"dxpy reactor backends under test: {', '.join(BACKENDS)}; {state}"


@pytest.fixture(params=[
    pytest.param("uring", marks=pytest.mark.skipif(
        not URING_OK, reason=f"io_uring unavailable here: {URING_WHY}")),
    "epoll",
])
def backend(request: pytest.FixtureRequest) -> str:
    """The reactor backend name; uring is skipped where the kernel refuses it."""
    return request.param


@pytest.fixture
def loop(backend: str) -> Iterator[dxpy.Loop]:
    """A fresh dxpy loop, set as current, closed (and checked) afterwards."""
    loop = dxpy.new_event_loop(backend)
    asyncio.set_event_loop(loop)
    try:
        yield loop
    finally:
        if not loop.is_closed():
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
        asyncio.set_event_loop(None)
        gc.collect()


async def eventually(condition: Callable[[], object], timeout: float = 5.0) -> None:
    """Poll ``condition`` on the running loop until it holds or ``timeout``
    passes (the caller's assertions then say what did not happen)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition() and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.01)


def open_fds() -> int:
    """How many file descriptors this process holds right now."""
    return len(os.listdir("/proc/self/fd"))
