"""Shared fixtures: every loop test runs on BOTH reactor backends and BOTH loop cores.

``backend`` is parametrised over "uring" and "epoll" and, for loop tests,
over the loop cores ("compiled", "python"; test ids ``uring-compiled`` ...):
the fixture sets ``DXPY_CORE`` for the test, so every loop it makes
(``dxpy.new_event_loop``, ``dxpy.run``, ``dxpy run`` subprocesses) runs that
core.  Modules that test reactors alone set ``REACTOR_ONLY = True`` and get
the backends only.  The uring case is skipped (with the reason in the
report) only where io_uring cannot run; the compiled core only where it was
not built.  The header of every pytest run says what this machine exercised.
"""

from __future__ import annotations

import asyncio
import gc
import os
from typing import Any, Callable, Iterator

import pytest

import dxpy
from dxpy.core import compiled_status
from dxpy.reactor import uring_status

URING_OK, URING_WHY = uring_status()
COMPILED_OK, COMPILED_WHY = compiled_status()
BACKENDS = ["uring", "epoll"]
CORES = ["compiled", "python"]


def pytest_report_header(config: pytest.Config) -> str:
    state = "io_uring: available" if URING_OK else f"io_uring: UNAVAILABLE ({URING_WHY})"
    core = ("compiled core: built" if COMPILED_OK
            else f"compiled core: UNAVAILABLE ({COMPILED_WHY})")
    return (f"dxpy reactor backends under test: {', '.join(BACKENDS)}; {state}; "
            f"loop cores: {', '.join(CORES)}; {core}")


def _param(value: tuple[str, str | None], name: str, core: str | None) -> Any:
    marks = []
    if name == "uring":
        marks.append(pytest.mark.skipif(not URING_OK, reason=f"io_uring unavailable here: {URING_WHY}"))
    if core == "compiled":
        marks.append(pytest.mark.skipif(not COMPILED_OK, reason=f"compiled core: {COMPILED_WHY}"))
    return pytest.param(value, id=name if core is None else f"{name}-{core}", marks=marks)


def _loop_params(names: list[str], reactor_only: bool) -> list[Any]:
    return [_param((name, core), name, core) for name in names
            for core in ([None] if reactor_only or name == "asyncio" else CORES)]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """``backend`` (and ``loop_kind``) over reactors x loop cores (see module doc)."""
    reactor_only = getattr(metafunc.module, "REACTOR_ONLY", False)
    if "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", _loop_params(BACKENDS, reactor_only), indirect=True)
    if "loop_kind" in metafunc.fixturenames:
        metafunc.parametrize("loop_kind", _loop_params(["asyncio", *BACKENDS], reactor_only),
                             indirect=True)


def _with_core(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    name, core = request.param
    if core is not None:
        monkeypatch.setenv("DXPY_CORE", core)
    return name


@pytest.fixture
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The reactor backend name ("uring" | "epoll"); ``DXPY_CORE`` is set to
    the test's core (see module doc)."""
    return _with_core(request, monkeypatch)


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


@pytest.fixture
def loop_kind(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """'asyncio' (the stdlib's default loop: the reference that conformance
    tests run the same assertions on) or a dxpy reactor backend name (with
    ``DXPY_CORE`` set, as for ``backend``)."""
    return _with_core(request, monkeypatch)


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
