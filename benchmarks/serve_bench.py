"""dxpy serve vs uvicorn (uvloop + httptools) vs granian (Rust), loaded by wrk.

    python benchmarks/serve_bench.py            # the full table (about 15 minutes)
    python benchmarks/serve_bench.py --quick    # plaintext, 64 connections, 3 s runs
    python benchmarks/serve_bench.py --gc       # GC pauses + resident memory after N requests

Each server runs pinned to CPU 0 (``taskset``) and wrk to CPU 1, one server
at a time, side by side in one run: same apps (this file: ``plaintext``,
``json_app``, ``upload``), same keep-alive connections (1, 64, 256).  The
``--workers 2`` rows run every server with two processes and nothing
pinned (the machine has two cores, so wrk shares them).  Printed per row:
requests/s, the ratio to uvicorn, p50/p99 latency from wrk, and the server's
CPU time per request (utime+stime of the server and its children from
/proc, divided by the requests wrk completed): each the median of
``--repeat`` runs (default 3) with the servers interleaved.

``--gc`` serves ``alloc_app`` (per-request cyclic garbage, as frameworks
make) with dxpy's GC control and with ``--no-gc-control``, ``--requests``
each (default 1,000,000), and prints the pause histograms from ``--stats``
and the resident memory at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# ---- the apps (imported by every server as serve_bench:<name>) -------------
_TEXT = [(b"content-type", b"text/plain; charset=utf-8")]
_JSON = [(b"content-type", b"application/json")]


async def _lifespan(receive, send) -> None:
    while True:
        message = await receive()
        await send({"type": message["type"] + ".complete"})
        if message["type"] == "lifespan.shutdown":
            return


async def plaintext(scope, receive, send):
    if scope["type"] == "lifespan":
        return await _lifespan(receive, send)
    await send({"type": "http.response.start", "status": 200, "headers": _TEXT})
    await send({"type": "http.response.body", "body": b"Hello, world!"})


async def json_app(scope, receive, send):
    if scope["type"] == "lifespan":
        return await _lifespan(receive, send)
    body = json.dumps({"message": "Hello, world!", "path": scope["path"],
                       "items": [1, 2, 3]}).encode()
    await send({"type": "http.response.start", "status": 200, "headers": _JSON})
    await send({"type": "http.response.body", "body": body})


async def upload(scope, receive, send):
    """Reads the whole request body (64 KiB from wrk), answers its length."""
    if scope["type"] == "lifespan":
        return await _lifespan(receive, send)
    size = 0
    more = True
    while more:
        message = await receive()
        size += len(message.get("body", b""))
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": _TEXT})
    await send({"type": "http.response.body", "body": b"%d" % size})


class _Node:
    def __init__(self, parent):
        self.parent = parent
        self.children = []


async def alloc_app(scope, receive, send):
    """Per-request cyclic garbage: only the collector frees it."""
    if scope["type"] == "lifespan":
        return await _lifespan(receive, send)
    root = _Node(None)
    for _ in range(20):
        child = _Node(root)
        root.children.append(child)
    body = json.dumps({"nodes": len(root.children)}).encode()
    await send({"type": "http.response.start", "status": 200, "headers": _JSON})
    await send({"type": "http.response.body", "body": body})


# ---- running servers ------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_command(name: str, app: str, port: int, workers: int, extra: list[str]) -> list[str]:
    py = sys.executable
    if name == "dxpy":
        return [py, "-m", "dxpy", "serve", f"serve_bench:{app}", "--app-dir", HERE, "--port",
                str(port), "--workers", str(workers), "--no-access-log", "--log-level",
                "warning", *extra]
    if name == "uvicorn":
        return [py, "-m", "uvicorn", f"serve_bench:{app}", "--app-dir", HERE, "--port", str(port),
                "--workers", str(workers), "--loop", "uvloop", "--http", "httptools",
                "--no-access-log", "--log-level", "warning"]
    if name == "granian":
        return [shutil.which("granian") or "granian", "--interface", "asgi", "--host", "127.0.0.1",
                "--port", str(port), "--workers", str(workers), "--log-level", "warning",
                "--no-ws", f"serve_bench:{app}"]
    raise ValueError(name)


def server_env() -> dict[str, str]:
    """The apps (this directory) and the dxpy of this checkout on the servers' path."""
    paths = [HERE, os.path.dirname(HERE), os.environ.get("PYTHONPATH")]
    return dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, paths)))


def wait_listening(port: int, process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                if sock.recv(16).startswith(b"HTTP/1.1"):
                    return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError("server did not start")


def process_tree(pid: int) -> list[int]:
    pids, frontier = [pid], [pid]
    while frontier:
        parent = frontier.pop()
        try:
            with open(f"/proc/{parent}/task/{parent}/children") as f:
                kids = [int(x) for x in f.read().split()]
        except OSError:
            kids = []
        pids += kids
        frontier += kids
    return pids


def cpu_seconds(pids: list[int]) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except OSError:
            pass
    return total / ticks


def rss_mib(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


_LUA_UPLOAD = 'wrk.method = "POST"\nwrk.body = string.rep("x", 65536)\n' \
              'wrk.headers["Content-Type"] = "application/octet-stream"\n'


def run_wrk(port: int, connections: int, seconds: float, upload_body: bool,
            pin: bool) -> dict:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency"]
    script = None
    if upload_body:
        script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
        script.write(_LUA_UPLOAD)
        script.close()
        command += ["-s", script.name]
    command.append(f"http://127.0.0.1:{port}/")
    if pin:
        command = ["taskset", "-c", "1", *command]
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30).stdout
    finally:
        if script is not None:
            os.unlink(script.name)
    return parse_wrk(out)


def parse_wrk(out: str) -> dict:
    def latency_ms(label: str) -> float:
        match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not match:
            return float("nan")
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    requests = re.search(r"(\d+) requests in", out)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {"requests": int(requests.group(1)) if requests else 0,
            "rps": float(rate.group(1)) if rate else 0.0,
            "p50": latency_ms("50"), "p99": latency_ms("99"),
            "errors": (int(errors.group(1)) if errors else 0),
            "socket_errors": socket_errors.group(1) if socket_errors else ""}


def measure(name: str, app: str, connections: int, seconds: float, workers: int,
            extra: list[str] | None = None) -> dict:
    port = free_port()
    command = server_command(name, app, port, workers, extra or [])
    pin = workers == 1
    if pin:
        command = ["taskset", "-c", "0", *command]
    process = subprocess.Popen(command, env=server_env(), stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    try:
        wait_listening(port, process)
        run_wrk(port, connections, 1.0, app == "upload", pin)  # warm-up
        pids = process_tree(process.pid)
        before = cpu_seconds(pids)
        result = run_wrk(port, connections, seconds, app == "upload", pin)
        result["cpu_us"] = (cpu_seconds(pids) - before) * 1e6 / max(1, result["requests"])
        result["rss"] = rss_mib(pids)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            _, stderr = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            _, stderr = process.communicate()
    result["stderr"] = stderr
    return result


# ---- reporting --------------------------------------------------------------
SERVERS = ("dxpy", "uvicorn", "granian")


def median_row(runs: list[dict]) -> dict:
    """The median of each number over repeated runs (errors: from any run)."""
    row = {key: statistics.median(r[key] for r in runs)
           for key in ("rps", "p50", "p99", "cpu_us")}
    row["errors"] = sum(r["errors"] for r in runs)
    row["socket_errors"] = "; ".join(r["socket_errors"] for r in runs if r["socket_errors"])
    return row


def table(rows: list[tuple[str, int, int, str, dict]]) -> str:
    lines = ["| app | conns | workers | server | req/s | vs uvicorn | p50 ms | p99 ms | "
             "CPU us/req |", "|---|---|---|---|---|---|---|---|---|"]
    baseline = {(app, c, w): r["rps"] for app, c, w, name, r in rows if name == "uvicorn"}
    for app, conns, workers, name, r in rows:
        base = baseline.get((app, conns, workers)) or float("nan")
        flag = " (errors)" if r["errors"] or r["socket_errors"] else ""
        lines.append(f"| {app} | {conns} | {workers} | {name}{flag} | {r['rps']:,.0f} | "
                     f"{r['rps'] / base:.2f}x | {r['p50']:.2f} | {r['p99']:.2f} | "
                     f"{r['cpu_us']:.1f} |")
    return "\n".join(lines)


def bench(apps: list[str], connections: list[int], workers: list[int], seconds: float,
          repeat: int, extra: list[str]) -> None:
    """Each row ``repeat`` times, the servers interleaved (the order rotates per
    round, so a load change on the shared machine does not favour one server);
    the table shows medians."""
    rows = []
    for workers_n in workers:
        for app in apps:
            for conns in connections:
                runs: dict[str, list[dict]] = {name: [] for name in SERVERS}
                for round_ in range(repeat):
                    order = SERVERS[round_ % 3:] + SERVERS[:round_ % 3]
                    for name in order:
                        result = measure(name, app, conns, seconds, workers_n,
                                         extra if name == "dxpy" else None)
                        runs[name].append(result)
                        print(f"  {app:9} c={conns:<3} w={workers_n} {name:8} "
                              f"{result['rps']:>9,.0f} req/s  p99 {result['p99']:.2f} ms  "
                              f"{result['cpu_us']:.1f} us/req  load "
                              f"{os.getloadavg()[0]:.1f}", file=sys.stderr, flush=True)
                rows += [(app, conns, workers_n, name, median_row(runs[name]))
                         for name in SERVERS]
    print(table(rows))


def gc_bench(requests: int, connections: int) -> None:
    """dxpy with and without GC control: pause histograms and RSS after ``requests``."""
    print(f"| mode | requests | req/s | in-request GC p99 us | in-request max us | "
          f"idle GC p99 us | collections (in-request/idle) | RSS MiB |")
    print("|---|---|---|---|---|---|---|---|")
    for mode, extra in (("gc control", []), ("default GC", ["--no-gc-control"])):
        port = free_port()
        command = ["taskset", "-c", "0", *server_command("dxpy", "alloc_app", port, 1, [
            "--stats", "--stats-interval", "3600", "--log-level", "info", *extra])]
        process = subprocess.Popen(command, env=server_env(), stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, text=True)
        try:
            wait_listening(port, process)
            done, started = 0, time.monotonic()
            while done < requests:
                done += run_wrk(port, connections, 5, False, True)["requests"]
            rate = done / (time.monotonic() - started)
            rss = rss_mib([process.pid])
        finally:
            process.send_signal(signal.SIGINT)
            _, stderr = process.communicate(timeout=60)
        stats = json.loads(re.findall(r"stats: (\{.*\})", stderr)[-1])
        inreq, idle = stats["in_request"], stats["idle"]
        print(f"| {mode} | {done:,} | {rate:,.0f} | {inreq['p99_us']:.0f} | {inreq['max_us']:.0f} "
              f"| {idle['p99_us']:.0f} | {inreq['count']}/{idle['count']} | {rss:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="plaintext, 64 connections, 3 s")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs per row, servers interleaved; the table shows medians")
    parser.add_argument("--gc", action="store_true", help="GC pauses and memory instead")
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--dxpy-arg", action="append", default=[],
                        help="an extra dxpy serve option (repeatable), e.g. --pin-workers")
    options = parser.parse_args()
    for tool in ("wrk", "taskset"):
        if shutil.which(tool) is None:
            sys.exit(f"serve_bench needs {tool} on PATH")
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average "
          f"{os.getloadavg()[0]:.2f}")
    extra = options.dxpy_arg
    if options.gc:
        gc_bench(options.requests, 64)
    elif options.quick:
        bench(["plaintext"], [64], [1], 3.0, 1, extra)
    else:
        bench(["plaintext", "json_app", "upload"], [1, 64, 256], [1], options.seconds,
              options.repeat, extra)
        bench(["plaintext"], [64, 256], [2], options.seconds, options.repeat, extra)
    print(f"# ended {time.strftime('%H:%M UTC', time.gmtime())}, load average "
          f"{os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
