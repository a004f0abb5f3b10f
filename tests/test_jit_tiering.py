"""Automatic tiering of DPB functions (``dxpy/jit/tiering.py``): thresholds, background
compilation, OSR, deopt policy, ``DXPY_JIT`` and ``dxpy run --jit-stats``.

Every test runs real DPB code: the source is written to a file (tiering finds
a function's ``ast`` in its file), compiled with the DPB compiler and run by
the interpreter with a :class:`JitTiering` installed; results are compared
with CPython running the same source.
"""

from __future__ import annotations

import asyncio
import contextvars
import itertools
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any, Iterator

import pytest

from dxpy.jit import tiering as tiering_mod
from dxpy.jit.tiered import TieredDispatcher
from dxpy.jit.tiering import JitTiering, TieringConfig
from dxpy.vm import profile
from dxpy.vm.compiler import compile_file
from dxpy.vm.format import to_bytes
from dxpy.vm.functions import compiled_of, is_vm_function
from dxpy.vm.interpreter import run_module
from dxpy.vm.profile import profile_of
from dxpy.vm.loader import loads

_names = itertools.count()


def vm_module(directory: Path, source: str, config: TieringConfig | None
              ) -> tuple[dict[str, Any], JitTiering | None]:
    """Run ``source`` as a DPB module with tiering per ``config`` (None: no tiering)."""
    path = directory / f"tiered_{next(_names)}.py"
    path.write_text(textwrap.dedent(source))
    program = loads(to_bytes(compile_file(str(path))), str(path))
    tiering = tiering_mod.install(config) if config is not None else None
    try:
        namespace = run_module(program, {"__name__": path.stem}, filename=str(path))
    finally:
        if tiering is not None:
            tiering_mod.uninstall()
    return namespace, tiering


def cpython_module(source: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "reference"}
    exec(compile(textwrap.dedent(source), "<reference>", "exec"), namespace)
    return namespace


def row(tiering: JitTiering, qualname: str) -> dict[str, Any]:
    (found,) = [r for r in tiering.stats() if r["function"] == qualname]
    return found


@pytest.fixture(autouse=True)
def _no_tiering_left() -> Iterator[None]:
    yield
    tiering_mod.uninstall()


# -- thresholds and background compilation ----------------------------------------------

POLY = """
def poly(x, y):
    return x * x + 3 * y - 1
"""


def test_promotion_happens_exactly_at_the_thresholds(tmp_path: Path) -> None:
    ns, _ = vm_module(tmp_path, POLY, None)
    tiering = tiering_mod.install(TieringConfig(call_threshold=5, tier2_threshold=12))
    poly = ns["poly"]
    for n in range(1, 5):
        assert poly(n, 2) == n * n + 5
    assert compiled_of(poly) is None and profile_of(poly).tier == 0
    assert poly(5, 2) == 30  # call 5: tier 1
    assert profile_of(poly).tier == 1 and compiled_of(poly) is not None
    for n in range(6, 12):
        poly(n, 1)
    assert tiering.drain() == 0  # nothing submitted before call 12
    assert profile_of(poly).tier == 1
    poly(12, 1)  # call 12 submits the tier-2 compile
    assert tiering.drain() == 1
    assert profile_of(poly).tier == 2 and isinstance(compiled_of(poly), TieredDispatcher)
    assert poly(7, 1) == 51
    assert row(tiering, "poly")["signatures"] == ["(int, int)"]


def test_a_failed_promotion_leaves_tier1_callable(tmp_path: Path, monkeypatch: Any) -> None:
    """An exception that escapes the promotion (here a KeyboardInterrupt, which
    the promotion does not swallow) reaches that one call; every later call
    still runs on tier 1 (the call counter must not be left exhausted)."""
    ns, _ = vm_module(tmp_path, POLY, None)
    tiering = tiering_mod.install(TieringConfig(call_threshold=2, tier2_threshold=4))

    def interrupted(*args: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(tiering, "promote_tier2", interrupted)
    poly = ns["poly"]
    for n in range(1, 4):
        assert poly(n, 2) == n * n + 5
    with pytest.raises(KeyboardInterrupt):
        poly(4, 2)
    assert [poly(n, 1) for n in range(5, 9)] == [n * n + 2 for n in range(5, 9)]
    assert profile_of(poly).tier == 1


def test_calls_stay_on_tier1_until_the_background_compile_completes(tmp_path: Path) -> None:
    ns, _ = vm_module(tmp_path, POLY, None)
    tiering = tiering_mod.install(TieringConfig(call_threshold=2, tier2_threshold=3))
    poly = ns["poly"]
    with tiering_mod._compile_lock:  # the worker cannot start compiling while we hold it
        results = [poly(n, 0.5) for n in range(10)]
        assert profile_of(poly).tier == 1 and not isinstance(compiled_of(poly), TieredDispatcher)
    tiering.drain()
    assert results == [n * n + 0.5 for n in range(10)]
    assert profile_of(poly).tier == 2 and isinstance(compiled_of(poly), TieredDispatcher)
    assert poly(2, 0.5) == 4.5
    assert row(tiering, "poly")["compile_ms"] > 0


def test_compiles_on_the_running_dxpy_loops_executor(tmp_path: Path, loop: Any) -> None:
    ns, _ = vm_module(tmp_path, POLY, None)
    tiering = tiering_mod.install(TieringConfig(call_threshold=1, tier2_threshold=2))
    poly = ns["poly"]

    async def main() -> str:
        poly(1, 2)
        poly(2, 3)  # call 2: the compile job goes to dxpy.parallel.service_pool()
        thread_name = await asyncio.wrap_future(
            tiering_mod.submit(lambda: threading.current_thread().name))
        await asyncio.wrap_future(tiering_mod.submit(lambda: None))  # queued after poly's
        return thread_name

    assert loop.run_until_complete(main()).startswith("dxpy-service")
    tiering.drain()
    assert profile_of(poly).tier == 2 and poly(3, 1) == 11


def test_eager_compiles_at_the_first_call_synchronously(tmp_path: Path) -> None:
    src = """
    def fib(n):
        return n if n < 2 else fib(n - 1) + fib(n - 2)
    result = fib(18)
    """
    ns, tiering = vm_module(tmp_path, src, TieringConfig.from_env({"DXPY_JIT": "eager"}))
    assert tiering is not None and ns["result"] == 2584
    fib = row(tiering, "fib")
    assert fib["tier"] == 2 and fib["signatures"] == ["(int)"]
    assert fib["calls"] == 1  # the recursion ran in machine code, not through the VM


def test_tier2_code_calls_other_dpb_functions_compiled(tmp_path: Path) -> None:
    src = """
    def norm2(x, y):
        return x * x + y * y
    def inside(x, y):
        return norm2(x, y) <= 1.0
    hits = sum(inside(i / 50.0, j / 50.0) for i in range(-50, 51) for j in range(-50, 51))
    """
    ns, tiering = vm_module(tmp_path, src, TieringConfig(call_threshold=1, tier2_threshold=1,
                                                         eager=True))
    assert tiering is not None and ns["hits"] == cpython_module(src)["hits"]
    assert row(tiering, "inside")["tier"] == 2
    assert row(tiering, "norm2")["calls"] == 0  # inlined into inside's machine code


def test_tier1_recursion_is_as_deep_as_the_interpreters(tmp_path: Path) -> None:
    # Tier 1 adds no Python frame per call (its counter is a constant it calls, not a
    # wrapper), so recursion the interpreter survives does not become a RecursionError.
    src = """
    def depth(node):
        return 0 if node is None else 1 + depth(node[1])
    def chain(n):
        node = None
        for i in range(n):
            node = (i, node)
        return node
    """
    ns, _ = vm_module(tmp_path, src, None)
    deep = ns["chain"](300)
    assert ns["depth"](deep) == 300  # the interpreter alone
    tiering = tiering_mod.install(TieringConfig(call_threshold=30, tier2_threshold=10**6))
    assert ns["depth"](deep) == 300  # tier 1 from the 30th level down
    assert profile_of(ns["depth"]).tier == 1 and row(tiering, "depth")["tier"] == 1


def test_jit_off_never_compiles(tmp_path: Path) -> None:
    assert TieringConfig.from_env({"DXPY_JIT": "off"}) is None
    assert tiering_mod.install_from_env({"DXPY_JIT": "off"}) is None
    src = POLY + "out = [poly(i, i) for i in range(3000)]\n"
    ns, _ = vm_module(tmp_path, src, None)
    assert compiled_of(ns["poly"]) is None and profile_of(ns["poly"]).tier == 0
    assert ns["out"] == [i * i + 3 * i - 1 for i in range(3000)]


@pytest.mark.parametrize("env, message", [
    ({"DXPY_JIT": "fast"}, "DXPY_JIT must be off, on or eager"),
    ({"DXPY_JIT_THRESHOLD": "ten"}, "DXPY_JIT_THRESHOLD must be a positive integer, got 'ten'"),
    ({"DXPY_JIT_TIER2_THRESHOLD": "0"}, "DXPY_JIT_TIER2_THRESHOLD must be a positive integer"),
    ({"DXPY_JIT_THRESHOLD": "500", "DXPY_JIT_TIER2_THRESHOLD": "50"}, "below call_threshold"),
])
def test_bad_configuration_is_a_precise_error(env: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TieringConfig.from_env(env)


def test_env_thresholds() -> None:
    config = TieringConfig.from_env({"DXPY_JIT_THRESHOLD": "7", "DXPY_JIT_TIER2_THRESHOLD": "70",
                                     "DXPY_JIT_OSR_THRESHOLD": "9"})
    assert config == TieringConfig(7, 70, 9, False)
    assert TieringConfig.from_env({}) == TieringConfig(1, 1000, 1000, False)  # dxpy run --vm: tier 1 at once


# -- tier 1 is CPython running the same source, sharing the VM's state ------------------

TIER1 = """
class Base:
    def describe(self, scale=2, *, unit="m"):
        return f"{scale}{unit}"

class Box(Base):
    def __init__(self):
        self.__secret = 5
    def describe(self, scale=2, *, unit="m"):
        return super().describe(scale * self.__secret, unit=unit)

def make_counter():
    count = 0
    def bump(step=1):
        nonlocal count
        count += step
        return count
    return bump, lambda: count

def gen(n):
    for i in range(n):
        yield i * i

bump, peek = make_counter()
box = Box()
"""


def test_tier1_shares_cells_mangles_names_and_keeps_defaults(tmp_path: Path) -> None:
    ns, _ = vm_module(tmp_path, TIER1, None)
    tiering = tiering_mod.install(TieringConfig(call_threshold=1, tier2_threshold=10**6))
    bump, peek, box = ns["bump"], ns["peek"], ns["box"]
    assert bump() == 1 and bump(step=4) == 5
    assert profile_of(bump).tier == 1
    assert peek() == 5  # the VM's lambda reads the cell tier-1 code wrote
    assert box.describe() == "10m" and box.describe(3, unit="cm") == "15cm"
    assert profile_of(ns["Box"].describe).tier == 1
    assert list(ns["gen"](4)) == [0, 1, 4, 9]
    assert "generator" in row(tiering, "gen")["reason"]
    with pytest.raises(TypeError) as vm_error:
        bump(1, 2)
    with pytest.raises(TypeError) as py_error:
        cpython_module(TIER1)["bump"](1, 2)
    assert str(vm_error.value) == str(py_error.value)


def test_closures_of_one_code_share_a_record_and_keep_their_own_cells(tmp_path: Path) -> None:
    src = """
    def make(k):
        def inner(x):
            return x * k + 1
        return inner
    closures = [make(k) for k in range(40)]
    """
    ns, _ = vm_module(tmp_path, src, None)  # closures made by the VM, before tiering
    tiering = tiering_mod.install(TieringConfig(call_threshold=10, tier2_threshold=10**6))
    closures = ns["closures"]
    results = [[f(x) for x in range(3)] for f in closures]
    assert results == [[x * k + 1 for x in range(3)] for k in range(40)]
    assert sum(compiled_of(f) is not None for f in closures) >= 30  # promoted after call 10
    rows = [r for r in tiering.stats() if r["function"] == "make.<locals>.inner"]
    assert len(rows) == 1 and rows[0]["tier"] == 1 and rows[0]["calls"] == 120


def test_lambdas_and_functions_nested_in_methods_reach_tier1(tmp_path: Path) -> None:
    src = """
    class Shop:
        __rate = 3
        def pricer(self):
            def cost(v):
                return v * self.__rate
            return cost
        def prices(self, items, key=lambda item: -item):
            return sorted(items, key=key)
    offsets = [lambda v, k=k: v + k for k in range(3)]
    shop = Shop()
    cost = shop.pricer()  # made by the VM: a VMFunction with a closure
    """
    ns, _ = vm_module(tmp_path, src, None)
    tiering = tiering_mod.install(TieringConfig(call_threshold=1, tier2_threshold=10**6))
    assert ns["cost"](5) == 15  # self.__rate, mangled as in the class
    assert ns["shop"].prices([1, 5, 2]) == [5, 2, 1]
    assert [f(10) for f in ns["offsets"]] == [10, 11, 12]
    tiers = {r["function"]: r["tier"] for r in tiering.stats()}
    assert tiers == {"Shop.prices": 1, "Shop.pricer.<locals>.cost": 1, "Shop.<lambda>": 1,
                     "<listcomp>.<locals>.<lambda>": 1}, tiering.stats()


def test_tiering_leaves_no_trace_in_the_functions_dict(tmp_path: Path) -> None:
    src = """
    import functools
    def area(side):
        return side * side
    def decorate(f):
        @functools.wraps(f)
        def wrapped(*args):
            return ("wrapped", f(*args))
        return wrapped
    """
    ns, _ = vm_module(tmp_path, src, None)
    tiering_mod.install(TieringConfig(call_threshold=1, tier2_threshold=1, eager=True))
    assert ns["area"](3) == 9 and profile_of(ns["area"]).tier == 2
    # what functools.wraps copies onto a wrapper: the same keys as an untouched function's
    assert set(vars(ns["area"])) == set(vars(ns["decorate"]))
    wrapped = ns["decorate"](ns["area"])
    assert wrapped(4) == ("wrapped", 16) and wrapped(5) == ("wrapped", 25)


def test_function_without_source_stays_in_the_interpreter(tmp_path: Path) -> None:
    ns, _ = vm_module(tmp_path, POLY, None)
    for path in tmp_path.iterdir():
        path.unlink()
    tiering = tiering_mod.install(TieringConfig(call_threshold=1, tier2_threshold=2))
    assert ns["poly"](3, 1) == 11
    assert compiled_of(ns["poly"]) is None
    assert "no source file" in row(tiering, "poly")["reason"]


def test_an_edited_source_file_is_not_trusted(tmp_path: Path) -> None:
    ns, _ = vm_module(tmp_path, POLY, None)
    (path,) = tmp_path.iterdir()
    path.write_text(POLY.replace("poly(x, y)", "poly(x, z)").replace("3 * y", "3 * z"))
    tiering = tiering_mod.install(TieringConfig(call_threshold=1, tier2_threshold=2))
    assert ns["poly"](3, 1) == 11
    assert compiled_of(ns["poly"]) is None
    assert "file changed since it was loaded" in row(tiering, "poly")["reason"]


# -- deopt --------------------------------------------------------------------------

SQUARE = """
def square(x):
    return x * x
"""


def test_int_overflow_deopts_to_cpython_big_ints_then_back_to_tier1(tmp_path: Path) -> None:
    ns, _ = vm_module(tmp_path, SQUARE, None)
    tiering = tiering_mod.install(TieringConfig(call_threshold=1, tier2_threshold=1, eager=True))
    square = ns["square"]
    assert square(3) == 9
    assert profile_of(square).tier == 2
    big = 2**40
    assert square(big) == 2**80  # int64 overflow: the compiled call deopts
    assert profile_of(square).deopts == 1
    for _ in range(60):
        assert square(big + 1) == (big + 1) ** 2
    stats = row(tiering, "square")
    assert stats["tier"] == 1 and "back to tier 1" in stats["reason"]
    assert compiled_of(square) is tiering.state_of(square).tier1
    assert square(5) == 25


# -- OSR ----------------------------------------------------------------------------

OSR_WHILE = """
import math
def spin(n):
    total = 0
    i = 0
    while i < n:
        total += i * i % 7
        i += 1
    return total, math.sqrt(total)
result = spin(20000)
"""

OSR_FOR = """
def series(n, x):
    acc = 1.0
    for k in range(1, n, 2):
        acc = acc * x + k
        if acc > 1e12:
            acc = acc / 1e6
    tail = acc * 2
    return tail
result = series(30001, 1.0001)
"""

OSR_OVERFLOW = """
def powers(n):
    p = 1
    i = 0
    while i < n:
        p += i * i * i * i  # leaves int64 near i = 7200, long after OSR
        i += 1
    return p
result = powers(20000)
"""

OSR_ITERATOR = """
def walk(items):
    best = 0
    for v in items:
        if v % 5 > best % 5:
            best = v
    return best
result = walk(list(range(5000)))
"""

OSR_EFFECT = """
seen = []
def noisy(n):
    i = 0
    while i < n:
        seen.append(i)
        i += 1
    return len(seen)
result = noisy(3000)
"""


@pytest.mark.parametrize("source, function, kind, tier", [
    (OSR_WHILE, "spin", "while", 2),
    (OSR_FOR, "series", "for-range", 2),
    (OSR_OVERFLOW, "powers", "while", 2),
    (OSR_ITERATOR, "walk", "for-iterator", 1),
])
def test_osr_enters_a_hot_loop_of_a_function_called_once(
        tmp_path: Path, source: str, function: str, kind: str, tier: int) -> None:
    ns, tiering = vm_module(tmp_path, source, TieringConfig(loop_threshold=100))
    assert tiering is not None
    assert ns["result"] == cpython_module(source)["result"]
    stats = row(tiering, function)
    assert stats["calls"] == 1
    assert [(o["kind"], o["tier"]) for o in stats["osr"]] == [(kind, tier)], stats


def test_an_exception_in_osr_code_is_cpythons(tmp_path: Path) -> None:
    src = """
    def countdown(n):
        acc = 0
        i = n
        while True:
            acc += 100 // (i - 7)
            i -= 1
    """
    ns, _ = vm_module(tmp_path, src, None)
    tiering = tiering_mod.install(TieringConfig(loop_threshold=20))
    with pytest.raises(ZeroDivisionError, match="integer division or modulo by zero"):
        ns["countdown"](500)
    assert [o["tier"] for o in row(tiering, "countdown")["osr"]] == [2]


def test_osr_overflow_deopts_and_counts(tmp_path: Path) -> None:
    ns, tiering = vm_module(tmp_path, OSR_OVERFLOW, TieringConfig(loop_threshold=50))
    assert tiering is not None
    assert ns["result"] == cpython_module(OSR_OVERFLOW)["result"] and ns["result"] > 2**63
    assert profile_of(ns["powers"]).deopts == 1


def test_osr_declines_a_side_effecting_loop(tmp_path: Path) -> None:
    ns, tiering = vm_module(tmp_path, OSR_EFFECT, TieringConfig(loop_threshold=100))
    assert tiering is not None
    assert ns["result"] == 3000 and ns["seen"] == list(range(3000))
    stats = row(tiering, "noisy")
    assert stats["osr"] == []
    assert "calls seen.append" in stats["osr_declined"][0]


OSR_GRID = """
def grid(n):
    t = 0
    for a in range(n):
        for b in range(n):
            t += (a * 31 + b) % 17
    return t
result = grid(60)
"""

OSR_MANDEL = """
def mandel(w, h, limit):
    total = 0
    for y in range(h):
        ci = 2.0 * y / h - 1.0
        for x in range(w):
            cr = 3.0 * x / w - 2.0
            zr = 0.0
            zi = 0.0
            k = 0
            while k < limit and zr * zr + zi * zi < 4.0:
                zr, zi = zr * zr - zi * zi + cr, 2.0 * zr * zi + ci
                k += 1
            total += k
        total = total * 3 % 1000003
    return total
result = mandel(40, 30, 50)
"""

OSR_WHILE_IN_FOR = """
def steps(n):
    count = 0
    for start in range(1, n):
        v = start
        while v != 1:
            v = v // 2 if v % 2 == 0 else 3 * v + 1
            count += 1
        count -= start % 3
    tail = count * 2
    return tail
result = steps(300)
"""

OSR_JUMPS = """
def jumps(n):
    found = 0
    for a in range(n):
        before = a % 7
        for b in range(a, n):
            if (a + b) % 5 == 0:
                continue
            if b - a > 9:
                break
            found += before + b
        found += a
    return found
result = jumps(400)
"""

OSR_SHORT_INNER = """
def short(n, m):
    acc = 0
    for a in range(n):
        for b in range(m):
            acc = (acc * 31 + a - b) % 1000003
        acc += a
    return acc
result = short(500, 3)
"""

OSR_FOR_IN_WHILE = """
def tri(n):
    i = 0
    s = 0
    while i < n:
        if i % 2:
            for j in range(i):
                s += j * i % 11
        else:
            s -= 1
        i += 1
    return s
result = tri(120)
"""

OSR_OUTER_JUMPS = """
def outer_jumps(n, cap):
    t = 0
    for a in range(n):
        for b in range(a % 13):
            t += a * b % 7
        if a % 11 == 3:
            continue
        t -= 1
        if t > cap:
            break
    k = 0
    while k < n:
        k += 1
        j = 0
        while j < k % 5:
            j += 1
            t += j
        if k % 7 == 0:
            continue
        if t > cap * 3:
            break
    return t, a, k
result = outer_jumps(ARGS)
"""

OSR_BARE_BREAK = """
def once(n):
    t = 0
    for a in range(n):
        for b in range(400):
            t += a + b
        t *= 2
        break
    return t, a
result = once(10)
"""

OSR_OVERFLOW_NESTED = """
def blowup(n):
    p = 1
    for a in range(n):
        for b in range(n):
            p += (a * n + b) ** 4  # leaves int64 once a * n + b passes ~55000
    return p
result = blowup(300)
"""


# line of a loop header -> (kind, depth) of an OSR entered at that loop's back-edge
_LOOPS_OF = {
    "grid": {4: ("for-range", 1), 5: ("for-range", 2)},
    "mandel": {4: ("for-range", 1), 6: ("for-range", 2), 11: ("while", 3)},
    "steps": {4: ("for-range", 1), 6: ("while", 2)},
    "jumps": {4: ("for-range", 1), 6: ("for-range", 2)},
    "tri": {5: ("while", 1), 7: ("for-range", 2)},
    "once": {5: ("for-range", 2)},
    "outer_jumps": {4: ("for-range", 1), 5: ("for-range", 2), 13: ("while", 1), 16: ("while", 2)},
}


_OSR_CASES = [
    (OSR_GRID, "grid"), (OSR_MANDEL, "mandel"), (OSR_WHILE_IN_FOR, "steps"), (OSR_JUMPS, "jumps"),
    (OSR_FOR_IN_WHILE, "tri"), (OSR_BARE_BREAK, "once"),
    # the first outer loop breaks / no loop breaks / both outer loops break
    (OSR_OUTER_JUMPS.replace("ARGS", "300, 1500"), "outer_jumps"),
    (OSR_OUTER_JUMPS.replace("ARGS", "300, 10**9"), "outer_jumps"),
    (OSR_OUTER_JUMPS.replace("ARGS", "300, 500"), "outer_jumps"),
]
_OSR_THRESHOLDS = [37, 100, 333]


def _osr_entry(directory: Path, source: str, function: str, threshold: int) -> dict[str, Any]:
    """Run ``source`` with OSR at ``threshold``; check CPython's result; the one OSR entry."""
    ns, tiering = vm_module(directory, source, TieringConfig(loop_threshold=threshold))
    assert tiering is not None
    assert ns["result"] == cpython_module(source)["result"]
    stats = row(tiering, function)
    assert stats["calls"] == 1
    (osr,) = stats["osr"]
    return osr


@pytest.mark.parametrize("source, function", _OSR_CASES)
@pytest.mark.parametrize("threshold", _OSR_THRESHOLDS)
def test_osr_enters_a_hot_inner_loop_and_resumes_the_loops_around_it(
        tmp_path: Path, source: str, function: str, threshold: int) -> None:
    osr = _osr_entry(tmp_path, source, function, threshold)
    assert (osr["kind"], osr["depth"]) == _LOOPS_OF[function][osr["line"]] and osr["tier"] == 2


def test_osr_entered_the_innermost_loops(tmp_path: Path) -> None:
    """The thresholds above do land in each function's innermost loop (not only outer ones)."""
    depths: dict[str, set[int]] = {}
    for source, function in _OSR_CASES:
        for threshold in _OSR_THRESHOLDS:
            depths.setdefault(function, set()).add(
                _osr_entry(tmp_path, source, function, threshold)["depth"])
    for function, loops in _LOOPS_OF.items():
        assert max(depth for _, depth in loops.values()) in depths[function], depths


@pytest.mark.parametrize("threshold", range(2, 12))
def test_osr_at_every_position_of_a_short_inner_loop(tmp_path: Path, threshold: int) -> None:
    """The hot back-edge falls on the inner loop's every iteration, or on the outer loop's."""
    ns, tiering = vm_module(tmp_path, OSR_SHORT_INNER, TieringConfig(loop_threshold=threshold))
    assert tiering is not None
    assert ns["result"] == cpython_module(OSR_SHORT_INNER)["result"]
    (osr,) = row(tiering, "short")["osr"]
    assert osr["line"] == (4 if threshold % 4 == 0 else 5) and osr["tier"] == 2
    assert osr["depth"] == (1 if threshold % 4 == 0 else 2)


@pytest.mark.parametrize("cap", [400, 10**9])
@pytest.mark.parametrize("threshold", [20, 45])
def test_osr_resumes_loop_else_clauses(tmp_path: Path, cap: int, threshold: int) -> None:
    """An enclosing loop's ``else`` runs unless the lifted rest of an iteration breaks (tier 1)."""
    src = f"""
    def searched(n, cap):
        t = 0
        for a in range(n):
            i = 0
            while i < a % 6:
                i += 1
                t += i
            else:
                t += 1
            if t > cap:
                break
        else:
            t = -t
        return t, a
    result = searched(200, {cap})
    """
    ns, tiering = vm_module(tmp_path, src, TieringConfig(loop_threshold=threshold))
    assert tiering is not None and ns["result"] == cpython_module(src)["result"]
    (osr,) = row(tiering, "searched")["osr"]
    assert osr["line"] in (4, 6) and osr["depth"] == (2 if osr["line"] == 6 else 1)


def test_osr_overflow_in_a_nested_entry_deopts_to_big_ints(tmp_path: Path) -> None:
    ns, tiering = vm_module(tmp_path, OSR_OVERFLOW_NESTED, TieringConfig(loop_threshold=50))
    assert tiering is not None
    expected = cpython_module(OSR_OVERFLOW_NESTED)["result"]
    assert ns["result"] == expected and expected > 2**63
    assert [(o["depth"], o["tier"]) for o in row(tiering, "blowup")["osr"]] == [(2, 2)]
    assert profile_of(ns["blowup"]).deopts == 1


@pytest.mark.parametrize("body, reason", [
    ("""
    for a in range(n):
        try:
            for b in range(n):
                t += a ^ b
        except ValueError:
            t = -1
    """, "inside a `Try` statement"),
    ("""
    for a in range(n):
        for b in range(n):
            t += a ^ b
        seen.append(t)
    """, "calls seen.append"),
    ("""
    for a in [i for i in range(n)]:
        for b in range(n):
            t += a ^ b
    """, "closure or comprehension"),
])
def test_osr_declines_what_it_cannot_resume_exactly(tmp_path: Path, body: str, reason: str) -> None:
    src = ("seen = []\ndef grid(n):\n    t = 0\n" + textwrap.indent(textwrap.dedent(body), "    ")
           + "    return t, len(seen)\nresult = grid(60)\n")
    ns, tiering = vm_module(tmp_path, src, TieringConfig(loop_threshold=100))
    assert tiering is not None and ns["result"] == cpython_module(src)["result"]
    stats = row(tiering, "grid")
    assert stats["osr"] == [] and reason in stats["osr_declined"][0], stats


class FiveArgumentTiering(JitTiering):
    """A hook with the contract's original signature: the VM passes no ``iterators``."""

    def on_hot_loop(self, func: Any, line: int, names: list[str], values: list[Any],
                    iterator: Any) -> tuple[bool, Any]:
        return super().on_hot_loop(func, line, names, values, iterator)


def test_a_hook_without_iterators_still_enters_top_level_loops_only(tmp_path: Path) -> None:
    ns, _ = vm_module(tmp_path, OSR_GRID + OSR_FOR, None)
    tiering = FiveArgumentTiering(TieringConfig(loop_threshold=100))
    profile.set_tiering(tiering)
    try:
        assert ns["grid"](60) == cpython_module(OSR_GRID)["result"]
        assert ns["series"](30001, 1.0001) == cpython_module(OSR_FOR)["result"]
    finally:
        profile.set_tiering(None)
    grid = row(tiering, "grid")
    assert grid["osr"] == [] and "nested in another loop" in grid["osr_declined"][0]
    assert [(o["kind"], o["depth"]) for o in row(tiering, "series")["osr"]] == [("for-range", 1)]


def test_osr_iterator_loops_nested_run_in_tier1(tmp_path: Path) -> None:
    src = """
    def pairs(rows):
        t = 0
        for r in rows:
            for v in range(len(r)):
                t += r[v] * v
            t -= 1
        return t
    result = pairs([list(range(k, k + 8)) for k in range(400)])  # 9 back-edges a row
    """
    ns, tiering = vm_module(tmp_path, src, TieringConfig(loop_threshold=100))
    assert tiering is not None and ns["result"] == cpython_module(src)["result"]
    assert [(o["depth"], o["tier"]) for o in row(tiering, "pairs")["osr"]] == [(2, 1)]


# -- dxpy run --jit-stats ------------------------------------------------------------

SCRIPT = """
def hot(a, b):
    return a * b - a
total = 0
for i in range(1500):
    total += hot(i, 2)
print(total)
"""


def _dxpy(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("DXPY_JIT")}
    environ.update(env or {})
    return subprocess.run([sys.executable, "-m", "dxpy", "run", *args], capture_output=True,
                          text=True, env=environ, timeout=120)


def test_cli_jit_stats_reports_tiers(tmp_path: Path) -> None:
    script = tmp_path / "script.py"
    script.write_text(SCRIPT)
    done = _dxpy(["--vm", "--jit-stats", str(script)])
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(sum(i * 2 - i for i in range(1500)))
    lines = done.stderr.splitlines()
    start = lines.index("dxpy jit stats:")
    assert lines[start + 1].split() == ["function", "tier", "signatures", "calls", "deopts",
                                        "compile", "ms"], done.stderr
    hot = next(line.split() for line in lines[start:] if line.startswith("hot "))
    assert hot[:5] == ["hot", "2", "(int,", "int)", "1500"], done.stderr


def test_cli_bad_jit_setting_is_one_line_and_status_2(tmp_path: Path) -> None:
    script = tmp_path / "script.py"
    script.write_text("print('never runs')\n")
    done = _dxpy(["--vm", str(script)], {"DXPY_JIT_TIER2_THRESHOLD": "soon"})
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == "dxpy: DXPY_JIT_TIER2_THRESHOLD must be a positive integer, got 'soon'\n"


def test_cli_jit_stats_says_why_tier2_refused(tmp_path: Path) -> None:
    # The program ends right after the threshold call: the worker compiles (and first
    # imports the compiler) while the run winds down and takes its import hook away.
    script = tmp_path / "refused.py"
    script.write_text("def box(x):\n    return [x]\nfor i in range(1200):\n    box(i)\n")
    done = _dxpy(["--vm", "--jit-stats", str(script)])
    assert done.returncode == 0, done.stderr
    assert "tier 2 refused: expression List" in done.stderr, done.stderr


def test_cli_jit_stats_with_jit_off_and_on_plain_run(tmp_path: Path) -> None:
    script = tmp_path / "script.py"
    script.write_text(SCRIPT)
    off = _dxpy(["--vm", "--jit-stats", str(script)], {"DXPY_JIT": "off"})
    assert off.returncode == 0 and "no function was compiled" in off.stderr
    plain = tmp_path / "plain.py"
    plain.write_text("import dxpy\n@dxpy.jit\ndef f(x):\n    return x + 1\nprint(f(2))\n")
    done = _dxpy(["--jit-stats", str(plain)])
    assert done.returncode == 0 and done.stdout == "3\n"
    f_row = next(line.split() for line in done.stderr.splitlines() if line.startswith("f "))
    assert f_row[:4] == ["f", "jit", "(int)", "1"]


def test_jit_decorator_on_dpb_code_compiles_immediately(tmp_path: Path) -> None:
    src = """
    import dxpy
    @dxpy.jit
    def tri(n):
        s = 0
        for i in range(n):
            s += i
        return s
    small, big = tri(10), tri(3 * 10**9 + 7)
    """
    ns, tiering = vm_module(tmp_path, src, TieringConfig())
    assert tiering is not None
    assert (ns["small"], ns["big"]) == (45, (3 * 10**9 + 7) * (3 * 10**9 + 6) // 2)
    assert isinstance(ns["tri"], TieredDispatcher)
    stats = row(tiering, "tri")
    assert stats["tier"] == 2 and stats["signatures"] == ["(int)"] and stats["calls"] == 2


def test_vm_functions_are_vmfunctions(tmp_path: Path) -> None:
    # guards the premise of every test above: the functions really are DPB code
    ns, _ = vm_module(tmp_path, POLY, None)
    assert is_vm_function(ns["poly"])


# -- the VM corpus with tiering: every program's output and exception stay CPython's ----

from tests.test_dpb_corpus import PROGRAMS, run_program  # noqa: E402 - the corpus harness

CORPUS_CONFIGS = {"eager": TieringConfig(1, 1, 1000, True),  # tier 2 at the first call
                  "low": TieringConfig(2, 5, 3, False)}  # tier 1 at 2 calls, OSR at 3 back-edges
_corpus_tiers: dict[str, int] = {"programs": 0, "tier1": 0, "tier2": 0, "osr": 0}


@pytest.mark.parametrize("path", PROGRAMS, ids=[p.stem for p in PROGRAMS])
def test_corpus_with_tiering_matches_cpython(path: Path) -> None:
    # Each run in an empty context: a program listing its context's variables would
    # otherwise also see those earlier tests set (decimal's), in hash order.
    expected_output, expected_error = contextvars.Context().run(run_program, path, False)
    for config in CORPUS_CONFIGS.values():
        tiering = tiering_mod.install(config)
        try:
            output, error = contextvars.Context().run(run_program, path, True)
            tiering.drain()
        finally:
            tiering_mod.uninstall()
        assert output == expected_output, config
        assert (error and error[:2]) == (expected_error and expected_error[:2]), config
        rows = tiering.stats()
        _corpus_tiers["tier1"] += sum(r["tier"] >= 1 for r in rows)
        _corpus_tiers["tier2"] += sum(r["tier"] == 2 for r in rows)
        _corpus_tiers["osr"] += sum(len(r["osr"]) for r in rows)
    _corpus_tiers["programs"] += 1


def test_corpus_with_tiering_really_tiered() -> None:
    # runs after the corpus (file order): the comparison must have covered compiled code
    if _corpus_tiers["programs"] == len(PROGRAMS):
        assert _corpus_tiers["tier1"] >= len(PROGRAMS), _corpus_tiers
        assert _corpus_tiers["tier2"] >= 15 and _corpus_tiers["osr"] >= 5, _corpus_tiers


DEPTH_PROBE = """
def down(n):
    return 0 if n == 0 else 1 + down(n - 1)
lo, hi = 1, 5000
while lo < hi:
    mid = (lo + hi + 1) // 2
    try:
        down(mid)
        lo = mid
    except RecursionError:
        hi = mid - 1
print(lo)
"""


@pytest.mark.parametrize("jit", ["off", "auto"])
def test_cli_vm_recursion_depth_is_cpythons(tmp_path: Path, jit: str) -> None:
    """A VM program recurses about as deep as on CPython (at least as deep once tier 1, at one
    Python frame per level, takes over: up to twice), and hitting the limit while a function
    is being promoted raises RecursionError, which the program catches (it once surfaced as
    StopIteration from tier 1's call counter)."""
    script = tmp_path / "depth.py"
    script.write_text(DEPTH_PROBE)
    cpython = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                             timeout=60)
    done = _dxpy(["--vm", str(script)], {"DXPY_JIT": jit} if jit == "off" else None)
    assert done.returncode == 0, done.stderr
    depth, expected = int(done.stdout), int(cpython.stdout)
    if jit == "off":
        assert abs(depth - expected) < 50, (depth, expected)
    else:
        assert expected - 50 < depth < 2 * expected + 50, (depth, expected)
