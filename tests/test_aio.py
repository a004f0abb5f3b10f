"""``dxpy.aio`` against ``open()``/``os`` on both backends (io_uring ops and the
thread pool): same bytes, positions, cookies and exceptions."""

from __future__ import annotations

import asyncio
import gc
import io
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import dxpy
from dxpy import aio
from tests.conftest import URING_OK, URING_WHY, open_fds

FAST = settings(max_examples=int(os.environ.get("AIO_EXAMPLES", "60")), deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


# ---- the differential machinery -------------------------------------------------------
def _open_under(root: Any) -> list[str]:
    """This process's open fds on files under ``root``: a leak check that
    other tests' loops (closed, their fds released when collected) cannot
    disturb, as a count of all fds can."""
    found = []
    for name in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{name}")
        except OSError:  # the listing's own fd, gone already
            continue
        if target.startswith(str(root)):
            found.append(target)
    return found


def _outcome(call: Any) -> Any:
    try:
        return ("ok", call())
    except Exception as exc:  # noqa: BLE001 - the exception type is the result
        return ("raised", type(exc).__name__)


async def _aoutcome(call: Any) -> Any:
    try:
        return ("ok", await call())
    except Exception as exc:  # noqa: BLE001
        return ("raised", type(exc).__name__)


def _sync_step(f: Any, op: tuple, cookies: list[int]) -> Any:
    name, *args = op
    if name == "readinto":
        buf = bytearray(args[0])
        count = f.readinto(buf)
        return count, bytes(buf[:count or 0])
    if name == "seek_cookie":
        return f.seek(cookies[args[0] % len(cookies)])
    if name == "tell":
        value = f.tell()
        cookies.append(value)
        return value
    if name == "writelines":
        return f.writelines(args[0])
    return getattr(f, name)(*args)


async def _async_step(f: Any, op: tuple, cookies: list[int]) -> Any:
    name, *args = op
    if name == "readinto":
        buf = bytearray(args[0])
        count = await f.readinto(buf)
        return count, bytes(buf[:count or 0])
    if name == "seek_cookie":
        return await f.seek(cookies[args[0] % len(cookies)])
    if name == "tell":
        value = await f.tell()
        cookies.append(value)
        return value
    return await getattr(f, name)(*args)


def _compare(tmp: Path, loop: asyncio.AbstractEventLoop, initial: bytes, mode: str,
             ops: list[tuple], chunk: int | None = None, **kwargs: Any) -> None:
    ours, theirs = tmp / "ours", tmp / "theirs"
    ours.write_bytes(initial)
    theirs.write_bytes(initial)
    expected, sync_cookies = [], [0]
    with open(theirs, mode, **kwargs) as f:
        if chunk:
            f._CHUNK_SIZE = chunk
        for op in ops:
            expected.append(_outcome(lambda: _sync_step(f, op, sync_cookies)))

    async def run() -> list:
        got, cookies = [], [0]
        async with aio.open(ours, mode, **kwargs) as f:
            if chunk:
                f._chunk_size = chunk
            for op in ops:
                got.append(await _aoutcome(lambda: _async_step(f, op, cookies)))
        return got

    got = loop.run_until_complete(run())
    for op, mine, python in zip(ops, got, expected):
        assert mine == python, (op, ops)
    assert ours.read_bytes() == theirs.read_bytes(), ops


sizes = st.one_of(st.none(), st.integers(-1, 40))
binary_ops = st.one_of(
    st.tuples(st.just("read"), sizes),
    st.tuples(st.just("read1"), st.integers(-1, 40)),
    st.tuples(st.just("readline"), sizes),
    st.tuples(st.just("readinto"), st.integers(0, 40)),
    st.tuples(st.just("readlines")),
    st.tuples(st.just("write"), st.binary(max_size=40)),
    st.tuples(st.just("writelines"), st.lists(st.binary(max_size=8), max_size=3)),
    st.tuples(st.just("seek"), st.integers(-10, 120), st.sampled_from([0, 1, 2])),
    st.tuples(st.just("tell")),
    st.tuples(st.just("truncate"), st.one_of(st.none(), st.integers(0, 120))),
    st.tuples(st.just("flush")),
)


@FAST
@given(initial=st.binary(max_size=100), mode=st.sampled_from(["r+b", "w+b", "rb", "wb"]),
       buffering=st.sampled_from([-1, 0, 7, 16]), ops=st.lists(binary_ops, max_size=25))
def test_binary_matches_open(tmp_path: Path, loop: Any, initial: bytes, mode: str,
                             buffering: int, ops: list[tuple]) -> None:
    if buffering == 0:  # FileIO has no read1
        ops = [op for op in ops if op[0] != "read1"]
    # CPython's C BufferedRandom.read1 straight after a buffered write can put
    # the write at a stale raw position (truncate(2), write(b"x"), read1(1) on
    # an empty file gives b"\0x"; _pyio gives b"x\0", as dxpy does): compare
    # the well-defined behaviour by flushing first.
    ops = [step for op in ops for step in ([("flush",), op] if op[0] == "read1" else [op])]
    _compare(tmp_path, loop, initial, mode, ops, buffering=buffering)


text = st.text(alphabet="ab\n\r\u00e9\u20ac", max_size=30)
# No readlines here: TextIOWrapper.readlines iterates with next(), which turns
# tell() off (OSError) and skips snapshots; async iteration keeps tell() working.
text_ops = st.one_of(
    st.tuples(st.just("read"), sizes),
    st.tuples(st.just("readline"), sizes),
    st.tuples(st.just("write"), text),
    st.tuples(st.just("tell")),
    st.tuples(st.just("seek_cookie"), st.integers(0, 50)),
    st.tuples(st.just("seek"), st.just(0), st.sampled_from([1, 2])),
    st.tuples(st.just("truncate")),
    st.tuples(st.just("flush")),
)


@FAST
@given(initial=text, mode=st.sampled_from(["r+", "w+", "r"]),
       encoding=st.sampled_from(["utf-8", "latin-1", "utf-16"]),
       newline=st.sampled_from([None, "", "\n", "\r", "\r\n"]), chunk=st.sampled_from([3, 8, None]),
       ops=st.lists(text_ops, max_size=20))
def test_text_matches_open(tmp_path: Path, loop: Any, initial: str, mode: str, encoding: str,
                           newline: str | None, chunk: int | None, ops: list[tuple]) -> None:
    data = initial.encode(encoding, errors="replace")
    # The C TextIOWrapper keeps written text in a pending buffer that a
    # following read does not see (file "a": write("a"), read(1) gives "a" from
    # beneath the write); C stdio has the same rule: flush between a write
    # and a read.  So the suite flushes after each write.
    ops = [step for op in ops for step in ([op, ("flush",)] if op[0] == "write" else [op])]
    _compare(tmp_path, loop, data, mode, ops, chunk, encoding=encoding, newline=newline)


@pytest.mark.parametrize("mode", ["ab", "a+b", "a", "a+"])
def test_append_mode(tmp_path: Path, backend: str, mode: str) -> None:
    """Append modes are left out of the differential suite: there CPython's C
    BufferedRandom caches a raw position that O_APPEND moves behind its back
    (a+b: truncate(3), read(1), write(b"x"), read() gives b"\\0" and tell()
    5 on a 4-byte file) and _pyio disagrees with it.  The rules that hold:
    every write lands at the end and the position follows it."""
    path = tmp_path / "log"
    path.write_bytes(b"start\n")
    line = b"line\n" if "b" in mode else "line\n"

    async def main() -> None:
        async with aio.open(path, mode) as f:
            assert await f.tell() == 6
            if "+" in mode:
                await f.seek(0)
                assert await f.read(5) in (b"start", "start")
            await f.write(line)
            await f.flush()
            assert await f.tell() == 11
            await f.write(line)
        assert path.read_bytes() == b"start\nline\nline\n"

    dxpy.run(main(), reactor=backend)


def test_iteration_and_context(tmp_path: Path, backend: str) -> None:
    path = tmp_path / "lines.txt"
    path.write_text("one\ntwo\r\nthree")

    async def main() -> list[str]:
        async with aio.open(path) as f:
            return [line async for line in f]

    assert dxpy.run(main(), reactor=backend) == ["one\n", "two\n", "three"]


def test_decode_error_is_unicode_decode_error(tmp_path: Path, backend: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(b"ok \xff\xfe")

    async def main() -> None:
        async with aio.open(path, encoding="utf-8") as f:
            await f.read()

    with pytest.raises(UnicodeDecodeError):
        dxpy.run(main(), reactor=backend)
    assert dxpy.run(aio.read_text(path, errors="replace"), reactor=backend) == "ok \ufffd\ufffd"


# ---- helpers --------------------------------------------------------------------------
def test_helpers_round_trip(tmp_path: Path, backend: str) -> None:
    async def main() -> None:
        assert await aio.write_bytes(tmp_path / "b", b"\x00\x01" * 5000) == 10000
        assert await aio.read_bytes(tmp_path / "b") == b"\x00\x01" * 5000
        assert await aio.write_text(tmp_path / "t", "h\u00e9\nx", encoding="latin-1") == 4
        assert await aio.read_text(tmp_path / "t", encoding="latin-1") == "h\u00e9\nx"
        assert (await aio.stat(tmp_path / "b")).st_size == os.stat(tmp_path / "b").st_size
        assert await aio.copy(tmp_path / "b", tmp_path / "c") == 10000
        assert (tmp_path / "c").read_bytes() == (tmp_path / "b").read_bytes()
        async with aio.open(tmp_path / "b", "r+b") as f:
            await f.seek(3)
            await f.write(b"zz")
            await f.fsync()
        assert (tmp_path / "b").read_bytes()[:6] == b"\x00\x01\x00zz\x01"

    dxpy.run(main(), reactor=backend)


def test_read_many_matches_one_by_one(tmp_path: Path, backend: str) -> None:
    paths = []
    for i in range(2000):
        path = tmp_path / f"f{i}"
        path.write_bytes(os.urandom(i % 300) * (1 + i % 50))
        paths.append(path)
    got = dxpy.run(aio.read_many(paths), reactor=backend)
    assert got == [path.read_bytes() for path in paths]
    assert _open_under(tmp_path) == []


def test_read_many_errors_in_place(tmp_path: Path, backend: str) -> None:
    (tmp_path / "ok").write_bytes(b"fine")
    paths = [tmp_path / "ok", tmp_path / "missing", tmp_path, str(tmp_path / "ok")]
    got = dxpy.run(aio.read_many(paths, return_exceptions=True), reactor=backend)
    assert got[0] == got[3] == b"fine"
    assert isinstance(got[1], FileNotFoundError) and str(got[1].filename) == str(tmp_path / "missing")
    assert isinstance(got[2], IsADirectoryError) and str(got[2].filename) == str(tmp_path)
    with pytest.raises(FileNotFoundError, match="missing"):
        dxpy.run(aio.read_many(paths), reactor=backend)


def test_read_many_around_the_batch_slot_size(tmp_path: Path, backend: str,
                                              monkeypatch: Any) -> None:
    """io_uring reads each file into a fixed slot in one batch; files larger
    than the slot (shrunk here) are read again the per-op way, and files of
    other kinds (/proc: size 0, content anyway) come out whole too."""
    from dxpy.aio import _whole

    monkeypatch.setattr(_whole, "SLOT", 100)
    monkeypatch.setattr(_whole, "BATCH_WINDOW", 7)
    paths: list[Any] = []
    for size in (0, 1, 99, 100, 101, 200, 5000, 100, 3):
        paths.append(tmp_path / f"s{size}-{len(paths)}")
        paths[-1].write_bytes(os.urandom(size))
    paths += ["/proc/version", tmp_path / "missing", tmp_path, paths[3]]
    got = dxpy.run(aio.read_many(paths, return_exceptions=True), reactor=backend)
    assert got[:9] + got[9:10] + got[12:] == [Path(p).read_bytes() for p in paths[:10]] + \
        [paths[3].read_bytes()]
    assert isinstance(got[10], FileNotFoundError) and isinstance(got[11], IsADirectoryError)
    assert _open_under(tmp_path) == [] and _open_under("/proc/version") == []


@pytest.mark.skipif(not URING_OK, reason=f"io_uring unavailable: {URING_WHY}")
def test_read_many_without_batch_support(tmp_path: Path, monkeypatch: Any) -> None:
    """When the reactor refuses a batch (no free registered slots), every
    file goes the per-op way with the same results."""
    from dxpy.reactor import ReactorError, uring

    def refuse(*args: Any) -> None:
        raise ReactorError(24, "no slots")

    monkeypatch.setattr(uring.IoUringReactor, "read_files", refuse)
    paths = []
    for i in range(50):
        paths.append(tmp_path / f"f{i}")
        paths[-1].write_bytes(os.urandom(i * 10))
    assert dxpy.run(aio.read_many(paths), reactor="uring") == [p.read_bytes() for p in paths]


def test_large_file_over_the_per_op_cap(tmp_path: Path, backend: str, monkeypatch: Any) -> None:
    """Reads and writes larger than one operation may move loop correctly
    (the cap is shrunk so that this runs on a small file)."""
    from dxpy.aio import _binary, _ops, _whole

    for module in (_binary, _ops, _whole):
        monkeypatch.setattr(module, "MAX_IO", 4096)
    data = os.urandom(3 * 4096 + 123)

    async def main() -> None:
        await aio.write_bytes(tmp_path / "big", data)
        assert await aio.read_bytes(tmp_path / "big") == data
        async with aio.open(tmp_path / "big", "rb", buffering=1024) as f:
            assert await f.read(len(data) - 5) == data[:-5]
            buf = bytearray(100)
            assert await f.readinto(buf) == 5

    dxpy.run(main(), reactor=backend)
    assert (tmp_path / "big").read_bytes() == data


def test_real_file_over_4_gib(tmp_path: Path, backend: str) -> None:
    """A sparse 4.5 GiB file: writes and reads at offsets past 2**31 and 2**32
    land where ``open()`` puts them, and a read across the 2 GiB boundary
    returns every byte.  (A single read larger than one operation may move is
    covered by ``test_large_file_over_the_per_op_cap``: a real one first makes
    the kernel allocate 2 GiB of page cache for the holes, ~5 s.)"""
    path = tmp_path / "huge"
    marks = {(1 << 31) - 3: b"across-2GiB", (1 << 32) + 7: b"past-4GiB", (9 << 29) - 4: b"end!"}
    span_start, span = (1 << 31) - (4 << 20), 8 << 20

    async def main() -> None:
        async with aio.open(path, "wb") as f:
            for offset, mark in marks.items():
                assert await f.seek(offset) == offset
                await f.write(mark)
        async with aio.open(path, "rb") as f:
            for offset, mark in marks.items():
                assert await f.seek(offset) == offset
                assert await f.read(len(mark)) == mark
                assert await f.tell() == offset + len(mark)
            await f.seek(span_start)
            data = await f.read(span)
            mark_at = (1 << 31) - 3 - span_start
            assert data == bytes(mark_at) + marks[(1 << 31) - 3] + bytes(span - mark_at - 11)

    dxpy.run(main(), reactor=backend)
    assert path.stat().st_size == (9 << 29)
    with open(path, "rb") as f:
        for offset, mark in marks.items():
            f.seek(offset)
            assert f.read(len(mark)) == mark


# ---- errors ---------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["r", "rb", "r+"])
def test_open_errors_match_open(tmp_path: Path, backend: str, mode: str) -> None:
    locked = tmp_path / "locked"
    locked.write_text("x")
    locked.chmod(0)
    cases = [tmp_path / "missing", tmp_path]
    if os.geteuid() != 0:
        cases.append(locked)
    for path in cases:
        with pytest.raises(OSError) as theirs:
            open(path, mode)
        with pytest.raises(OSError) as ours:
            dxpy.run(_open_and_close(path, mode), reactor=backend)
        assert type(ours.value) is type(theirs.value)
        assert str(ours.value) == str(theirs.value)
        assert str(path) in str(ours.value)


async def _open_and_close(path: Any, mode: str) -> None:
    f = await aio.open(path, mode)
    await f.close()


@pytest.mark.parametrize("mode, error", [("rw", "must have exactly one"), ("q", "invalid mode"),
                                         ("rbt", "text and binary")])
def test_bad_modes(tmp_path: Path, backend: str, mode: str, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        dxpy.run(_open_and_close(tmp_path / "x", mode), reactor=backend)


def test_closed_file_raises_value_error(tmp_path: Path, backend: str) -> None:
    (tmp_path / "x").write_bytes(b"abc")

    async def main() -> None:
        for mode in ("rb", "r"):
            f = await aio.open(tmp_path / "x", mode)
            await f.close()
            await f.close()  # idempotent, as for open()
            for call in (f.read, f.readline, f.tell):
                with pytest.raises(ValueError, match="closed file"):
                    await call()
            with pytest.raises(ValueError, match="x"):
                await f.seek(0)

    dxpy.run(main(), reactor=backend)


def test_unsupported_directions(tmp_path: Path, backend: str) -> None:
    async def main() -> None:
        async with aio.open(tmp_path / "w", "w") as f:
            with pytest.raises(io.UnsupportedOperation):
                await f.read()
        async with aio.open(tmp_path / "w", "rb") as f:
            with pytest.raises(io.UnsupportedOperation):
                await f.write(b"x")

    dxpy.run(main(), reactor=backend)


# ---- cancellation ------------------------------------------------------------------------
def test_cancellation_leaks_no_fd(tmp_path: Path, backend: str) -> None:
    paths = []
    for i in range(300):
        paths.append(tmp_path / f"c{i}")
        paths[-1].write_bytes(b"x" * 5000)

    async def cancel_after(coro: Any, iterations: int) -> None:
        task = asyncio.ensure_future(coro)
        for _ in range(iterations):
            await asyncio.sleep(0)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass

    async def reader(path: Path) -> None:
        async with aio.open(path, "rb", buffering=100) as f:
            while await f.read(100):
                pass

    async def writer(path: Path) -> None:
        async with aio.open(path, "wb", buffering=0) as f:
            for _ in range(50):
                await f.write(b"y" * 100)

    async def main() -> None:
        gc.collect()  # closed loops of earlier tests release fds when collected
        before = open_fds()
        for iterations in range(8):
            await cancel_after(aio.read_many(paths), iterations)
            await cancel_after(asyncio.gather(*(reader(p) for p in paths[:20])), iterations)
            await cancel_after(writer(tmp_path / "w"), iterations)
            await cancel_after(aio.read_bytes(paths[0]), iterations)
        await asyncio.sleep(0.2)  # pool calls that outlived their callers finish
        await asyncio.sleep(0)
        assert open_fds() == before

    dxpy.run(main(), reactor=backend)


def test_cancelled_write_is_not_reported_complete(tmp_path: Path, backend: str) -> None:
    """A write either returns (all bytes in) or raises CancelledError; the
    position only moves for writes that returned."""
    async def main() -> None:
        async with aio.open(tmp_path / "w", "wb", buffering=0) as f:
            completed = 0
            for _ in range(20):
                task = asyncio.ensure_future(f.write(b"z" * 4096))
                await asyncio.sleep(0)
                task.cancel()
                try:
                    await task
                    completed += 1
                except asyncio.CancelledError:
                    pass
            assert await f.tell() == completed * 4096

    dxpy.run(main(), reactor=backend)


def test_info_reports_file_io() -> None:
    from dxpy.cli import info

    assert "file I/O: " in info()



def test_fresh_bytes_is_a_new_object_filled_through_its_view() -> None:
    from dxpy.aio._fresh import fresh_bytes

    data, view = fresh_bytes(5)
    view[:] = b"hello"
    assert data == b"hello" and type(data) is bytes and not view.readonly
    other, _ = fresh_bytes(5)
    assert other is not data
    with pytest.raises(ValueError, match="positive size"):
        fresh_bytes(0)
