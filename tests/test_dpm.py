"""DPM: the format (round trip, perfect hash, damage), ``dxpy build``, and loading."""

from __future__ import annotations

import marshal
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dxpy.cache import dpm

ROOT = Path(__file__).resolve().parent.parent

_names = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30)
_imports = st.builds(dpm.Import, _names, st.one_of(st.just(""), _names), st.integers(0, 5),
                     st.integers(0, 7))
_annotations = st.builds(dpm.Annotation, _names,
                         st.lists(st.tuples(_names, st.text(max_size=20)), max_size=5)
                         .map(tuple), st.text(max_size=20))


@st.composite
def modules(draw: st.DrawFn) -> dpm.DpmModule:
    annotations = draw(st.lists(_annotations, max_size=5))
    names = draw(st.lists(_names, unique=True, max_size=80))
    exports = [dpm.Export(name, draw(st.integers(1, 4)), draw(st.integers(0, 1)),
                          draw(st.sampled_from([dpm.NO_ANNOTATION, *range(len(annotations))])))
               for name in names]
    return dpm.DpmModule(
        name=draw(_names), source_path=draw(st.text(max_size=60)),
        source_size=draw(st.integers(0, 2**63)), source_mtime_ns=draw(st.integers(0, 2**63)),
        source_hash=draw(st.binary(min_size=32, max_size=32)), engine=draw(_names),
        code=draw(st.binary(max_size=2000)), package=draw(st.booleans()),
        imports=draw(st.lists(_imports, max_size=20)), exports=exports,
        annotations=annotations)


@settings(max_examples=150, deadline=None)
@given(modules())
def test_round_trip(module: dpm.DpmModule) -> None:
    data = dpm.to_bytes(module)
    assert data[:4] == b"DPM\x01" and len(data) % 8 == 0
    assert dpm.read_bytes(data, "x.dpm").to_module() == module
    assert dpm.to_bytes(dpm.read_bytes(data, "x.dpm").to_module()) == data


@settings(max_examples=100, deadline=None)
@given(st.lists(_names, unique=True, max_size=400), st.lists(_names, max_size=30))
def test_perfect_hash_finds_every_member_and_no_stranger(members: list[str],
                                                         strangers: list[str]) -> None:
    seeds, table = dpm.build_hash(members)
    assert len(table) >= len(members) and len(table) & (len(table) - 1) == 0
    for index, name in enumerate(members):
        assert table[dpm.hash_slot(seeds, len(table), name)] == index + 1
    module = dpm.DpmModule("m", "", 0, 0, bytes(32), "e", b"",
                           exports=[dpm.Export(n, dpm.KIND_VARIABLE) for n in members])
    loaded = dpm.read_bytes(dpm.to_bytes(module), "m.dpm")
    for name in strangers:
        assert (loaded.lookup(name) is not None) == (name in members)


def _sample() -> bytes:
    return dpm.to_bytes(dpm.DpmModule(
        "pkg.mod", "/src/pkg/mod.py", 10, 20, bytes(range(32)), "cpython-311",
        marshal.dumps(compile("x = 1", "mod.py", "exec")),
        imports=[dpm.Import("os"), dpm.Import("sub", "f", 1, dpm.IMPORT_FROM |
                                                          dpm.IMPORT_RELATIVE)],
        exports=[dpm.Export("x", dpm.KIND_VARIABLE), dpm.Export("f", dpm.KIND_FUNCTION, 0, 0)],
        annotations=[dpm.Annotation("f", (("a", "int"),), "float")]))


def test_every_damaged_byte_is_detected() -> None:
    data = _sample()
    for position in range(len(data)):
        damaged = bytearray(data)
        damaged[position] ^= 0x41
        with pytest.raises(dpm.DpmError):
            dpm.read_bytes(bytes(damaged), "bad.dpm")


def test_every_truncation_is_detected() -> None:
    data = _sample()
    for length in range(len(data)):
        with pytest.raises(dpm.DpmError, match="bad.dpm"):
            dpm.read_bytes(data[:length], "bad.dpm")


@pytest.mark.parametrize("data, reason", [
    (b"\x7fELF" + bytes(100), "not a DPM file"),
    (b"DPM\x01\x09\x00" + bytes(58), "version 9"),
])
def test_foreign_and_future_files_are_named_errors(data: bytes, reason: str) -> None:
    with pytest.raises(dpm.DpmError, match=reason) as info:
        dpm.read_bytes(data, "thing.dpm")
    assert isinstance(info.value, ImportError) and info.value.path == "thing.dpm"


# -- dxpy build and loading ---------------------------------------------------------------
PACKAGE = {
    "app/__init__.py": "from .core import answer\n__all__ = ['answer']\n",
    "app/core.py": """
        import math
        from . import helpers
        def answer(n: int) -> float:
            return helpers.scale(n) + math.sqrt(4)
        class Box:
            def get(self, key: str) -> int:
                return len(key)
    """,
    "app/helpers.py": "def scale(n):\n    return n * 2\n",
    "main.py": "import app, app.core\nprint(app.answer(20), app.core.__file__.rsplit('.', 1)[1])\n",
}


def write_tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def dxpy(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DXPY_CACHE_DIR": str(cwd / ".cache")}
    return subprocess.run([sys.executable, "-m", "dxpy", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60)


def test_build_writes_dpm_files_that_run_loads(tmp_path: Path) -> None:
    write_tree(tmp_path, PACKAGE)
    built = dxpy("build", "app", cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    assert sorted(Path(p).name for p in built.stdout.split()) == [
        "__init__.dpm", "core.dpm", "helpers.dpm"]
    core = dpm.read(str(tmp_path / "app" / "core.dpm"))
    assert core.lookup("answer").kind == dpm.KIND_FUNCTION
    assert core.lookup("Box").kind == dpm.KIND_CLASS and core.lookup("helpers") is not None
    assert {(a.qualname, a.params, a.returns) for a in core.annotations()} == {
        ("answer", (("n", "int"),), "float"), ("Box.get", (("self", ""), ("key", "str")), "int")}
    assert dpm.Import("", "helpers", 1, dpm.IMPORT_FROM | dpm.IMPORT_RELATIVE) in core.imports()
    ran = dxpy("run", "main.py", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.split() == ["42.0", "dpm"]


def test_sourceless_tree_runs_from_dpm_alone(tmp_path: Path) -> None:
    write_tree(tmp_path / "src", PACKAGE)
    assert dxpy("build", "app", "-o", str(tmp_path / "dist"), cwd=tmp_path / "src").returncode == 0
    (tmp_path / "dist" / "main.py").write_text(PACKAGE["main.py"])
    assert not list((tmp_path / "dist").rglob("app/*.py"))
    ran = dxpy("run", "main.py", cwd=tmp_path / "dist")
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.split() == ["42.0", "dpm"]


def test_stale_dpm_is_rebuilt_with_one_warning(tmp_path: Path) -> None:
    write_tree(tmp_path, PACKAGE)
    assert dxpy("build", "app", cwd=tmp_path).returncode == 0
    (tmp_path / "app" / "helpers.py").write_text("def scale(n):\n    return n * 3\n")
    ran = dxpy("run", "main.py", cwd=tmp_path)
    assert ran.returncode == 0 and ran.stdout.split() == ["62.0", "dpm"]
    assert ran.stderr.count("CacheWarning") == 1 and "stale" in ran.stderr
    again = dxpy("run", "main.py", cwd=tmp_path)  # rebuilt: no second warning
    assert again.stdout.split() == ["62.0", "dpm"] and again.stderr == ""


def test_damaged_dpm_with_source_is_rebuilt(tmp_path: Path) -> None:
    write_tree(tmp_path, PACKAGE)
    assert dxpy("build", "app", cwd=tmp_path).returncode == 0
    path = tmp_path / "app" / "helpers.dpm"
    path.write_bytes(path.read_bytes()[:-9])
    ran = dxpy("run", "main.py", cwd=tmp_path)
    assert ran.returncode == 0 and ran.stdout.split() == ["42.0", "dpm"]
    assert "truncated" in ran.stderr and ran.stderr.count("CacheWarning") == 1
    dpm.read(str(path))  # rewritten whole


def test_damaged_sourceless_dpm_is_an_import_error_naming_it(tmp_path: Path) -> None:
    write_tree(tmp_path / "src", PACKAGE)
    assert dxpy("build", "app", "-o", str(tmp_path / "dist"), cwd=tmp_path / "src").returncode == 0
    (tmp_path / "dist" / "main.py").write_text(PACKAGE["main.py"])
    broken = tmp_path / "dist" / "app" / "core.dpm"
    raw = bytearray(broken.read_bytes())
    raw[100] ^= 1
    broken.write_bytes(bytes(raw))
    ran = dxpy("run", "main.py", cwd=tmp_path / "dist")
    assert ran.returncode == 1
    assert f"DpmError: {broken}: content hash mismatch" in ran.stderr


def test_build_reports_unresolved_imports(tmp_path: Path) -> None:
    write_tree(tmp_path, {**PACKAGE, "app/user.py": "from .core import answer, nothing\n"
                                                    "from app.helpers import scale\n"
                                                    "from . import helpers\n"})
    built = dxpy("build", "app", cwd=tmp_path)
    assert built.returncode == 0
    assert built.stderr.strip().splitlines() == [
        f"dxpy: build: warning: {tmp_path / 'app' / 'user.py'}:1: app.core has no top-level "
        f"name 'nothing'"]


def test_build_errors_name_the_file(tmp_path: Path) -> None:
    write_tree(tmp_path, {"bad/__init__.py": "", "bad/broken.py": "def f(:\n"})
    built = dxpy("build", "bad", cwd=tmp_path)
    assert built.returncode == 1 and "broken.py" in built.stderr
    missing = dxpy("build", "nowhere", cwd=tmp_path)
    assert missing.returncode == 2 and "nowhere" in missing.stderr
