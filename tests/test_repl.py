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

import pytest

import dxpy

ROOT = Path(__file__).resolve().parent.parent


class Terminal:
    """A child process on a pty, with ``expect``-style reading."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, env=env,
                                     start_new_session=True, close_fds=True)
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


@pytest.fixture
def repl(backend: str, tmp_path: Path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HOME": str(tmp_path), "TERM": "dumb"}
    term = Terminal([sys.executable, "-m", "dxpy", "repl", "--reactor", backend], env)
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


def test_no_arguments_opens_the_repl(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HOME": str(tmp_path), "TERM": "dumb"}
    term = Terminal([sys.executable, "-m", "dxpy"], env)
    try:
        assert "REPL on the" in term.expect(">>> ")
        term.send("exit()\r")
        assert term.close() == 0
    finally:
        if term.proc.poll() is None:
            term.proc.kill()
