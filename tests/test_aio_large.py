"""Large reads (``dxpy/aio/_large.py``) on both backends: requests split into
parts in flight together, read-ahead of equal sequential reads, ``read()``
sized by ``fstat`` with its EOF probe, offsets past 2 GiB and 4 GiB (sparse
files), and cancellation of reads in flight.

The part and read-ahead thresholds are shrunk for most tests so that small
files take every path (``small_parts``); the > 4 GiB tests use real sizes
where the sizes matter (offsets), shrunk parts where the count does.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import dxpy
from dxpy import aio
from dxpy.aio import _binary, _large
from dxpy.aio._fresh import fresh_bytes

FAST = settings(max_examples=int(os.environ.get("AIO_EXAMPLES", "40")), deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


@pytest.fixture
def small_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Parts of 4-8 KiB, read-ahead below 16 KiB: every path on small files."""
    monkeypatch.setattr(_large, "MIN_PART", 8192)
    monkeypatch.setattr(_large, "_ALIGN", 4096)
    monkeypatch.setattr(_large, "AHEAD_BYTES", 32768)
    monkeypatch.setattr(_binary, "AHEAD_BELOW", 16384)


READS = st.lists(st.one_of(
    st.tuples(st.just("read"), st.integers(5000, 70000)),
    st.tuples(st.just("read"), st.sampled_from([6000, 6000, 6000, 12000, 12000])),
    st.tuples(st.just("readinto"), st.integers(5000, 70000)),
    st.tuples(st.just("seek"), st.integers(0, 200000)),
    st.tuples(st.just("read_all")),
    st.tuples(st.just("tell")),
), min_size=1, max_size=14)


def _sync(f: Any, op: tuple) -> Any:
    name, *args = op
    if name == "readinto":
        buf = bytearray(args[0])
        count = f.readinto(buf)
        return count, bytes(buf[:count])
    if name == "read_all":
        return f.read()
    return getattr(f, name)(*args)


async def _async(f: Any, op: tuple) -> Any:
    name, *args = op
    if name == "readinto":
        buf = bytearray(args[0])
        count = await f.readinto(buf)
        return count, bytes(buf[:count])
    if name == "read_all":
        return await f.read()
    return await getattr(f, name)(*args)


#: The page-cache copy of a direct read: the C call, and the Python path a
#: build without a C compiler takes (both must give the same results).
PAGECACHE = [pytest.param(_large.fresh_cached, id="page-cache-c", marks=pytest.mark.skipif(
                 _large.fresh_cached is _large.fresh_cached_py,
                 reason="dxpy.aio._pagecache not built (no C compiler at install)")),
             pytest.param(_large.fresh_cached_py, id="page-cache-py")]


def _fresh_from(cached: Any) -> Any:
    """A ``fresh_cached`` whose page-cache copy is ``cached(fd, view, offset)``."""
    def fresh(fd: int, size: int, offset: int) -> tuple[bytes, int]:
        data, view = fresh_bytes(size)
        return data, cached(fd, view, offset)
    return fresh


@FAST
@pytest.mark.parametrize("inline_max,fresh", [
    pytest.param(0, _large.fresh_cached_py, id="operations"),
    *[pytest.param(40000, *p.values, id=p.id, marks=p.marks) for p in PAGECACHE]])
@given(size=st.integers(0, 150000), ops=READS, buffering=st.sampled_from([-1, 4096, 1000]))
def test_large_reads_match_open(tmp_path: Path, backend: str, small_parts: None,
                                monkeypatch: pytest.MonkeyPatch, inline_max: int, fresh: Any,
                                size: int, ops: list[tuple], buffering: int) -> None:
    """``operations``: no direct read is copied from the page cache on the
    loop's thread, so the parts and read-ahead paths serve them all."""
    monkeypatch.setattr(_binary, "INLINE_MAX", inline_max)
    monkeypatch.setattr(_binary, "fresh_cached", fresh)
    path = tmp_path / "f"
    path.write_bytes(os.urandom(size))
    with open(path, "rb", buffering=buffering) as f:
        expected = [_sync(f, op) for op in ops]

    async def run() -> list:
        async with aio.open(path, "rb", buffering=buffering) as f:
            return [await _async(f, op) for op in ops]

    assert dxpy.run(run(), reactor=backend) == expected


def test_read_ahead_never_serves_stale_bytes_after_a_write(tmp_path: Path, backend: str,
                                                           small_parts: None) -> None:
    path = tmp_path / "f"
    path.write_bytes(bytes(100000))

    async def run() -> None:
        async with aio.open(path, "r+b", buffering=0) as f:
            assert await f.read(6000) == bytes(6000)
            assert await f.read(6000) == bytes(6000)  # read-ahead starts here
            assert await f.read(6000) == bytes(6000)
            await f.seek(24000)
            await f.write(b"\xff" * 6000)
            await f.seek(18000)
            assert await f.read(6000) == bytes(6000)
            assert await f.read(6000) == b"\xff" * 6000

    dxpy.run(run(), reactor=backend)


@pytest.mark.parametrize("change", [-5000, 3000])
def test_read_all_when_the_file_size_changed(tmp_path: Path, backend: str, small_parts: None,
                                             monkeypatch: pytest.MonkeyPatch,
                                             change: int) -> None:
    """``read()`` sizes its result by ``fstat``; a file that grew (the probe
    finds data) or shrank (a part comes back short) still reads exactly."""
    path = tmp_path / "f"
    data = os.urandom(60000)
    path.write_bytes(data)
    real_fstat = os.fstat

    def stale_fstat(fd: int) -> os.stat_result:
        info = list(real_fstat(fd))
        info[6] += change  # st_size as it was "a moment ago"
        return os.stat_result(info)

    async def run() -> bytes:
        async with aio.open(path, "rb") as f:
            monkeypatch.setattr(_binary.os, "fstat", stale_fstat)
            try:
                return await f.read()
            finally:
                monkeypatch.setattr(_binary.os, "fstat", real_fstat)

    assert dxpy.run(run(), reactor=backend) == data


def test_split_covers_the_request_with_aligned_parts() -> None:
    for size in (1, (8 << 20) - 1, 8 << 20, (64 << 20) + 5, 1 << 30, (5 << 30) + 17):
        parts = _large.split(size)
        assert parts[0][0] == 0 and parts[-1][1] == size
        assert all(a[1] == b[0] for a, b in zip(parts, parts[1:]))
        assert len(parts) <= _large.MAX_PARTS
        assert all(b - a <= _large.MAX_IO for a, b in parts)
        assert all(a % (2 << 20) == 0 for a, _ in parts)


# ---- past 2 GiB and 4 GiB -------------------------------------------------------------
def test_large_requests_across_the_2_and_4_gib_boundaries(tmp_path: Path, backend: str,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Sparse 4 GiB + 1 MiB file: multi-part reads and readinto spanning
    2**31 and 2**32, a multi-part write across 2**32, seek/tell from the end,
    and a read that runs into EOF past 4 GiB (short, then empty)."""
    monkeypatch.setattr(_large, "MIN_PART", 64 << 10)
    monkeypatch.setattr(_large, "_ALIGN", 4096)
    path = tmp_path / "sparse"
    size = (1 << 32) + (1 << 20)
    with open(path, "wb") as f:
        f.truncate(size)
    span = 512 << 10
    payload = os.urandom(span)

    async def run() -> None:
        async with aio.open(path, "r+b") as f:
            for boundary in (1 << 31, 1 << 32):
                await f.seek(boundary - span // 2)
                await f.write(payload)
                assert await f.tell() == boundary + span // 2
            for boundary in (1 << 31, 1 << 32):
                assert await f.seek(boundary - span // 2) == boundary - span // 2
                assert await f.read(span) == payload
                await f.seek(boundary - span // 2)
                buf = bytearray(span)
                assert await f.readinto(buf) == span and bytes(buf) == payload
            assert await f.seek(-100, os.SEEK_END) == size - 100
            assert await f.read(span) == bytes(100)
            assert await f.read(span) == b""
            assert await f.tell() == size
            await f.seek((1 << 32) + (1 << 19))
            assert await f.read() == bytes(1 << 19)

    dxpy.run(run(), reactor=backend)
    with open(path, "rb") as f:
        for boundary in (1 << 31, 1 << 32):
            f.seek(boundary - span // 2)
            assert f.read(span) == payload


# ---- cancellation -----------------------------------------------------------------------
def test_cancelled_large_reads_leave_position_and_no_operation(tmp_path: Path, backend: str,
                                                               small_parts: None) -> None:
    path = tmp_path / "f"
    data = os.urandom(400000)
    path.write_bytes(data)

    async def run() -> None:
        loop = asyncio.get_running_loop()
        async with aio.open(path, "rb", buffering=0) as f:
            await f.seek(1000)
            baseline = loop.reactor.pending
            for iterations in range(6):
                for call in (lambda: f.read(300000), lambda: f.readinto(bytearray(300000)),
                             lambda: f.read(), lambda: f.read(6000)):
                    before = await f.tell()
                    task = asyncio.ensure_future(call())
                    for _ in range(iterations):
                        await asyncio.sleep(0)
                    task.cancel()
                    try:
                        result = await task
                    except asyncio.CancelledError:
                        assert await f.tell() == before  # cancelled: nothing consumed
                    else:
                        moved = len(result) if isinstance(result, bytes) else result
                        assert await f.tell() == before + moved
                    await f.seek(1000)
            await f.seek(1000)
            assert await f.read(5000) == data[1000:6000]
            for _ in range(50):  # abandoned reads finish in the kernel, then are forgotten
                if loop.reactor.pending <= baseline:
                    break
                await asyncio.sleep(0.01)
            assert loop.reactor.pending <= baseline

    dxpy.run(run(), reactor=backend)


def test_short_reads_in_the_middle_are_continued(tmp_path: Path, small_parts: None) -> None:
    """Every raw read returning at most 1000 bytes (as a FUSE or network file
    system may): multi-part reads, read-ahead and ``read()`` still return
    every byte, in order."""
    from dxpy.aio._ops import ThreadOps
    from dxpy.aio._open import open_file

    class ShortReads(ThreadOps):
        async def pread(self, fd: int, view: memoryview, offset: int) -> int:
            return await super().pread(fd, view[:1000], offset)

    path = tmp_path / "f"
    data = os.urandom(90000)
    path.write_bytes(data)

    async def run() -> None:
        async with await open_file(path, "rb", buffering=0, ops=ShortReads()) as f:
            assert await f.read(40000) == data[:40000]
            assert [await f.read(6000) for _ in range(3)] == [
                data[40000 + i * 6000:46000 + i * 6000] for i in range(3)]
            buf = bytearray(20000)
            assert await f.readinto(buf) == 20000 and bytes(buf) == data[58000:78000]
            assert await f.read() == data[78000:]

    dxpy.run(run(), reactor="epoll")


def _half_cached(fd: int, view: memoryview, offset: int) -> int:
    """``read_cached`` as if only the first half of the range were cached."""
    return os.preadv(fd, (view[:len(view) // 2],), offset)


@pytest.mark.parametrize("cached", [_half_cached, lambda fd, view, offset: 0],
                         ids=["half", "none"])
def test_reads_partly_or_not_in_the_page_cache(tmp_path: Path, backend: str,
                                               monkeypatch: pytest.MonkeyPatch,
                                               cached: Any) -> None:
    """What the page cache did not give is read by operations, after it."""
    monkeypatch.setattr(_binary, "read_cached", cached)
    monkeypatch.setattr(_binary, "fresh_cached", _fresh_from(cached))
    data = os.urandom(600_000)
    (tmp_path / "f").write_bytes(data)

    async def run() -> tuple:
        async with aio.open(tmp_path / "f", "rb") as f:
            chunks = [await f.read(200_000) for _ in range(4)]
            await f.seek(1000)
            buf = bytearray(300_000)
            count = await f.readinto(buf)
            return chunks, count, bytes(buf), await f.tell()

    chunks, count, buf, where = dxpy.run(run(), reactor=backend)
    assert chunks == [data[:200_000], data[200_000:400_000], data[400_000:], b""]
    assert (count, buf, where) == (300_000, data[1000:301_000], 301_000)


@pytest.mark.parametrize("fresh", PAGECACHE)
def test_dropped_pages_are_read_from_the_disk(tmp_path: Path, backend: str, fresh: Any,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The middle of the file dropped from the page cache (a real partial
    ``RWF_NOWAIT`` read where the filesystem drops clean pages)."""
    monkeypatch.setattr(_binary, "fresh_cached", fresh)
    data = os.urandom(1 << 20)
    path = tmp_path / "f"
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
        os.posix_fadvise(f.fileno(), 256 << 10, 512 << 10, os.POSIX_FADV_DONTNEED)

    async def run() -> list[bytes]:
        async with aio.open(path, "rb") as f:
            return [await f.read(384 << 10) for _ in range(3)]

    assert b"".join(dxpy.run(run(), reactor=backend)) == data


def test_a_file_refusing_page_cache_reads_uses_operations(tmp_path: Path, backend: str,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real_preadv = os.preadv

    def refuse(fd: int, buffers: Any, offset: int, flags: int = 0) -> int:
        if not flags:  # the thread pool's own reads
            return real_preadv(fd, buffers, offset)
        calls.append(flags)
        raise OSError(95, "Operation not supported")  # EOPNOTSUPP

    data = os.urandom(300_000)
    (tmp_path / "f").write_bytes(data)
    monkeypatch.setattr(_binary, "fresh_cached", _large.fresh_cached_py)

    async def run() -> list[bytes]:
        async with aio.open(tmp_path / "f", "rb") as f:
            monkeypatch.setattr(os, "preadv", refuse)
            return [await f.read(100_000) for _ in range(3)]

    assert b"".join(dxpy.run(run(), reactor=backend)) == data
    assert calls == [_large._RWF_NOWAIT]  # refused once: never tried again on that file


@pytest.mark.skipif(_large.fresh_cached is _large.fresh_cached_py,
                    reason="dxpy.aio._pagecache not built (no C compiler at install)")
def test_the_c_page_cache_read(tmp_path: Path) -> None:
    """``pread_cached``: the bytes at the offset, short at EOF, 0 past it, -1
    for a file that refuses ``RWF_NOWAIT`` (a pipe), errors for bad arguments."""
    data = os.urandom(10_000)
    (tmp_path / "f").write_bytes(data)
    fd = os.open(tmp_path / "f", os.O_RDONLY)
    read, write = os.pipe()
    try:
        assert _large.fresh_cached(fd, 4000, 1000) == (data[1000:5000], 4000)
        got, count = _large.fresh_cached(fd, 4000, 8000)
        assert (len(got), count, got[:count]) == (4000, 2000, data[8000:])
        assert _large.fresh_cached(fd, 10, 1 << 33)[1] == 0
        assert _large.fresh_cached(read, 10, 0)[1] == -1
        for bad in ((fd, 0, 0), (fd, 10, -1), (-1, 10, 0)):
            with pytest.raises(ValueError):
                _large.fresh_cached(*bad)
        with pytest.raises(TypeError):
            _large.fresh_cached(fd, 10)
    finally:
        for each in (fd, read, write):
            os.close(each)


def test_a_refusal_of_the_c_page_cache_read_is_not_asked_again(
        tmp_path: Path, backend: str, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def refusing(fd: int, size: int, offset: int) -> tuple[bytes, int]:
        calls.append(offset)
        return fresh_bytes(size)[0], -1

    data = os.urandom(300_000)
    (tmp_path / "f").write_bytes(data)
    monkeypatch.setattr(_binary, "fresh_cached", refusing)

    async def run() -> list[bytes]:
        async with aio.open(tmp_path / "f", "rb") as f:
            return [await f.read(100_000) for _ in range(4)]

    assert b"".join(dxpy.run(run(), reactor=backend)) == data
    assert calls == [0]
