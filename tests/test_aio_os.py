"""``dxpy.aio.os``, ``dxpy.aio.os.path`` and ``dxpy.aio.tempfile`` against
``os``/``os.path``/``tempfile`` on both backends: the same sequence of calls
on two identical scratch trees gives the same results, the same exception
types with the same ``filename``/``filename2``, and the same final tree."""

from __future__ import annotations

import asyncio
import gc
import os
import stat as stat_module
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import dxpy
from dxpy.aio import _batch, _inline, os as aos
from dxpy.aio import tempfile as atempfile
from tests.conftest import open_fds

FAST = settings(max_examples=int(os.environ.get("AIO_EXAMPLES", "40")), deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

NAMES = ["a", "b", "d", "d/x", "d/e", "d/e/f", "gone", "gone/deeper", "link", "dlink"]


def _scratch(root: Path) -> None:
    """The starting tree: files, a nested directory, a file and a dir symlink."""
    root.mkdir()
    (root / "a").write_bytes(b"alpha")
    (root / "b").write_bytes(b"")
    (root / "d" / "e").mkdir(parents=True)
    (root / "d" / "x").write_bytes(b"x" * 100)
    (root / "link").symlink_to("a")
    (root / "dlink").symlink_to("d")


def _snapshot(root: Path) -> list[tuple]:
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        for name in sorted(dirnames + filenames):
            full = Path(dirpath) / name
            info = full.lstat()
            kind = stat_module.S_IFMT(info.st_mode)
            content = (os.readlink(full) if full.is_symlink()
                       else full.read_bytes() if full.is_file() else None)
            out.append((str(full.relative_to(root)), kind, content))
    return sorted(out)


def _normal(value: Any, root: str) -> Any:
    """Results and errors with the tree root replaced, so both trees compare."""
    if isinstance(value, os.stat_result):
        return ("stat", value.st_mode, value.st_size, value.st_nlink)
    if isinstance(value, str):
        return value.replace(root, "<root>")
    if isinstance(value, list):
        return sorted(_normal(item, root) for item in value)
    return value


def _error(exc: BaseException, root: str) -> tuple:
    names = tuple(_normal(getattr(exc, attr, None), root) for attr in ("filename", "filename2"))
    return ("raised", type(exc).__name__, names)


OPS = st.one_of(
    st.tuples(st.sampled_from(["stat", "lstat", "remove", "unlink", "rmdir", "removedirs",
                               "listdir", "readlink", "exists", "isfile", "isdir", "islink",
                               "lexists", "getsize", "makedirs_ok"]),
              st.sampled_from(NAMES)),
    st.tuples(st.sampled_from(["rename", "replace", "renames", "link", "symlink", "samefile"]),
              st.sampled_from(NAMES), st.sampled_from(NAMES)),
    st.tuples(st.just("mkdir"), st.sampled_from(NAMES), st.sampled_from([0o755, 0o700])),
    st.tuples(st.just("makedirs"), st.sampled_from(NAMES + ["n1/n2/n3"])),
)

_PATH_FUNCS = {"exists", "isfile", "isdir", "islink", "lexists", "getsize", "samefile"}


def _call_sync(root: Path, op: tuple) -> Any:
    name, *args = op
    paths = [str(root / arg) if isinstance(arg, str) else arg for arg in args]
    if name == "makedirs_ok":
        return os.makedirs(paths[0], exist_ok=True)
    if name == "symlink":
        return os.symlink(args[0], paths[1])
    if name in _PATH_FUNCS:
        return getattr(os.path, name)(*paths)
    return getattr(os, name)(*paths)


async def _call_async(root: Path, op: tuple) -> Any:
    name, *args = op
    paths = [str(root / arg) if isinstance(arg, str) else arg for arg in args]
    if name == "makedirs_ok":
        return await aos.makedirs(paths[0], exist_ok=True)
    if name == "symlink":
        return await aos.symlink(args[0], paths[1])
    if name in _PATH_FUNCS:
        return await getattr(aos.path, name)(*paths)
    return await getattr(aos, name)(*paths)


@FAST
@pytest.mark.parametrize("route", ["inline", "ops", "pool"])
@given(ops=st.lists(OPS, min_size=1, max_size=12))
def test_os_calls_match_os(tmp_path_factory: Any, backend: str, route: str,
                           monkeypatch: pytest.MonkeyPatch, ops: list[tuple]) -> None:
    """``inline``: calls answered from the dentry cache run at once (where
    ``_inline`` allows; the rest are batched); ``ops``/``pool``: every call
    is batched, ``pool`` sending it to the pool-chunk path (on epoll ``ops``
    takes it too)."""
    monkeypatch.setattr(_batch, "RING_BATCH", 0 if route == "pool" else 8)
    monkeypatch.setattr(_inline, "LOOKUPS", route == "inline" and _inline.LOOKUPS)
    monkeypatch.setattr(_inline, "WRITES", route == "inline" and _inline.WRITES)
    base = tmp_path_factory.mktemp("tree")
    theirs, ours = base / "theirs", base / "ours"
    _scratch(theirs)
    _scratch(ours)
    expected = []
    for op in ops:
        try:
            expected.append(("ok", _normal(_call_sync(theirs, op), str(theirs))))
        except OSError as exc:
            expected.append(_error(exc, str(theirs)))

    async def run() -> list:
        got = []
        for op in ops:
            try:
                got.append(("ok", _normal(await _call_async(ours, op), str(ours))))
            except OSError as exc:
                got.append(_error(exc, str(ours)))
        return got

    assert dxpy.run(run(), reactor=backend) == expected
    assert _snapshot(ours) == _snapshot(theirs)


def test_bytes_and_pathlike_paths_keep_their_type(tmp_path: Path, backend: str) -> None:
    async def run() -> None:
        missing = tmp_path / "missing"
        for spelled, shown in ((missing, str(missing)), (os.fsencode(missing), os.fsencode(missing))):
            with pytest.raises(FileNotFoundError) as info:
                await aos.stat(spelled)
            assert info.value.filename == shown
        await aos.mkdir(os.fsencode(tmp_path / "bdir"))
        assert await aos.listdir(os.fsencode(tmp_path)) == [b"bdir"]
        assert (await aos.stat(tmp_path / "bdir")).st_mode == os.stat(tmp_path / "bdir").st_mode

    dxpy.run(run(), reactor=backend)


def test_bad_arguments_raise_what_os_raises(tmp_path: Path, backend: str) -> None:
    async def run() -> None:
        gc.collect()  # loops of earlier tests close their fds when collected
        before = open_fds()
        for call in (lambda: aos.stat("a\0b"), lambda: aos.rename("a\0", "b"),
                     lambda: aos.mkdir("x\0y"), lambda: aos.unlink(b"\0")):
            with pytest.raises(ValueError):
                await call()
        for call in (lambda: aos.rename(1.5, "b"), lambda: aos.rmdir(None),
                     lambda: aos.mkdir(str(tmp_path / "m"), "0o777")):
            with pytest.raises(TypeError):
                await call()
        assert not await aos.path.exists("a\0b")  # os.path.exists swallows ValueError
        with pytest.raises(TypeError):
            await aos.path.exists(1.5)
        assert open_fds() == before

    dxpy.run(run(), reactor=backend)


@pytest.mark.parametrize("count", [5, 300])
def test_many_renames_in_flight(tmp_path: Path, backend: str, count: int) -> None:
    """5 calls at once go to the ring on io_uring, 300 to pool chunks."""
    for i in range(count):
        (tmp_path / f"f{i}").write_bytes(str(i).encode())

    async def run() -> None:
        await asyncio.gather(*(aos.rename(tmp_path / f"f{i}", tmp_path / f"g{i}")
                               for i in range(count)))
        infos = await asyncio.gather(*(aos.stat(tmp_path / f"g{i}") for i in range(count)))
        assert [info.st_size for info in infos] == [len(str(i)) for i in range(count)]
        outcomes = await asyncio.gather(*(aos.unlink(tmp_path / f"f{i}") for i in range(count)),
                                        return_exceptions=True)
        assert all(isinstance(o, FileNotFoundError) for o in outcomes)
        assert [o.filename for o in outcomes] == [str(tmp_path / f"f{i}") for i in range(count)]
        await asyncio.gather(*(aos.remove(tmp_path / f"g{i}") for i in range(count)))

    dxpy.run(run(), reactor=backend)
    assert os.listdir(tmp_path) == []


def test_cancelled_path_operations_leave_a_consistent_tree(tmp_path: Path, backend: str) -> None:
    async def run() -> None:
        tasks = [asyncio.ensure_future(aos.mkdir(tmp_path / f"d{i}")) for i in range(100)]
        await asyncio.sleep(0)
        for task in tasks[::2]:
            task.cancel()
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        made = {f"d{i}" for i, o in enumerate(outcomes) if o is None}
        assert made <= set(os.listdir(tmp_path))
        assert all(o is None or isinstance(o, asyncio.CancelledError) for o in outcomes)

    dxpy.run(run(), reactor=backend)


def test_pool_calls_and_scandir(tmp_path: Path, backend: str) -> None:
    (tmp_path / "f").write_bytes(b"12345")
    (tmp_path / "sub").mkdir()

    async def run() -> None:
        with await aos.scandir(tmp_path) as entries:
            seen = {entry.name: entry.is_dir() for entry in entries}
        assert seen == {"f": False, "sub": True}
        assert await aos.access(tmp_path / "f", os.R_OK)
        assert await aos.getcwd() == os.getcwd()
        assert (await aos.statvfs(tmp_path)).f_bsize == os.statvfs(tmp_path).f_bsize
        assert await aos.path.samefile(tmp_path / "f", tmp_path / "sub" / ".." / "f")
        assert await aos.path.abspath("x") == os.path.abspath("x")
        assert await aos.path.ismount("/") and not await aos.path.ismount(tmp_path / "f")
        assert await aos.path.getmtime(tmp_path / "f") == os.path.getmtime(tmp_path / "f")
        with open(tmp_path / "f", "rb") as src, open(tmp_path / "copy", "wb") as dst:
            assert await aos.sendfile(dst.fileno(), src.fileno(), 1, 3) == 3
            assert await aos.path.sameopenfile(src.fileno(), src.fileno())
        assert (tmp_path / "copy").read_bytes() == b"234"
        stat_of_fd = await aos.stat(os.open(tmp_path / "f", os.O_RDONLY))
        assert stat_of_fd.st_size == 5
        assert await aos.wrap(os.path.getsize)(tmp_path / "f") == 5

    dxpy.run(run(), reactor=backend)


def test_dir_fd_arguments(tmp_path: Path, backend: str) -> None:
    async def run() -> None:
        dirfd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            await aos.mkdir("sub", dir_fd=dirfd)
            await aos.rename("sub", "moved", src_dir_fd=dirfd, dst_dir_fd=dirfd)
            assert stat_module.S_ISDIR((await aos.stat("moved", dir_fd=dirfd)).st_mode)
            await aos.symlink("moved", "ln", dir_fd=dirfd)
            assert stat_module.S_ISLNK((await aos.lstat("ln", dir_fd=dirfd)).st_mode)
            await aos.unlink("ln", dir_fd=dirfd)
            await aos.rmdir("moved", dir_fd=dirfd)
        finally:
            os.close(dirfd)
        assert os.listdir(tmp_path) == []

    dxpy.run(run(), reactor=backend)


# ---- tempfile ----------------------------------------------------------------------
def test_temporary_files(tmp_path: Path, backend: str) -> None:
    async def run() -> None:
        gc.collect()  # loops of earlier tests close their fds when collected
        before = open_fds()
        async with atempfile.TemporaryFile(dir=tmp_path) as f:
            await f.write(b"hello")
            await f.seek(0)
            assert await f.read() == b"hello"
            assert os.listdir(tmp_path) == []  # unnamed
        async with atempfile.NamedTemporaryFile("w+", suffix=".txt", dir=tmp_path) as f:
            assert f.name.endswith(".txt") and os.path.exists(f.name)
            await f.write("héllo\n")
            await f.seek(0)
            assert [line async for line in f] == ["héllo\n"]
        assert not os.path.exists(f.name)
        kept = await atempfile.NamedTemporaryFile(delete=False, dir=tmp_path)
        await kept.write(b"kept")
        await kept.close()
        assert Path(kept.name).read_bytes() == b"kept"
        os.unlink(kept.name)
        async with atempfile.TemporaryDirectory(dir=tmp_path) as name:
            assert os.path.isdir(name)
            (Path(name) / "inner").write_bytes(b"x")
        assert not os.path.exists(name)
        assert open_fds() == before

    dxpy.run(run(), reactor=backend)


@pytest.mark.parametrize("mode,data", [("w+b", [b"abc", b"x" * 40, b"tail"]),
                                       ("w+", ["abc", "é" * 30, "tail\n"])])
def test_spooled_temporary_file_matches_tempfile(tmp_path: Path, backend: str, mode: str,
                                                 data: list) -> None:
    import tempfile

    with tempfile.SpooledTemporaryFile(16, mode, dir=tmp_path) as f:
        expected = []
        for chunk in data:
            f.write(chunk)
            expected.append((f._rolled, f.tell()))
        f.seek(1)
        expected.append(f.read())

    async def run() -> list:
        got = []
        async with atempfile.SpooledTemporaryFile(16, mode, dir=tmp_path) as f:
            for chunk in data:
                await f.write(chunk)
                got.append((f._rolled, await f.tell()))
            await f.seek(1)
            got.append(await f.read())
        assert f.closed
        return got

    assert dxpy.run(run(), reactor=backend) == expected
    assert os.listdir(tmp_path) == []
