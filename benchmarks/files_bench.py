"""File I/O side by side: aiofiles, asyncio.to_thread, anyio.Path, synchronous
open(), dxpy.aio on io_uring and on epoll (thread pool), in one run.

    python benchmarks/files_bench.py [--files 10000] [--big-size 256M] [--repeat 3]

Scenarios (each timed ``--repeat`` times, best kept; the page cache is warm):
  (a) read N files of 4 KiB concurrently (256 in flight for per-file APIs;
      dxpy uses ``read_many``, its batch API, and ``read_bytes`` x256);
  (b) read one big file sequentially in 1 MiB chunks;
  (c) write 1,000 files of 64 KiB, each fsynced (64 in flight).
Prints a markdown table of times and ratios (sync/impl: > 1 is faster than
synchronous open(); impl/aiofiles: < 1 is faster than aiofiles).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Awaitable, Callable

import aiofiles
import aiofiles.os
import anyio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import dxpy  # noqa: E402
from dxpy import aio  # noqa: E402

CHUNK = 1 << 20
Runner = Callable[[], Any]


# ---- helpers ---------------------------------------------------------------------
async def _bounded(items: list[Any], limit: int, work: Callable[[Any], Awaitable[Any]]) -> list:
    gate = asyncio.Semaphore(limit)

    async def one(item: Any) -> Any:
        async with gate:
            return await work(item)

    return await asyncio.gather(*(one(item) for item in items))


def _read_sync(path: Path) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _write_fsync_sync(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _on(loop_kind: str, make: Callable[[], Awaitable[Any]]) -> Runner:
    """Run a coroutine on asyncio's default loop or on a dxpy loop."""
    if loop_kind == "asyncio":
        return lambda: asyncio.run(make())
    return lambda: dxpy.run(make(), reactor=loop_kind)


# ---- (a) many small files ------------------------------------------------------------
def small_reads(paths: list[Path]) -> dict[str, Runner]:
    async def aiofiles_read(p: Path) -> bytes:
        async with aiofiles.open(p, "rb") as f:
            return await f.read()

    def dxpy_many() -> Awaitable[Any]:
        return aio.read_many(paths)

    def dxpy_each() -> Awaitable[Any]:
        return _bounded(paths, 256, aio.read_bytes)

    return {
        "sync open()": lambda: [_read_sync(p) for p in paths],
        "aiofiles": _on("asyncio", lambda: _bounded(paths, 256, aiofiles_read)),
        "asyncio.to_thread": _on("asyncio", lambda: _bounded(
            paths, 256, lambda p: asyncio.to_thread(_read_sync, p))),
        "anyio.Path": _on("asyncio", lambda: _bounded(
            paths, 256, lambda p: anyio.Path(p).read_bytes())),
        "dxpy-uring read_many": _on("uring", dxpy_many),
        "dxpy-uring read_bytes x256": _on("uring", dxpy_each),
        "dxpy-epoll read_many": _on("epoll", dxpy_many),
        "dxpy-epoll read_bytes x256": _on("epoll", dxpy_each),
    }


# ---- (b) one big file ---------------------------------------------------------------------
def big_read(path: Path) -> dict[str, Runner]:
    def sync() -> None:
        with open(path, "rb") as f:
            while f.read(CHUNK):
                pass

    async def with_aiofiles() -> None:
        async with aiofiles.open(path, "rb") as f:
            while await f.read(CHUNK):
                pass

    async def with_to_thread() -> None:
        f = await asyncio.to_thread(open, path, "rb")
        try:
            while await asyncio.to_thread(f.read, CHUNK):
                pass
        finally:
            f.close()

    async def with_anyio() -> None:
        async with await anyio.open_file(path, "rb") as f:
            while await f.read(CHUNK):
                pass

    async def with_dxpy() -> None:
        async with aio.open(path, "rb") as f:
            while await f.read(CHUNK):
                pass

    return {"sync open()": sync, "aiofiles": _on("asyncio", with_aiofiles),
            "asyncio.to_thread": _on("asyncio", with_to_thread),
            "anyio.Path": _on("asyncio", with_anyio),
            "dxpy-uring": _on("uring", with_dxpy), "dxpy-epoll": _on("epoll", with_dxpy)}


# ---- (c) write + fsync ----------------------------------------------------------------------
def write_fsync(folder: Path, count: int) -> dict[str, Runner]:
    data = os.urandom(64 * 1024)
    paths = [folder / f"w{i}" for i in range(count)]

    async def with_aiofiles(p: Path) -> None:
        async with aiofiles.open(p, "wb") as f:
            await f.write(data)
            await f.flush()
            await aiofiles.os.wrap(os.fsync)(f.fileno())

    async def with_anyio(p: Path) -> None:
        async with await anyio.open_file(p, "wb") as f:
            await f.write(data)
            await f.flush()
            await anyio.to_thread.run_sync(os.fsync, f.wrapped.fileno())

    async def with_dxpy(p: Path) -> None:
        async with aio.open(p, "wb") as f:
            await f.write(data)
            await f.fsync()

    return {
        "sync open()": lambda: [_write_fsync_sync(p, data) for p in paths],
        "aiofiles": _on("asyncio", lambda: _bounded(paths, 64, with_aiofiles)),
        "asyncio.to_thread": _on("asyncio", lambda: _bounded(
            paths, 64, lambda p: asyncio.to_thread(_write_fsync_sync, p, data))),
        "anyio.Path": _on("asyncio", lambda: _bounded(paths, 64, with_anyio)),
        "dxpy-uring": _on("uring", lambda: _bounded(paths, 64, with_dxpy)),
        "dxpy-epoll": _on("epoll", lambda: _bounded(paths, 64, with_dxpy)),
    }


# ---- driver ---------------------------------------------------------------------------------------
def best_of(run: Runner, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def parse_size(text: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    return int(text[:-1]) * units[text[-1].upper()] if text[-1].upper() in units else int(text)


def prepare(root: Path, files: int, big_size: int) -> tuple[list[Path], Path]:
    small = root / "small"
    small.mkdir()
    paths = []
    for i in range(files):
        paths.append(small / f"f{i:05d}")
        paths[-1].write_bytes(os.urandom(4096))
    big = root / "big"
    block = os.urandom(CHUNK)
    with open(big, "wb") as f:
        for _ in range(big_size // CHUNK):
            f.write(block)
    _read_sync(big)  # warm the page cache
    return paths, big


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--big-size", default="256M", help="size of file (b), e.g. 256M, 1G")
    parser.add_argument("--writes", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", default=None, help="where to create files (default: $TMPDIR)")
    options = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="dxpy-files-bench-", dir=options.dir))
    try:
        paths, big = prepare(root, options.files, parse_size(options.big_size))
        scenarios = [
            (f"(a) read {options.files} x 4 KiB files", small_reads(paths)),
            (f"(b) read {options.big_size} in 1 MiB chunks", big_read(big)),
            (f"(c) write+fsync {options.writes} x 64 KiB", write_fsync(root, options.writes)),
        ]
        print("| scenario | implementation | time (ms) | sync/impl | impl/aiofiles |")
        print("|---|---|---:|---:|---:|")
        for title, runners in scenarios:
            times = {name: best_of(run, options.repeat) for name, run in runners.items()}
            for name, seconds in times.items():
                print(f"| {title} | {name} | {seconds * 1e3:.1f} | "
                      f"{times['sync open()'] / seconds:.2f} | {seconds / times['aiofiles']:.3f} |",
                      flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
