"""The persistent JIT code cache: same results as a fresh compile, invalidation, damage, LRU."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from dxpy.cache import config, objload
from dxpy.cache import jit as code_cache

ROOT = Path(__file__).resolve().parent.parent

PROGRAM = textwrap.dedent("""
    import json, math, sys
    import numpy as np
    import dxpy

    @dxpy.jit(cache=True)
    def poly(n):
        total = 0.0
        for i in range(n):
            x = i * 0.5
            total += x * x - 3.0 * x + {scale}
        return total

    @dxpy.jit(cache=True)
    def fib(n):
        return n if n < 2 else fib(n - 1) + fib(n - 2)

    @dxpy.jit(cache=True)
    def norm(a):
        s = 0.0
        for i in range(a.shape[0]):
            s += math.sqrt(abs(a[i])) + math.sin(a[i]) + fib(3)  # sin: libm's, linked
        return s

    @dxpy.jit(cache=True)
    def fill(out, k):
        for i in range(len(out)):
            out[i] = i * k
        return k * k

    out = np.zeros(5, dtype=np.int64)
    results = [poly(1000), fib(20), norm(np.linspace(-2.0, 3.0, 11)), fill(out, 7),
               out.tolist(), fill(out, 2**40), out.tolist()]
    passes = sorted({{name for d in (poly, fib, norm, fill)
                     for s in d.stats()["signatures"] for name in s["passes"]}})
    loaded = [m for m in ("llvmlite.binding", "pycparser") if m in sys.modules]
    print(json.dumps({{"results": results, "passes": passes, "loaded": loaded}}))
""")


def run_program(tmp_path: Path, scale: float = 1.0, env: dict | None = None) -> dict:
    script = tmp_path / "kernels.py"
    script.write_text(PROGRAM.format(scale=scale))
    full = {**os.environ, "PYTHONPATH": str(ROOT), "DXPY_CACHE_DIR": str(tmp_path / "cache"),
            **(env or {})}
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=180, env=full)
    assert out.returncode == 0, out.stderr
    return {**json.loads(out.stdout), "stderr": out.stderr}


def entries(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "cache" / "jit").glob("*.dxj"))


def test_cached_code_gives_the_results_of_a_fresh_compile(tmp_path: Path) -> None:
    fresh = run_program(tmp_path, env={"DXPY_CACHE": "0"})
    assert "cache load" not in fresh["passes"] and not entries(tmp_path)
    cold = run_program(tmp_path)
    assert len(entries(tmp_path)) >= 4
    warm = run_program(tmp_path)
    assert warm["passes"] == ["cache load"]  # nothing compiled: every version was linked
    if objload.host_supported():  # linked by dxpy.cache.objload: LLVM never loaded
        assert warm["loaded"] == [], warm["loaded"]
    assert fresh["results"] == cold["results"] == warm["results"]
    python = run_program(tmp_path, env={"DXPY_JIT": "off"})
    assert warm["results"] == python["results"]


def test_an_edit_recompiles(tmp_path: Path) -> None:
    first = run_program(tmp_path, scale=1.0)
    again = run_program(tmp_path, scale=2.0)  # the file changed: nothing may be reused
    assert "cache load" not in again["passes"]
    assert first["results"][0] != again["results"][0]
    assert again["results"] == run_program(tmp_path, scale=2.0, env={"DXPY_JIT": "off"})[
        "results"]


def test_damaged_entries_are_dropped_and_recompiled(tmp_path: Path) -> None:
    good = run_program(tmp_path)
    for path in entries(tmp_path):
        raw = bytearray(path.read_bytes())
        raw[len(raw) // 2] ^= 0xFF
        path.write_bytes(bytes(raw))
    damaged = run_program(tmp_path)
    assert damaged["results"] == good["results"]
    assert "is damaged" in damaged["stderr"]
    assert run_program(tmp_path)["passes"] == ["cache load"]  # rewritten


def test_unwritable_cache_directory_still_compiles(tmp_path: Path) -> None:
    (tmp_path / "blocker").write_text("a file, not a directory")
    out = run_program(tmp_path, env={"DXPY_CACHE_DIR": str(tmp_path / "blocker" / "c")})
    assert out["results"] == run_program(tmp_path, env={"DXPY_CACHE": "0"})["results"]


def test_least_recently_used_entries_go_first(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("DXPY_CACHE_DIR", str(tmp_path))
    directory = Path(code_cache.jit_dir())
    directory.mkdir(parents=True)
    now = time.time()
    for age, name in enumerate(["newest", "middle", "oldest"]):
        path = directory / f"{name}.dxj"
        path.write_bytes(b"x" * 1000)
        os.utime(path, (now - age * 100, now - age * 100))
    (directory / "host-features").write_text("+sse2")  # not an entry: never evicted
    removed = code_cache.evict(2500)
    assert removed == ["oldest.dxj"]
    assert sorted(p.name for p in directory.iterdir()) == [
        "host-features", "middle.dxj", "newest.dxj"]


def test_loading_an_entry_marks_it_recently_used(tmp_path: Path, monkeypatch) -> None:
    import pickle
    import zlib

    monkeypatch.setenv("DXPY_CACHE_DIR", str(tmp_path))
    key = b"\x01" * 32
    meta = pickle.dumps({"format": code_cache.FORMAT, "symbols": []})
    body = meta + b"object code"
    path = Path(code_cache._entry_path(key))
    path.parent.mkdir(parents=True)
    path.write_bytes(code_cache._HEAD.pack(code_cache.MAGIC, zlib.crc32(body), len(meta)) + body)
    an_hour_ago = time.time() - 3600
    os.utime(path, (an_hour_ago, an_hour_ago))
    assert code_cache.load(key)[1] == b"object code"
    assert path.stat().st_mtime > an_hour_ago + 3000  # touched: now the newest


class _Opaque:
    """A global the key cannot describe by value."""


OPAQUE = _Opaque()
LIMIT = 10


def _names_an_opaque_global(n):
    return OPAQUE if n < 0 else n


def _names_a_constant(n):
    return n + LIMIT


class _FakeDispatcher:
    def __init__(self, func) -> None:
        self.py_func = func


def test_key_covers_constants_and_refuses_what_it_cannot_describe() -> None:
    sig = ("int",)
    assert code_cache.cache_key(_FakeDispatcher(_names_an_opaque_global), sig) is None
    before = code_cache.cache_key(_FakeDispatcher(_names_a_constant), sig)
    global LIMIT
    LIMIT = 11
    try:
        after = code_cache.cache_key(_FakeDispatcher(_names_a_constant), sig)
    finally:
        LIMIT = 10
    assert before is not None and after is not None and before != after
    assert code_cache.cache_key(_FakeDispatcher(_names_a_constant), ("float",)) != before


def test_host_features_are_remembered(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("DXPY_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(code_cache, "_features", None)
    import llvmlite.binding as llvm

    assert code_cache._cached_features() == llvm.get_host_cpu_features().flatten()
    stored = list((tmp_path / "jit").glob("host-*"))
    assert len(stored) == 1
    stored[0].write_text("+made-up-feature")
    assert code_cache._cached_features() == "+made-up-feature"  # read, not recomputed
    stored[0].write_text("garbage without signs")
    assert code_cache._cached_features() == llvm.get_host_cpu_features().flatten()


@pytest.mark.skipif(not (os.path.exists("/proc/cpuinfo")
                          and os.path.exists("/proc/sys/kernel/random/boot_id")),
                    reason="the CPU identity comes from Linux's /proc")
def test_cpu_identity_is_read_once_per_boot(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("DXPY_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(code_cache, "_identity", False)
    first = code_cache._cpu_identity()
    stored = list((tmp_path / "jit").glob("cpu-*"))
    assert first is not None and len(stored) == 1 and stored[0].read_text() == first
    (tmp_path / "jit" / "cpu-an-earlier-boot").write_text(first)
    stored[0].write_text("f" * 64)
    monkeypatch.setattr(code_cache, "_identity", False)
    assert code_cache._cpu_identity() == "f" * 64  # this boot's file, not /proc/cpuinfo
    stored[0].write_text("not a digest")
    monkeypatch.setattr(code_cache, "_identity", False)
    assert code_cache._cpu_identity() == first  # read again and rewritten
    assert list((tmp_path / "jit").glob("cpu-*")) == stored  # the earlier boot's is gone


def _cube_sum(n):
    total = 0
    for i in range(n):
        total += i * i * i
    return total


def test_an_object_objload_declines_is_linked_by_llvm(tmp_path: Path, monkeypatch) -> None:
    import dxpy

    monkeypatch.setenv("DXPY_CACHE_DIR", str(tmp_path))
    assert dxpy.jit(cache=True)(_cube_sum)(100) == _cube_sum(100)  # compiled and stored

    declined = []

    def decline(obj: bytes, symbols: list[str]) -> list[int]:
        declined.append(symbols)
        raise objload.UnsupportedObject("declined by the test")

    monkeypatch.setattr(objload, "link", decline)
    again = dxpy.jit(cache=True)(_cube_sum)
    assert again(1000) == _cube_sum(1000)
    assert [list(s["passes"]) for s in again.stats()["signatures"]] == [["cache load"]]
    assert declined  # the stored object was offered to objload first


@pytest.fixture(autouse=True)
def fresh_warnings() -> None:
    config._warned.clear()
