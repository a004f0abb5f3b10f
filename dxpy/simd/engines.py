"""Which engine runs a call: selection at import, per-call dispatch by size.

``DXPY_SIMD=scalar|numpy|native`` (or ``set_engine``/``forced``) forces
one engine for every call and every size: that is how the tests run each
engine against the builtins.  Otherwise the best engine that loads is
picked (native, then NumPy, then scalar) and each call goes to the option
that was fastest at the benchmarked size just below its input -- the plain
builtin, NumPy or native, per operation (``PLAN`` in
``dxpy/simd/crossovers.py``, written by ``benchmarks/simd_bench.py
--write-crossovers``).  Below an operation's first crossover, or where no
engine ever won, the builtin runs, so the kernels never make a call slower
than the builtin it replaces.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from dxpy.simd.crossovers import CROSSOVERS, PLAN
from dxpy.simd.kernels import Engine

ENGINE_NAMES = ("scalar", "numpy", "native")
"""Every engine, worst first."""


class SimdError(RuntimeError):
    """An engine cannot be used (unknown name, extension not built)."""


def _load(name: str) -> Engine:
    if name == "native":
        from dxpy.simd.engine_native import NativeEngine

        return NativeEngine()
    if name == "numpy":
        from dxpy.simd.engine_numpy import NumpyEngine

        return NumpyEngine()
    from dxpy.simd.engine_scalar import ScalarEngine

    return ScalarEngine()


def _probe() -> tuple[dict[str, Engine], dict[str, str]]:
    """Load every engine that can load; the reason for each that cannot."""
    engines: dict[str, Engine] = {}
    missing: dict[str, str] = {}
    for name in ENGINE_NAMES:
        try:
            engines[name] = _load(name)
        except ImportError as exc:
            missing[name] = f"{exc.__class__.__name__}: {exc}"
    return engines, missing


_ENGINES, _MISSING = _probe()
_BEST: Engine = _ENGINES[max(_ENGINES, key=ENGINE_NAMES.index)]
_forced: Engine | None = None


def _plans() -> dict[str, list[tuple[int, Engine | None]]]:
    """op -> ``[(from_size, engine or None for the builtin), ...]`` ascending.

    The measured plan (fastest option at each benchmarked size) where every
    engine it names loaded here; otherwise the best loaded engine from its
    own crossover on.
    """
    plans: dict[str, list[tuple[int, Engine | None]]] = {}
    for op in set(PLAN) | set(CROSSOVERS.get(_BEST.name, {})):
        steps = PLAN.get(op)
        if steps is not None and all(name is None or name in _ENGINES for _, name in steps):
            plans[op] = [(size, None if name is None else _ENGINES[name]) for size, name in steps]
        elif CROSSOVERS.get(_BEST.name, {}).get(op) is not None:
            plans[op] = [(CROSSOVERS[_BEST.name][op], _BEST)]
    return plans


_PLANS = _plans()
_THRESHOLDS: dict[str, float] = {
    op: min((size for size, engine in steps if engine is not None), default=math.inf)
    for op, steps in _PLANS.items()}


class _Limits(dict):
    """op -> input size below which the builtin runs: the crossovers, or 0 for every op while an
    engine is forced.  One dict read, so the string functions check it before anything else."""

    forced = False

    def __missing__(self, op: str) -> float:
        return 0 if self.forced else math.inf

    def follow(self, forced: bool) -> None:
        self.clear()
        self.forced = forced
        if not forced:
            self.update(_THRESHOLDS)
        for listener in _LIMIT_LISTENERS:
            listener()


LIMITS = _Limits(_THRESHOLDS)
_LIMIT_LISTENERS: list[Callable[[], None]] = []


def on_limits_change(listener: Callable[[], None]) -> None:
    """Call ``listener`` whenever ``LIMITS`` changes (an engine forced or released): the
    compiled string fronts keep a copy of their limits (``dxpy.simd.front``)."""
    _LIMIT_LISTENERS.append(listener)


def limit_of(op: str) -> int:
    """``LIMITS[op]`` as a C ``Py_ssize_t`` (no limit: ``sys.maxsize``), for the compiled fronts."""
    value = LIMITS[op]
    return sys.maxsize if value >= sys.maxsize else int(value)


def get(name: str) -> Engine:
    """Engine ``name``; ``SimdError`` if it is unknown or did not load (and why)."""
    if name not in ENGINE_NAMES:
        raise SimdError(f"unknown SIMD engine {name!r}: expected one of {', '.join(ENGINE_NAMES)}")
    if name not in _ENGINES:
        raise SimdError(f"SIMD engine {name!r} is not available ({_MISSING[name]}); "
                        "the native engine needs a C compiler when dxpy is installed")
    return _ENGINES[name]


def available() -> list[str]:
    """Names of the engines that loaded, worst first."""
    return [name for name in ENGINE_NAMES if name in _ENGINES]


def set_engine(name: str | None) -> None:
    """Force engine ``name`` for every call (``None``: back to per-size dispatch)."""
    global _forced
    _forced = None if name is None else get(name)
    LIMITS.follow(_forced is not None)


@contextmanager
def forced(name: str | None) -> Iterator[Engine | None]:
    """``set_engine(name)`` for the ``with`` block, then whatever was in force before."""
    global _forced
    before = _forced
    set_engine(name)
    try:
        yield _forced
    finally:
        _forced = before
        LIMITS.follow(before is not None)


def choose(op: str, size: int) -> Engine | None:
    """The engine to run ``op`` on an input of ``size`` bytes or elements; ``None``: the builtin."""
    if _forced is not None:
        return _forced
    if size < LIMITS[op]:
        return None
    chosen = None
    for start, engine in _PLANS[op]:
        if size < start:
            break
        chosen = engine
    return chosen


def is_forced() -> bool:
    """Whether one engine is forced (then no call falls back to a builtin)."""
    return _forced is not None


def kernel_engine() -> Engine:
    """The engine for work that has no builtin to fall back on (forced, else the best)."""
    return _forced if _forced is not None else _BEST


def engine() -> str:
    """What is in force, for people: ``"native (avx2)"``, ``"numpy (forced by DXPY_SIMD)"``..."""
    current = kernel_engine()
    detail = []
    if current.name == "native":
        from dxpy.simd.engine_native import level

        detail.append(level())
    if _forced is not None:
        detail.append("forced by DXPY_SIMD" if os.environ.get("DXPY_SIMD") == current.name else "forced")
    else:
        detail.append("builtins below the measured crossovers")
        detail.extend(f"{name} unavailable: {why}" for name, why in _MISSING.items())
    return f"{current.name} ({'; '.join(detail)})"


def _from_environment() -> None:
    wanted = os.environ.get("DXPY_SIMD", "").strip()
    if wanted and wanted != "auto":
        set_engine(wanted)


_from_environment()
