"""``dxpy run --jit-stats``: what the JIT did, as a table on stderr at exit.

One row per function: VM functions that tiering touched (tier 0/1/2, loops
entered by OSR, why a function stopped where it did) and ``@dxpy.jit``
functions (tier "jit").  Columns: function, tier, compiled signatures,
calls, deopts, milliseconds spent compiling.
"""

from __future__ import annotations

from typing import Any, TextIO

from .dispatcher import all_stats
from .tiering import installed

_HEADER = ("function", "tier", "signatures", "calls", "deopts", "compile ms")


def rows() -> list[dict[str, Any]]:
    """Tiering rows (if a tiering ran) followed by ``@dxpy.jit`` rows."""
    out: list[dict[str, Any]] = []
    tiering = installed()
    if tiering is not None:
        out += tiering.stats()
    for stats in all_stats():
        sigs = stats["signatures"]
        out.append({
            "function": stats["function"], "tier": "jit",
            "signatures": [s["signature"] for s in sigs if s["compiled"] and not s["blacklisted"]],
            "calls": stats["calls"], "deopts": sum(s["deopts"] for s in sigs),
            "compile_ms": 1000 * sum(s["compile_seconds"] for s in sigs),
            "reason": "; ".join(f"{s['signature']}: {s['reason']}" for s in sigs if s["reason"]),
            "osr": [], "osr_declined": []})
    return out


def _notes(row: dict[str, Any]) -> str:
    notes = [f"OSR line {o['line']} ({o['kind']}) at tier {o['tier']}" for o in row["osr"]]
    notes += [f"OSR declined at {d}" for d in row["osr_declined"]]
    if row["reason"]:
        notes.append(row["reason"])
    return "; ".join(notes)


def format_table(table: list[dict[str, Any]]) -> str:
    """The rows as an aligned text table (notes below each row that has any)."""
    if not table:
        return "dxpy jit: no function was compiled or profiled for tiering\n"
    cells = [_HEADER] + [(
        r["function"], str(r["tier"]), ", ".join(r["signatures"]) or "-",
        "-" if r["calls"] is None else str(r["calls"]), str(r["deopts"]),
        f"{r['compile_ms']:.1f}") for r in table]
    widths = [max(len(row[i]) for row in cells) for i in range(len(_HEADER))]
    lines = []
    for n, row in enumerate(cells):
        lines.append("  ".join(c.ljust(w) if i in (0, 2) else c.rjust(w)
                               for i, (c, w) in enumerate(zip(row, widths))).rstrip())
        if n and _notes(table[n - 1]):
            lines.append("    " + _notes(table[n - 1]))
    return "dxpy jit stats:\n" + "\n".join(lines) + "\n"


def print_report(stream: TextIO) -> None:
    """Write the table to ``stream`` (``--jit-stats`` passes stderr).

    Compilations still running in the background are waited for first, so
    the table says what each function ended up as.
    """
    tiering = installed()
    if tiering is not None:
        tiering.drain()
    stream.write(format_table(rows()))
    stream.flush()
