#!/usr/bin/env python3
"""Task-scheduling benchmarks: dxpy (both loop cores) vs asyncio and uvloop.

What a task-heavy program pays the loop for, one workload each:

===============  ==========================================================
gather_tree      ``asyncio.gather`` over a tree of coroutines, fan-out 6
                 (depth 6: 6^6 = 46,656 leaves, 55,987 tasks)
taskgroup_tree   the same tree with ``TaskGroup``; each leaf sleeps 0.1 ms
call_soon        100 ``call_soon`` chains (each callback schedules the next)
sleep0           100 tasks looping on ``await asyncio.sleep(0)``
timers           ``call_later`` with random delays (up to 10 ms), a random
                 half cancelled, the rest fired
executor         sequential ``run_in_executor`` round trips (a no-op job)
streams_http     HTTP/1.1 keep-alive requests through ``asyncio.start_server``
                 and ``open_connection`` (4 clients, same loop)
tornado_http     tornado's ``HTTPServer`` and ``AsyncHTTPClient`` (4 clients)
iteration        one callback that re-schedules itself: one loop iteration
                 per callback with a callback always ready and no I/O in
                 flight, reported as microseconds per iteration
===============  ==========================================================

Method: every (loop, workload) measurement runs in a fresh subprocess (no
state, caches or heap carried over) that times ``run_until_complete`` of the
workload on a fresh loop, ``--repeat`` times (default once) after a warm-up
run at the quick size.  Rounds
interleave the loops (each round rotates their order) because this machine
drifts by up to 30% over minutes; each loop's best time over all rounds is
kept.  The clock is the process's CPU time by default (``--clock wall`` for
elapsed time): on a shared machine the time a process waits for a core is
not the loop's cost, and it is most of the noise.  Every workload here runs
on one thread except ``executor`` (its pool threads' CPU counts too) and
sleeps only briefly (``taskgroup_tree``, ``timers``), so CPU time is what the
loop costs.  Each workload checks its own result (leaf count, timers fired,
response bodies), so a loop that skips work fails instead of winning.

Loops: ``asyncio`` (the default loop), ``uvloop``, ``dxpy`` (dxpy as a user
gets it: the best reactor and the default core) and ``dxpy-py`` (the same
with ``DXPY_CORE=python``, the pure-Python core).  ``dxpy-epoll`` and
``dxpy-epoll-py`` can be asked for with ``--loops``.

Usage::

    python benchmarks/sched_bench.py               # 3 rounds, full sizes (~3 min)
    python benchmarks/sched_bench.py --quick       # 2 rounds, small sizes (~1 min)
    python benchmarks/sched_bench.py --syscalls    # + system calls per loop iteration (strace)
    python benchmarks/sched_bench.py --poll-cost   # + the per-iteration poll call alone
    python benchmarks/sched_bench.py --benches gather_tree,timers --rounds 5

Ratios are speed ratios, the other loop's time divided by dxpy's: above
1.00x dxpy is faster.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
CORE_ENV = "DXPY_CORE"
LOOPS = ("asyncio", "uvloop", "dxpy", "dxpy-py", "dxpy-epoll", "dxpy-epoll-py")
DEFAULT_LOOPS = ("asyncio", "uvloop", "dxpy", "dxpy-py")
RATIO_BASES = ("asyncio", "uvloop")
CHILD_TIMEOUT_S = 300.0

FANOUT = 6
LEAF_SLEEP_S = 1e-4
CHAINS = 100
SPINNERS = 100
TIMER_SPAN_S = 0.010
HTTP_CLIENTS = 4
HTTP_BODY = b"hello, scheduler\n"
SEED = 16


class WorkloadError(Exception):
    """A workload's own check failed: the loop did not do the work."""


def _check(ok: bool, what: str) -> None:
    if not ok:
        raise WorkloadError(what)


# --------------------------------------------------------------------------
# Workloads (run in the child; each takes its size and checks its result)
# --------------------------------------------------------------------------

async def gather_tree(depth: int) -> None:
    async def node(level: int) -> int:
        if level == 0:
            return 1
        return sum(await asyncio.gather(*(node(level - 1) for _ in range(FANOUT))))

    _check(await node(depth) == FANOUT ** depth, "gather tree lost leaves")


async def taskgroup_tree(depth: int) -> None:
    async def node(level: int) -> int:
        if level == 0:
            await asyncio.sleep(LEAF_SLEEP_S)
            return 1
        async with asyncio.TaskGroup() as group:
            children = [group.create_task(node(level - 1)) for _ in range(FANOUT)]
        return sum(child.result() for child in children)

    _check(await node(depth) == FANOUT ** depth, "TaskGroup tree lost leaves")


async def call_soon_chains(steps: int) -> None:
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    ran = [0]

    def step(left: int) -> None:
        ran[0] += 1
        if left:
            loop.call_soon(step, left - 1)
        elif ran[0] == CHAINS * (steps // CHAINS + 1):
            done.set_result(None)

    for _ in range(CHAINS):
        loop.call_soon(step, steps // CHAINS)
    await done


async def sleep0_loops(steps: int) -> None:
    async def spin(n: int) -> int:
        for _ in range(n):
            await asyncio.sleep(0)
        return n

    per_task = steps // SPINNERS
    _check(sum(await asyncio.gather(*(spin(per_task) for _ in range(SPINNERS))))
           == per_task * SPINNERS, "sleep(0) loops ended early")


async def many_timers(count: int) -> None:
    loop = asyncio.get_running_loop()
    rng = random.Random(SEED)
    all_fired = loop.create_future()
    fired = [0]
    expected = [count]  # lowered as timers are cancelled

    def on_timer() -> None:
        fired[0] += 1
        if fired[0] == expected[0]:
            all_fired.set_result(None)

    handles = [loop.call_later(rng.uniform(0, TIMER_SPAN_S), on_timer) for _ in range(count)]
    for handle in handles:
        if rng.random() < 0.5:
            handle.cancel()
            expected[0] -= 1
    await all_fired
    await asyncio.sleep(TIMER_SPAN_S)  # a cancelled timer firing would show now
    _check(fired[0] == expected[0], f"{fired[0]} timers fired, {expected[0]} expected")


async def executor_round_trips(count: int) -> None:
    loop = asyncio.get_running_loop()
    total = 0
    for i in range(count):
        total += await loop.run_in_executor(None, abs, i)
    _check(total == count * (count - 1) // 2, "executor results lost")


def _http_response(body: bytes) -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)


async def _http_handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A keep-alive HTTP/1.1 responder: one fixed response per request head."""
    try:
        while await reader.readuntil(b"\r\n\r\n"):
            writer.write(_http_response(HTTP_BODY))
            await writer.drain()
    except asyncio.IncompleteReadError:
        pass
    finally:
        writer.close()


async def _http_client(port: int, requests: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n"
    for _ in range(requests):
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(head.split(b"Content-Length: ", 1)[1].split(b"\r\n", 1)[0])
        _check(await reader.readexactly(length) == HTTP_BODY, "wrong HTTP body")
    writer.close()
    await writer.wait_closed()


async def streams_http(requests: int) -> None:
    server = await asyncio.start_server(_http_handler, "127.0.0.1", 0)
    async with server:
        port = server.sockets[0].getsockname()[1]
        await asyncio.gather(*(_http_client(port, requests // HTTP_CLIENTS)
                               for _ in range(HTTP_CLIENTS)))


async def tornado_http(requests: int) -> None:
    import tornado.httpclient
    import tornado.httpserver
    import tornado.netutil
    import tornado.web

    class Hello(tornado.web.RequestHandler):
        def get(self) -> None:
            self.write(HTTP_BODY)

    sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
    server = tornado.httpserver.HTTPServer(tornado.web.Application([(r"/", Hello)]))
    server.add_sockets(sockets)
    url = f"http://127.0.0.1:{sockets[0].getsockname()[1]}/"
    client = tornado.httpclient.AsyncHTTPClient(force_instance=True)

    async def fetch_many(n: int) -> None:
        for _ in range(n):
            response = await client.fetch(url)
            _check(response.body == HTTP_BODY, "wrong tornado body")

    try:
        await asyncio.gather(*(fetch_many(requests // HTTP_CLIENTS) for _ in range(HTTP_CLIENTS)))
    finally:
        client.close()
        server.stop()
        await server.close_all_connections()


async def idle_iterations(count: int) -> None:
    loop = asyncio.get_running_loop()
    done = loop.create_future()

    def again(left: int) -> None:
        if left:
            loop.call_soon(again, left - 1)
        else:
            done.set_result(None)

    loop.call_soon(again, count)
    await done


@dataclass(frozen=True)
class Workload:
    """A benchmark: its coroutine, its size in full and --quick runs, and how
    the size reads in the table."""

    run: Callable[[int], Coroutine[Any, Any, None]]
    full: int
    quick: int
    label: Callable[[int], str]


WORKLOADS: dict[str, Workload] = {
    "gather_tree": Workload(gather_tree, 6, 5, lambda n: f"6^{n} leaves"),
    "taskgroup_tree": Workload(taskgroup_tree, 6, 5, lambda n: f"6^{n} leaves"),
    "call_soon": Workload(call_soon_chains, 200_000, 50_000, lambda n: f"{n:,} callbacks"),
    "sleep0": Workload(sleep0_loops, 100_000, 20_000, lambda n: f"{n:,} sleeps"),
    "timers": Workload(many_timers, 100_000, 20_000, lambda n: f"{n:,} timers"),
    "executor": Workload(executor_round_trips, 3_000, 600, lambda n: f"{n:,} round trips"),
    "streams_http": Workload(streams_http, 8_000, 1_600, lambda n: f"{n:,} requests"),
    "tornado_http": Workload(tornado_http, 1_000, 200, lambda n: f"{n:,} requests"),
    "iteration": Workload(idle_iterations, 200_000, 50_000, lambda n: f"{n:,} iterations"),
}
PER_ITERATION = "iteration"  # reported as us per iteration


def _loop_factory(name: str) -> Callable[[], asyncio.AbstractEventLoop]:
    """Imports lazily so that a loop that cannot load fails only its cells."""
    if name == "asyncio":
        return asyncio.new_event_loop
    if name == "uvloop":
        import uvloop
        return uvloop.new_event_loop
    import dxpy
    reactor = "epoll" if name.startswith("dxpy-epoll") else None  # the core: DXPY_CORE
    return lambda: dxpy.new_event_loop(reactor)


def _timed_run(factory: Callable[[], asyncio.AbstractEventLoop], workload: Workload,
               size: int) -> dict[str, float]:
    """Seconds of one ``run_until_complete(workload)`` on a fresh loop, by
    both clocks: the process's CPU time (all its threads) and wall time."""
    loop = factory()
    try:
        gc.collect()
        cpu, wall = time.process_time(), time.perf_counter()
        loop.run_until_complete(workload.run(size))
        spent = {"cpu": time.process_time() - cpu, "wall": time.perf_counter() - wall}
        loop.run_until_complete(loop.shutdown_default_executor())
    finally:
        loop.close()
    return spent


def measure(loop_name: str, bench: str, size: int, repeat: int) -> list[dict[str, float]]:
    """Child side: a warm-up run at the quick size (imports, first-call
    costs), then ``repeat`` timed runs, each on a fresh loop."""
    factory = _loop_factory(loop_name)
    workload = WORKLOADS[bench]
    _timed_run(factory, workload, min(size, workload.quick))
    return [_timed_run(factory, workload, size) for _ in range(repeat)]


# --------------------------------------------------------------------------
# Driver side
# --------------------------------------------------------------------------

class ChildError(Exception):
    """A measurement subprocess failed or timed out."""


def _child_env(loop_name: str) -> dict[str, str]:
    """``-py`` loops force the pure-Python core; the others get the default
    one whatever the caller's shell says, so each column means one thing."""
    env = dict(os.environ)
    env.pop(CORE_ENV, None)
    if loop_name.startswith("dxpy") and loop_name.endswith("-py"):
        env[CORE_ENV] = "python"
    return env


def _child_cmd(loop_name: str, bench: str, size: int, repeat: int) -> list[str]:
    return [sys.executable, str(HERE), "--child", loop_name, bench, str(size), str(repeat)]


def run_child(loop_name: str, bench: str, size: int, repeat: int, clock: str) -> float:
    """Best time (by ``clock``) of one fresh subprocess's timed runs."""
    try:
        done = subprocess.run(_child_cmd(loop_name, bench, size, repeat), capture_output=True,
                              text=True, env=_child_env(loop_name), timeout=CHILD_TIMEOUT_S,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise ChildError(f"timed out after {CHILD_TIMEOUT_S:.0f}s") from None
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:] or [f"exit status {done.returncode}"]
        raise ChildError(tail[0])
    return min(run[clock] for run in json.loads(done.stdout)["runs"])


def rotated(items: Sequence[str], shift: int) -> list[str]:
    """``items`` starting at position ``shift`` (the order of one round)."""
    k = shift % len(items)
    return [*items[k:], *items[:k]]


Cell = tuple[str, str]  # (benchmark, loop)


def run_rounds(loops: Sequence[str], benches: Sequence[str], sizes: dict[str, int],
               rounds: int, repeat: int, clock: str) -> tuple[dict[Cell, float], dict[Cell, str]]:
    """Best time per (bench, loop) over interleaved rounds, and the errors."""
    best: dict[Cell, float] = {}
    errors: dict[Cell, str] = {}
    for r in range(rounds):
        for bench in benches:
            for loop_name in rotated(loops, r):
                key = (bench, loop_name)
                if key in errors:
                    continue
                try:
                    seconds = run_child(loop_name, bench, sizes[bench], repeat, clock)
                except ChildError as exc:
                    errors[key] = str(exc)
                    print(f"round {r + 1}: {bench:<15} {loop_name:<13} error: {exc}",
                          file=sys.stderr, flush=True)
                    continue
                best[key] = min(seconds, best.get(key, seconds))
                print(f"round {r + 1}: {bench:<15} {loop_name:<13} {seconds * 1e3:9.1f} ms",
                      file=sys.stderr, flush=True)
    return best, errors


def _speed_ratio(other: float | None, dxpy_time: float | None) -> str:
    return "-" if not other or not dxpy_time else f"{other / dxpy_time:.2f}x"


def _dxpy_loops(loops: Sequence[str]) -> list[str]:
    return [name for name in loops if name.startswith("dxpy")]


def _align(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) if i < 2 else c.rjust(w)
                       for i, (c, w) in enumerate(zip(row, widths))).rstrip()
             for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def build_table(best: dict[Cell, float], errors: dict[Cell, str],
                loops: Sequence[str], benches: Sequence[str], sizes: dict[str, int],
                per_unit: bool) -> str:
    """One row per workload: each loop's best (ms, or us per iteration when
    ``per_unit``), then every dxpy loop's speed ratio to asyncio and uvloop."""
    pairs = [(d, b) for d in _dxpy_loops(loops) for b in RATIO_BASES if b in loops]
    unit = "us/iter" if per_unit else "ms"
    header = ["benchmark", "size", *(f"{name} {unit}" for name in loops),
              *(f"{d}/{b}" for d, b in pairs)]
    rows = [header]
    for bench in benches:
        scale = 1e6 / sizes[bench] if per_unit else 1e3
        cells = []
        for name in loops:
            t = best.get((bench, name))
            cells.append("error" if (bench, name) in errors else f"{t * scale:,.2f}" if per_unit
                         else f"{t * scale:,.1f}")
        ratios = [_speed_ratio(best.get((bench, b)), best.get((bench, d))) for d, b in pairs]
        rows.append([bench, WORKLOADS[bench].label(sizes[bench]), *cells, *ratios])
    return _align(rows)


# --------------------------------------------------------------------------
# System calls per iteration (--syscalls)
# --------------------------------------------------------------------------

SYSCALL_SHARE = 0.05  # show system calls made at least once per 20 iterations


def parse_strace_summary(text: str) -> dict[str, int]:
    """``strace -c`` table -> {syscall: calls}.  Rows are '% time, seconds,
    usecs/call, calls, [errors], syscall'; the 'total' row is dropped."""
    calls = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 5 and parts[3].isdigit() and parts[-1] != "total":
            calls[parts[-1]] = int(parts[3])
    return calls


def syscalls_per_iteration(loop_name: str, iterations: int) -> dict[str, float]:
    """Run the ``iteration`` workload under ``strace -f -c`` and divide the
    counts by the number of iterations (start-up calls are the same few
    thousand for every loop and vanish at this size)."""
    strace = shutil.which("strace")
    if strace is None:
        raise ChildError("strace is not installed")
    with tempfile.NamedTemporaryFile("r", suffix=".strace") as out:
        cmd = [strace, "-f", "-c", "-o", out.name,
               *_child_cmd(loop_name, PER_ITERATION, iterations, 1)]
        done = subprocess.run(cmd, capture_output=True, text=True, env=_child_env(loop_name),
                              timeout=CHILD_TIMEOUT_S, stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            raise ChildError(done.stderr.strip().splitlines()[-1:] or "strace failed")
        counts = parse_strace_summary(out.read())
    runs = iterations + min(iterations, WORKLOADS[PER_ITERATION].quick)  # timed + warm-up
    return {name: n / runs for name, n in counts.items() if n / runs >= SYSCALL_SHARE}


def syscall_table(loops: Sequence[str], iterations: int) -> str:
    per_loop: dict[str, dict[str, float] | str] = {}
    for name in loops:
        try:
            per_loop[name] = syscalls_per_iteration(name, iterations)
        except (ChildError, subprocess.TimeoutExpired) as exc:
            per_loop[name] = f"error: {exc}"
    rows = [["loop", "system calls per iteration (callback ready, nothing in flight)"]]
    for name, found in per_loop.items():
        shown = found if isinstance(found, str) else ", ".join(
            f"{call} {n:.2f}" for call, n in sorted(found.items(), key=lambda kv: -kv[1])) or "none"
        rows.append([name, shown])
    return _align(rows)


# --------------------------------------------------------------------------
# The poll primitive alone (--poll-cost)
# --------------------------------------------------------------------------

POLL_CALLS = 200_000
POLL_ROUNDS = 5


def poll_cost(loop_name: str, calls: int) -> float | None:
    """Child side: CPU microseconds of one ``loop._selector.select(0)``, the
    call ``BaseEventLoop._run_once`` makes per iteration when callbacks are
    ready (best of POLL_ROUNDS); None for a loop with no such Python-level
    call (uvloop, or a core that polls inside its own C loop)."""
    loop = _loop_factory(loop_name)()
    try:
        select = getattr(getattr(loop, "_selector", None), "select", None)
        if select is None:
            return None
        best = float("inf")
        for _ in range(POLL_ROUNDS):
            start = time.process_time()
            for _ in range(calls):
                select(0)
            best = min(best, time.process_time() - start)
        return best / calls * 1e6
    finally:
        loop.close()


def poll_table(loops: Sequence[str]) -> str:
    rows = [["loop", "us per loop._selector.select(0) (CPU, no events pending)"]]
    for name in loops:
        cmd = [sys.executable, str(HERE), "--poll-child", name, str(POLL_CALLS)]
        done = subprocess.run(cmd, capture_output=True, text=True, env=_child_env(name),
                              timeout=CHILD_TIMEOUT_S, stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            shown = "error: " + (done.stderr.strip().splitlines()[-1:] or ["failed"])[0]
        else:
            us = json.loads(done.stdout)["us"]
            shown = "- (no Python-level poll call)" if us is None else f"{us:.2f}"
        rows.append([name, shown])
    return _align(rows)


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------

def _csv(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--loops", type=_csv, default=list(DEFAULT_LOOPS),
                   help=f"subset of {','.join(LOOPS)} (default: {','.join(DEFAULT_LOOPS)})")
    p.add_argument("--benches", type=_csv, default=list(WORKLOADS),
                   help=f"subset of {','.join(WORKLOADS)}")
    p.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 3, quick 2)")
    p.add_argument("--repeat", type=int, default=None,
                   help="timed runs per subprocess after the warm-up (default 1)")
    p.add_argument("--quick", action="store_true", help="smaller sizes, 2 rounds")
    p.add_argument("--clock", choices=("cpu", "wall"), default="cpu",
                   help="cpu: the process's CPU time (default; steadier on a shared machine, "
                        "where waiting for a core would count as wall time); wall: elapsed")
    p.add_argument("--syscalls", action="store_true",
                   help="also count system calls per idle loop iteration with strace")
    p.add_argument("--poll-cost", action="store_true",
                   help="also time the loop's per-iteration poll call alone (select(0))")
    p.add_argument("--json", metavar="OUT", type=Path, help="also save the best times as JSON")
    p.add_argument("--poll-child", nargs=2, metavar=("LOOP", "CALLS"), help=argparse.SUPPRESS)
    p.add_argument("--child", nargs=4, metavar=("LOOP", "BENCH", "SIZE", "REPEAT"),
                   help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    for what, chosen, allowed in (("loop", args.loops, LOOPS), ("benchmark", args.benches, WORKLOADS)):
        if bad := set(chosen) - set(allowed):
            p.error(f"unknown {what}(s): {', '.join(sorted(bad))}; choose from {', '.join(allowed)}")
    defaults = {"rounds": 2 if args.quick else 3, "repeat": 1}
    for name, default in defaults.items():
        value = getattr(args, name)
        if value is None:
            setattr(args, name, default)
        elif value < 1:
            p.error(f"--{name} must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.poll_child:
        print(json.dumps({"us": poll_cost(args.poll_child[0], int(args.poll_child[1]))}))
        return 0
    if args.child:
        loop_name, bench, size, repeat = args.child
        print(json.dumps({"runs": measure(loop_name, bench, int(size), int(repeat))}))
        return 0
    sizes = {b: WORKLOADS[b].quick if args.quick else WORKLOADS[b].full for b in args.benches}
    timed = [b for b in args.benches if b != PER_ITERATION]
    print(f"{len(args.loops)} loops x {len(args.benches)} benchmarks x {args.rounds} rounds "
          f"(fresh subprocess each, {args.repeat} timed run(s) after a warm-up)", file=sys.stderr)
    best, errors = run_rounds(args.loops, args.benches, sizes, args.rounds, args.repeat, args.clock)
    if timed:
        print(f"Best {args.clock} time per workload (ms; ratios: the other loop's time / "
              "dxpy's, > 1.00x = dxpy faster):")
        print(build_table(best, errors, args.loops, timed, sizes, per_unit=False))
    if PER_ITERATION in args.benches:
        print("\nCost of one loop iteration with a callback always ready and nothing in flight:")
        print(build_table(best, errors, args.loops, [PER_ITERATION], sizes, per_unit=True))
    if args.poll_cost:
        print()
        print(poll_table(args.loops))
    if args.syscalls:
        print()
        print(syscall_table(args.loops, sizes.get(PER_ITERATION, WORKLOADS[PER_ITERATION].quick)))
    for (bench, name), why in errors.items():
        print(f"error   {name} {bench}: {why}")
    if args.json:
        args.json.write_text(json.dumps({
            "sizes": sizes, "rounds": args.rounds, "repeat": args.repeat, "clock": args.clock,
            "python": sys.version.split()[0],
            "best_s": [{"bench": b, "loop": n, "seconds": t} for (b, n), t in best.items()],
            "errors": [{"bench": b, "loop": n, "error": e} for (b, n), e in errors.items()],
        }, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
