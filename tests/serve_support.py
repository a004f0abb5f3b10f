"""Helpers for the ``dxpy serve`` tests: real servers on loopback.

``thread_server`` runs a ``dxpy.serve.Server`` on its own dxpy loop in a
thread of the test process (fast: no interpreter start), ``cli_server`` runs
``python -m dxpy serve ...`` as a child process (signals, workers, reload,
the command line itself).  ``raw_exchange`` is the raw-socket client the
malformed-input tests use.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from typing import Any, Iterator

from dxpy.policy import new_event_loop
from dxpy.serve import Config, Server

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PARSERS = ("httptools", "h11")
START_TIMEOUT = 30.0


class ThreadServer:
    """A running in-process server: ``.port``, ``.server``, ``.url``."""

    def __init__(self, server: Server, thread: threading.Thread) -> None:
        self.server = server
        self.thread = thread
        self.port = server.sockets[0].getsockname()[1] if server.sockets else None
        self.url = f"http://127.0.0.1:{self.port}"

    @property
    def state(self) -> Any:
        return self.server.state


@contextlib.contextmanager
def thread_server(app: Any, **options: Any) -> Iterator[ThreadServer]:
    """Serve ``app`` on 127.0.0.1:<free port> for the ``with`` block."""
    options.setdefault("port", 0)
    options.setdefault("gc_control", False)  # the test process's GC stays as it is
    options.setdefault("access_log", False)
    options.setdefault("log_level", "warning")
    config = Config(app, **options)
    server = Server(config)
    failure: list[BaseException] = []

    def run() -> None:
        loop = new_event_loop(config.reactor)
        try:
            loop.run_until_complete(server.serve())
        except BaseException as exc:  # noqa: BLE001 - reported to the test thread
            failure.append(exc)
            server.started.set()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    thread = threading.Thread(target=run, name="dxpy-serve-test", daemon=True)
    thread.start()
    if not server.started.wait(START_TIMEOUT):
        raise TimeoutError("server did not start")
    if failure:
        thread.join(5)
        raise failure[0]
    try:
        yield ThreadServer(server, thread)
    finally:
        server.request_shutdown()
        thread.join(15)
        if thread.is_alive():
            server.request_shutdown(force=True)
            thread.join(15)
        assert not thread.is_alive(), "server thread did not stop"
        if failure:
            raise failure[0]


class CliServer:
    """A ``python -m dxpy serve`` child: ``.process``, ``.port``, ``.lines()``."""

    def __init__(self, process: subprocess.Popen, lines: "queue.Queue[str]") -> None:
        self.process = process
        self._lines = lines
        self.output: list[str] = []
        self.port: int | None = None

    def wait_for(self, pattern: str, timeout: float = START_TIMEOUT) -> re.Match:
        """Read output lines until one matches ``pattern``."""
        regex = re.compile(pattern)
        for line in self.output:
            match = regex.search(line)
            if match:
                return match
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            self.output.append(line)
            match = regex.search(line)
            if match:
                return match
        raise TimeoutError(f"no line matching {pattern!r} in:\n" + "".join(self.output))

    def drain(self) -> str:
        while True:
            try:
                self.output.append(self._lines.get_nowait())
            except queue.Empty:
                return "".join(self.output)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise


@contextlib.contextmanager
def cli_server(*args: str, cwd: str = ROOT, env: dict | None = None,
               wait: str | None = r"listening on http://[^:]+:(\d+)") -> Iterator[CliServer]:
    """``python -m dxpy serve <args>``; waits for the listening line unless ``wait`` is None."""
    command = [sys.executable, "-m", "dxpy", "serve", *args]
    child_env = dict(os.environ, PYTHONUNBUFFERED="1", **(env or {}))
    child_env["PYTHONPATH"] = os.pathsep.join(filter(None, [ROOT, child_env.get("PYTHONPATH")]))
    process = subprocess.Popen(command, cwd=cwd, env=child_env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True,
                               preexec_fn=_default_signals)
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True)
    reader.start()
    server = CliServer(process, lines)
    try:
        if wait is not None:
            server.port = int(server.wait_for(wait).group(1))
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        reader.join(5)
        process.stdout.close()


def _default_signals() -> None:
    """The child handles SIGINT/SIGTERM itself even if the test runner ignores them."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _pump(stream: Any, lines: "queue.Queue[str]") -> None:
    for line in stream:
        lines.put(line)


def raw_exchange(port: int, payload: bytes | list[bytes], *, timeout: float = 10.0,
                 pause: float = 0.0) -> bytes:
    """Send ``payload`` (pieces with ``pause`` between them), read until the server closes."""
    pieces = [payload] if isinstance(payload, bytes) else payload
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        for piece in pieces:
            sock.sendall(piece)
            if pause:
                time.sleep(pause)
        return read_until_closed(sock)


def read_until_closed(sock: socket.socket) -> bytes:
    chunks = []
    while True:
        try:
            data = sock.recv(65536)
        except ConnectionResetError:
            break
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks)


def status_of(response: bytes) -> int:
    """The status code of the first response in ``response`` bytes."""
    match = re.match(rb"HTTP/1\.[01] (\d{3}) ", response)
    assert match, f"not an HTTP response: {response[:200]!r}"
    return int(match.group(1))


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def eventually(condition: Any, timeout: float = 5.0) -> bool:
    """Poll ``condition`` until true (the server thread may be a moment behind)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True
