"""``dxpy.aio.os`` calls answered on the loop's thread from the dentry cache
(``dxpy/aio/_inline.py``): the same results and exceptions as ``os``, and
the batched path wherever the cache, the filesystem or the policy say no."""

from __future__ import annotations

import errno
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import dxpy
from dxpy.aio import _batch, _inline, os as aos
from tests.conftest import open_fds

needs_lookup = pytest.mark.skipif(_inline.lib is None,
                                  reason="dxpy.aio._lookup was not built (no C compiler)")
_STAT_FIELDS = [name for name in dir(os.stat_result) if name.startswith("st_")]


def _lookup(path: Any) -> int:
    """The C lookup's result for ``path`` (0, or -errno)."""
    buffers = _inline._buffers
    return _inline.lib.dxl_lookup(-100, os.fsencode(path), True, buffers.entry, buffers.mount)


def _local(path: Path) -> bool:
    return (_inline.lib is not None and _lookup(path) == 0
            and _inline._mounts.local(_inline._buffers.mount[0]))


on_local_fs = pytest.mark.skipif(not _local(Path(os.environ.get("TMPDIR", "/tmp"))),
                                 reason="the temporary directory is not on a local filesystem")


@pytest.fixture
def batched(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records each call that reached the batcher (by ``os`` function name).
    A write that really blocked (the machine is shared) must not pause
    inline writes in the middle of a test: only a test's own stall does."""
    monkeypatch.setattr(_inline, "STALL_NS", 60 * 10**9)
    monkeypatch.setattr(_inline, "_writes_paused_until", 0)
    monkeypatch.setattr(_inline, "_slow_writes", 0)
    seen: list[str] = []
    original = _batch.PathBatcher.call

    def call(self: Any, sync: Any, *rest: Any) -> Any:
        seen.append(sync.func.__name__)
        return original(self, sync, *rest)

    monkeypatch.setattr(_batch.PathBatcher, "call", call)
    return seen


def _tree(root: Path) -> None:
    (root / "file").write_bytes(b"data")
    (root / "dir").mkdir()
    (root / "link").symlink_to("file")
    (root / "dangling").symlink_to("nowhere")


@needs_lookup
@on_local_fs
def test_cached_stat_is_os_stat_field_for_field(tmp_path: Path, backend: str,
                                                batched: list[str]) -> None:
    _tree(tmp_path)
    names = ["file", "dir", "link", "dangling", "dir/../file", "dir/"]
    # Following a symlink whose atime is due (relatime: not after its ctime,
    # which a link made this instant has) writes it, so it is not answered
    # from the cache; an atime in the future is never due.
    now = time.time_ns()
    os.utime(tmp_path / "link", ns=(now + 60 * 10**9, now - 60 * 10**9), follow_symlinks=False)

    async def run() -> list[tuple[os.stat_result, os.stat_result]]:
        out = []
        for name in names:
            for follow in (True, False):
                if name == "dangling" and follow:
                    continue
                path = tmp_path / name if name != "dir/" else f"{tmp_path}/dir/"
                out.append((await aos.stat(path, follow_symlinks=follow),
                            os.stat(path, follow_symlinks=follow)))
        return out

    for ours, theirs in dxpy.run(run(), reactor=backend):
        assert ours == theirs
        assert [getattr(ours, f) for f in _STAT_FIELDS] == [getattr(theirs, f) for f in _STAT_FIELDS]
    assert batched == []


@needs_lookup
@on_local_fs
def test_uncached_names_take_the_batched_path(tmp_path: Path, backend: str,
                                              batched: list[str]) -> None:
    """A name never looked up is not in the dentry cache (EAGAIN): the batched
    path answers, and leaves a negative dentry the next call finds at once."""
    fresh = os.fsencode(tmp_path / "never-looked-up")
    assert _lookup(fresh) == -errno.EAGAIN

    async def run() -> None:
        for _ in range(2):
            with pytest.raises(FileNotFoundError) as info:
                await aos.stat(fresh)
            assert info.value.filename == fresh

    dxpy.run(run(), reactor=backend)
    assert batched == ["stat"]


@needs_lookup
@on_local_fs
def test_cached_writes_run_inline(tmp_path: Path, backend: str, batched: list[str]) -> None:
    (tmp_path / "a").write_bytes(b"1")
    (tmp_path / "b").write_bytes(b"22")
    os.path.exists(tmp_path / "c")  # a cached negative entry

    async def run() -> None:
        await aos.rename(tmp_path / "a", tmp_path / "c")
        await aos.replace(tmp_path / "b", tmp_path / "c")  # over an existing file
        # A renamed entry's old name left the cache with it; one lookup
        # brings it back as a cached "no such entry".
        assert not os.path.lexists(tmp_path / "a") and not os.path.lexists(tmp_path / "b")
        with pytest.raises(FileNotFoundError) as info:
            await aos.rename(tmp_path / "a", tmp_path / "b")
        assert (info.value.filename, info.value.filename2) == (str(tmp_path / "a"),
                                                               str(tmp_path / "b"))
        await aos.unlink(tmp_path / "c")
        assert not os.path.lexists(tmp_path / "c")
        with pytest.raises(FileNotFoundError):
            await aos.remove(tmp_path / "c")

    dxpy.run(run(), reactor=backend)
    assert os.listdir(tmp_path) == []
    assert batched == []


@needs_lookup
@on_local_fs
def test_what_stays_off_the_loops_thread(tmp_path: Path, backend: str, batched: list[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Directories moved or replaced, large files' last links, rmdir."""
    (tmp_path / "d").mkdir()
    (tmp_path / "e").mkdir()
    (tmp_path / "big").write_bytes(b"x" * 8192)
    monkeypatch.setattr(_inline, "FREE_LIMIT", 4096)

    async def run() -> None:
        await aos.rename(tmp_path / "d", tmp_path / "e")  # replaces an empty directory
        await aos.unlink(tmp_path / "big")
        await aos.rmdir(tmp_path / "e")

    dxpy.run(run(), reactor=backend)
    assert os.listdir(tmp_path) == []
    assert batched == ["rename", "unlink", "rmdir"]


@needs_lookup
@on_local_fs
def test_a_blocking_write_pauses_inline_writes(tmp_path: Path, backend: str,
                                               batched: list[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Every write counts as slow here: the second one in a row pauses
    inline writes, so the third is batched."""
    monkeypatch.setattr(_inline, "STALL_NS", -1)
    monkeypatch.setattr(_inline, "_writes_paused_until", 0)
    monkeypatch.setattr(_inline, "_slow_writes", 0)
    for name in "abc":
        (tmp_path / name).write_bytes(b"")

    async def run() -> None:
        await aos.unlink(tmp_path / "a")
        assert _inline._writes_paused_until == 0  # one slow call: preempted, maybe
        await aos.unlink(tmp_path / "b")
        await aos.unlink(tmp_path / "c")

    dxpy.run(run(), reactor=backend)
    assert batched == ["unlink"]
    assert _inline._writes_paused_until > 0


@needs_lookup
def test_unknown_filesystems_take_the_batched_path(tmp_path: Path, backend: str,
                                                   batched: list[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_inline._mounts, "local", lambda mount_id: False)
    (tmp_path / "f").write_bytes(b"abc")

    async def run() -> None:
        assert (await aos.stat(tmp_path / "f")).st_size == 3
        await aos.rename(tmp_path / "f", tmp_path / "g")

    dxpy.run(run(), reactor=backend)
    assert batched == ["stat", "rename"]


@pytest.mark.parametrize("choice,expected", [("all", (True, True)), ("stat", (True, False)),
                                             ("off", (False, False)), (" ALL ", (True, True))])
def test_policy_from_the_environment(monkeypatch: pytest.MonkeyPatch, choice: str,
                                     expected: tuple[bool, bool]) -> None:
    monkeypatch.setenv("DXPY_AIO_INLINE", choice)
    built = _inline.lib is not None
    assert _inline._policy() == (expected[0] and built, expected[1] and built)


def test_a_bad_policy_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DXPY_AIO_INLINE", "sometimes")
    with pytest.raises(ValueError, match="DXPY_AIO_INLINE"):
        _inline._policy()


@needs_lookup
def test_no_descriptor_leaks_and_threads_do_not_share_results(tmp_path: Path,
                                                              backend: str) -> None:
    """Loops on two threads stat different files at once; each sees its own."""
    for i in range(2):
        (tmp_path / f"f{i}").write_bytes(b"x" * (i + 1) * 10)
    before = open_fds()
    failures: list[BaseException] = []

    def worker(i: int) -> None:
        async def run() -> None:
            for _ in range(300):
                assert (await aos.stat(tmp_path / f"f{i}")).st_size == (i + 1) * 10
                with pytest.raises(NotADirectoryError):
                    await aos.lstat(tmp_path / f"f{i}" / "below-a-file")
        try:
            dxpy.run(run(), reactor=backend)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            failures.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures
    assert open_fds() == before


def test_mount_table_parsing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    table = tmp_path / "mountinfo"
    table.write_text(
        "25 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
        "26 25 0:44 / /mnt/nfs rw,relatime - nfs4 server:/export rw,vers=4.2\n"
        "27 25 0:45 / /mnt/fuse rw shared:9 master:3 - fuse.sshfs host: rw\n"
        "garbage line\n")
    real_open = open
    monkeypatch.setattr("builtins.open", lambda path, *a, **k: real_open(
        table if path == "/proc/self/mountinfo" else path, *a, **k))
    assert _inline._Mounts._read() == {25: True, 26: False, 27: False}
