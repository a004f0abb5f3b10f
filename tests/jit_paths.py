"""Run a JIT test module through both call paths: the C dispatcher and the Python one
(what runs when the extension is not built, or with ``DXPY_JIT_DISPATCH=python``)."""

from __future__ import annotations

from typing import Iterator

import pytest

from dxpy.jit import cdispatch

PATHS = ["c", "python"] if cdispatch.available() else ["python"]


@pytest.fixture(autouse=True, params=PATHS)
def dispatch_path(request: pytest.FixtureRequest) -> Iterator[str]:
    """Every test of a module that imports this runs once per available call path."""
    before = cdispatch.enabled()
    cdispatch.set_enabled(request.param == "c")
    try:
        yield request.param
    finally:
        cdispatch.set_enabled(before)
