"""Gathered large writes (``dxpy/aio/_gather.py``) on both backends: the same
bytes, positions and errors as ``open()``, what a failed write leaves, the
pause after slow writes, and what is never held (mutable buffers, unbuffered
and append files).  Thresholds are shrunk so that small writes gather."""

from __future__ import annotations

import errno
import os
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import dxpy
from dxpy import aio
from dxpy.aio import _binary, _gather
from tests.test_aio import _compare

FAST = settings(max_examples=int(os.environ.get("AIO_EXAMPLES", "40")), deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


@pytest.fixture
def small_gathers(monkeypatch: pytest.MonkeyPatch) -> None:
    """``bytes`` of 8+ bytes gather, 32 bytes waiting go out; no pause."""
    monkeypatch.setattr(_gather, "GATHER_FROM", 8)
    monkeypatch.setattr(_gather, "GATHER_BYTES", 32)
    monkeypatch.setattr(_binary, "GATHER_BYTES", 32)
    monkeypatch.setattr(_gather, "ENABLED", True)
    monkeypatch.setattr(_gather, "_paused_until", 0)


OPS = st.lists(st.one_of(
    st.tuples(st.just("write"), st.binary(min_size=1, max_size=40)),
    st.tuples(st.just("read"), st.integers(-1, 40)),
    st.tuples(st.just("seek"), st.integers(0, 120), st.sampled_from([0, 1, 2])),
    st.tuples(st.just("tell")),
    st.tuples(st.just("truncate"), st.one_of(st.none(), st.integers(0, 120))),
    st.tuples(st.just("flush")),
), max_size=25)


@FAST
@given(initial=st.binary(max_size=100), mode=st.sampled_from(["r+b", "w+b", "wb"]),
       buffering=st.sampled_from([-1, 7, 16]), ops=OPS)
def test_gathered_writes_match_open(tmp_path: Path, loop: Any, small_gathers: None,
                                    initial: bytes, mode: str, buffering: int,
                                    ops: list[tuple]) -> None:
    _compare(tmp_path, loop, initial, mode, ops, buffering=buffering)


def test_held_bytes_reach_the_file_in_order(tmp_path: Path, backend: str,
                                            small_gathers: None) -> None:
    """Small buffered bytes, gathered bytes and a mutable write keep their
    order; ``tell`` counts what is held; the kernel has it after ``flush``."""
    path = tmp_path / "f"

    async def run() -> tuple[int, bytes, bytes]:
        async with aio.open(path, "wb", buffering=16) as f:
            await f.write(b"ab")
            await f.write(b"c" * 20)  # gathered, after "ab"
            await f.write(b"d")
            await f.write(bytearray(b"e" * 20))  # mutable: everything goes out first
            await f.write(b"f" * 10)
            where = await f.tell()
            before = path.read_bytes()
            await f.flush()
            return where, before, path.read_bytes()

    where, before, after = dxpy.run(run(), reactor=backend)
    expected = b"ab" + b"c" * 20 + b"d" + b"e" * 20 + b"f" * 10
    assert (where, after) == (len(expected), expected)
    assert before == expected[:43]  # the last gathered bytes were still held


def test_mutable_buffers_are_never_held(tmp_path: Path, backend: str,
                                        small_gathers: None) -> None:
    path = tmp_path / "f"

    async def run() -> bytes:
        async with aio.open(path, "wb", buffering=8) as f:
            data = bytearray(b"x" * 24)
            await f.write(data)
            data[:] = b"y" * 24  # after write() returned: must not change the file
        return path.read_bytes()

    assert dxpy.run(run(), reactor=backend) == b"x" * 24


@pytest.mark.parametrize("mode,buffering", [("ab", 16), ("wb", 0)])
def test_append_and_unbuffered_files_write_at_once(tmp_path: Path, backend: str,
                                                   small_gathers: None, mode: str,
                                                   buffering: int) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"start")

    async def run() -> bytes:
        async with aio.open(path, mode, buffering=buffering) as f:
            await f.write(b"z" * 24)
            return path.read_bytes()

    assert dxpy.run(run(), reactor=backend) == (b"start" if mode == "ab" else b"") + b"z" * 24


def test_a_failed_gathered_write_keeps_the_rest(tmp_path: Path, backend: str,
                                                small_gathers: None,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """ENOSPC after part of a gathered write: ``OSError`` naming the file,
    the written part counted, the rest still held and written by the next
    flush (as ``BufferedWriter`` keeps its buffer)."""
    path = tmp_path / "f"
    real = os.pwritev
    failures = [1]

    def part_then_full(fd: int, buffers: list, offset: int, *flags: int) -> int:
        if failures and offset > 0:
            failures.pop()
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(fd, buffers[:1], offset, *flags)  # one chunk per call: short

    async def run() -> tuple[Any, int, bytes]:
        async with aio.open(path, "wb", buffering=8) as f:
            await f.write(b"a" * 20)
            monkeypatch.setattr(os, "pwritev", part_then_full)
            try:
                await f.write(b"b" * 20)  # 40 >= 32 waiting: written (short, then ENOSPC)
            except OSError as exc:
                error = exc
            where = await f.tell()
            await f.flush()
            monkeypatch.setattr(os, "pwritev", real)
        return error, where, path.read_bytes()

    error, where, content = dxpy.run(run(), reactor=backend)
    assert isinstance(error, OSError) and error.errno == errno.ENOSPC
    assert str(error.filename) == str(path)
    assert where == 40 and content == b"a" * 20 + b"b" * 20


@pytest.mark.parametrize("sleeps", [True, False], ids=["slept", "preempted"])
def test_two_slow_gathered_writes_that_slept_pause_gathering(
        tmp_path: Path, backend: str, small_gathers: None, monkeypatch: pytest.MonkeyPatch,
        sleeps: bool) -> None:
    """Slow writes that slept (a voluntary context switch) pause gathering
    after the second; slow ones that did not (preempted) never do."""
    monkeypatch.setattr(_gather, "STALL_NS_PER_MIB", -1)  # every write counts as slow
    monkeypatch.setattr(_gather, "_slow", 0)
    real = os.pwritev

    def sleeping(*args: Any) -> int:
        if sleeps:
            time.sleep(0.001)  # as a write throttled by the kernel sleeps
        return real(*args)

    monkeypatch.setattr(os, "pwritev", sleeping)

    async def run() -> list[bool]:
        async with aio.open(tmp_path / "f", "wb", buffering=8) as f:
            seen = []
            for _ in range(3):
                seen.append(_gather.gathers(b"x" * 20, 20, False))
                await f.write(b"x" * 20)
                await f.write(b"x" * 20)  # 40 >= 32 waiting: one gathered write
            return seen

    assert dxpy.run(run(), reactor=backend) == [True, True, not sleeps]
    assert (tmp_path / "f").read_bytes() == b"x" * 120


def test_remaining_continues_inside_a_chunk() -> None:
    chunks = [b"abc", bytearray(b"defg"), b"hi"]
    assert [bytes(c) for c in _gather.remaining(chunks, 0)] == [b"abc", b"defg", b"hi"]
    assert [bytes(c) for c in _gather.remaining(chunks, 4)] == [b"efg", b"hi"]
    assert [bytes(c) for c in _gather.remaining(chunks, 7)] == [b"hi"]
    assert _gather.remaining(chunks, 9) == []
