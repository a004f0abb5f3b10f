"""Start-up: ``dxpy run`` loads nothing the script does not use, and stays correct."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dxpy
from dxpy import cli

from .conftest import URING_OK, URING_WHY

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("asyncio", "dxpy.loop", "dxpy.reactor", "dxpy.aio", "dxpy.vm", "dxpy.jit",
         "dxpy.policy", "argparse", "ssl", "numpy", "llvmlite", "traceback")


def dxpy_run(tmp_path: Path, source: str, *options: str, env: dict | None = None
             ) -> subprocess.CompletedProcess:
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(source))
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), "DXPY_CACHE_DIR": str(tmp_path / "c"),
                **(env or {})}
    return subprocess.run([sys.executable, "-m", "dxpy", "run", *options, str(script)],
                          capture_output=True, text=True, timeout=60, env=full_env)


def loaded_modules(tmp_path: Path, source: str = "", *options: str) -> set[str]:
    out = dxpy_run(tmp_path, source + "\nimport sys, json\n"
                   "print(json.dumps(sorted(sys.modules)))\n", *options)
    assert out.returncode == 0, out.stderr
    return set(json.loads(out.stdout.splitlines()[-1]))


def test_empty_script_imports_nothing_heavy(tmp_path: Path) -> None:
    modules = loaded_modules(tmp_path)
    heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY or m in HEAVY
                   or any(m.startswith(h + ".") for h in HEAVY))
    assert heavy == []


def test_only_a_script_above_the_small_size_opens_the_bytecode_store(tmp_path: Path) -> None:
    from dxpy.startup import SMALL_SCRIPT

    assert "dxpy.cache.store" not in loaded_modules(tmp_path)  # compiled: cheaper
    padding = "VALUE = 1\n" * (SMALL_SCRIPT // 10 + 1)
    for _ in range(2):  # cold (stored), then warm (served)
        assert "dxpy.cache.store" in loaded_modules(tmp_path, padding)


@pytest.mark.parametrize("first_import", ["import asyncio", "import asyncio.events",
                                          "from asyncio import run"])
def test_policy_is_dxpy_from_the_first_asyncio_import(tmp_path: Path, first_import: str) -> None:
    out = dxpy_run(tmp_path, f"""
        {first_import}
        import asyncio
        policy = asyncio.get_event_loop_policy()
        async def main():
            return type(asyncio.get_running_loop()).__module__
        print(type(policy).__module__, asyncio.run(main()))
        print(asyncio.__spec__.loader is asyncio.__loader__, type(asyncio.__loader__).__name__)
    """)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["dxpy.policy dxpy.loop", "True SourceFileLoader"]


def test_importing_asyncio_without_a_loop_leaves_the_loop_layer_unloaded(tmp_path: Path
                                                                        ) -> None:
    modules = loaded_modules(tmp_path, "import asyncio\n"
                             "assert type(asyncio.get_event_loop_policy()).__module__ == "
                             "'dxpy.policy'\n")
    assert "dxpy.policy" in modules
    assert not {"dxpy.loop", "dxpy.reactor", "dxpy.transports", "dxpy.core"} & modules


def test_forced_reactor_still_applies_lazily(tmp_path: Path) -> None:
    out = dxpy_run(tmp_path, """
        import asyncio
        async def main():
            return asyncio.get_running_loop().reactor.backend
        print(asyncio.run(main()))
    """, "--reactor", "epoll")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "epoll"


def test_unknown_forced_reactor_fails_before_the_script(tmp_path: Path) -> None:
    out = dxpy_run(tmp_path, "print('ran')\n", env={"DXPY_REACTOR": "kqueue"})
    assert out.returncode == 2 and "ran" not in out.stdout
    assert "unknown reactor backend 'kqueue'" in out.stderr


@pytest.mark.parametrize("name", sorted(set(dxpy.__all__) - {"__version__"}))
def test_every_public_name_resolves(name: str) -> None:
    code = f"import dxpy, sys; v = dxpy.{name}; print(v is getattr(dxpy, {name!r}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "True"


def test_public_names_are_the_real_objects() -> None:
    from dxpy.loop import Loop
    from dxpy.policy import Policy, install, new_event_loop, run
    from dxpy.reactor import ReactorError

    assert (dxpy.Loop, dxpy.Policy, dxpy.install, dxpy.new_event_loop, dxpy.run,
            dxpy.ReactorError) == (Loop, Policy, install, new_event_loop, run, ReactorError)
    assert set(dxpy.__all__) <= set(dir(dxpy))
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        dxpy.nonexistent  # noqa: B018


def test_import_dxpy_alone_is_light() -> None:
    code = "import sys, dxpy; print(sorted(m for m in sys.modules if m.startswith('dxpy')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.stdout.strip() == "['dxpy']"


def test_version_and_info_stay_correct() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    version = subprocess.run([sys.executable, "-m", "dxpy", "--version"], capture_output=True,
                             text=True, timeout=60, env=env)
    assert version.stdout.strip() == f"dxpy {dxpy.__version__}"
    info = subprocess.run([sys.executable, "-m", "dxpy", "info"], capture_output=True,
                          text=True, timeout=60, env=env)
    assert info.returncode == 0 and info.stdout.startswith(f"dxpy {dxpy.__version__}\n")


def test_main_module_matches_python(tmp_path: Path) -> None:
    source = """
        import sys
        print(sorted(k for k in globals() if k != 'sys'), __spec__, __cached__,
              type(__loader__).__name__, sys.modules['__main__'] is sys.modules[__name__])
    """
    ours = dxpy_run(tmp_path, source)
    theirs = subprocess.run([sys.executable, str(tmp_path / "script.py")], capture_output=True,
                            text=True, timeout=60)
    assert ours.returncode == theirs.returncode == 0
    assert ours.stdout == theirs.stdout


# -- the quick argument parser agrees with argparse ------------------------------------
_TOKENS = st.sampled_from(["--vm", "--fallback", "--jit-stats", "--reactor", "uring", "epoll",
                           "kqueue", "-m", "mod", "script.py", "-x", "a", "--b=1", "-h"])


@settings(max_examples=300, deadline=None)
@given(st.lists(_TOKENS, max_size=7))
def test_quick_parser_agrees_with_argparse(args: list[str]) -> None:
    """Whenever the quick parser accepts ``dxpy run ...``, argparse gives the same options."""
    quick = cli._parse_run_quickly(args)
    if quick is None:
        return
    try:
        full = cli._parser().parse_args(["run", *args])
    except SystemExit:
        pytest.fail(f"quick parser accepted what argparse rejects: {args}")
    assert vars(quick) == vars(full)


def test_script_arguments_are_passed_verbatim(tmp_path: Path) -> None:
    """Everything after the script is its ``sys.argv``, ``--`` included, as with python."""
    (tmp_path / "script.py").write_text("import sys; print(sys.argv[1:])\n")
    ours = subprocess.run([sys.executable, "-m", "dxpy", "run", str(tmp_path / "script.py"),
                           "--", "-x", "--vm"], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    theirs = subprocess.run([sys.executable, str(tmp_path / "script.py"), "--", "-x", "--vm"],
                            capture_output=True, text=True, timeout=60)
    assert ours.stdout == theirs.stdout == "['--', '-x', '--vm']\n"


@pytest.mark.skipif(not URING_OK, reason=f"io_uring unavailable here: {URING_WHY}")
def test_a_loop_on_io_uring_sets_up_one_ring_and_never_loads_epoll(tmp_path: Path) -> None:
    """The backend choice makes the loop's ring itself, not a probe ring first, and
    the epoll backend is imported only when it is the one used."""
    out = dxpy_run(tmp_path, """
        import asyncio, sys
        import dxpy.reactor.uring as uring
        probes = []
        real = uring.available
        uring.available = lambda: probes.append(1) or real()
        async def main():
            return asyncio.get_running_loop().reactor.backend
        print(asyncio.run(main()), len(probes), "dxpy.reactor.epoll" in sys.modules)
    """)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["uring", "0", "False"]


@pytest.mark.parametrize("probe_starts", [False, True])
def test_a_ring_that_fails_decides_as_the_probe_did(monkeypatch, probe_starts: bool) -> None:
    """When the real ring cannot start, the probe decides, as it did when it came
    first: a failing probe means epoll (or the forced backend's error naming the
    reason); a probe that starts means the real ring's own error."""
    from dxpy import reactor
    from dxpy.reactor import ReactorError, uring

    def refuse(*args: object, **kwargs: object) -> None:
        raise ReactorError("the real ring failed")

    monkeypatch.setattr(uring, "lib", uring.lib or object())
    monkeypatch.setattr(uring, "IoUringReactor", refuse)
    monkeypatch.setattr(uring, "available", lambda: (probe_starts, "the probe's reason"))
    if probe_starts:
        with pytest.raises(ReactorError, match="the real ring failed"):
            reactor.create_reactor()
        return
    fallback = reactor.create_reactor()
    try:
        assert fallback.backend == "epoll"
    finally:
        fallback.close()
    with pytest.raises(ReactorError, match="requested but unavailable: the probe's reason"):
        reactor.create_reactor("uring")
