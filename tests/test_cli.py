"""``dxpy`` command line: run, info, version, errors - compared with ``python``."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import dxpy

ROOT = Path(__file__).resolve().parent.parent


def dxpy_cmd(*args: str, env: dict | None = None, **kw) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([sys.executable, "-m", "dxpy", *args], capture_output=True,
                          text=True, timeout=60, env=full_env, **kw)


def python_cmd(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=60)


def test_version() -> None:
    out = dxpy_cmd("--version")
    assert out.returncode == 0
    assert out.stdout.strip() == f"dxpy {dxpy.__version__}"


def test_info_names_active_backend(backend: str) -> None:
    out = dxpy_cmd("info", env={"DXPY_REACTOR": backend})
    assert out.returncode == 0, out.stderr
    assert f"reactor: {backend} (forced by DXPY_REACTOR={backend})" in out.stdout
    assert "`dxpy run --vm` runs the script and its own modules" in out.stdout


def test_run_matches_python_on_success(tmp_path: Path) -> None:
    script = tmp_path / "hello.py"
    script.write_text(textwrap.dedent("""
        import asyncio, sys
        async def main():
            await asyncio.sleep(0)
            return type(asyncio.get_running_loop()).__module__
        print(sys.argv[1:], __name__, sys.path[0] == __file__.rsplit('/', 1)[0])
        print(asyncio.run(main()))
    """))
    ours, theirs = dxpy_cmd("run", str(script), "a", "--b"), python_cmd(str(script), "a", "--b")
    assert ours.returncode == theirs.returncode == 0
    assert ours.stdout.splitlines()[0] == theirs.stdout.splitlines()[0]
    assert ours.stdout.splitlines()[1] == "dxpy.loop"
    assert theirs.stdout.splitlines()[1] == "asyncio.unix_events"


def test_run_traceback_and_status_match_python(tmp_path: Path) -> None:
    script = tmp_path / "boom.py"
    script.write_text("def f():\n    raise ValueError('bad')\nf()\n")
    ours, theirs = dxpy_cmd("run", str(script)), python_cmd(str(script))
    assert ours.returncode == theirs.returncode == 1
    assert ours.stderr == theirs.stderr


@pytest.mark.parametrize("engine", [[], ["--vm"]])
@pytest.mark.parametrize("source", ["def f():\n    raise ValueError('bad')\nf()\n",
                                    "x = (\n", "import broken_sibling\n"])
def test_run_relative_script_errors_match_python(tmp_path: Path, engine: list[str],
                                                 source: str) -> None:
    """A script given by a relative path: tracebacks name the full path, as
    CPython's do, and a SyntaxError (in the script or in a module it imports)
    is printed with no dxpy frames."""
    (tmp_path / "script.py").write_text(source)
    (tmp_path / "broken_sibling.py").write_text("def g(:\n")
    ours = dxpy_cmd("run", *engine, "script.py", cwd=tmp_path)
    theirs = subprocess.run([sys.executable, "script.py"], capture_output=True, text=True,
                            timeout=60, cwd=tmp_path)
    assert ours.returncode == theirs.returncode == 1
    assert ours.stderr == theirs.stderr


@pytest.mark.parametrize("code", [0, 3, "'message'"])
def test_run_sys_exit(tmp_path: Path, code: object) -> None:
    script = tmp_path / "exit.py"
    script.write_text(f"import sys\nsys.exit({code})\n")
    ours, theirs = dxpy_cmd("run", str(script)), python_cmd(str(script))
    assert (ours.returncode, ours.stderr) == (theirs.returncode, theirs.stderr)


def test_run_keyboard_interrupt_dies_of_sigint(tmp_path: Path) -> None:
    script = tmp_path / "intr.py"
    script.write_text("raise KeyboardInterrupt\n")
    ours, theirs = dxpy_cmd("run", str(script)), python_cmd(str(script))
    assert ours.returncode == theirs.returncode == -signal.SIGINT


def test_run_missing_script() -> None:
    ours = dxpy_cmd("run", "/nonexistent/x.py")
    assert ours.returncode == 2
    assert "can't open file '/nonexistent/x.py'" in ours.stderr


def test_run_module(tmp_path: Path) -> None:
    (tmp_path / "mod_under_test.py").write_text("import sys\nprint('module', sys.argv[1:])\n")
    out = dxpy_cmd("run", "-m", "mod_under_test", "x", cwd=tmp_path,
                   env={"PYTHONPATH": f"{ROOT}:{tmp_path}"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "module ['x']"


def test_forced_unknown_backend_is_a_clear_error(tmp_path: Path) -> None:
    script = tmp_path / "noop.py"
    script.write_text("")
    out = dxpy_cmd("run", str(script), env={"DXPY_REACTOR": "kqueue"})
    assert out.returncode == 2
    assert "unknown reactor backend 'kqueue'" in out.stderr


def test_echo_server_example(backend: str) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "dxpy", "run", "--reactor", backend,
         str(ROOT / "examples" / "echo_server.py"), "--port", "0", "--serve-for", "20"],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        line = proc.stdout.readline()
        # the loop class of the test's core: dxpy.loop.CompiledLoop / PythonLoop
        assert f"dxpy.loop.{os.environ['DXPY_CORE'].capitalize()}Loop" in line, line
        port = int(line.split()[3].rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
            for size in (1, 1000, 100_000):
                payload = os.urandom(size)
                conn.sendall(payload)
                got = b""
                while len(got) < size:
                    got += conn.recv(65536)
                assert got == payload
    finally:
        proc.kill()
        proc.wait(10)
