"""dxpy.jit: the compiled subset, arrays, deoptimisation, tiers and stats."""

from __future__ import annotations

import math

import numpy as np
import pytest

import dxpy
from tests.jit_paths import dispatch_path  # noqa: F401 - autouse: C and Python paths
from dxpy.jit import Dispatcher


def compiled_signatures(fn: Dispatcher) -> list[str]:
    return [s["signature"] for s in fn.stats()["signatures"] if s["compiled"]]


def check(fn: Dispatcher, *args: object) -> object:
    """Call compiled and CPython versions on copies; results and effects must match."""
    def copies() -> list[object]:
        return [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    a1, a2 = copies(), copies()
    outcome = []
    for call, argv in ((fn, a1), (fn.py_func, a2)):
        try:
            r = call(*argv)
            outcome.append(("ok", type(r), r))
        except Exception as exc:  # noqa: BLE001 - comparing exceptions is the point
            outcome.append(("raise", type(exc), str(exc)))
    (k1, t1, v1), (k2, t2, v2) = outcome
    assert (k1, t1) == (k2, t2), (outcome, args)
    if k1 == "ok" and isinstance(v1, float) and math.isnan(v1):
        assert math.isnan(v2)
    elif k1 == "ok" and isinstance(v1, float):
        assert v1 == v2 and math.copysign(1, v1) == math.copysign(1, v2)
    else:
        assert v1 == v2, outcome
    for x, y in zip(a1, a2):
        if isinstance(x, np.ndarray):
            np.testing.assert_array_equal(x, y)
    return v1


@dxpy.jit
def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


@dxpy.jit
def fact(n):
    r = 1
    for i in range(2, n + 1):
        r *= i
    return r


@dxpy.jit
def collatz(n):
    steps = 0
    while n != 1:
        if n % 2 == 0:
            n //= 2
        elif n < 0:
            break
        else:
            n = 3 * n + 1
        steps += 1
    return steps


@dxpy.jit
def hyp(x, y):
    return math.sqrt(x * x + y * y), math.atan2(y, x)


@dxpy.jit
def polar(x, y):
    r, t = hyp(x, y)
    return r * math.cos(t), r * math.sin(t)


def test_recursion_and_loops_compile_and_match() -> None:
    assert check(fib, 20) == 6765
    assert compiled_signatures(fib) == ["(int)"]
    for n in (1, 7, 27, 97):
        check(collatz, n)
    assert compiled_signatures(collatz) == ["(int)"]


def test_int_overflow_deopts_to_exact_big_int() -> None:
    assert check(fact, 20) == math.factorial(20)
    assert check(fact, 30) == math.factorial(30)  # overflows i64: re-run in CPython
    sig = fact.stats()["signatures"][0]
    assert sig["compiled"] and sig["deopts"] >= 1


def test_big_int_argument_runs_in_python() -> None:
    assert fib(2**70 - 2**70 + 10) == 55
    assert collatz.py_func(2**64) == collatz(2**64)


def test_tuples_and_calls_between_functions() -> None:
    r = check(polar, 3.0, 4.0)
    assert isinstance(r, tuple) and len(r) == 2
    assert compiled_signatures(polar) == ["(float, float)"]


@dxpy.jit
def divide(a, b):
    return a / b


@dxpy.jit
def floordiv(a, b):
    return a // b


@dxpy.jit
def modulo(a, b):
    return a % b


@pytest.mark.parametrize("fn", [divide, floordiv, modulo])
@pytest.mark.parametrize("a,b", [(7, 0), (7.0, 0.0), (7, 0.0), (-7, 2), (7, -2), (-7.5, 2.0),
                                 (7.5, -2.0), (-0.0, 1.0), (0.0, -1.0), (-(2**63), -1),
                                 (math.inf, 2.0), (1.0, math.inf), (-1.0, math.inf),
                                 (math.nan, 1.0), (True, 2), (3, True)])
def test_division_semantics(fn: Dispatcher, a: object, b: object) -> None:
    check(fn, a, b)


@dxpy.jit
def unbound(flag):
    if flag:
        x = 1
    return x  # noqa: F821 - UnboundLocalError is the point


def test_unbound_local_raises_like_cpython() -> None:
    check(unbound, True)
    check(unbound, False)


@dxpy.jit
def uses_list(xs):
    return len(xs)


def test_unsupported_types_and_constructs_run_in_python() -> None:
    assert uses_list([1, 2, 3]) == 3
    assert uses_list.stats()["signatures"] == []  # no JIT type for lists: never compiled

    @dxpy.jit
    def mixes(n):
        x = 0
        if n:
            x = 1.5
        return x
    assert mixes(0) == 0 and type(mixes(0)) is int and mixes(1) == 1.5
    sig = mixes.stats()["signatures"][0]
    assert not sig["compiled"] and "int and float" in sig["reason"]


# -- arrays -------------------------------------------------------------------------

@dxpy.jit
def asum(a):
    s = 0.0
    for i in range(len(a)):
        s += a[i]
    return s


@dxpy.jit
def scale(a, k):
    n, m = a.shape
    for i in range(n):
        for j in range(m):
            a[i, j] *= k
    return a.shape[0] * a.shape[1]


@dxpy.jit
def get(a, i):
    return a[i]


@dxpy.jit
def store_then_overflow(a, x):
    for i in range(len(a)):
        a[i] += 1
    return x * x


def test_array_reads_types_and_strides() -> None:
    a = np.arange(10.0)
    assert check(asum, a) == 45.0
    assert type(asum(a)) is np.float64 and type(asum(np.zeros(0))) is float
    assert asum(a[::3]) == asum.py_func(a[::3]) == 18.0  # strided view, read in place
    check(asum, np.arange(5))    # int64 elements into a float accumulator
    assert "(array(float64, 1d))" in compiled_signatures(asum)


def test_array_writes_2d_and_views() -> None:
    a = np.arange(12.0).reshape(3, 4)
    check(scale, a, 2.0)
    check(scale, a.T, 3)
    b = np.arange(12).reshape(3, 4)
    check(scale, b, 2)
    view = np.zeros((4, 6))
    scale(view[1:3, ::2], 5.0)  # writes through the view into the parent
    assert view.sum() == 0.0


def test_index_errors_match_numpy() -> None:
    a = np.arange(5.0)
    for i in (0, 4, -1, -5, 5, -6, 2**40):
        check(get, a, i)


def test_array_store_then_deopt_restores_and_reruns() -> None:
    a = np.zeros(4, dtype=np.int64)
    assert store_then_overflow(a, 3) == 9 and list(a) == [1, 1, 1, 1]
    assert store_then_overflow(a, 2**40) == 2**80  # deopt: arrays restored, re-run once
    assert list(a) == [2, 2, 2, 2]


def test_snapshot_buffers_are_kept_and_fit_every_shape() -> None:
    """A storing function that may deopt snapshots its arrays into buffers kept between
    calls; a new shape or a strided view gets its own, and each deopt restores exactly."""
    fn = Dispatcher(store_then_overflow.py_func)
    rng = np.random.default_rng(5)
    for n, step in ((6, 1), (6, 1), (9, 2), (6, 3), (1, 1)):
        base = rng.integers(-50, 50, n * step)
        a = base[::step]
        before = a.copy()
        assert fn(a, 2**40) == 2**80  # deopt: restored, re-run in CPython
        assert np.array_equal(a, before + 1)
        assert fn(a, 5) == 25 and np.array_equal(a, before + 2)
    version = next(iter(fn._versions.values()))
    kept = version.spares[0]
    assert kept and all(buf.base is None for buf in kept)
    again = kept[-1]
    fn(np.zeros(1, np.int64)[::1], 3)
    assert version.spares[0][-1] is again  # the same buffer, not a fresh copy


def test_read_only_array_store_raises_like_numpy() -> None:
    a = np.zeros(3)
    a.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        scale(a.reshape(1, 3), 2.0)


# -- tiers, modes and stats -----------------------------------------------------------

def test_tiered_compiles_after_threshold() -> None:
    @dxpy.jit.jit(eager=False, threshold=5)
    def sq(x):
        return x * x
    for i in range(5):
        assert sq(i) == i * i
    assert sq.stats()["signatures"] == []
    assert sq(6) == 36
    assert compiled_signatures(sq) == ["(int)"]


def test_dxpy_jit_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DXPY_JIT", "off")

    @dxpy.jit
    def sq(x):
        return x * x
    assert sq(3) == 9 and sq.stats()["signatures"] == []


def test_repeated_deopts_blacklist_the_signature() -> None:
    @dxpy.jit
    def square(x):
        return x * x
    for _ in range(60):
        assert square(2**40) == 2**80
    sig = square.stats()["signatures"][0]
    assert sig["blacklisted"]
    assert square(3) == 9


def test_stats_report_pass_timings() -> None:
    fib(10)
    entry = next(s for s in dxpy.jit.stats() if s["function"] == "fib")
    passes = entry["signatures"][0]["passes"]
    assert set(passes) == {"parse", "infer", "lower", "optimise", "emit"}


def test_ir_is_vectorised_for_contiguous_arrays() -> None:
    @dxpy.jit
    def axpy(a, x, y):
        for i in range(len(x)):
            y[i] = a * x[i] + y[i]
    ir_text = axpy.inspect_ir(2.0, np.zeros(8), np.zeros(8))
    assert "<2 x double>" in ir_text or "<4 x double>" in ir_text or "<8 x double>" in ir_text


@dxpy.jit
def is_even(n):
    if n == 0:
        return True
    return is_odd(n - 1)


@dxpy.jit
def is_odd(n):
    if n == 0:
        return False
    return is_even(n - 1)


def test_mutual_recursion() -> None:
    assert [is_even(n) for n in range(6)] == [True, False, True, False, True, False]
    assert compiled_signatures(is_even) == ["(int)"]


@dxpy.jit
def copy_scaled(src, dst, k):
    for i in range(len(src)):
        dst[i] = src[i] * k
    return k * k


def test_only_stored_arrays_are_guarded_and_restored() -> None:
    src = np.arange(4.0)
    src.flags.writeable = False      # only read: fine for compiled code
    dst = np.zeros(4)
    fn = Dispatcher(copy_scaled.py_func)
    assert fn(src, dst, 3) == 9 and list(dst) == [0.0, 3.0, 6.0, 9.0]
    assert fn(src, dst, 2**40) == 2**80  # deopt: dst restored, re-run in CPython
    assert list(dst) == [0.0, 2.0**40, 2.0**41, 3 * 2.0**40]
    sig = fn.stats()["signatures"][0]
    assert sig["compiled"] and sig["deopts"] == 1 and sig["calls"] == 2


# -- loops, calling convention, exact IndexError, contiguity ---------------------------

@dxpy.jit
def next_perm_flips(perm, count):
    """fannkuch-shaped: ``while True`` left by a return, an inner ``while True`` by break."""
    flips = 0
    r = len(perm)
    while True:
        k = perm[0]
        while True:
            if k <= 1:
                break
            perm[0] = k - 1
            k = perm[0]
            flips += 1
        r -= 1
        count[r] += flips
        if r == 0:
            return flips, r


def test_while_true_left_by_return_with_inner_break_compiles() -> None:
    check(next_perm_flips, np.array([5, 1, 2], dtype=np.int64), np.zeros(3, dtype=np.int64))
    assert compiled_signatures(next_perm_flips)


@dxpy.jit
def range_forms(n, m):
    total = 0
    for i in range(n, m):
        total += i
        i = 100      # rebinding the loop variable does not change the iteration
        m = n        # the range was evaluated once
    for j in range(min(m, 4)):
        total += j
    return total


@pytest.mark.parametrize("n,m", [(0, 5), (5, 0), (-3, 3), (3, 3), (2**63 - 3, 2**63 - 1),
                                 (-2**63, -2**63 + 2)])
def test_range_without_step_matches_cpython(n: int, m: int) -> None:
    check(range_forms, n, m)


@dxpy.jit
def fill_then_index(a, k):
    for i in range(len(a)):
        a[i] = i * 2.0
    return a[k]


@dxpy.jit
def calls_fill(a, k):
    return fill_then_index(a, k) + 1.0


def test_index_error_after_stores_is_raised_in_place_without_snapshot() -> None:
    for k in (3, -4, 4, -5, 2**40):
        check(fill_then_index, np.zeros(4), k)
        check(calls_fill, np.zeros(4), k)   # through the internal calling convention
    for fn in (fill_then_index, calls_fill):
        sig = fn.stats()["signatures"][0]
        assert sig["compiled"] and sig["deopts"] == 0, sig  # raised, not re-run
    version = next(v for v in fill_then_index._versions.values() if v is not None)
    assert not version.may_deopt  # LLVM proved the i * 2.0 path cannot deopt: no copies


@dxpy.jit
def index_order(a, z):
    return a[100, 1 // z]


def test_indices_are_evaluated_before_bounds_checks() -> None:
    a = np.zeros((2, 2))
    check(index_order, a, 0)   # ZeroDivisionError first, as in CPython
    check(index_order, a, 1)   # then IndexError for axis 0


@dxpy.jit
def tagged_pair(a, flag):
    s = 0.0
    if flag:
        s += a[0]        # a NumPy float on this path only: tag decided at run time
    return s, flag


@dxpy.jit
def calls_tagged(a, flag):
    return tagged_pair(a, flag)


def test_runtime_tags_survive_the_internal_calling_convention() -> None:
    a = np.array([2.5])
    for flag in (True, False):
        check(calls_tagged, a, flag)
    assert type(calls_tagged(a, True)[0]) is np.float64
    assert type(calls_tagged(a, False)[0]) is float


@dxpy.jit
def rowsum_weighted(a):
    n, m = a.shape
    s = 0.0
    for i in range(n):
        for j in range(m):
            s += a[i, j] * (i + 2 * j)
    return s


def test_contiguity_is_part_of_the_signature_and_guarded() -> None:
    base = np.arange(24.0).reshape(4, 6)
    for arr in (base, base.T, base[:, ::2], base[1:3], np.asfortranarray(base)):
        assert rowsum_weighted(arr) == rowsum_weighted.py_func(arr)  # no copy: layout kept
    sigs = compiled_signatures(rowsum_weighted)
    assert "(array(float64, 2d, C))" in sigs and "(array(float64, 2d))" in sigs


_STATUS_IR = """
define i32 @merged(i1 %c, i1 %d) {
e:
  %x = select i1 %c, {i8, double} {i8 2, double 0.0}, {i8, double} zeroinitializer
  %s = extractvalue {i8, double} %x, 0
  %z = zext nneg i8 %s to i32
  br i1 %d, label %a, label %b
a:
  ret i32 %z
b:
  ret i32 0
}
declare i32 @other()
define i32 @from_call() {
  %r = call i32 @other()
  ret i32 %r
}
define i32 @from_bit(i1 %c) {
  %q = zext i1 %c to i32
  ret i32 %q
}
define i32 @phis(i1 %c) {
e:
  br i1 %c, label %a, label %b
a:
  br label %b
b:
  %q = phi i32 [ 1, %a ], [ 0, %e ]
  ret i32 %q
}
"""


@pytest.mark.parametrize("name,expected", [("merged", frozenset({0, 2})), ("from_call", None),
                                           ("from_bit", None), ("phis", frozenset({0, 1}))])
def test_returned_statuses_are_traced_or_unknown(name: str, expected: object) -> None:
    """What lets a storing function skip its array snapshot: unsure must mean None."""
    import llvmlite.binding as llvm

    from dxpy.jit.engine import get_engine, returned_constants
    get_engine()  # initialises LLVM's native target
    module = llvm.parse_assembly(_STATUS_IR)
    assert returned_constants(str(module.get_function(name))) == expected


def test_arrays_are_passed_field_by_field_when_their_layout_is_unknown(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The entry reads data/shape/strides from the array object when the probe found the
    fields (this NumPy); otherwise the dispatcher passes them one by one.  Both agree."""
    from dxpy.jit import abi
    assert abi.ARRAY_LAYOUT is not None
    base = np.arange(24.0).reshape(4, 6)
    views = (base, base.T, base[:, ::2], base[1:3, 1:], np.arange(5.0)[::-1].reshape(1, 5))
    expected = [rowsum_weighted.py_func(v) for v in views]
    monkeypatch.setattr(abi, "ARRAY_LAYOUT", None)
    flat = Dispatcher(rowsum_weighted.py_func)  # compiled now: field-by-field entry
    assert [flat(v) for v in views] == expected
    assert [rowsum_weighted(v) for v in views] == expected
    assert all(s["compiled"] for s in flat.stats()["signatures"])


@dxpy.jit
def scale_into(a, out, k):
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            out[i, j] = a[i, j] * k
    return out[0, 0]


def outcome(fn: object, args: tuple[object, ...]) -> tuple[object, ...]:
    """What a call did: its result (type and value) or exception, then its array args."""
    try:
        r = fn(*args)  # type: ignore[operator]
        done: tuple[object, ...] = ("ok", type(r), r)
    except Exception as exc:  # noqa: BLE001 - comparing exceptions is the point
        done = ("raise", type(exc), str(exc))
    return done + tuple(a.tolist() for a in args if isinstance(a, np.ndarray))


def test_fast_path_guards_send_other_arrays_to_their_own_signature() -> None:
    """A call for cached Python types (ndarray, ndarray, int) re-checks dtype, ndim,
    contiguity and, for stored arrays, writeability: each different array gets CPython's
    result or exception, and a compiled signature of its own where it has a JIT type.
    (Not ``check``: its copies would make every array C-contiguous.)"""
    base = np.arange(12.0).reshape(3, 4)
    others = [lambda: (base.T.copy().T, np.zeros((3, 4)), 3),     # Fortran order
              lambda: (base.copy(), np.zeros((4, 3)).T, 3),        # stored array is a view
              lambda: (base.astype(np.int64), np.zeros((3, 4), np.int64), 3),
              lambda: (base.astype(np.float32), np.zeros((3, 4)), 3),  # CPython
              lambda: (base[0].copy(), np.zeros(4), 3),            # 1-D: a[i, j] raises
              lambda: (np.asmatrix(base), np.zeros((3, 4)), 3),    # a subclass: CPython
              lambda: (base.copy(), np.zeros((3, 4)), 2)]          # the cached version
    for make in others * 2:                                         # twice: each cached
        assert outcome(scale_into, make()) == outcome(scale_into.py_func, make())
        assert scale_into(base, np.zeros((3, 4)), 2) == 0.0        # back to the first
    sigs = compiled_signatures(scale_into)
    assert "(array(float64, 2d, C), array(float64, 2d, C), int)" in sigs
    assert "(array(float64, 2d), array(float64, 2d, C), int)" in sigs
    assert "(array(float64, 2d, C), array(float64, 2d), int)" in sigs
    assert "(array(int64, 2d, C), array(int64, 2d, C), int)" in sigs


def test_fast_path_refuses_read_only_stored_arrays_and_big_ints() -> None:
    base = np.arange(12.0).reshape(3, 4)
    out = np.zeros((3, 4))
    assert scale_into(base, out, 2) == 0.0                 # cached, then:
    assert scale_into(base, out, k=3) == 0.0 and out[1, 1] == 15.0  # keywords: CPython
    out.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        scale_into(base, out, 2)
    base.flags.writeable = False                           # read, never stored: fine
    assert scale_into(base, np.zeros((3, 4)), 5) == 0.0
    assert scale_into(base + 1, np.zeros((3, 4)), 2**70) == 2**70  # CPython's float
    assert type(scale_into(base + 1, np.zeros((3, 4)), 2**70)) is np.float64


@dxpy.jit
def add_ints(a, b):
    return a + b


def test_scalar_fast_path_leaves_ints_outside_int64_to_cpython() -> None:
    assert add_ints(2, 3) == 5                             # cached (int, int)
    for a, b in ((2**63, 1), (-(2**63) - 1, 0), (2**63 - 1, 1), (10**30, -(10**30))):
        check(add_ints, a, b)
    assert add_ints(2**63 - 1, 1) == 2**63                 # deopt on overflow, exact
    assert compiled_signatures(add_ints) == ["(int, int)"]


def test_concurrent_calls_of_one_version_keep_their_own_results() -> None:
    """The entry runs without the GIL: each call needs its own result buffer (calls long
    enough, ~50 us, for two threads to be inside the machine code at once)."""
    from concurrent.futures import ThreadPoolExecutor

    grid = np.ones((200, 200))
    expected = {k: float(k) for k in range(1, 100)}

    def run(k: int) -> tuple[int, object]:
        return k, scale_into(grid, np.zeros((200, 200)), k)
    with ThreadPoolExecutor(4) as pool:
        for _ in range(5):
            assert dict(pool.map(run, expected)) == expected


@dxpy.jit
def loop_elses(n, stop_at):
    """for/else and while/else (the else runs only when no ``break`` left the loop),
    a ``break``/``continue`` inside an else clause belonging to the enclosing loop,
    and chained assignment (one value, stored left to right)."""
    found = total = 0
    for i in range(n):
        if i == stop_at:
            found = i
            break
    else:
        found = -1
    k = 0
    while k < n:
        k += 3
        if k == stop_at:
            break
    else:
        total = k * 10
    for outer in range(3):
        j = 0
        while j < outer:
            j += 1
        else:
            if outer == 1:
                continue
            total += j
        total += 100
    a = b = c = total + found
    return a + b * 2 + c * 3, k


@pytest.mark.parametrize("n,stop_at", [(0, 0), (5, 2), (5, 9), (9, 6), (10, 3), (7, -1)])
def test_loop_else_and_chained_assignment_compile_and_match(n: int, stop_at: int) -> None:
    check(loop_elses, n, stop_at)
    assert compiled_signatures(loop_elses) == ["(int, int)"]


@dxpy.jit
def chained_into_array(a, v):
    a[0] = x = a[1] = v * 2
    return x


def test_chained_assignment_stores_arrays_in_order() -> None:
    check(chained_into_array, np.zeros(3), 1.5)
    check(chained_into_array, np.zeros(1), 2.0)  # a[1] out of bounds after a[0] was stored
