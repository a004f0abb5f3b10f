"""dxpy.simd engine selection and CPU dispatch, and the engine parameters the other
``test_simd_*`` modules share (every engine, every native kernel variant).

Forcing runs one engine at every size (no builtin shortcut), so these tests
exercise the kernels themselves; the dispatcher's own rule (builtin below
the crossover) is tested here too.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

import dxpy.simd
from dxpy.simd import SimdError, engines
from dxpy.simd.crossovers import CROSSOVERS, PLAN

try:
    from dxpy.simd import engine_native
except ImportError as exc:  # the extension was not built (no compiler at install)
    engine_native, NATIVE_WHY = None, str(exc)
else:
    NATIVE_WHY = ""

LEVELS = ("portable", "sse2", "avx2")


def _level_ok(level: str) -> bool:
    return engine_native is not None and LEVELS.index(level) <= LEVELS.index(engine_native.best_level())


def _engine_param(engine_id: str) -> object:
    if not engine_id.startswith("native"):
        return pytest.param(engine_id, id=engine_id)
    level = engine_id.partition("-")[2]
    why = f"native engine not built: {NATIVE_WHY}" if engine_native is None else f"CPU lacks {level}"
    return pytest.param(engine_id, id=engine_id, marks=pytest.mark.skipif(not _level_ok(level), reason=why))


ENGINE_IDS = ["scalar", "numpy", *(f"native-{level}" for level in LEVELS)]
ENGINES = [_engine_param(engine_id) for engine_id in ENGINE_IDS]
"""Parametrise a test with ``@pytest.mark.parametrize("engine_id", ENGINES)``, run it in ``use(engine_id)``."""
FAST_ENGINES = [p for p in ENGINES if p.id != "scalar"]
"""For inputs too large for the plain-Python reference engine."""


@contextmanager
def use(engine_id: str) -> Iterator[None]:
    """Force engine ``engine_id`` (``native-<level>`` also forces the kernel variant)."""
    name, _, level = engine_id.partition("-")
    before = engine_native.level() if engine_native is not None else None
    with dxpy.simd.forced(name):
        if level:
            engine_native.set_level(level)
        try:
            yield
        finally:
            if before is not None:
                engine_native.set_level(before)


def _python(code: str, **env: str) -> subprocess.CompletedProcess:
    full = {**os.environ, **env}
    return subprocess.run([sys.executable, "-c", code], env=full, capture_output=True, text=True, timeout=60)


# ---- tests ------------------------------------------------------------------
@pytest.mark.parametrize("name", ["scalar", "numpy", "native"])
def test_environment_forces_an_engine(name: str) -> None:
    if name == "native" and engine_native is None:
        result = _python("import dxpy.simd; dxpy.simd.engine()", DXPY_SIMD=name)
        assert result.returncode != 0 and "not available" in result.stderr
        return
    result = _python("import dxpy.simd; print(dxpy.simd.engine())", DXPY_SIMD=name)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{name} (") and "forced by DXPY_SIMD" in result.stdout


def test_unknown_engine_is_a_precise_error() -> None:
    result = _python("import dxpy.simd; dxpy.simd.find(b'a', b'a')", DXPY_SIMD="avx9000")
    assert result.returncode != 0
    assert "unknown SIMD engine 'avx9000'" in result.stderr
    with pytest.raises(SimdError, match="expected one of scalar, numpy, native"):
        dxpy.simd.set_engine("fast")


def test_missing_extension_falls_back_to_numpy() -> None:
    code = ("import sys; sys.modules['dxpy.simd._native'] = None\n"
            "import dxpy.simd; print(dxpy.simd.engine()); print(dxpy.simd.available())\n"
            "print(dxpy.simd.count(b'ab' * 100000, b'b'))")
    result = _python(code, DXPY_SIMD="")
    assert result.returncode == 0, result.stderr
    first, names, total = result.stdout.splitlines()
    assert first.startswith("numpy (") and "native unavailable" in first
    assert names == "['scalar', 'numpy']" and total == "100000"


def test_without_the_front_extensions_the_python_functions_run() -> None:
    code = ("import sys; sys.modules['dxpy.simd._front'] = None; sys.modules['dxpy.simd._listfront'] = None\n"
            "import dxpy.simd, dxpy.simd.strings as pure\n"
            "from dxpy.simd import front, list_front, SimdList\n"
            "print(dxpy.simd.find is pure.find, dxpy.simd.lower(b'AB'), SimdList([1, 2]).sum())\n"
            "print(front.implementation()); print(list_front.implementation())")
    result = _python(code, DXPY_SIMD="")
    assert result.returncode == 0, result.stderr
    same, built_strings, built_lists = result.stdout.splitlines()
    assert same == "True b'ab' 3"
    assert built_strings.startswith("python (") and built_lists.startswith("python (")


def test_forcing_native_without_the_extension_says_why() -> None:
    code = ("import sys; sys.modules['dxpy.simd._native'] = None\n"
            "import dxpy.simd\n"
            "try:\n    dxpy.simd.set_engine('native')\n"
            "except dxpy.simd.SimdError as exc:\n    print(exc)\n")
    result = _python(code, DXPY_SIMD="")
    assert "SIMD engine 'native' is not available" in result.stdout and "C compiler" in result.stdout


def test_engine_names_the_choice() -> None:
    with dxpy.simd.forced(None):
        best = dxpy.simd.available()[-1]
        assert dxpy.simd.engine().startswith(best)
    with dxpy.simd.forced("scalar"):
        assert dxpy.simd.engine() == "scalar (forced)"


def test_dispatcher_follows_the_measured_plan() -> None:
    with dxpy.simd.forced(None):
        assert engines.choose("find", 1) is None
        assert engines.choose("no-such-operation", 1 << 40) is None
        if engine_native is None:
            return  # the plan names native; without it the per-engine crossovers apply
        for op, steps in PLAN.items():
            if not any(name for _, name in steps):  # never won: always the builtin
                assert engines.choose(op, 1 << 40) is None, op
                continue
            for start, name in steps:
                chosen = engines.choose(op, start)
                assert (chosen.name if chosen else None) == name, (op, start)
            first = min(start for start, name in steps if name is not None)
            assert engines.choose(op, first - 1) is None, op


def test_crossover_tables_are_well_formed() -> None:
    assert set(CROSSOVERS) <= set(engines.ENGINE_NAMES)
    for table in CROSSOVERS.values():
        for op, size in table.items():
            assert isinstance(op, str) and (size is None or (isinstance(size, int) and size > 0))
    for op, steps in PLAN.items():
        sizes = [start for start, _ in steps]
        assert sizes == sorted(sizes) and all(name in (None, "numpy", "native") for _, name in steps), op


@pytest.mark.skipif(engine_native is None, reason=f"native engine not built: {NATIVE_WHY}")
def test_native_levels_are_capped_by_the_cpu() -> None:
    best = engine_native.best_level()
    before = engine_native.level()
    try:
        assert engine_native.set_level("portable") == "portable"
        assert engine_native.set_level("avx2") == best
        with pytest.raises(ValueError, match="unknown SIMD level 'avx512'"):
            engine_native.set_level("avx512")
    finally:
        engine_native.set_level(before)


@pytest.mark.parametrize("engine_id", ENGINES)
def test_use_forces_every_variant(engine_id: str) -> None:
    with use(engine_id):
        assert engines.kernel_engine().name == engine_id.partition("-")[0]
        if engine_id.startswith("native-"):
            assert engine_native.level() == engine_id.partition("-")[2]
        assert dxpy.simd.count(b"abcabc" * 50, b"bc") == 100


@pytest.mark.parametrize("setting,expected", [("scalar", "SIMD engine: scalar (forced by DXPY_SIMD)"),
                                              ("bogus", "SIMD engine: none (unknown SIMD engine 'bogus'")])
def test_dxpy_info_names_the_engine(setting: str, expected: str) -> None:
    result = subprocess.run([sys.executable, "-m", "dxpy", "info"], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "DXPY_SIMD": setting})
    assert result.returncode == 0, result.stderr
    assert expected in result.stdout
