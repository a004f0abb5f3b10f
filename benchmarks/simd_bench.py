"""dxpy.simd against the builtins, side by side in one process.

For each operation and size: the builtin (the method, or the list/dict
idiom a user would write), each SIMD engine forced at that size, and the
default dispatch.  Printed: speed-up over the builtin (``builtin time /
time``: above 1 is faster) and, per engine, the crossover -- the smallest
measured size from which the engine beats the builtin by ``--margin`` at
that size and every larger one.  ``--write-crossovers`` stores those in
``dxpy/simd/crossovers.py``, which is what the dispatcher reads.

    python benchmarks/simd_bench.py                       # 16 B .. 64 MiB, 10 .. 10**7
    python benchmarks/simd_bench.py --quick               # .. 1 MiB, .. 10**5: for iterating
    python benchmarks/simd_bench.py --write-crossovers    # re-measure the dispatcher's table
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import dxpy.simd as simd  # noqa: E402
from dxpy.simd import SimdList, SwissDict  # noqa: E402

BYTE_SIZES = [16, 256, 4096, 1 << 16, 1 << 20, 1 << 24, 1 << 26]
LIST_SIZES = [10, 100, 1000, 10 ** 4, 10 ** 5, 10 ** 6, 10 ** 7]
DICT_SIZES = [1000, 10 ** 5]
NEEDLE = b"q#Zx!"
"""A needle that never occurs in the generated text (its bytes are outside the alphabet)."""


ROUNDS = 3
"""Interleaved rounds: every column of a row is timed once per round, best round kept."""


def batch_size(timer: timeit.Timer, seconds: float) -> int:
    """Loops per timing so that one timing takes at least ``seconds`` of CPU time."""
    number = 1
    while True:
        spent = timer.timeit(number)
        if spent >= seconds or number >= 1 << 24:
            return number
        number = max(2 * number, int(number * 1.2 * seconds / max(spent, 1e-9)))


def timed_row(columns: dict[str, tuple[timeit.Timer, str | None, bool]], budget: float) -> dict[str, float]:
    """CPU seconds per call for each column, interleaved: in each round every column runs once
    (under its forced engine), so load changes during the row hit all columns alike.

    Columns marked skip are not timed (inf).  The clock is the process's CPU time: on this
    shared machine wall time mostly measures waiting for a core.
    """
    best = {name: float("inf") for name in columns}
    numbers: dict[str, int] = {}
    for _ in range(ROUNDS):
        for name, (timer, engine, skip) in columns.items():
            if skip:
                continue
            with simd.forced(engine):
                if name not in numbers:
                    numbers[name] = batch_size(timer, budget / ROUNDS)
                best[name] = min(best[name], timer.timeit(numbers[name]) / numbers[name])
    return best


def timed(call: Callable[[], Any], budget: float) -> float:
    """CPU seconds per call of ``call`` (best of the interleaved rounds of a one-column row)."""
    return timed_row({"call": (timeit.Timer(call, timer=time.process_time), None, False)}, budget)["call"]


def text(size: int, seed: int = 1) -> bytes:
    """Mixed-case ASCII words and spaces, a newline about every 2 KiB (long lines, sparse separators)."""
    rng = random.Random(seed)
    alphabet = b"abcdefghijklmnopABCDEFGHIJ       "
    chunk = bytearray(rng.choices(alphabet, k=min(size, 1 << 16)))
    for at in range(2047, len(chunk), 2048):
        chunk[at] = 0x0A
    data = (bytes(chunk) * (size // len(chunk) + 1))[:size]
    return data


def string_cases(size: int) -> tuple[dict[str, tuple[str, str]], dict[str, Any]]:
    """operation -> (builtin statement, dxpy.simd statement) on one input of ``size`` bytes, and
    the names they use.  Statements, not lambdas: timeit compiles each into its loop, so
    both sides pay exactly what a user's line pays (a lambda would add a Python call to one)."""
    data = text(size)
    names = {"data": data, "rare": data[:-len(NEEDLE)] + NEEDLE if size > len(NEEDLE) else data,
             "other": data[:1] + data[1:],  # equal, but another object (bytes == itself is O(1))
             "parts": data.split(), "text": data.decode("ascii"), "NEEDLE": NEEDLE, "simd": simd,
             "find_loop": _find_all}
    cases = {
        "count": ("data.count(b'a')", "simd.count(data, b'a')"),
        "find": ("rare.find(NEEDLE)", "simd.find(rare, NEEDLE)"),
        "rfind": ("rare.rfind(NEEDLE, 0, len(rare) - 1)", "simd.rfind(rare, NEEDLE, 0, len(rare) - 1)"),
        "find_all": ("find_loop(rare, NEEDLE)", "simd.find_all(rare, NEEDLE)"),
        "count_lines": ("data.count(b'\\n') + (not data.endswith(b'\\n'))", "simd.count_lines(data)"),
        "lower": ("data.lower()", "simd.lower(data)"),
        "upper": ("data.upper()", "simd.upper(data)"),
        "lower_str": ("text.lower()", "simd.lower(text)"),
        "upper_str": ("text.upper()", "simd.upper(text)"),
        "equal": ("data == other", "simd.equal(data, other)"),
        "startswith": ("data.startswith(other)", "simd.startswith(data, other)"),
        "endswith": ("data.endswith(other)", "simd.endswith(data, other)"),
        "split": ("data.split(b'\\n')", "simd.split(data, b'\\n')"),
        "split_ws": ("data.split()", "simd.split(data)"),
        "splitlines": ("data.splitlines()", "simd.splitlines(data)"),
        "replace": ("data.replace(b'\\n', b'\\r\\n')", "simd.replace(data, b'\\n', b'\\r\\n')"),
        "join": ("b' '.join(parts)", "simd.join(b' ', parts)"),
        "strip": ("data.strip()", "simd.strip(data)"),
    }
    return cases, names


def _find_all(data: bytes, needle: bytes) -> list[int]:
    """What a user writes without find_all: repeated find."""
    found, at = [], data.find(needle)
    while at >= 0:
        found.append(at)
        at = data.find(needle, at + 1)
    return found


def list_cases(size: int) -> tuple[dict[str, tuple[str, str]], dict[str, Any]]:
    """operation -> (list idiom, SimdList method) statements on ``size`` int64 or float64
    elements, and the names they use."""
    rng = np.random.default_rng(7)
    ints = rng.integers(-10 ** 6, 10 ** 6, size=size).tolist()
    floats = rng.standard_normal(size).tolist()
    names = {"ints": ints, "floats": floats, "ours_i": SimdList(ints), "ours_f": SimdList(floats),
             "last": ints[-1]}
    cases = {
        "list_sum": ("sum(ints)", "ours_i.sum()"),
        "list_sum_float": ("sum(floats)", "ours_f.sum()"),
        "list_min": ("min(ints)", "ours_i.min()"),
        "list_max": ("max(floats)", "ours_f.max()"),
        "list_filter": ("[x for x in ints if x > 900_000]", "ours_i.filter('>', 900_000)"),
        "list_map": ("[x * 3 for x in ints]", "ours_i.map('*', 3)"),
        "list_index": ("ints.index(last)", "ours_i.index(last)"),
        "list_count": ("ints.count(last)", "ours_i.count(last)"),
    }
    return cases, names


def measure(cases_for: Callable[[int], tuple[dict, dict]], sizes: list[int], engines: list[str],
            budget: float, only: set[str] | None) -> dict[str, dict[int, dict[str, float]]]:
    """op -> size -> {"builtin": s, engine: s, "dispatch": s}, each CPU seconds per call."""
    table: dict[str, dict[int, dict[str, float]]] = {}
    for size in sizes:
        cases, names = cases_for(size)
        for op, (builtin, ours) in cases.items():
            if only and op not in only:
                continue
            previous = table.get(op, {})
            columns = {"builtin": (timeit.Timer(builtin, globals=names, timer=time.process_time), None, False)}
            for name in engines:  # skipped: lost by 5x at the size below, and a call would take > 1 s
                columns[name] = (timeit.Timer(ours, globals=names, timer=time.process_time), name,
                                 _hopeless(previous, name, size))
            columns["dispatch"] = (timeit.Timer(ours, globals=names, timer=time.process_time), None, False)
            table.setdefault(op, {})[size] = timed_row(columns, budget)
        print(f"  measured size {size}", file=sys.stderr, flush=True)
    return table


def _hopeless(rows: dict[int, dict[str, float]], engine: str, size: int) -> bool:
    """Skip an engine that was 5x slower than the builtin at the previous size when one call
    of it would now take over a second (it cannot cross over; the run stays short)."""
    if not rows:
        return False
    last_size = max(rows)
    last = rows[last_size]
    return last[engine] > 5 * last["builtin"] and last["builtin"] * size / last_size * 5 > 1.0


BUILTIN_ONLY = frozenset({"join", "strip"})
"""Operations dxpy.simd always hands to the builtin: their engine columns time the same
builtin call, so their spread is the run's noise, and they get no crossover."""


def plan(rows: dict[int, dict[str, float]], engines: list[str], margin: float) -> list[tuple[int, str | None]]:
    """From each measured size on: the fastest engine if it beats the builtin by ``margin``, else
    None (the builtin); consecutive equal choices merged."""
    steps: list[tuple[int, str | None]] = []
    for size in sorted(rows):
        best = max(engines, key=lambda name: rows[size]["builtin"] / rows[size][name])
        winner = best if rows[size]["builtin"] / rows[size][best] >= margin else None
        if not steps or steps[-1][1] != winner:
            steps.append((size, winner))
    return steps if any(name for _, name in steps) else []


def crossover(rows: dict[int, dict[str, float]], engine: str, margin: float) -> int | None:
    """Smallest size from which ``engine`` beats the builtin by ``margin`` at every larger size."""
    found = None
    for size in sorted(rows, reverse=True):
        if rows[size]["builtin"] / rows[size][engine] >= margin:
            found = size
        else:
            break
    return found


def show(title: str, table: dict, engines: list[str], margin: float, unit: str) -> dict[str, dict[str, Any]]:
    """Print the speed-up table; return engine -> op -> crossover."""
    columns = engines + ["dispatch"]
    print(f"\n{title}: speed-up over the builtin (builtin time / time; > 1 is faster)")
    print(f"{'operation':<16}{'size':>10}" + "".join(f"{c:>10}" for c in columns) + f"{'builtin':>12}")
    found: dict[str, dict[str, Any]] = {name: {} for name in engines}
    found["plan"] = {}
    for op, rows in table.items():
        for size, row in sorted(rows.items()):
            cells = "".join(f"{row['builtin'] / row[c]:>9.2f}x" for c in columns)
            print(f"{op:<16}{_size(size, unit):>10}{cells}{row['builtin'] * 1e6:>10.1f}us")
        if op in BUILTIN_ONLY:
            print(f"{'':<16}{'crossover':>10}  none: always the builtin (the columns show the noise)")
            continue
        marks = []
        for name in engines:
            found[name][op] = crossover(rows, name, margin)
            at = found[name][op]
            marks.append(f"{name}: {'never' if at is None else _size(at, unit)}")
        found["plan"][op] = plan(rows, engines, margin)
        steps = ", ".join(f"{_size(size, unit)}+ {name or 'builtin'}" for size, name in found["plan"][op])
        print(f"{'':<16}{'crossover':>10}  " + ", ".join(marks) + f"; dispatch plan: {steps or 'builtin'}")
    return found


def _size(n: int, unit: str) -> str:
    if unit == "B":
        for factor, suffix in ((1 << 20, "MiB"), (1 << 10, "KiB")):
            if n >= factor:
                return f"{n // factor}{suffix}"
        return f"{n}B"
    return f"1e{len(str(n)) - 1}" if str(n).strip("0") == "1" else str(n)


def dict_table(sizes: list[int], budget: float) -> None:
    """SwissDict vs dict, one key at a time and in batches."""
    print("\nSwissDict vs dict: dict time / SwissDict time (> 1: SwissDict faster)")
    print(f"{'operation':<34}{'keys':>8}{'ratio':>10}{'dict':>12}")
    for n in sizes:
        keys = list(range(0, 7 * n, 7))
        asked = np.array(keys, dtype=np.int64)
        plain, ours = dict.fromkeys(keys, 1), SwissDict.fromkeys(keys, 1)
        rows = {
            "insert n keys": (lambda: dict.fromkeys(keys, 1), lambda: SwissDict.fromkeys(keys, 1)),
            "lookup n keys (d[k] loop)": (lambda: [plain[k] for k in keys], lambda: [ours[k] for k in keys]),
            "delete n keys": (lambda: _drain(dict.fromkeys(keys, 1), keys), lambda: _drain(SwissDict.fromkeys(keys, 1), keys)),
            "get_many(int64 array) vs get loop": (lambda: [plain.get(k) for k in asked.tolist()], lambda: ours.get_many(asked)),
            "contains_many vs `in` loop": (lambda: [k in plain for k in asked.tolist()], lambda: ours.contains_many(asked)),
        }
        for name, (builtin, swiss) in rows.items():
            spent = timed(builtin, budget)
            print(f"{name:<34}{n:>8}{spent / timed(swiss, budget):>9.2f}x{spent * 1e6:>10.0f}us")


def jit_table(sizes: list[int], budget: float) -> None:
    """``sum``/``max`` of a float64 array inside ``@dxpy.jit`` (dxpy/jit/simd_calls.py) against the
    builtin on the array (CPython boxes each element) and NumPy's own method (pairwise sum: not
    the builtin's rounding, shown as what a NumPy user would call)."""
    import dxpy

    @dxpy.jit
    def jit_sum(a):
        return sum(a)

    @dxpy.jit
    def jit_max(a):
        return max(a)

    print("\n@dxpy.jit sum/max of a float64 array: builtin time / time (> 1: faster than the builtin)")
    print(f"{'operation':<16}{'size':>8}{'jit':>10}{'numpy':>10}{'builtin':>12}")
    for n in sizes:
        data = np.random.default_rng(3).standard_normal(n)
        for name, compiled, builtin, method in (("sum(a)", jit_sum, sum, data.sum), ("max(a)", jit_max, max, data.max)):
            spent = timed(lambda: builtin(data), budget)
            print(f"{name:<16}{_size(n, 'n'):>8}{spent / timed(lambda: compiled(data), budget):>9.1f}x"
                  f"{spent / timed(method, budget):>9.1f}x{spent * 1e6:>10.0f}us")


OVERHEAD_CALLS = [
    ("lower", "data.lower()", "bytes.lower", "simd.lower(data)"),
    ("lower (str)", "text.lower()", "str.lower", "simd.lower(text)"),
    ("find", "data.find(b'x')", "bytes.find", "simd.find(data, b'x')"),
    ("count", "data.count(b'a')", "bytes.count", "simd.count(data, b'a')"),
    ("split", "data.split()", "bytes.split", "simd.split(data)"),
    ("strip", "data.strip()", "bytes.strip", "simd.strip(data)"),
]
"""(what, the method call, the same method as a plain function, the dxpy.simd call)."""


def overhead_table(budget: float) -> None:
    """What a function-form call costs against the method call on a 16-byte input.

    Columns: the builtin's own method bound to a global name (``method = bytes.lower;
    method(data)``: the floor for any module-level function, no extra layer at all); a
    one-line Python wrapper; ``dxpy.simd``'s function as users call it (``simd.lower(data)``:
    the compiled front when built); and the pure-Python path (``dxpy.simd.strings``).
    """
    from dxpy.simd import front, strings

    data = text(16)
    names = {"data": data, "text": data.decode("ascii"), "simd": simd, "strings": strings}
    print(f"\nCall overhead on 16 B (ns per call, CPU time; ratio = method time / time; fronts: "
          f"{front.implementation()})")
    print(f"{'call':<12}{'method':>10}{'as function':>14}{'py wrapper':>13}{'dxpy.simd':>12}{'pure path':>12}")
    for what, method, function, ours in OVERHEAD_CALLS:
        target, name = method.split("(")[0].split(".")
        args = method[method.index("(") + 1:-1]
        params = "".join(f", a{i}" for i in range(len(args.split(", ")) if args else 0))
        exec(f"def wrapper({target}{params}):\n    return {target}.{name}({params[2:]})", names)
        names["method"] = eval(function)  # noqa: S307 - a fixed name from OVERHEAD_CALLS
        call_args = f"{target}{', ' + args if args else ''}"
        statements = {"method": method, "function": f"method({call_args})", "wrapper": f"wrapper({call_args})",
                      "ours": ours, "pure": ours.replace("simd.", "strings.")}
        row = timed_row({key: (timeit.Timer(stmt, globals=names, timer=time.process_time), None, False)
                         for key, stmt in statements.items()}, budget)
        cells = "".join(f"{row[key] * 1e9:>7.1f} {row['method'] / row[key]:.2f}x"
                        for key in ("function", "wrapper", "ours", "pure"))
        print(f"{what:<12}{row['method'] * 1e9:>8.1f}ns{cells}")


def _drain(mapping: Any, keys: list[int]) -> None:
    for k in keys:
        del mapping[k]


def write_crossovers(string_found: dict, list_found: dict, path: Path) -> None:
    """Update the measured operations in the dispatcher's table (others keep their values)."""
    from dxpy.simd.crossovers import CROSSOVERS, PLAN

    merged = {name: {**CROSSOVERS.get(name, {}), **string_found.get(name, {}), **list_found.get(name, {})}
              for name in ("native", "numpy")}
    plans = {**PLAN, **string_found["plan"], **list_found["plan"]}
    body = "".join(f"    {name!r}: {{\n" + "".join(f"        {op!r}: {size!r},\n" for op, size in sorted(ops.items()))
                   + "    },\n" for name, ops in merged.items())
    steps = "".join(f"    {op!r}: {plans[op]!r},\n" for op in sorted(plans))
    text_ = path.read_text()
    head = text_[:text_.index("CROSSOVERS:")]
    path.write_text(head + "CROSSOVERS: dict[str, dict[str, int | None]] = {\n" + body + "    \"scalar\": {},\n}\n\n"
                    + "PLAN: dict[str, list[tuple[int, str | None]]] = {\n" + steps + "}\n")
    print(f"\nwrote {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="sizes up to 1 MiB / 10**5, short timings")
    parser.add_argument("--only", help="comma-separated operations (e.g. count,find,list_sum; strings; lists; "
                                       "overhead; swissdict; jit)")
    parser.add_argument("--margin", type=float, default=1.1, help="speed-up an engine needs to count (1.1)")
    parser.add_argument("--write-crossovers", action="store_true", help="store the crossovers for the dispatcher")
    options = parser.parse_args()
    budget = 0.06 if options.quick else 0.3
    byte_sizes = BYTE_SIZES[:5] if options.quick else BYTE_SIZES
    list_sizes = LIST_SIZES[:5] if options.quick else LIST_SIZES
    engines = [name for name in ("numpy", "native") if name in simd.available()]
    only = set(options.only.split(",")) if options.only else None
    if only and "strings" in only:
        only |= set(string_cases(16)[0])
    if only and "lists" in only:
        only |= set(list_cases(10)[0])
    print(f"dxpy.simd benchmark: engine {simd.engine()}; python {sys.version.split()[0]}; "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs; "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    if not only or "overhead" in only:
        overhead_table(budget)
    string_found = show("Strings", measure(string_cases, byte_sizes, engines, budget, only),
                        engines, options.margin, "B")
    list_found = show("SimdList (vs the list idiom)", measure(list_cases, list_sizes, engines, budget, only),
                      engines, options.margin, "n")
    if not only or "swissdict" in only:
        dict_table(DICT_SIZES[:1] if options.quick else DICT_SIZES, budget)
    if not only or "jit" in only:
        jit_table(LIST_SIZES[2:5] if options.quick else LIST_SIZES[2:], budget)
    if options.write_crossovers:
        write_crossovers(string_found, list_found, Path(simd.__file__).with_name("crossovers.py"))


if __name__ == "__main__":
    main()
