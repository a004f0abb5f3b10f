"""The ``dxpy`` REPL driven through a pseudo-terminal, as a person would."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import pytest

import dxpy

ROOT = Path(__file__).resolve().parent.parent


def _sigint_disposition(handler: signal.Handlers) -> Callable[[], None]:
    """A ``preexec_fn`` giving the child an explicit SIGINT disposition.  Why: a
    shell's background job (``pytest &``) starts children with SIGINT ignored, and
    CPython (so the REPL) honours an inherited ignore; the tests that send SIGINT
    must not depend on how the test run itself was started."""
    return lambda: signal.signal(signal.SIGINT, handler)


class Terminal:
    """A child process on a pty, with ``expect``-style reading."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path,
                 sigint: signal.Handlers = signal.SIG_DFL) -> None:
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, env=env,
                                     cwd=cwd, start_new_session=True, close_fds=True,
                                     preexec_fn=_sigint_disposition(sigint))
        os.close(slave)
        self.seen = ""

    def expect(self, text: str, timeout: float = 20.0) -> str:
        """Read until ``text`` appears; return everything read up to it."""
        deadline = time.monotonic() + timeout
        while text not in self.seen:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.master], [], [], left)[0]:
                raise AssertionError(f"timed out waiting for {text!r}; got {self.seen!r}")
            try:
                chunk = os.read(self.master, 4096).decode(errors="replace")
            except OSError:  # EIO: the child closed the terminal
                raise AssertionError(f"terminal closed waiting for {text!r}: {self.seen!r}")
            self.seen += chunk
        before, _, self.seen = self.seen.partition(text)
        return before

    def send(self, text: str) -> None:
        os.write(self.master, text.encode())

    def close(self) -> int:
        try:
            return self.proc.wait(20)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
            os.close(self.master)


def console_env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "HOME": str(tmp_path), "TERM": "dumb",
            "DXPY_CACHE_DIR": str(tmp_path / "cache")}


def open_repl(backend: str, tmp_path: Path, sigint: signal.Handlers = signal.SIG_DFL,
              cwd: Path | None = None) -> Terminal:
    return Terminal([sys.executable, "-m", "dxpy", "repl", "--reactor", backend],
                    console_env(tmp_path), cwd or tmp_path, sigint)


@pytest.fixture
def repl(backend: str, tmp_path: Path):
    term = open_repl(backend, tmp_path)
    yield term
    if term.proc.poll() is None:
        term.proc.kill()
        term.close()


def test_repl_session(repl: Terminal, backend: str) -> None:
    banner = repl.expect(">>> ")
    assert f"dxpy {dxpy.__version__}" in banner and f"{backend} reactor" in banner
    repl.send("type(asyncio.get_running_loop()).__module__\r")
    assert "'dxpy.loop'" in repl.expect(">>> ")
    repl.send("await asyncio.sleep(0.1) or 'slept'\r")
    assert "'slept'" in repl.expect(">>> ")
    repl.send("1/0\r")
    out = repl.expect(">>> ")
    assert "Traceback (most recent call last):" in out and "ZeroDivisionError" in out
    assert 'File "<stdin>", line 1' in out
    repl.send("ticks = []; t = asyncio.ensure_future(asyncio.sleep(0.3, 'bg'))\r")
    repl.expect(">>> ")
    repl.send("await asyncio.sleep(10)\r")
    time.sleep(0.5)
    started = time.monotonic()
    os.kill(repl.proc.pid, signal.SIGINT)  # what Ctrl-C does on a terminal
    assert "KeyboardInterrupt" in repl.expect(">>> ")
    assert time.monotonic() - started < 5
    repl.send("t.result()\r")  # the loop and its other tasks survived the interrupt
    assert "'bg'" in repl.expect(">>> ")
    repl.send("\x04")  # Ctrl-D
    repl.expect("exiting dxpy REPL")
    assert repl.close() == 0


def test_repl_exit_status(repl: Terminal) -> None:
    repl.expect(">>> ")
    repl.send("import sys; sys.exit(3)\r")
    assert repl.close() == 3


def test_inherited_sigint_ignore_is_honoured(tmp_path: Path) -> None:
    """Started with SIGINT ignored (as ``nohup`` or ``trap '' INT`` would), the console
    ignores it, as ``python -i`` does: the statement runs to its end."""
    term = open_repl("epoll", tmp_path, sigint=signal.SIG_IGN)
    try:
        term.expect(">>> ")
        term.send("await asyncio.sleep(1.0) or 'finished'\r")
        time.sleep(0.3)
        os.kill(term.proc.pid, signal.SIGINT)
        out = term.expect(">>> ")
        assert "'finished'" in out and "KeyboardInterrupt" not in out
        term.send("exit()\r")
        assert term.close() == 0
    finally:
        if term.proc.poll() is None:
            term.proc.kill()


def test_reload_after_edit_uses_the_watched_cache(tmp_path: Path) -> None:
    """A module imported at the prompt comes from the bytecode cache; the watcher
    trusts it (no stat on the next import), and after an edit it is invalidated,
    so ``importlib.reload`` runs the new source."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "edited.py").write_text("VALUE = 1\n")
    term = open_repl("epoll", tmp_path, cwd=work)
    try:
        term.expect(">>> ")
        term.send("import edited, importlib, time, dxpy.cache as c; edited.VALUE\r")
        assert "1" in term.expect(">>> ")
        term.send("type(edited.__loader__).__name__\r")
        assert "CachingSourceLoader" in term.expect(">>> ")
        term.send("cache = c.bytecode_cache(); [time.sleep(0.05) for _ in range(200) "
                  "if edited.__file__ not in cache.trusted] and None; "
                  "edited.__file__ in cache.trusted\r")
        assert "True" in term.expect(">>> ")
        (work / "edited.py").write_text("VALUE = 22\n")
        term.send("[time.sleep(0.05) for _ in range(200) if edited.__file__ in "
                  "cache.trusted] and None; importlib.reload(edited).VALUE\r")
        assert "22" in term.expect(">>> ")
        term.send("exit()\r")
        assert term.close() == 0
    finally:
        if term.proc.poll() is None:
            term.proc.kill()


def test_no_arguments_opens_the_repl(tmp_path: Path) -> None:
    term = Terminal([sys.executable, "-m", "dxpy"], console_env(tmp_path), tmp_path)
    try:
        assert "REPL on the" in term.expect(">>> ")
        term.send("exit()\r")
        assert term.close() == 0
    finally:
        if term.proc.poll() is None:
            term.proc.kill()
