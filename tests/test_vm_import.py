"""``dxpy run --vm`` imports the user's own modules through the VM: hook, cache, fallback, tracebacks."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import textwrap
import types
from pathlib import Path
from typing import Iterator

import pytest

from dxpy.vm import importer
from types import FunctionType as VMFunction

from dxpy.vm.functions import compiled_of, is_vm_function
from dxpy.vm.format import FORMAT_VERSION
from dxpy.vm.loader import load
from dxpy.vm.runner import script_runner

ROOT = Path(__file__).resolve().parent.parent

PROJECT = {
    "pkg/__init__.py": """
        from .core import double
        from . import sub
        import _probe
        _probe.runs.append(__name__)
    """,
    "pkg/core.py": """
        from . import helpers
        import _probe
        _probe.runs.append(__name__)
        def double(x):
            return helpers.twice(x)
    """,
    "pkg/helpers.py": """
        import _probe
        _probe.runs.append(__name__)
        def twice(x):
            return x * 2
    """,
    "pkg/sub/__init__.py": """
        from ..helpers import twice
        from .. import core
        quadruple = lambda x: twice(core.double(x))
    """,
    "value.py": "VALUE = 'first'\n",
}


def write_project(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A tmp project on sys.path[0] with the hook installed; its modules are forgotten afterwards."""
    write_project(tmp_path, PROJECT)
    probe = types.ModuleType("_probe")
    probe.runs = []  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "_probe", probe)
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    monkeypatch.syspath_prepend(str(tmp_path))
    importer.stats.reset()
    before = set(sys.modules)
    with importer.installed(str(tmp_path), fallback=False):
        yield tmp_path
    for name in set(sys.modules) - before:
        del sys.modules[name]


def forget(*names: str) -> None:
    for name in list(sys.modules):
        if name in names or name.split(".")[0] in names:
            del sys.modules[name]


def test_package_with_relative_imports_runs_in_the_vm(project: Path) -> None:
    pkg = importlib.import_module("pkg")
    assert pkg.double(21) == 42 and pkg.sub.quadruple(5) == 20
    assert is_vm_function(pkg.double) and is_vm_function(pkg.core.helpers.twice)
    assert isinstance(pkg.__spec__.loader, importer.DpbLoader) and pkg.__loader__ is pkg.__spec__.loader
    assert pkg.__file__ == pkg.__spec__.origin == str(project / "pkg" / "__init__.py")
    cached = project / "pkg" / "__pycache__" / f"__init__.dxpy-{FORMAT_VERSION}.dpb"
    assert pkg.__cached__ == str(cached)
    assert pkg.__path__ == [str(project / "pkg")] and pkg.__package__ == "pkg"
    assert pkg.sub.__package__ == "pkg.sub" and pkg.core.__spec__.parent == "pkg"
    assert pkg.core.__loader__.get_source("pkg.core").startswith("from . import helpers")


def test_relative_import_beyond_top_level_is_cpythons_error(project: Path) -> None:
    (project / "top.py").write_text("from .. import nothing\n")
    with pytest.raises(ImportError, match="attempted relative import with no known parent package"):
        importlib.import_module("top")


def test_a_module_imported_twice_executes_once(project: Path) -> None:
    import _probe
    pkg = importlib.import_module("pkg")
    assert importlib.import_module("pkg.helpers") is pkg.core.helpers is pkg.sub.core.helpers
    assert sorted(_probe.runs) == ["pkg", "pkg.core", "pkg.helpers"]
    assert importer.stats.compiled == 4  # pkg, core, helpers, sub: nothing twice


def test_second_import_maps_the_cache_instead_of_compiling(project: Path) -> None:
    importlib.import_module("pkg")
    caches = sorted((project / "pkg").rglob(f"*.dxpy-{FORMAT_VERSION}.dpb"))
    assert len(caches) == 4 and importer.stats.written == 4
    stamps = [(path.stat().st_ino, path.stat().st_mtime_ns) for path in caches]
    forget("pkg")
    importer.stats.reset()
    assert importlib.import_module("pkg").sub.quadruple(1) == 4
    assert (importer.stats.hits, importer.stats.compiled, importer.stats.written) == (4, 0, 0)
    assert [(path.stat().st_ino, path.stat().st_mtime_ns) for path in caches] == stamps


def test_cache_file_is_plain_dpb_ending_with_its_key(project: Path) -> None:
    importlib.import_module("value")
    source = (project / "value.py").read_bytes()
    with load(importer.cache_path(str(project / "value.py"))) as cached:
        key = cached.constant(cached.constant_count - 1)
    assert key == importer.cache_key(source) and key[0] == "dxpy-cache-key"


def test_edited_source_is_recompiled_even_with_the_same_size_and_mtime(project: Path) -> None:
    path = project / "value.py"
    assert importlib.import_module("value").VALUE == "first"
    stat = path.stat()
    path.write_text("VALUE = 'other'\n")  # same length
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    forget("value")
    importer.stats.reset()
    assert importlib.import_module("value").VALUE == "other"
    assert (importer.stats.rejected, importer.stats.compiled, importer.stats.hits) == (1, 1, 0)


def _truncate(data: bytes) -> bytes:
    return data[:len(data) // 2]


def _flip(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 0x10]) + data[middle + 1:]


@pytest.mark.parametrize("damage", [_truncate, _flip, lambda data: b"", lambda data: b"#!junk" * 20],
                         ids=["truncated", "flipped-byte", "empty", "not-dpb"])
def test_corrupt_cache_is_recompiled_silently(project: Path, damage, capfd: pytest.CaptureFixture) -> None:
    importlib.import_module("value")
    cache = Path(importer.cache_path(str(project / "value.py")))
    good = cache.read_bytes()
    cache.write_bytes(damage(good))
    forget("value")
    importer.stats.reset()
    assert importlib.import_module("value").VALUE == "first"
    assert (importer.stats.rejected, importer.stats.compiled, importer.stats.written) == (1, 1, 1)
    assert cache.read_bytes() == good
    assert capfd.readouterr().err == ""


def test_cache_written_for_another_source_is_not_used(project: Path) -> None:
    (project / "other.py").write_text("VALUE = 'not me'\n")
    importlib.import_module("other")
    os.replace(importer.cache_path(str(project / "other.py")), importer.cache_path(str(project / "value.py")))
    importer.stats.reset()
    assert importlib.import_module("value").VALUE == "first"
    assert importer.stats.rejected == 1


def test_a_changed_compiler_invalidates_the_cache(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    importlib.import_module("value")
    forget("value")
    importer.stats.reset()
    monkeypatch.setattr(importer, "toolchain_digest", lambda: b"\x01" * 32)
    assert importlib.import_module("value").VALUE == "first"
    assert (importer.stats.rejected, importer.stats.compiled) == (1, 1)


def test_unwritable_cache_directory_skips_caching(project: Path) -> None:
    (project / "__pycache__").write_text("a file where the cache directory would be")
    assert importlib.import_module("value").VALUE == "first"
    assert (importer.stats.compiled, importer.stats.written, importer.stats.rejected) == (1, 0, 0)
    assert not list(project.glob(".dxpy-*.tmp")) and not list(project.glob("__pycache__*/.dxpy-*"))


def test_dont_write_bytecode_is_honoured(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    importlib.import_module("value")
    assert importer.stats.written == 0 and not (project / "__pycache__").exists()


def test_reload_reexecutes_the_new_source_in_the_same_module(project: Path) -> None:
    module = importlib.import_module("value")
    (project / "value.py").write_text("VALUE = 'reloaded'\ndef f():\n    return VALUE\n")
    assert importlib.reload(module) is module
    assert module.f() == "reloaded" and is_vm_function(module.f)


def test_library_modules_are_left_to_cpython(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", True)  # leave the stdlib's __pycache__ alone
    forget("colorsys")
    import colorsys
    assert type(colorsys.__spec__.loader) is importlib.machinery.SourceFileLoader
    finder = importer.DpbFinder(str(ROOT), fallback=False)
    assert not finder.owns(os.path.join(ROOT, "dxpy", "loop.py"))  # dxpy itself is never the user's
    assert not finder.owns(importlib.__file__)
    assert finder.owns(os.path.join(ROOT, "benchmarks", "vm_bench.py"))


def test_hook_is_installed_only_for_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture) -> None:
    script = tmp_path / "main.py"
    script.write_text("import sys\nprint(sum(type(f).__name__ == 'DpbFinder' for f in sys.meta_path))\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    run = script_runner(str(script), fallback=False)
    assert not any(isinstance(f, importer.DpbFinder) for f in sys.meta_path)
    run()
    assert capsys.readouterr().out == "1\n"
    assert not any(isinstance(f, importer.DpbFinder) for f in sys.meta_path)


# ---- through the command line ------------------------------------------------
def dxpy_run(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run([sys.executable, "-m", "dxpy.cli", "run", *argv], capture_output=True,
                          text=True, timeout=120, env=env, cwd=cwd)


def frames(stderr: str) -> list[str]:
    """The traceback's 'File ..., line ..., in ...' lines and the final message."""
    lines = stderr.splitlines()
    return [line for line in lines if line.startswith('  File "')] + lines[-1:]


def test_cli_runs_user_modules_in_the_vm_and_caches_script_and_modules(tmp_path: Path) -> None:
    write_project(tmp_path, {"main.py": """
        import json, pkg, pkg.helpers, _probe
        print(pkg.double(4), type(pkg.__spec__.loader).__name__, type(json.__spec__.loader).__name__)
        print(type(pkg.double).__name__, _probe.runs)
    """, "_probe.py": "runs = []\n", **PROJECT})
    first = dxpy_run("--vm", str(tmp_path / "main.py"), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout == ("8 DpbLoader SourceFileLoader\n"
                            "function ['pkg.helpers', 'pkg.core', 'pkg']\n")
    caches = sorted(tmp_path.rglob(f"*.dxpy-{FORMAT_VERSION}.dpb"))
    assert [path.relative_to(tmp_path).as_posix() for path in caches] == [
        f"{folder}__pycache__/{stem}.dxpy-{FORMAT_VERSION}.dpb"
        for folder, stem in [("", "_probe"), ("", "main"), ("pkg/", "__init__"), ("pkg/", "core"),
                             ("pkg/", "helpers"), ("pkg/sub/", "__init__")]]
    stamps = [(path.stat().st_ino, path.stat().st_mtime_ns) for path in caches]
    second = dxpy_run("--vm", str(tmp_path / "main.py"), cwd=tmp_path)
    assert (second.returncode, second.stdout, second.stderr) == (0, first.stdout, "")
    assert [(path.stat().st_ino, path.stat().st_mtime_ns) for path in caches] == stamps


REFUSAL_CANDIDATES = [
    # The compiler now takes nearly all of Python 3.11; what it still refuses is
    # a format limit: UNPACK_EX carries at most 0xFFFF targets after the star
    # (CPython accepts more).  Module level: in a function, 65536 locals make
    # the compiler take ~40 s.
    "*head, " + ", ".join(f"b{i}" for i in range(0x10000)) + " = range(0x10001)\n"
    "def kind():\n    return 'two' if b65535 == 65536 and head == [0] else 'wrong'\n",
]


def refused_source(path: Path) -> tuple[str, str]:
    """A module source the compiler refuses, and the refusal's message for ``path``."""
    from dxpy.vm.compiler import compile_source
    from dxpy.vm.errors import DpbCompileError
    for source in REFUSAL_CANDIDATES:
        try:
            compile_source(source, str(path))
        except DpbCompileError as exc:
            return source, str(exc)
    pytest.fail("the DPB compiler accepts every candidate construct now: add one it refuses")


def test_cli_refused_module_stops_the_run_or_falls_back(tmp_path: Path) -> None:
    shapes = tmp_path / "shapes.py"
    source, refusal = refused_source(shapes)
    write_project(tmp_path, {
        "main.py": "print('start')\nimport shapes\nprint(shapes.kind(), type(shapes.__spec__.loader).__name__)\n",
        "shapes.py": source,
    })
    expected = subprocess.run([sys.executable, str(tmp_path / "main.py")], capture_output=True, text=True,
                              timeout=60).stdout
    refused = dxpy_run("--vm", str(tmp_path / "main.py"), cwd=tmp_path)
    assert (refused.returncode, refused.stdout) == (1, "start\n")
    assert refused.stderr == f"dxpy: {refusal} (use --fallback to run it on CPython)\n"
    fallback = dxpy_run("--vm", "--fallback", str(tmp_path / "main.py"), cwd=tmp_path)
    assert (fallback.returncode, fallback.stdout) == (0, expected.replace("SourceFileLoader", "DpbLoader"))
    assert fallback.stderr == f"dxpy: {refusal}; importing shapes on CPython instead\n"


@pytest.mark.parametrize("main", [
    "import lib\nlib.outer(3)\n",
    "print('x')\nimport failing\n",
    "import lib\nlib.call_back(lambda: 1 / 0)\n",
], ids=["call-into-module", "error-at-import", "error-in-callback"])
def test_cli_tracebacks_name_the_right_files_and_lines(tmp_path: Path, main: str) -> None:
    write_project(tmp_path, {
        "main.py": main,
        "lib.py": """
            from helper import check
            def outer(n):
                return check(n)
            def call_back(f):
                return f()
        """,
        "helper.py": """
            def check(n):
                if n > 2:
                    raise ValueError(f"too big: {n}")
        """,
        "failing.py": "import helper\nhelper.check(5)\n",
    })
    ours = dxpy_run("--vm", str(tmp_path / "main.py"), cwd=tmp_path)
    theirs = subprocess.run([sys.executable, str(tmp_path / "main.py")], capture_output=True, text=True,
                            cwd=tmp_path, timeout=60)
    assert ours.returncode == theirs.returncode == 1
    assert ours.stdout == theirs.stdout
    assert frames(ours.stderr) == frames(theirs.stderr) and len(frames(theirs.stderr)) >= 3
