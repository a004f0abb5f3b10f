"""File I/O side by side: aiofiles, asyncio.to_thread, anyio.Path, synchronous
open()/os, dxpy.aio on io_uring and on epoll (thread pool), in one run.

    python benchmarks/files_bench.py [--repeat 3] [--quick] [--only a,d,h]

Scenarios (each timed ``--repeat`` times in interleaved rounds, best kept;
the load average at each scenario's start is printed; "cached" means the page
cache is warm, "uncached" that ``posix_fadvise(DONTNEED)`` dropped the file's
pages before every timed run):
  (a) read N files of 4 KiB concurrently (256 in flight for per-file APIs;
      dxpy uses ``read_many``, its batch API, and ``read_bytes`` x256);
  (b) read one big file sequentially in 1 MiB chunks, cached and uncached;
  (c) write 1,000 files of 64 KiB, each fsynced (64 in flight);
  (d) read one big file whole (``f.read()``), cached and uncached;
  (e) write one big file in 1 MiB chunks (page cache), and with an fsync at
      the end (the disk is in the measurement);
  (f) 16 large files read whole concurrently (sync: one after another),
      cached and uncached;
  (g) 2,000 x (stat + rename) concurrently, 2,000 x (stat, rename, unlink)
      one await at a time, and listdir of 10,000 entries;
  (h) loop.sock_sendfile of a 100 MiB file over loopback TCP.
Prints a markdown table of times and ratios (sync/impl: > 1 is faster than
the synchronous call; impl/aiofiles: < 1 is faster than aiofiles), with the
process CPU time of each best run (all threads) and its ratio to aiofiles'.
``--quick`` shrinks every size for a smoke run.
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

import socket

import aiofiles
import aiofiles.os
import anyio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import dxpy  # noqa: E402
from dxpy import aio  # noqa: E402
from dxpy.aio import os as aio_os  # noqa: E402

CHUNK = 1 << 20
Runner = Callable[[], Any]
#: A scenario: its title, implementation -> runner, and what must happen
#: (untimed) before each timed run.
Scenario = tuple[str, dict[str, Runner], Callable[[], None] | None]


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


# ---- (d) one big file, whole -------------------------------------------------------------
def drop_cache(*paths: Path) -> Callable[[], None]:
    """Evict the files' pages from the page cache (they are clean)."""
    def drop() -> None:
        for path in paths:
            fd = os.open(path, os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)
    return drop


async def read_whole(opener: Callable[..., Any], path: Path) -> int:
    """``len(f.read())`` with ``aiofiles.open`` or ``dxpy.aio.open``."""
    async with opener(path, "rb") as f:
        return len(await f.read())


def whole_read(path: Path) -> dict[str, Runner]:
    return {"sync open()": lambda: len(_read_sync(path)),
            "aiofiles": _on("asyncio", lambda: read_whole(aiofiles.open, path)),
            "dxpy-uring": _on("uring", lambda: read_whole(aio.open, path)),
            "dxpy-epoll": _on("epoll", lambda: read_whole(aio.open, path))}


# ---- (e) one big file written in chunks -----------------------------------------------------
def big_write(path: Path, size: int, fsync: bool) -> dict[str, Runner]:
    block = os.urandom(CHUNK)
    count = size // CHUNK

    def sync() -> None:
        with open(path, "wb") as f:
            for _ in range(count):
                f.write(block)
            if fsync:
                f.flush()
                os.fsync(f.fileno())

    async def aiofiles_fsync(f: Any) -> None:
        await f.flush()
        await aiofiles.os.wrap(os.fsync)(f.fileno())

    async def dxpy_fsync(f: Any) -> None:
        await f.fsync()

    def writer(opener: Callable[..., Any],
               sync_file: Callable[[Any], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
        async def write() -> None:
            async with opener(path, "wb") as f:
                for _ in range(count):
                    await f.write(block)
                if fsync:
                    await sync_file(f)
        return write

    return {"sync open()": sync, "aiofiles": _on("asyncio", writer(aiofiles.open, aiofiles_fsync)),
            "dxpy-uring": _on("uring", writer(aio.open, dxpy_fsync)),
            "dxpy-epoll": _on("epoll", writer(aio.open, dxpy_fsync))}


def unlink_first(path: Path) -> Callable[[], None]:
    return lambda: path.unlink(missing_ok=True)


# ---- (f) many large files at once -------------------------------------------------------------
def concurrent_reads(paths: list[Path]) -> dict[str, Runner]:
    def gathered(opener: Callable[..., Any]) -> Callable[[], Awaitable[Any]]:
        async def all_of_them() -> list[int]:
            return await asyncio.gather(*(read_whole(opener, p) for p in paths))
        return all_of_them

    return {"sync open()": lambda: [len(_read_sync(p)) for p in paths],
            "aiofiles": _on("asyncio", gathered(aiofiles.open)),
            "dxpy-uring": _on("uring", gathered(aio.open)),
            "dxpy-epoll": _on("epoll", gathered(aio.open))}


# ---- (g) metadata --------------------------------------------------------------------------------
def stat_rename(folder: Path, count: int) -> tuple[dict[str, Runner], Callable[[], None]]:
    """``count`` x (stat + rename), every pair in flight at once."""
    sources = [folder / f"s{i}" for i in range(count)]
    targets = [folder / f"t{i}" for i in range(count)]

    def reset() -> None:
        for target in targets:
            target.unlink(missing_ok=True)
        for source in sources:
            source.touch()

    def sync() -> None:
        for source, target in zip(sources, targets):
            os.stat(source)
            os.rename(source, target)

    def concurrently(module: Any) -> Callable[[], Awaitable[Any]]:
        async def one(source: Path, target: Path) -> None:
            await module.stat(source)
            await module.rename(source, target)

        async def all_pairs() -> None:
            await asyncio.gather(*(one(s, t) for s, t in zip(sources, targets)))
        return all_pairs

    runners = {"sync open()": sync, "aiofiles": _on("asyncio", concurrently(aiofiles.os)),
               "dxpy-uring": _on("uring", concurrently(aio_os)),
               "dxpy-epoll": _on("epoll", concurrently(aio_os))}
    return runners, reset


def metadata_loops(folder: Path, count: int) -> tuple[dict[str, Runner], Callable[[], None]]:
    """``count`` x (stat, rename, unlink), one await at a time: each call's
    own latency, with no batching or overlap to hide it."""
    files = [(folder / f"u{i}", folder / f"v{i}") for i in range(count)]

    def reset() -> None:
        for source, target in files:
            source.touch()
            target.unlink(missing_ok=True)

    def sync() -> None:
        for source, target in files:
            os.stat(source)
            os.rename(source, target)
            os.unlink(target)

    def one_by_one(module: Any) -> Callable[[], Awaitable[Any]]:
        async def loop() -> None:
            for source, target in files:
                await module.stat(source)
                await module.rename(source, target)
                await module.unlink(target)
        return loop

    return {"sync open()": sync, "aiofiles": _on("asyncio", one_by_one(aiofiles.os)),
            "dxpy-uring": _on("uring", one_by_one(aio_os)),
            "dxpy-epoll": _on("epoll", one_by_one(aio_os))}, reset


def listing(folder: Path) -> dict[str, Runner]:
    return {"sync open()": lambda: os.listdir(folder),
            "aiofiles": _on("asyncio", lambda: aiofiles.os.listdir(folder)),
            "dxpy-uring": _on("uring", lambda: aio_os.listdir(folder)),
            "dxpy-epoll": _on("epoll", lambda: aio_os.listdir(folder))}


# ---- (h) sendfile -----------------------------------------------------------------------------------
def sendfile(path: Path) -> dict[str, Runner]:
    """``loop.sock_sendfile`` to a loopback TCP peer that the same loop drains."""
    size = path.stat().st_size

    async def transfer() -> None:
        loop = asyncio.get_running_loop()
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen(1)
            sender = socket.create_connection(listener.getsockname())
            receiver, _ = listener.accept()
        sender.setblocking(False)
        receiver.setblocking(False)
        buf = bytearray(CHUNK)

        async def drain() -> int:
            total = 0
            while count := await loop.sock_recv_into(receiver, buf):
                total += count
            return total

        async def send() -> int:
            with open(path, "rb") as f:
                sent = await loop.sock_sendfile(sender, f)
            sender.shutdown(socket.SHUT_WR)
            return sent

        with sender, receiver:
            sent, received = await asyncio.gather(send(), drain())
        assert sent == received == size

    return {"asyncio": _on("asyncio", transfer), "dxpy-uring": _on("uring", transfer),
            "dxpy-epoll": _on("epoll", transfer)}


# ---- driver ---------------------------------------------------------------------------------------
def best_of(runners: dict[str, Runner], repeat: int,
            before: Callable[[], None] | None = None) -> dict[str, tuple[float, float]]:
    """Per implementation, the best wall time of ``repeat`` runs and the
    process CPU time (every thread's, the kernel's for them included) of that
    run: on a shared machine the wall time also measures the other users'
    load.  Rounds are interleaved (each implementation once per round), so a
    change in that load falls on all of them alike, and each round starts one
    implementation later: on this VM (Firecracker, free page reporting of
    8 MiB blocks) a 1 GiB write right after a run that wrote from another
    thread (aiofiles) got pages the host had taken back, and its copies ran
    2-5x slower (perf: ``copy_folio_from_iter_atomic``), whoever came next."""
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in runners}
    names = list(runners)
    for round_ in range(repeat):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            run = runners[name]
            if before is not None:
                before()
            start, cpu = time.perf_counter(), time.process_time()
            run()
            runs[name].append((time.perf_counter() - start, time.process_time() - cpu))
    return {name: min(times) for name, times in runs.items()}


def parse_size(text: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    return int(text[:-1]) * units[text[-1].upper()] if text[-1].upper() in units else int(text)


def write_file(path: Path, size: int) -> Path:
    block = os.urandom(CHUNK)
    with open(path, "wb") as f:
        for _ in range(size // CHUNK):
            f.write(block)
        f.flush()
        os.fsync(f.fileno())  # clean pages: DONTNEED can drop them
    return path


def prepare_small(root: Path, files: int) -> list[Path]:
    small = root / "small"
    small.mkdir()
    paths = []
    for i in range(files):
        paths.append(small / f"f{i:05d}")
        paths[-1].write_bytes(os.urandom(4096))
    return paths


def scenarios(root: Path, options: argparse.Namespace) -> list[Scenario]:
    """Build the selected scenarios' files and runners (files first, so the
    table starts only when everything exists)."""
    q = options.quick
    big_size = parse_size("64M" if q else options.big_size)
    many_size, many = parse_size("16M" if q else "256M"), 16
    pairs, entries = (200, 1000) if q else (2000, 10_000)
    want = set(options.only.split(",")) if options.only else set("abcdefgh")
    out: list[Scenario] = []
    if "a" in want:
        paths = prepare_small(root, 1000 if q else options.files)
        out.append((f"(a) read {len(paths)} x 4 KiB files", small_reads(paths), None))
    big = write_file(root / "big", big_size) if want & set("bdh") else None
    label = f"{big_size >> 20} MiB"
    if "b" in want:
        out.append((f"(b) read {label} in 1 MiB chunks, cached", big_read(big), None))
        out.append((f"(b) read {label} in 1 MiB chunks, uncached", big_read(big),
                    drop_cache(big)))
    if "c" in want:
        out.append((f"(c) write+fsync {options.writes} x 64 KiB",
                    write_fsync(root, 100 if q else options.writes), None))
    if "d" in want:
        out.append((f"(d) read {label} whole, cached", whole_read(big), None))
        out.append((f"(d) read {label} whole, uncached", whole_read(big), drop_cache(big)))
    if "e" in want:
        target = root / "written"
        out.append((f"(e) write {label} in 1 MiB chunks", big_write(target, big_size, False),
                    unlink_first(target)))
        out.append((f"(e) write {label} in 1 MiB chunks + fsync",
                    big_write(target, big_size, True), unlink_first(target)))
    if "f" in want:
        (root / "many").mkdir()
        files = [write_file(root / "many" / f"m{i}", many_size) for i in range(many)]
        title = f"(f) read {many} x {many_size >> 20} MiB concurrently"
        out.append((f"{title}, cached", concurrent_reads(files), None))
        out.append((f"{title}, uncached", concurrent_reads(files), drop_cache(*files)))
    if "g" in want:
        (root / "meta").mkdir()
        runners, reset = stat_rename(root / "meta", pairs)
        out.append((f"(g) {pairs} x (stat + rename)", runners, reset))
        runners, reset = metadata_loops(root / "meta", pairs)
        out.append((f"(g) {pairs} x (stat, rename, unlink) one at a time", runners, reset))
        (root / "dir").mkdir()
        for i in range(entries):
            (root / "dir" / f"e{i:05d}").touch()
        out.append((f"(g) listdir of {entries} entries", listing(root / "dir"), None))
    if "h" in want:
        out.append((f"(h) sock_sendfile {label} over TCP", sendfile(big), None))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--big-size", default="1G", help="size of the big file, e.g. 256M, 1G")
    parser.add_argument("--writes", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    parser.add_argument("--only", default="", help="scenario letters, e.g. d,f,g")
    parser.add_argument("--dir", default=None, help="where to create files (default: $TMPDIR)")
    options = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="dxpy-files-bench-", dir=options.dir))
    try:
        print("| scenario | implementation | time (ms) | CPU (ms) | sync/impl | impl/aiofiles "
              "| CPU impl/aiofiles | load |")
        print("|---|---|---:|---:|---:|---:|---:|---:|")
        for title, runners, before in scenarios(root, options):
            load = os.getloadavg()[0]  # 1-minute load average as the scenario starts
            times = best_of(runners, options.repeat, before)
            base = times.get("sync open()", times.get("asyncio"))
            peer = times.get("aiofiles", base)
            for name, (seconds, cpu) in times.items():
                print(f"| {title} | {name} | {seconds * 1e3:.1f} | {cpu * 1e3:.1f} | "
                      f"{base[0] / seconds:.2f} | {seconds / peer[0]:.3f} | "
                      f"{cpu / peer[1]:.3f} | {load:.1f} |", flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
