"""``CodeStore``: round trips, damage, crashes, concurrent writers, unwritable directories."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import pytest

from dxpy.cache import config
from dxpy.cache.config import CacheWarning
from dxpy.cache.store import RACY_STAMP, CodeStore, trustworthy

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def fresh_warnings() -> None:
    """Each test sees its own first warning for each problem."""
    config._warned.clear()


def key(n: int) -> bytes:
    return n.to_bytes(4, "little") * 8


def payload(n: int) -> bytes:
    return f"payload {n} ".encode() * (n % 7 + 1)


def stamp(n: int) -> tuple:
    return (n, n, n, n, n)


def test_round_trip_across_instances(tmp_path: Path) -> None:
    store = CodeStore(str(tmp_path))
    for n in range(50):
        store.add(f"k:{n}", stamp(n), key(n), payload(n))
    assert store.lookup("k:3", stamp(3)) == payload(3)  # pending entries are visible
    store.flush()
    again = CodeStore(str(tmp_path))
    assert all(again.lookup(f"k:{n}", stamp(n)) == payload(n) for n in range(50))
    assert again.lookup("k:3", stamp(4)) is None  # quick check: another stamp is a miss
    assert again.payload(key(7)) == payload(7)  # by content key (a revert or a copy)


def test_restamp_without_payload_reuses_the_record(tmp_path: Path) -> None:
    store = CodeStore(str(tmp_path))
    store.add("a", stamp(1), key(1), payload(1))
    store.flush()
    store.add("b", stamp(2), key(1), None)  # same content under another name
    store.flush()
    again = CodeStore(str(tmp_path))
    assert again.lookup("b", stamp(2)) == payload(1)
    assert len(again.index["records"]) == 1


def test_forget_drops_an_entry(tmp_path: Path) -> None:
    store = CodeStore(str(tmp_path))
    store.add("a", stamp(1), key(1), payload(1))
    store.flush()
    store.forget("a")
    store.flush()
    assert CodeStore(str(tmp_path)).lookup("a", stamp(1)) is None


def test_compaction_drops_dead_records(tmp_path: Path) -> None:
    store = CodeStore(str(tmp_path), max_bytes=1 << 30)
    big = b"x" * 20000
    for n in range(40):  # one name, forty versions: all but the last are dead
        store.add("mod", stamp(n), key(n), big + bytes([n]))
        store.flush()
    data = [p for p in os.listdir(tmp_path) if p.startswith("data-")]
    assert len(data) == 1  # the old data files were removed
    # bounded by twice the live bytes + 64 KiB slack + the record being added, not 40 versions
    assert os.path.getsize(tmp_path / data[0]) < 2 * len(big) + 65536 + 2 * len(big)
    assert CodeStore(str(tmp_path)).lookup("mod", stamp(39)) == big + bytes([39])


def test_racy_stamps_are_never_trusted() -> None:
    now = time.time_ns()
    assert trustworthy((now, now, 1, 2, 3)) == RACY_STAMP
    old = now - 10 * 10**9
    assert trustworthy((old, old, 1, 2, 3)) == (old, old, 1, 2, 3)


# -- damage -------------------------------------------------------------------------
def _written(tmp_path: Path, count: int = 10) -> Path:
    store = CodeStore(str(tmp_path))
    for n in range(count):
        store.add(f"k:{n}", stamp(n), key(n), payload(n))
    store.flush()
    return next(p for p in tmp_path.iterdir() if p.name.startswith("data-"))


def test_damaged_record_is_dropped_with_one_warning(tmp_path: Path) -> None:
    data = _written(tmp_path)
    raw = bytearray(data.read_bytes())
    raw[50] ^= 0xFF  # inside the first record's payload (48-byte record header)
    data.write_bytes(bytes(raw))
    store = CodeStore(str(tmp_path))
    with pytest.warns(CacheWarning, match="damaged record"):
        results = [store.lookup(f"k:{n}", stamp(n)) for n in range(10)]
    assert results.count(None) == 1 and results[1:] == [payload(n) for n in range(1, 10)]
    store.add("k:0", stamp(0), key(0), payload(0))  # the caller rebuilds it
    store.flush()
    assert CodeStore(str(tmp_path)).lookup("k:0", stamp(0)) == payload(0)


@pytest.mark.parametrize("content", [b"", b"DXI1", os.urandom(300), b"not an index at all"])
def test_foreign_or_truncated_index_is_rebuilt(tmp_path: Path, content: bytes) -> None:
    _written(tmp_path)
    (tmp_path / "index").write_bytes(content)
    store = CodeStore(str(tmp_path))
    with pytest.warns(CacheWarning, match="damaged or not a dxpy cache index"):
        assert store.lookup("k:1", stamp(1)) is None
    store.add("k:1", stamp(1), key(1), payload(1))
    store.flush()
    assert CodeStore(str(tmp_path)).lookup("k:1", stamp(1)) == payload(1)


def test_truncated_data_file_is_dropped(tmp_path: Path) -> None:
    data = _written(tmp_path)
    data.write_bytes(data.read_bytes()[:40])
    store = CodeStore(str(tmp_path))
    with pytest.warns(CacheWarning, match="shorter than its index"):
        assert store.lookup("k:1", stamp(1)) is None


def test_unwritable_directory_degrades_to_no_caching(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a regular file where the cache directory should be")
    store = CodeStore(str(blocker / "code"))
    store.add("a", stamp(1), key(1), payload(1))
    with pytest.warns(CacheWarning, match="cannot create"):
        store.flush()
    assert store.lookup("a", stamp(1)) == payload(1)  # this process still has it
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        store.flush()  # one warning per problem: no second one


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
def test_read_only_directory_degrades_to_no_caching(tmp_path: Path) -> None:
    _written(tmp_path)
    os.chmod(tmp_path, 0o500)
    try:
        store = CodeStore(str(tmp_path))
        store.add("new", stamp(99), key(99), payload(99))
        with pytest.warns(CacheWarning, match="cannot write"):
            store.flush()
        assert store.lookup("k:2", stamp(2)) == payload(2)
    finally:
        os.chmod(tmp_path, 0o700)


# -- other processes ------------------------------------------------------------------
WRITER = textwrap.dedent("""
    import sys
    sys.path.insert(0, {root!r})
    from dxpy.cache.store import CodeStore
    directory, first, count, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    store = CodeStore(directory)
    for n in range(first, first + count):
        body = (f"payload {{n}} ".encode()) * (n % 7 + 1)
        store.add(f"k:{{n}}", (n, n, n, n, n), n.to_bytes(4, "little") * 8, body)
        if (n - first) % batch == batch - 1:
            store.flush()
            print(n, flush=True)
    store.flush()
""")


def _writer(tmp_path: Path, directory: Path, first: int, count: int, batch: int
            ) -> subprocess.Popen:
    script = tmp_path / "writer.py"
    script.write_text(WRITER.format(root=str(ROOT)))
    return subprocess.Popen([sys.executable, str(script), str(directory), str(first),
                             str(count), str(batch)], stdout=subprocess.PIPE, text=True)


def test_two_processes_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    directory = tmp_path / "store"
    writers = [_writer(tmp_path, directory, first, 300, 7) for first in (0, 1000)]
    for writer in writers:
        writer.communicate(timeout=120)
        assert writer.returncode == 0
    store = CodeStore(str(directory))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no damaged record anywhere
        for n in [*range(300), *range(1000, 1300)]:
            assert store.lookup(f"k:{n}", stamp(n)) == payload(n)


def test_writer_killed_at_random_points_never_leaves_wrong_data(tmp_path: Path) -> None:
    """SIGKILL a writer mid-stream, five times over one store: every entry a later
    reader finds is exactly what was written for it, and later writers go on."""
    directory = tmp_path / "store"
    rng = random.Random(20)
    for round_ in range(5):
        writer = _writer(tmp_path, directory, round_ * 10_000, 5000, 3)
        writer.stdout.readline()  # it has flushed at least once
        time.sleep(rng.uniform(0.0, 0.15))
        writer.send_signal(signal.SIGKILL)
        writer.communicate(timeout=60)
    store = CodeStore(str(directory))
    names = store.names()
    assert names, "no writer got anything in"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name in names:
            n = int(name.split(":")[1])
            assert store.lookup(name, stamp(n)) == payload(n)
