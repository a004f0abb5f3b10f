"""CPython vs numba @njit vs dxpy.jit on numeric kernels, in one run.

    python benchmarks/jit_bench.py            # full sizes
    python benchmarks/jit_bench.py --quick    # small sizes, a smoke run

Each kernel is written once (``make_kernels``) and instantiated three times
with a different decorator, so all three run the same source.  Compile time
is the first call (for dxpy.jit also reported by its own stats) and is
reported apart from steady-state time, which is the best of ``--repeat``
timed calls after warm-up.  Every compiled result is checked against
CPython's before timing.
"""

from __future__ import annotations

import argparse
import math
import time
from typing import Any, Callable

import numpy as np


def make_kernels(deco: Callable[[Any], Any]) -> dict[str, Any]:
    """The benchmark kernels, each wrapped by ``deco`` (identity, numba.njit, dxpy.jit)."""

    @deco
    def fib(n):
        if n < 2:
            return n
        return fib(n - 1) + fib(n - 2)

    @deco
    def reduce_floats(n):
        s = 0.0
        for i in range(n):
            x = i * 1e-6
            s += x * x + 0.5 * x - math.sqrt(x + 1.0)
        return s

    @deco
    def mandelbrot(width, height, max_iter):
        total = 0
        for py in range(height):
            ci = 2.0 * py / height - 1.0
            for px in range(width):
                cr = 3.0 * px / width - 2.0
                zr = 0.0
                zi = 0.0
                k = 0
                while k < max_iter and zr * zr + zi * zi <= 4.0:
                    t = zr * zr - zi * zi + cr
                    zi = 2.0 * zr * zi + ci
                    zr = t
                    k += 1
                total += k
        return total

    @deco
    def eval_a(i, j):
        return 1.0 / ((i + j) * (i + j + 1) // 2 + i + 1)

    @deco
    def mul_av(v, out):
        n = len(v)
        for i in range(n):
            s = 0.0
            for j in range(n):
                s += eval_a(i, j) * v[j]
            out[i] = s

    @deco
    def mul_atv(v, out):
        n = len(v)
        for i in range(n):
            s = 0.0
            for j in range(n):
                s += eval_a(j, i) * v[j]
            out[i] = s

    @deco
    def spectral_norm(u, v, tmp):
        for _ in range(10):
            mul_av(u, tmp)
            mul_atv(tmp, v)
            mul_av(v, tmp)
            mul_atv(tmp, u)
        vbv = 0.0
        vv = 0.0
        for i in range(len(u)):
            vbv += u[i] * v[i]
            vv += v[i] * v[i]
        return math.sqrt(vbv / vv)

    @deco
    def nbody(pos, vel, mass, steps, dt):
        n = len(mass)
        for _ in range(steps):
            for i in range(n):
                for j in range(i + 1, n):
                    dx = pos[i, 0] - pos[j, 0]
                    dy = pos[i, 1] - pos[j, 1]
                    dz = pos[i, 2] - pos[j, 2]
                    d2 = dx * dx + dy * dy + dz * dz
                    mag = dt / (d2 * math.sqrt(d2))
                    mj = mass[j] * mag
                    mi = mass[i] * mag
                    vel[i, 0] -= dx * mj
                    vel[i, 1] -= dy * mj
                    vel[i, 2] -= dz * mj
                    vel[j, 0] += dx * mi
                    vel[j, 1] += dy * mi
                    vel[j, 2] += dz * mi
            for i in range(n):
                pos[i, 0] += dt * vel[i, 0]
                pos[i, 1] += dt * vel[i, 1]
                pos[i, 2] += dt * vel[i, 2]
        e = 0.0
        for i in range(n):
            e += 0.5 * mass[i] * (vel[i, 0] ** 2 + vel[i, 1] ** 2 + vel[i, 2] ** 2)
        return e

    @deco
    def stencil(a, out, iters):
        n, m = a.shape
        for _ in range(iters):
            for i in range(1, n - 1):
                for j in range(1, m - 1):
                    out[i, j] = 0.25 * (a[i - 1, j] + a[i + 1, j] + a[i, j - 1] + a[i, j + 1])
            for i in range(1, n - 1):
                for j in range(1, m - 1):
                    a[i, j] = out[i, j]
        return out[n // 2, m // 2]

    @deco
    def fannkuch(n, perm1, perm, count):
        """fannkuch-redux on int64 arrays of length n: (checksum, max flips)."""
        for i in range(n):
            perm1[i] = i
        maxflips = 0
        checksum = 0
        sign = 1
        r = n
        while True:
            while r != 1:
                count[r - 1] = r
                r -= 1
            for i in range(n):
                perm[i] = perm1[i]
            flips = 0
            k = perm[0]
            while k != 0:
                i = 0
                j = k
                while i < j:
                    t = perm[i]
                    perm[i] = perm[j]
                    perm[j] = t
                    i += 1
                    j -= 1
                flips += 1
                k = perm[0]
            maxflips = max(maxflips, flips)
            checksum += sign * flips
            sign = -sign
            while True:  # next permutation in count order
                if r == n:
                    return checksum, maxflips
                p0 = perm1[0]
                for i in range(r):
                    perm1[i] = perm1[i + 1]
                perm1[r] = p0
                count[r] -= 1
                if count[r] > 0:
                    break
                r += 1

    @deco
    def collatz_search(limit):
        """The start below ``limit`` with the longest Collatz chain: integer while loops."""
        best = 0
        best_n = 1
        for n in range(1, limit):
            x = n
            steps = 0
            while x != 1:
                if x % 2 == 0:
                    x //= 2
                else:
                    x = 3 * x + 1
                steps += 1
            if steps > best:
                best = steps
                best_n = n
        return best_n, best

    @deco
    def sieve_u8(flags):
        """Primes below len(flags), flags an np.uint8 array of ones."""
        n = len(flags)
        flags[0] = 0
        flags[1] = 0
        i = 2
        while i * i < n:
            if flags[i]:
                for j in range(i * i, n, i):
                    flags[j] = 0
            i += 1
        count = 0
        for i in range(n):
            if flags[i]:
                count += 1
        return count

    @deco
    def histogram_i32(data, bins):
        """Counts of the np.int32 values in ``data`` into np.int32 ``bins``; the largest."""
        for i in range(len(data)):
            bins[data[i]] += 1
        most = 0
        for k in range(len(bins)):
            if bins[k] > most:
                most = bins[k]
        return most

    @deco
    def dot_f32(a, b):
        """A float32 dot product, accumulated in float32."""
        s = np.float32(0.0)
        for i in range(len(a)):
            s += a[i] * b[i]
        return s

    @deco
    def absdiff_i8(a, b):
        """Sum of |a[i] - b[i]| over np.int8 arrays, as a Python int."""
        total = 0
        for i in range(len(a)):
            total += abs(int(a[i]) - int(b[i]))
        return total

    @deco
    def minmax_rec(a, lo, hi):
        """(min, max) of a[lo:hi] by halving: recursion, tuples, a tuple conditional."""
        if hi - lo <= 2:
            x = a[lo]
            y = a[hi - 1]
            small, big = (x, y) if x < y else (y, x)
            return small, big
        mid = (lo + hi) // 2
        a1, b1 = minmax_rec(a, lo, mid)
        a2, b2 = minmax_rec(a, mid, hi)
        return min(a1, a2), max(b1, b2)

    @deco
    def fib_step(x, y):
        return y, (x + y) % 1000003

    @deco
    def tuple_chain(n):
        """Fibonacci mod a prime through a tuple-returning helper."""
        x, y = 0, 1
        for _ in range(n):
            x, y = fib_step(x, y)
        return x

    @deco
    def trapezoid(n):
        """The integral of sin(x) * exp(-x / 4) over [0, 10], trapezoid rule."""
        h = 10.0 / n
        s = 0.5 * (math.sin(0.0) + math.sin(10.0) * math.exp(-2.5))
        for i in range(1, n):
            x = i * h
            s += math.sin(x) * math.exp(-x / 4.0)
        return s * h

    return {"fib": fib, "reduce_floats": reduce_floats, "mandelbrot": mandelbrot,
            "spectral_norm": spectral_norm, "nbody": nbody, "stencil": stencil,
            "fannkuch": fannkuch, "collatz_search": collatz_search, "sieve_u8": sieve_u8,
            "histogram_i32": histogram_i32, "dot_f32": dot_f32, "absdiff_i8": absdiff_i8,
            "minmax_rec": minmax_rec, "tuple_chain": tuple_chain, "trapezoid": trapezoid}


def workloads(quick: bool) -> dict[str, Callable[[], tuple[Any, ...]]]:
    """Fresh arguments per call (kernels that write arrays get new copies)."""
    s = 0.25 if quick else 1.0
    rng = np.random.default_rng(1)
    pos0 = rng.random((32, 3)) * 10
    vel0 = rng.random((32, 3))
    mass0 = rng.random(32) + 0.5
    grid0 = rng.random((int(400 * s), int(400 * s)))
    nsn = int(300 * s)
    nfk = 8 if quick else 9
    n_arrays = int(1_000_000 * s)
    data_i32 = rng.integers(0, 256, n_arrays).astype(np.int32)
    f32_a, f32_b = (rng.random(n_arrays).astype(np.float32) for _ in range(2))
    i8_a, i8_b = (rng.integers(-128, 128, n_arrays).astype(np.int8) for _ in range(2))
    f64_a = rng.random(n_arrays)
    return {
        "fib": lambda: (25 if quick else 30,),
        "reduce_floats": lambda: (int(2_000_000 * s),),
        "mandelbrot": lambda: (int(160 * s), int(120 * s), 200),
        "spectral_norm": lambda: (np.ones(nsn), np.ones(nsn), np.ones(nsn)),
        "nbody": lambda: (pos0.copy(), vel0.copy(), mass0.copy(), int(200 * s), 0.001),
        "stencil": lambda: (grid0.copy(), np.zeros_like(grid0), 10),
        "fannkuch": lambda: (nfk, *(np.zeros(nfk, np.int64) for _ in range(3))),
        "collatz_search": lambda: (int(300_000 * s),),
        "sieve_u8": lambda: (np.ones(int(2_000_000 * s), np.uint8),),
        "histogram_i32": lambda: (data_i32, np.zeros(256, np.int32)),
        "dot_f32": lambda: (f32_a, f32_b),
        "absdiff_i8": lambda: (i8_a, i8_b),
        "minmax_rec": lambda: (f64_a, 0, len(f64_a)),
        "tuple_chain": lambda: (int(3_000_000 * s),),
        "trapezoid": lambda: (int(2_000_000 * s),),
    }


def best_time(fn: Callable[..., Any], make_args: Callable[[], tuple[Any, ...]],
              repeat: int) -> float:
    best = math.inf
    for _ in range(repeat):
        args = make_args()
        t0 = time.perf_counter()
        fn(*args)
        best = min(best, time.perf_counter() - t0)
    return best


def same(a: Any, b: Any) -> bool:
    if isinstance(a, tuple) or isinstance(b, tuple):
        return (isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b)
                and all(map(same, a, b)))
    return bool(a == b or (a != a and b != b) or abs(a - b) <= 1e-9 * max(abs(a), abs(b)))


def main() -> None:
    import dxpy
    import numba

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--cpython-repeat", type=int, default=1)
    opts = parser.parse_args()

    py = make_kernels(lambda f: f)
    nb = make_kernels(numba.njit(cache=False))
    dx = make_kernels(dxpy.jit)
    rows = []
    for name, make_args in workloads(opts.quick).items():
        expected = py[name](*make_args())
        compile_times = {}
        for label, impl in (("numba", nb), ("dxpy", dx)):
            t0 = time.perf_counter()
            got = impl[name](*make_args())
            compile_times[label] = time.perf_counter() - t0
            if not same(got, expected):
                raise SystemExit(f"{label} {name}: {got!r} != CPython {expected!r}")
        t_py = best_time(py[name], make_args, opts.cpython_repeat)
        t_nb = best_time(nb[name], make_args, opts.repeat)
        t_dx = best_time(dx[name], make_args, opts.repeat)
        dx_stats = dx[name].stats()["signatures"]
        compiled = all(s["compiled"] for s in dx_stats)
        rows.append((name, t_py, t_nb, t_dx, compile_times["numba"], compile_times["dxpy"],
                     compiled))
    header = (f"{'kernel':<14}{'cpython':>10}{'numba':>10}{'dxpy':>10}{'dxpy/cpy':>10}"
              f"{'dxpy/numba':>11}{'numba 1st':>10}{'dxpy 1st':>10}")
    print(header)
    for name, t_py, t_nb, t_dx, c_nb, c_dx, compiled in rows:
        note = "" if compiled else "  (dxpy ran in CPython)"
        print(f"{name:<14}{t_py * 1e3:>8.1f}ms{t_nb * 1e3:>8.2f}ms{t_dx * 1e3:>8.2f}ms"
              f"{t_py / t_dx:>9.0f}x{t_nb / t_dx:>10.2f}x{c_nb * 1e3:>8.0f}ms"
              f"{c_dx * 1e3:>8.0f}ms{note}")
    print("ratios: steady state, higher is better for dxpy (dxpy/cpy = CPython time / dxpy "
          "time; dxpy/numba = numba time / dxpy time). '1st' = first call incl. compile.")


if __name__ == "__main__":
    main()
