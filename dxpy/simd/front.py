"""The string functions users call: C entry points when built, else strings.py's.

A Python wrapper around a builtin method costs its own call (~0.1-0.3 us)
before it reaches the method, which on a 16-byte input is most of the
builtin's time; below the measured crossovers that made every small call
slower than the builtin.  ``dxpy.simd._front`` (built at install from
``_front.c``, optional) removes it: each function is a builtin function that
checks the first argument's exact type and length and calls that type's
method directly, and hands everything else to the pure-Python function of
the same name in ``dxpy.simd.strings``, which keeps all the semantics.
Without the extension the pure-Python functions are used as they are.

The fronts' limits are the dispatcher's (``engines.LIMITS``): refreshed when
an engine is forced (limit 0: every call takes the Python path) or released.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable
from typing import Any

from dxpy.simd import engines, strings

try:
    from dxpy.simd import _front
except ImportError as exc:  # not built (no compiler at install): the pure-Python functions
    _front, WHY_PURE = None, f"{exc.__class__.__name__}: {exc}"
else:
    WHY_PURE = ""

SIGNATURES: dict[str, tuple[int, int, tuple[str, ...], str]] = {
    # name: (min positional, max positional, dispatcher ops whose limits apply, special)
    "find": (2, 4, ("find",), "METHOD"),
    "rfind": (2, 4, ("rfind",), "METHOD"),
    "count": (2, 4, ("count",), "METHOD"),
    "startswith": (2, 4, ("startswith",), "METHOD"),
    "endswith": (2, 4, ("endswith",), "METHOD"),
    "lower": (1, 1, ("lower", "lower_str"), "LOWER"),
    "upper": (1, 1, ("upper", "upper_str"), "UPPER"),
    "split": (1, 3, ("split", "split_ws"), "METHOD"),
    "splitlines": (1, 2, ("splitlines",), "METHOD"),
    "replace": (3, 4, ("replace",), "METHOD"),
    "join": (2, 2, (), "METHOD"),
    "strip": (1, 2, (), "METHOD"),
    "lstrip": (1, 2, (), "METHOD"),
    "rstrip": (1, 2, (), "METHOD"),
    "equal": (2, 2, ("equal",), "EQUAL"),
    "count_lines": (1, 1, ("count_lines",), "COUNT_LINES"),
    "find_all": (2, 2, ("find_all",), "FIND_ALL"),
}
"""Each front's positional-argument range (outside it: the Python function, which raises
Python's error) and the ops whose crossovers bound its fast path: with two (bytes op, str
op) the second bounds ``str`` inputs; ``split``'s two are by separator and by whitespace,
and the smaller bounds both.  No ops: always the builtin (join, strip)."""

_FRONTS: dict[str, Any] = {}


def _refresh() -> None:
    """Set every front's limits from the dispatcher's (0 while an engine is forced)."""
    forced = engines.is_forced()
    for name, front in _FRONTS.items():
        ops = SIGNATURES[name][2]
        if not ops:
            front.limit = front.str_limit = sys.maxsize
        elif name == "split":
            front.limit = front.str_limit = min(engines.limit_of(op) for op in ops)
        else:
            front.limit, front.str_limit = engines.limit_of(ops[0]), engines.limit_of(ops[-1])
        if forced and ops:
            front.limit = front.str_limit = 0


def _compiled(name: str, slow: Callable[..., Any]) -> Callable[..., Any]:
    low, high, _, special = SIGNATURES[name]
    doc = f"{name}{_plain_signature(slow)}\n--\n\n{inspect.getdoc(slow) or ''}"
    front = _front.Front(name, slow, low, high, getattr(_front, f"SPECIAL_{special}"), doc)
    _FRONTS[name] = front
    return front.function("dxpy.simd")


def _plain_signature(function: Callable[..., Any]) -> str:
    """``function``'s signature without annotations, after a ``$self`` that stands for the
    bound Front: the ``__text_signature__`` form, so ``inspect.signature`` of a front shows
    the Python function's arguments."""
    bare = [p.replace(annotation=p.empty) for p in inspect.signature(function).parameters.values()]
    return "($self, " + str(inspect.Signature(bare))[1:]


def implementation() -> str:
    """``"compiled"`` or ``"python (why)"``, for ``dxpy.simd.engine()``-style reports."""
    return "compiled" if _front is not None else f"python ({WHY_PURE})"


_PUBLIC = {name: getattr(strings, name) for name in SIGNATURES}
if _front is not None:
    _PUBLIC = {name: _compiled(name, slow) for name, slow in _PUBLIC.items()}
    engines.on_limits_change(_refresh)
    _refresh()
globals().update(_PUBLIC)
__all__ = sorted(_PUBLIC)
