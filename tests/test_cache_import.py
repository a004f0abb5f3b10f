"""The import hook: the program's modules from the bytecode cache, with importlib semantics."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import textwrap
import time
from importlib.machinery import EXTENSION_SUFFIXES, FileFinder
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dxpy.cache import config, finder
from dxpy.cache import store as store_module
from dxpy.cache.bytecode import BytecodeCache
from dxpy.cache.store import RACY_NS, CodeStore

ROOT = Path(__file__).resolve().parent.parent

PROGRAM = {
    "main.py": """
        import json, sys
        import top, pkg.sub, pkg.deep.leaf, nspace.part
        from pkg import sub as again
        rows = {}
        for name in ("top", "pkg", "pkg.sub", "pkg.deep", "pkg.deep.leaf", "nspace", "nspace.part"):
            m = sys.modules[name]
            spec = m.__spec__
            rows[name] = [getattr(m, "__file__", None), getattr(m, "__cached__", None),
                          spec.name, spec.origin, spec.parent,
                          list(spec.submodule_search_locations or []), m.__package__,
                          getattr(m, "VALUE", None)]
        rows["relative"] = pkg.deep.leaf.FROM_PARENT
        rows["source"] = top.__loader__.get_source("top").splitlines()[0]
        print(json.dumps(rows, sort_keys=True))
    """,
    "top.py": "VALUE = 'top'\n",
    "pkg/__init__.py": "VALUE = 'pkg'\n",
    "pkg/sub.py": "VALUE = 'sub'\n",
    "pkg/deep/__init__.py": "",
    "pkg/deep/leaf.py": "from ..sub import VALUE as FROM_PARENT\nVALUE = 'leaf'\n",
    "nspace/part.py": "VALUE = 'namespace portion'\n",
}


def write_tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def run(args: list[str], cwd: Path, cache: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DXPY_CACHE_DIR": str(cache)}
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


def dxpy_and_python(tmp_path: Path, files: dict[str, str], runs: int = 2
                    ) -> tuple[list[subprocess.CompletedProcess], subprocess.CompletedProcess]:
    """``dxpy run main.py`` ``runs`` times (cold, then warm), and ``python main.py``."""
    program = tmp_path / "program"
    write_tree(program, files)
    ours = [run([sys.executable, "-m", "dxpy", "run", "main.py"], program, tmp_path / "c")
            for _ in range(runs)]
    theirs = run([sys.executable, "main.py"], program, tmp_path / "c")
    return ours, theirs


def test_module_attributes_match_python_cold_and_warm(tmp_path: Path) -> None:
    ours, theirs = dxpy_and_python(tmp_path, PROGRAM)
    assert theirs.returncode == 0, theirs.stderr
    for out in ours:
        assert out.returncode == 0, out.stderr
        assert out.stdout == theirs.stdout
        assert out.stderr == ""


def test_warm_run_serves_from_the_store(tmp_path: Path) -> None:
    files = {**PROGRAM, "main.py": "import top, pkg.sub\n"
                                   "print(type(top.__loader__).__name__, "
                                   "type(pkg.sub.__loader__).__name__)\n"}
    program = tmp_path / "program"
    write_tree(program, files)
    time.sleep(RACY_NS / 1e9 + 0.1)  # a stamp younger than that is never trusted
    outs = [run([sys.executable, "-m", "dxpy", "run", "main.py"], program, tmp_path / "c")
            for _ in range(2)]
    assert outs[0].stdout.split() == ["CachingSourceLoader", "CachingSourceLoader"]
    assert outs[1].stdout.split() == ["CachedSourceLoader", "CachedSourceLoader"]


SHADOWS = {
    **PROGRAM,
    "main.py": PROGRAM["main.py"].replace(
        "import top, pkg.sub,",
        "import both, half, top, pkg.sub,").replace(
        '("top", "pkg",', '("both", "half", "top", "pkg",'),
    "both.py": "VALUE = 'the module file, shadowed by the package'\n",
    "both/__init__.py": "VALUE = 'the package'\n",
    "half.py": "VALUE = 'the module file, beside a namespace directory'\n",
    "half/portion.py": "VALUE = 'never imported'\n",
}


def test_served_modules_are_found_as_python_finds_them(tmp_path: Path) -> None:
    """Past the racy window a warm run serves every plain module from the store
    (``CachedFileFinder``'s one-pass lookup); the modules, their attributes and
    which file wins where a package or a namespace directory shares a module's name
    are python's."""
    program = tmp_path / "program"
    write_tree(program, SHADOWS)
    time.sleep(RACY_NS / 1e9 + 0.1)  # a stamp younger than that is never trusted
    report = ("print(sorted(n for n, m in sys.modules.items() "
              "if type(getattr(m, '__loader__', None)).__name__ == 'CachedSourceLoader'))")
    (program / "main.py").write_text((program / "main.py").read_text() + report + "\n")
    ours = [run([sys.executable, "-m", "dxpy", "run", "main.py"], program, tmp_path / "c")
            for _ in range(2)]
    theirs = run([sys.executable, "main.py"], program, tmp_path / "c")
    assert theirs.returncode == 0, theirs.stderr
    rows = theirs.stdout.splitlines()[0]
    for out in ours:
        assert out.returncode == 0 and out.stderr == "", out.stderr
        assert out.stdout.splitlines()[0] == rows
    assert ours[1].stdout.splitlines()[1] == str(  # packages too (by FileFinder's path)
        ["both", "half", "nspace.part", "pkg", "pkg.deep", "pkg.deep.leaf", "pkg.sub", "top"])


LAYOUTS = {  # directory contents around a module "m" -> whether the one-pass lookup takes it
    "plain source": ({"m.py": "X = 1\n"}, True),
    "dpm before source": ({"m.py": "X = 1\n", "m.dpm": "not read here"}, True),
    "package shadows the file": ({"m.py": "", "m/__init__.py": ""}, False),
    "namespace directory beside the file": ({"m.py": "", "m/part.py": ""}, False),
    "extension module shadows the file": ({"m.py": "", f"m{EXTENSION_SUFFIXES[0]}": ""}, False),
    "sourceless": ({"m.pyc": ""}, False),
    "a directory named like a source file": ({"m.py/inner.txt": ""}, False),
    "nothing": ({"other.py": ""}, False),
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_one_pass_lookup_makes_the_spec_filefinder_makes(tmp_path: Path, layout: str) -> None:
    """``CachedFileFinder._source_spec`` against CPython's ``FileFinder.find_spec`` (with
    the same loaders) on one directory: where it answers, the spec is the same (name,
    origin, loader class, ``cached``, package-ness); where another file kind or a
    package decides, it leaves the answer to ``FileFinder``."""
    files, taken = LAYOUTS[layout]
    write_tree(tmp_path / "src", files)
    cache = BytecodeCache(CodeStore(str(tmp_path / "store")))
    hook = finder.PathHook(finder.ServedDirectories([str(tmp_path / "src")], False), lambda: cache)
    ours = hook(str(tmp_path / "src"))._source_spec("m")
    theirs = FileFinder.find_spec(hook(str(tmp_path / "src")), "m")
    assert (ours is not None) == taken
    if taken:
        assert theirs is not None
        for attribute in ("name", "origin", "cached", "submodule_search_locations",
                          "has_location", "parent"):
            assert getattr(ours, attribute) == getattr(theirs, attribute), attribute
        assert type(ours.loader) is type(theirs.loader)  # a miss: the caching loader


@pytest.mark.parametrize("broken", ["def f(:\n", "x = 1\nraise ValueError('at import')\n",
                                    "import nonexistent_module_xyz\n", "x = '\0'\n"])
def test_errors_in_modules_match_python(tmp_path: Path, broken: str) -> None:
    """SyntaxError, an exception at import time, a failed import: the same
    traceback as python prints, on the cold run and on the warm one."""
    files = {"main.py": "import helper\n", "helper.py": broken}
    ours, theirs = dxpy_and_python(tmp_path, files)
    assert theirs.returncode == 1
    for out in ours:
        assert (out.returncode, out.stderr) == (theirs.returncode, theirs.stderr)


def test_disabled_cache_installs_nothing(tmp_path: Path) -> None:
    program = tmp_path / "program"
    write_tree(program, {"main.py": "import top\nprint(type(top.__loader__).__name__)\n",
                         "top.py": ""})
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DXPY_CACHE": "0"}
    out = subprocess.run([sys.executable, "-m", "dxpy", "run", "main.py"], cwd=program,
                         env=env, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "SourceFileLoader"


def test_unwritable_cache_directory_still_runs_the_program(tmp_path: Path) -> None:
    program = tmp_path / "program"
    write_tree(program, {"main.py": "import top\nprint(top.VALUE)\n", "top.py": "VALUE = 7\n"})
    (tmp_path / "blocker").write_text("not a directory")
    out = run([sys.executable, "-m", "dxpy", "run", "main.py"], program,
              tmp_path / "blocker" / "cache")
    assert out.returncode == 0 and out.stdout.strip() == "7"
    assert out.stderr.count("CacheWarning") == 1 and "caching is off" in out.stderr


# -- in-process: the hook against a model of the file system ---------------------------
@pytest.fixture
def hooked(tmp_path: Path):
    """The hook installed for ``tmp_path/src`` with a store in ``tmp_path/store``."""
    src = tmp_path / "src"
    src.mkdir()
    state = {"cache": BytecodeCache(CodeStore(str(tmp_path / "store")))}
    finder.install([str(src)], lambda: state["cache"])
    sys.path.insert(0, str(src))
    config._warned.clear()
    try:
        yield src, state
    finally:
        sys.path.remove(str(src))
        finder.uninstall()
        for name in [n for n in sys.modules if n.startswith("cmod")]:
            del sys.modules[name]


def _import_fresh(name: str) -> object:
    sys.modules.pop(name, None)
    importlib.invalidate_caches()
    return importlib.import_module(name)


def test_reload_sees_an_edit(hooked) -> None:
    src, _ = hooked
    (src / "cmod_reload.py").write_text("VALUE = 1\n")
    module = importlib.import_module("cmod_reload")
    (src / "cmod_reload.py").write_text("VALUE = 2\n")
    assert importlib.reload(module).VALUE == 2


_OPS = st.lists(st.tuples(st.sampled_from(["edit", "touch", "delete", "rename", "revert",
                                            "new_process"]),
                          st.integers(0, 3)), min_size=1, max_size=12)


@pytest.mark.parametrize("quick_checks", [False, True])
@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=_OPS)
def test_loaded_code_always_matches_the_current_source(hooked, monkeypatch, quick_checks,
                                                        ops) -> None:
    """Random edit / touch / delete / rename / revert sequences on two modules (and
    reopening the store, as a new process would): every import runs the source as it
    is on disk, never a cached version of an older one.

    Files this young are "racy" (a second write in the same clock tick could share
    their stamp), so by default every check hashes.  With ``quick_checks`` the racy
    window is off and every write changes the file's size, so stamps alone decide
    and the quick path is what is tested."""
    if quick_checks:
        monkeypatch.setattr(store_module, "RACY_NS", 0)
    src, state = hooked
    names = ["cmod_a", "cmod_b"]
    model: dict[str, str | None] = {name: None for name in names}
    history: dict[str, list[str]] = {name: [] for name in names}
    writes = 0
    for path in src.glob("cmod_*.py"):
        path.unlink()
    for op, value in ops:
        name = names[value % 2]
        path = src / f"{name}.py"
        if op == "edit" or (op == "revert" and not history[name]):
            writes += 1
            model[name] = f"{value}-{writes}" + ("#" * writes if quick_checks else "")
            history[name].append(model[name])
            path.write_text(f"VALUE = {model[name]!r}\n")
        elif op == "revert":
            model[name] = history[name][0]
            path.write_text(f"VALUE = {model[name]!r}\n")
        elif op == "touch" and model[name] is not None:
            os.utime(path)
        elif op == "delete" and model[name] is not None:
            path.unlink()
            model[name] = None
        elif op == "rename" and model[name] is not None:
            other = names[(value + 1) % 2]
            path.replace(src / f"{other}.py")
            model[other], model[name] = model[name], None
            history[other].append(model[other])
        elif op == "new_process":
            state["cache"].store.flush()
            state["cache"] = BytecodeCache(CodeStore(state["cache"].store.directory))
        for checked in names:
            if model[checked] is None:
                with pytest.raises(ModuleNotFoundError):
                    _import_fresh(checked)
            else:
                assert _import_fresh(checked).VALUE == model[checked]
