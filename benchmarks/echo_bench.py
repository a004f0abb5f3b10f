#!/usr/bin/env python3
"""TCP echo benchmark: dxpy (uring, epoll; both cores) vs asyncio, uvloop and C servers.

Every server runs in its own subprocess pinned to CPU 0 and is driven by a
small C client (``native/echo_client.c``) pinned to CPU 1.  The client is C
so that the load generator is never the bottleneck and costs the same for
every server; separate processes and CPUs keep the server's loop from
competing with the client for the GIL or a core.  Two single-threaded C
servers are the ceiling: ``c-epoll`` (``native/echo_server.c``, recv/send per
message) and ``c-uring`` (``native/echo_uring_server.c``, multishot receive
from provided buffers, every send of an iteration in one ``io_uring_enter``).
Each Python loop is also reported as a percentage of the better of the two in
the same cell ("%C" columns).

``dxpy-uring``/``dxpy-epoll`` are dxpy as a user gets it (the default loop
core); ``dxpy-uring-py``/``dxpy-epoll-py`` run with ``DXPY_CORE=python``, the
pure-Python reference core.

Usage::

    python benchmarks/echo_bench.py                  # full matrix (~8 min)
    python benchmarks/echo_bench.py --quick          # protocol, 1 KiB, 64/100 conns
    python benchmarks/echo_bench.py --sizes 1K --json out.json

Internally the same file is the Python server:
``echo_bench.py --serve LOOP STYLE PORT`` (PORT 0: print the chosen port).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import select
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, cast

HERE = Path(__file__).resolve().parent
NATIVE_DIR = HERE / "native"
BUILD_DIR = NATIVE_DIR / "build"  # git-ignored
HOST = "127.0.0.1"

# C server name -> (source file stem in native/, extra linker arguments)
C_SERVERS = {"c-epoll": ("echo_server", []), "c-uring": ("echo_uring_server", ["-luring"])}
DXPY_LOOPS = ("dxpy-uring", "dxpy-epoll", "dxpy-uring-py", "dxpy-epoll-py")
PY_LOOPS = ("asyncio", "uvloop", *DXPY_LOOPS)
ALL_SERVERS = (*C_SERVERS, *PY_LOOPS)
CORE_ENV = "DXPY_CORE"  # the dxpy loop core selector; "-py" servers force "python"
# (numerator, denominator) ratio columns, shown when both servers ran
RATIO_PAIRS = (("dxpy-uring", "asyncio"), ("dxpy-uring", "uvloop"), ("dxpy-epoll", "uvloop"),
               ("dxpy-uring-py", "uvloop"))
STYLES = ("protocol", "streams", "sockets")
BACKLOG = 1024  # above the largest --conns so no SYN is ever dropped
READ_SIZE = 65536

SERVER_CPU = 0
CLIENT_CPU = 1
WARMUP_S = 0.5
STARTUP_TIMEOUT_S = 10.0
CLIENT_GRACE_S = 15.0  # beyond warm-up + duration before the client is killed
STDERR_TAIL = 600  # characters of a failed server's stderr kept in the report


# --------------------------------------------------------------------------
# Server side (runs in the subprocess started with --serve)
# --------------------------------------------------------------------------

def _loop_factory(name: str) -> Callable[[], asyncio.AbstractEventLoop]:
    """Imports lazily so that a broken loop only fails its own cells."""
    if name == "asyncio":
        return asyncio.new_event_loop
    if name == "uvloop":
        import uvloop
        return uvloop.new_event_loop
    if name in DXPY_LOOPS:
        import dxpy
        reactor = name.split("-")[1]  # the core is chosen by DXPY_CORE (see _server_env)
        return lambda: dxpy.new_event_loop(reactor)
    raise ValueError(f"unknown loop {name!r}")


def _nodelay(sock: Any) -> None:
    """Disable Nagle explicitly.

    asyncio and uvloop set TCP_NODELAY on accepted transports themselves but
    loop.sock_accept() sockets (and other loops) may not; setting it in every
    style keeps the comparison about the loop, not about Nagle's algorithm.
    """
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class EchoProtocol(asyncio.Protocol):
    """Echo whatever arrives straight back through the transport."""

    transport: asyncio.Transport

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # cast, not isinstance: uvloop's transports do not subclass asyncio.Transport
        self.transport = cast(asyncio.Transport, transport)
        _nodelay(transport.get_extra_info("socket"))

    def data_received(self, data: bytes) -> None:
        self.transport.write(data)


async def _handle_stream(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    _nodelay(writer.get_extra_info("socket"))
    try:
        while data := await reader.read(READ_SIZE):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def _handle_socket(loop: asyncio.AbstractEventLoop, conn: socket.socket) -> None:
    try:
        while data := await loop.sock_recv(conn, READ_SIZE):
            await loop.sock_sendall(conn, data)
    except ConnectionError:
        pass
    finally:
        conn.close()


def _listening_socket(port: int) -> socket.socket:
    sock = socket.create_server((HOST, port), backlog=BACKLOG)
    sock.setblocking(False)
    return sock


def _announce(lsock: socket.socket) -> None:
    """Tell the driver (reading our stdout) which port to connect to."""
    print(lsock.getsockname()[1], flush=True)


async def _serve_forever(style: str, port: int) -> None:
    """Listen, announce the port on stdout, then serve until killed."""
    loop = asyncio.get_running_loop()
    lsock = _listening_socket(port)
    if style == "protocol":
        server = await loop.create_server(EchoProtocol, sock=lsock, backlog=BACKLOG)
        _announce(lsock)
        await server.serve_forever()
    elif style == "streams":
        server = await asyncio.start_server(_handle_stream, sock=lsock, backlog=BACKLOG)
        _announce(lsock)
        await server.serve_forever()
    elif style == "sockets":
        _announce(lsock)
        tasks: set[asyncio.Task[None]] = set()  # strong refs: tasks must not be GC'd
        while True:
            conn, _ = await loop.sock_accept(lsock)
            conn.setblocking(False)
            _nodelay(conn)
            task = loop.create_task(_handle_socket(loop, conn))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
    else:
        raise ValueError(f"unknown style {style!r}")


def serve(loop_name: str, style: str, port: int) -> None:
    """Entry point of the server subprocess."""
    with asyncio.Runner(loop_factory=_loop_factory(loop_name)) as runner:
        runner.run(_serve_forever(style, port))


# --------------------------------------------------------------------------
# Driver side
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Cell:
    """One measurement: a server kind under one workload."""

    server: str
    style: str
    size: int
    conns: int


@dataclass
class Result:
    """Outcome of one cell; ``error`` is set instead of numbers on failure."""

    server: str
    style: str
    size: int
    conns: int
    rps: float | None = None
    requests: int | None = None
    seconds: float | None = None
    stalled: int | None = None
    samples: list[float] | None = None  # req/s of each repeat; rps is their median
    cpu_us: float | None = None  # server CPU microseconds per request
    error: str | None = None


class BenchError(Exception):
    """A cell failed (server did not start, client error, timeout...)."""


def _compile(name: str, libs: Sequence[str]) -> Path:
    """gcc -O2 one native program (only when out of date); raises BenchError
    with the compiler's message when it cannot be built."""
    src, exe = NATIVE_DIR / f"{name}.c", BUILD_DIR / name
    if not exe.exists() or exe.stat().st_mtime < src.stat().st_mtime:
        cmd = ["gcc", "-O2", "-Wall", "-Wextra", "-o", str(exe), str(src), *libs]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True)
        except OSError as exc:
            raise BenchError(f"cannot run gcc: {exc}") from None
        if done.returncode != 0:
            raise BenchError(f"{src.name} did not build: {done.stderr.strip()[-STDERR_TAIL:]}")
    return exe


def build_native(servers: Sequence[str]) -> tuple[dict[str, Path], dict[str, str]]:
    """Build the C client (required) and the chosen C servers.

    Returns the binaries by name ("echo_client" and server names) and, for a
    C server that could not be built (e.g. no liburing headers), why: its
    cells then report that error while every other server still runs.
    """
    BUILD_DIR.mkdir(parents=True, exist_ok=True)
    binaries = {"echo_client": _compile("echo_client", [])}
    errors = {}
    for server in servers:
        if server in C_SERVERS:
            try:
                binaries[server] = _compile(*C_SERVERS[server])
            except BenchError as exc:
                errors[server] = str(exc)
    return binaries, errors


def _pin_to(cpu: int | None) -> Callable[[], None] | None:
    """preexec_fn pinning the child to one CPU (None: no pinning)."""
    if cpu is None:
        return None
    return lambda: os.sched_setaffinity(0, {cpu})


def _cpus() -> tuple[int | None, int | None]:
    """Server and client CPUs; no pinning when fewer than two are usable."""
    usable = sorted(os.sched_getaffinity(0))
    if len(usable) < 2:
        return None, None
    return usable[SERVER_CPU], usable[CLIENT_CPU]


def _read_port(proc: subprocess.Popen[bytes], deadline: float) -> int:
    """Wait for the server's first stdout line (its port), its death or the deadline."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    buf = b""
    while b"\n" not in buf:
        if time.monotonic() > deadline:
            raise BenchError(f"server did not print its port within {STARTUP_TIMEOUT_S:.0f}s")
        readable, _, _ = select.select([fd], [], [], 0.05)
        chunk = os.read(fd, 64) if readable else b""
        if not chunk and proc.poll() is not None:
            raise BenchError(f"server exited with status {proc.returncode} before listening")
        buf += chunk
    try:
        return int(buf.split(b"\n", 1)[0])
    except ValueError:
        raise BenchError(f"server printed {buf!r} instead of a port") from None


def _wait_accepting(port: int, deadline: float) -> None:
    """Block until a TCP connect to the port succeeds."""
    while True:
        try:
            with socket.create_connection((HOST, port), timeout=1.0):
                return
        except OSError as exc:
            if time.monotonic() > deadline:
                raise BenchError(f"port {port} not accepting connections: {exc}") from None
            time.sleep(0.05)


class ServerProcess:
    """A server subprocess that is always killed on exit from the with-block."""

    def __init__(self, cmd: Sequence[str], cpu: int | None, env: dict[str, str]) -> None:
        self._stderr = tempfile.TemporaryFile()  # a file, so a chatty server never blocks
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=self._stderr, preexec_fn=_pin_to(cpu), env=env)
        self.port = 0
        self.stderr = ""  # filled in on exit

    def __enter__(self) -> ServerProcess:
        try:
            deadline = time.monotonic() + STARTUP_TIMEOUT_S
            self.port = _read_port(self.proc, deadline)
            _wait_accepting(self.port, deadline)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._stderr.seek(0)
        self.stderr = self._stderr.read().decode(errors="replace").strip()
        self._stderr.close()

    def check_alive(self) -> None:
        """Raise if the server died while the client was running."""
        if self.proc.poll() is not None:
            raise BenchError(f"server exited with status {self.proc.returncode} during the run")


def _server_cmd(cell: Cell, binaries: dict[str, Path]) -> list[str]:
    if cell.server in C_SERVERS:
        return [str(binaries[cell.server]), "0"]
    return [sys.executable, str(Path(__file__).resolve()), "--serve", cell.server, cell.style, "0"]


def _server_env(server: str) -> dict[str, str]:
    """The server's environment: "-py" dxpy servers force the pure-Python
    core; every other server gets the default core, whatever the caller's
    shell has set, so the two dxpy columns always mean what they say."""
    env = dict(os.environ)
    env.pop(CORE_ENV, None)
    if server in DXPY_LOOPS and server.endswith("-py"):
        env[CORE_ENV] = "python"
    return env


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far (from /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _run_client(exe: Path, server_pid: int, port: int, cell: Cell, duration: float,
                cpu: int | None) -> dict[str, Any]:
    """Drive the server; also measure the server's CPU time in the measured
    window, so a server's cost per request is known even when the client,
    not the server, limits the request rate."""
    cmd = [str(exe), HOST, str(port), str(cell.conns), str(cell.size), str(WARMUP_S), str(duration)]
    client = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              preexec_fn=_pin_to(cpu))
    try:
        time.sleep(WARMUP_S)
        cpu_start = _cpu_seconds(server_pid)
        out, err = client.communicate(timeout=duration + CLIENT_GRACE_S)
        cpu_used = _cpu_seconds(server_pid) - cpu_start
    except subprocess.TimeoutExpired:
        raise BenchError(f"client timed out after {WARMUP_S + duration + CLIENT_GRACE_S:.0f}s")
    finally:
        if client.poll() is None:
            client.kill()
            client.wait()
    if client.returncode != 0:
        raise BenchError(f"client failed ({client.returncode}): {err.strip()}")
    run = json.loads(out)
    run["server_cpu_s"] = cpu_used
    return run


def run_cell(cell: Cell, duration: float, repeat: int, binaries: dict[str, Path]) -> Result:
    """Start the server, drive it with the client ``repeat`` times, always stop the server.

    The median of repeats is reported because run-to-run noise on small
    (virtual) machines is easily +-20%, more than some differences measured.
    """
    server_cpu, client_cpu = _cpus()
    result = Result(cell.server, cell.style, cell.size, cell.conns)
    server: ServerProcess | None = None
    try:
        if cell.server in C_SERVERS and cell.server not in binaries:
            raise BenchError(f"{cell.server} was not built (the build error is printed first)")
        server = ServerProcess(_server_cmd(cell, binaries), server_cpu, _server_env(cell.server))
        with server:
            runs = []
            for _ in range(repeat):
                runs.append(_run_client(binaries["echo_client"], server.proc.pid, server.port,
                                        cell, duration, client_cpu))
                server.check_alive()
                if runs[-1]["requests"] == 0:
                    raise BenchError("no request completed in the measured window (server stalled?)")
        result.samples = [run["rps"] for run in runs]
        result.rps = statistics.median(result.samples)
        result.requests = sum(run["requests"] for run in runs)
        result.seconds = sum(run["seconds"] for run in runs)
        result.stalled = max(run["stalled"] for run in runs)
        result.cpu_us = 1e6 * sum(run["server_cpu_s"] for run in runs) / max(result.requests, 1)
    except (BenchError, OSError, ValueError) as exc:
        result.error = str(exc)
        if server is not None and server.stderr:
            result.error += f" | server stderr: ...{server.stderr[-STDERR_TAIL:]}"
    return result


# --------------------------------------------------------------------------
# Planning and reporting
# --------------------------------------------------------------------------

def parse_size(text: str) -> int:
    """'1K' -> 1024, '64k' -> 65536, '1M' -> 1048576, '100' -> 100."""
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    text = text.strip().upper().removesuffix("IB").removesuffix("B")
    if text and text[-1] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(text)


def fmt_size(size: int) -> str:
    for unit, factor in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= factor and size % factor == 0:
            return f"{size // factor}{unit}"
    return f"{size}B"


def default_duration(size: int) -> float:
    """Shorter windows for huge messages keep the full matrix under ~6 minutes."""
    return 2.0 if size >= (1 << 20) else 3.0


def plan(styles: Sequence[str], sizes: Sequence[int], conns: Sequence[int],
         servers: Sequence[str]) -> list[Cell]:
    """All cells to measure; the C servers are style-independent, so once per workload."""
    cells = []
    for size in sizes:
        for n in conns:
            cells += [Cell(s, "-", size, n) for s in servers if s in C_SERVERS]
            cells += [Cell(s, style, size, n) for style in styles for s in servers
                      if s not in C_SERVERS]
    return cells


def _lookup(results: Iterable[Result]) -> dict[tuple[str, str, int, int], Result]:
    return {(r.server, r.style, r.size, r.conns): r for r in results}


def _ratio(num: float | None, den: float | None, percent: bool) -> str:
    if not num or not den:
        return "-"
    value = num / den
    return f"{value * 100:.0f}%" if percent else f"{value:.2f}x"


def _rps(r: Result | None) -> float | None:
    return None if r is None or r.error is not None else r.rps


def _speed(r: Result | None) -> float | None:
    """Requests per server CPU-second: higher is better, like req/s."""
    if r is None or r.error is not None or not r.cpu_us:
        return None
    return 1e6 / r.cpu_us


def _value_cell(r: Result | None, value: float | None, fmt: str) -> str:
    if r is None:
        return "-"
    if value is None:
        return "error"
    return format(value, fmt) + ("!" if r.stalled else "")


def build_table(results: Sequence[Result], styles: Sequence[str], sizes: Sequence[int],
                conns: Sequence[int], servers: Sequence[str],
                metric: Callable[[Result | None], float | None] = _rps) -> str:
    """Render one metric (req/s, or req per server CPU-second) for every
    cell, plus ratio columns and, when a C server ran, each Python loop as a
    percentage of the better C server of that cell, as aligned text."""
    by_key = _lookup(results)
    py = [s for s in servers if s not in C_SERVERS]
    with_c = any(s in C_SERVERS for s in servers)
    header = ["style", "size", "conns", *servers]
    ratio_pairs = [(a, b) for a, b in RATIO_PAIRS if a in servers and b in servers]
    header += [f"{a.removeprefix('dxpy-')}/{b}" for a, b in ratio_pairs]
    if with_c:
        header += [f"{s} %C" for s in py]
    rows = [header]
    for style in styles if py else ["-"]:
        for size in sizes:
            for n in conns:
                cell = {s: by_key.get((s, "-" if s in C_SERVERS else style, size, n)) for s in servers}
                value = {s: metric(r) for s, r in cell.items()}
                row = [style, fmt_size(size), str(n)]
                row += [_value_cell(cell[s], value[s], ",.0f") for s in servers]
                row += [_ratio(value[a], value[b], percent=False) for a, b in ratio_pairs]
                if with_c:
                    best_c = max((v for s, v in value.items() if s in C_SERVERS and v), default=None)
                    row += [_ratio(value[s], best_c, percent=True) for s in py]
                rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
             for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _notes(results: Sequence[Result]) -> list[str]:
    notes = []
    for r in results:
        cell = f"{r.server} {r.style} {fmt_size(r.size)} x{r.conns}"
        if r.error:
            notes.append(f"error   {cell}: {r.error}")
        elif r.stalled:
            notes.append(f"stalled {cell}: {r.stalled}/{r.conns} connections completed no request")
    return notes


def _csv(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=lambda t: [parse_size(x) for x in _csv(t)],
                   default=[1 << 10, 64 << 10, 1 << 20],
                   help="message sizes, e.g. 1K,64K,1M (default: all three)")
    p.add_argument("--conns", type=lambda t: [int(x) for x in _csv(t)], default=[1, 100],
                   help="concurrent connections, e.g. 1,64,100 (default: 1,100)")
    p.add_argument("--styles", type=_csv, default=list(STYLES), help=f"subset of {','.join(STYLES)}")
    p.add_argument("--loops", type=_csv, default=list(ALL_SERVERS), help=f"subset of {','.join(ALL_SERVERS)}")
    p.add_argument("--duration", type=float, default=None,
                   help="measured seconds per cell (default: 3, or 2 for sizes >= 1 MiB)")
    p.add_argument("--repeat", type=int, default=1,
                   help="client runs per cell against the same server; the median is shown")
    p.add_argument("--quick", action="store_true", help="protocol, 1 KiB, 64 and 100 conns, 2 s")
    p.add_argument("--json", metavar="OUT", type=Path, help="also save all results as JSON")
    p.add_argument("--serve", nargs=3, metavar=("LOOP", "STYLE", "PORT"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.quick:
        args.styles, args.sizes, args.conns, args.duration = ["protocol"], [1 << 10], [64, 100], 2.0
    for name, chosen, allowed in (("style", args.styles, STYLES), ("loop", args.loops, ALL_SERVERS)):
        if bad := set(chosen) - set(allowed):
            p.error(f"unknown {name}(s): {', '.join(sorted(bad))}; choose from {', '.join(allowed)}")
    args.loops = [s for s in ALL_SERVERS if s in args.loops]  # canonical column order
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.serve:
        loop_name, style, port = args.serve
        serve(loop_name, style, int(port))
        return 0

    binaries, build_errors = build_native(args.loops)
    for server, why in build_errors.items():
        print(f"{server}: {why}", file=sys.stderr)
    cells = plan(args.styles, args.sizes, args.conns, args.loops)
    durations = {c: args.duration or default_duration(c.size) for c in cells}
    estimate = sum((durations[c] + WARMUP_S) * args.repeat + 0.5 for c in cells)
    server_cpu, client_cpu = _cpus()
    print(f"{len(cells)} cells, ~{estimate / 60:.1f} min; server CPU {server_cpu}, client CPU {client_cpu}",
          file=sys.stderr)
    results: list[Result] = []
    for i, cell in enumerate(cells, 1):
        r = run_cell(cell, durations[cell], args.repeat, binaries)
        results.append(r)
        shown = f"{r.rps:,.0f} req/s" if r.error is None else f"error: {r.error}"
        print(f"[{i}/{len(cells)}] {cell.server:<13} {cell.style:<8} {fmt_size(cell.size):>6} "
              f"x{cell.conns:<3} {shown}", file=sys.stderr, flush=True)

    print("Requests per second (the client may be the limit; see the next table):")
    print(build_table(results, args.styles, args.sizes, args.conns, args.loops))
    print("\nRequests per server CPU-second (1e6 / server CPU us per request):")
    print(build_table(results, args.styles, args.sizes, args.conns, args.loops, _speed))
    if any(s in C_SERVERS for s in args.loops):
        print("%C: the loop as a percentage of the better C server (c-epoll, c-uring) in that row")
    notes = _notes(results)
    if notes:
        print("\n" + "\n".join(notes))
    if any(r.stalled for r in results):
        print("! = some connections completed no request in the window (see notes)")
    if args.json:
        meta = {"warmup_s": WARMUP_S, "duration_s": args.duration, "repeat": args.repeat,
                "server_cpu": server_cpu,
                "client_cpu": client_cpu, "python": sys.version.split()[0]}
        args.json.write_text(json.dumps({"meta": meta, "results": [asdict(r) for r in results]}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
