"""``@dxpy.jit(nogil=True)``: the GIL is released while machine code runs, and arrays
are worked on in place (their own memory, never a copy), from any thread."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import dxpy
from tests.jit_paths import dispatch_path  # noqa: F401 - autouse: C and Python paths


@dxpy.jit(nogil=True)
def spin(n):
    """About n * 10 ns of pure machine code (a dependent integer chain LLVM keeps)."""
    x = 1
    for i in range(n):
        x = (x * 1103515245 + 12345) % 2147483648
    return x


@dxpy.jit(nogil=True)
def fill(a, value):
    for i in range(len(a)):
        a[i] = value
    return len(a)


@dxpy.jit(nogil=True)
def partial_sum(a, lo, hi):
    s = 0.0
    for i in range(lo, hi):
        s += a[i]
    return s


def _progress_while_running(kernel_call) -> int:
    """How many times the main thread got to run Python code while ``kernel_call`` ran in
    another thread (it starts once the other thread has signalled it is about to call)."""
    started = threading.Event()
    result: list[object] = []

    def worker() -> None:
        started.set()
        result.append(kernel_call())

    t = threading.Thread(target=worker)
    t.start()
    started.wait(10)
    count = 0
    while t.is_alive():
        count += 1
    t.join(30)
    assert result
    return count


def test_nogil_kernel_lets_other_threads_run() -> None:
    assert spin(10) == spin.py_func(10)  # compiled and equal
    assert spin.stats()["signatures"][0]["compiled"]
    # ~0.5 s of machine code: with the GIL held the main thread could not loop at all.
    assert _progress_while_running(lambda: spin(50_000_000)) > 10_000


def test_thread_pool_over_nogil_kernel_matches_cpython() -> None:
    a = np.random.default_rng(3).random(100_000)
    bounds = [(k * 10_000, (k + 1) * 10_000) for k in range(10)]
    with ThreadPoolExecutor(2) as pool:
        got = list(pool.map(lambda b: partial_sum(a, *b), bounds))
    assert got == [partial_sum.py_func(a, *b) for b in bounds]


@pytest.mark.parametrize("layout", ["contiguous", "strided", "reversed"])
def test_arrays_are_written_in_place_not_copied(layout: str) -> None:
    base = np.zeros(64)
    view = {"contiguous": base[8:40], "strided": base[1::3], "reversed": base[::-2]}[layout]
    address = view.__array_interface__["data"][0]
    assert fill(view, 7.5) == len(view)
    assert view.__array_interface__["data"][0] == address
    expected = np.zeros(64)
    {"contiguous": expected[8:40], "strided": expected[1::3],
     "reversed": expected[::-2]}[layout][:] = 7.5
    np.testing.assert_array_equal(base, expected)  # the writes landed in base's memory
