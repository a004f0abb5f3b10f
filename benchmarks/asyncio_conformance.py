"""Run CPython's own ``test.test_asyncio`` loop tests on dxpy, uvloop and asyncio.

This is a conformance measurement against code we did not write: the test
modules that exercise an event loop's behaviour are run three times, once
per loop implementation, each in a fresh interpreter.  The loop under test
is installed both as the policy and in place of ``asyncio.SelectorEventLoop``
(what ``test_events`` instantiates), so the same tests drive each loop.

Tests that inspect the default loop's private internals (its selector, its
``_ready`` deque, mock-patched syscalls) fail on every non-stdlib loop; that
is why the interesting number is the comparison with uvloop, the reference
the team measured ("uvloop fails about a quarter of the loop tests").

Usage::

    python benchmarks/asyncio_conformance.py                 # all loops
    python benchmarks/asyncio_conformance.py --loops dxpy-uring --modules test_streams
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

MODULES = ("test_events", "test_streams", "test_sock_lowlevel", "test_server",
           "test_subprocess", "test_sendfile", "test_buffered_proto", "test_context",
           "test_sslproto", "test_ssl", "test_unix_events", "test_base_events",
           "test_tasks", "test_futures", "test_locks", "test_queues", "test_timeouts",
           "test_taskgroups", "test_runners", "test_protocols", "test_transports")
#: dxpy-X runs the default (compiled) loop core, dxpy-X-py the pure-Python one.
LOOPS = ("asyncio", "uvloop", "dxpy-uring", "dxpy-epoll", "dxpy-uring-py", "dxpy-epoll-py")

_CHILD = r"""
import asyncio, json, signal, sys, unittest, io
# Launched from a background job, SIGINT arrives ignored and the suite's
# Ctrl-C tests would wait forever: give the child Python's own default.
signal.signal(signal.SIGINT, signal.default_int_handler)
name, module = sys.argv[1], sys.argv[2]
if name == "uvloop":
    import uvloop
    # The suite's tearDown reads the private BaseEventLoop attribute
    # _default_executor, which uvloop's Cython loop lacks; without this shim
    # every uvloop test "errors" in tearDown, whatever its body did.
    _UvLoop = type("Loop", (uvloop.Loop,), {"_default_executor": None})
    factory = lambda *a, **k: _UvLoop()  # tests pass a selector: ignore it
    asyncio.set_event_loop_policy(type("Policy", (asyncio.DefaultEventLoopPolicy,),
                                       {"_loop_factory": staticmethod(factory)})())
elif name.startswith("dxpy-"):
    import dxpy
    backend = name.split("-")[1]
    core = "python" if name.endswith("-py") else None
    factory = lambda *a, **k: dxpy.new_event_loop(backend, core=core)
    asyncio.set_event_loop_policy(dxpy.Policy(backend, core=core))
else:
    factory = None
if factory is not None:
    asyncio.SelectorEventLoop = factory
    asyncio.unix_events.SelectorEventLoop = factory
    # The suite resets the policy to None between tests; keep ours installed.
    policy = asyncio.get_event_loop_policy()
    real_set = asyncio.set_event_loop_policy
    asyncio.set_event_loop_policy = lambda p: real_set(policy if p is None else p)
    asyncio.events.set_event_loop_policy = asyncio.set_event_loop_policy
suite = unittest.defaultTestLoader.loadTestsFromName("test.test_asyncio." + module)
result = unittest.TextTestRunner(stream=io.StringIO(), verbosity=0).run(suite)
print(json.dumps({"run": result.testsRun, "failures": len(result.failures),
                  "errors": len(result.errors), "skipped": len(result.skipped)}))
"""


def run_module(loop: str, module: str, timeout: float) -> dict:
    """Run one test module on one loop in a child interpreter."""
    started = time.monotonic()
    try:
        proc = subprocess.run([sys.executable, "-c", _CHILD, loop, module],
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"run": 0, "failures": 0, "errors": 1, "skipped": 0, "note": "timeout"}
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if not lines:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"run": 0, "failures": 0, "errors": 1, "skipped": 0, "note": tail[:120]}
    outcome = json.loads(lines[-1])
    outcome["seconds"] = round(time.monotonic() - started, 1)
    return outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loops", nargs="+", default=list(LOOPS), choices=LOOPS)
    parser.add_argument("--modules", nargs="+", default=list(MODULES))
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--json", help="also write the raw results here")
    args = parser.parse_args()
    results = {loop: {m: run_module(loop, m, args.timeout) for m in args.modules}
               for loop in args.loops}
    print(f"{'module':22}" + "".join(f"{loop:>20}" for loop in args.loops))
    for module in args.modules:
        cells = []
        for loop in args.loops:
            r = results[loop][module]
            bad = r["failures"] + r["errors"]
            cells.append(f"{r['run'] - bad - r['skipped']}/{r['run']} ok" + (f" ({r['note']})" if "note" in r else ""))
        print(f"{module:22}" + "".join(f"{c:>20}" for c in cells))
    print()
    for loop in args.loops:
        run = sum(r["run"] for r in results[loop].values())
        bad = sum(r["failures"] + r["errors"] for r in results[loop].values())
        share = bad / run if run else 1.0
        print(f"{loop:12} ran {run:5}  failed+errored {bad:5}  ({share:.1%} failing)")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=1)


if __name__ == "__main__":
    main()
