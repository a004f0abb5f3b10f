"""``--workers N`` (and ``--reload``): a parent that runs and watches worker processes.

Each worker is a fresh interpreter (``python -m dxpy.serve.worker``) with its
own reactor and loop, placed by the OS scheduler (with ``--pin-workers``:
pinned to one core, ``dxpy.cores``; not the default, because a pinned worker
cannot leave a core that another busy process shares, and the connections
it accepted then carry the whole latency tail).  On TCP every
worker listens on its own ``SO_REUSEPORT`` socket bound to the same port, so
the kernel spreads connections across the workers' accept queues (and the
io_uring backend keeps one multishot accept per worker); the parent only
holds a bound, non-listening socket on the port, which reserves it (and
resolves ``--port 0``) without taking connections.  ``--uds``/``--fd``
listeners cannot be shared that way: the parent listens and the workers
inherit the fd.

The parent restarts a worker that dies (a worker that fails to *start*
stops the whole server instead: restarting would fail again), kills and
restarts one whose heartbeat (a byte a second on a pipe) stops for
``--timeout-worker-healthcheck`` seconds, and on SIGTERM/SIGINT forwards
SIGTERM and waits for the graceful shutdown.  Workers run in their own
process group, so a terminal's Ctrl-C reaches the parent alone and each
worker sees exactly one signal; a worker whose parent vanished finds its
heartbeat pipe broken and shuts down.  SIGHUP restarts every worker.
"""

from __future__ import annotations

import logging
import os
import selectors
import signal
import socket
import subprocess
import sys
import time

from ..cores import CoreWorker, core_for
from .config import Config
from .server import STARTUP_FAILURE

logger = logging.getLogger("dxpy.serve.error")

#: Seconds a stopping worker gets beyond --timeout-graceful-shutdown before SIGKILL.
STOP_MARGIN = 5.0
#: More restarts than this within RESTART_WINDOW seconds slow restarts down.
RESTART_BURST = 5
RESTART_WINDOW = 10.0


class WorkerProcess(CoreWorker):
    """One ``python -m dxpy.serve.worker`` child."""

    def __init__(self, index: int, core: int | None, config_json: str,
                 inherited_fd: int | None) -> None:
        super().__init__(index, core)
        self.config_json = config_json
        self.inherited_fd = inherited_fd
        self.process: subprocess.Popen | None = None
        self.beats: int | None = None  # read end of the heartbeat pipe
        #: False until the first heartbeat: loading the app may take long, and
        #: only a worker that has served can be judged silent.
        self.reported = False
        self._terminated = False

    def start(self) -> None:
        read_end, write_end = os.pipe()
        os.set_blocking(read_end, False)
        os.set_blocking(write_end, False)
        command = [sys.executable, "-m", "dxpy.serve.worker", "--index", str(self.index),
                   "--heartbeat-fd", str(write_end)]
        if self.core is not None:
            command += ["--core", str(self.core)]
        passed = [write_end] + ([self.inherited_fd] if self.inherited_fd is not None else [])
        env = dict(os.environ, DXPY_SERVE_CONFIG=self.config_json)
        try:
            self.process = subprocess.Popen(command, env=env, pass_fds=passed, process_group=0)
        finally:
            os.close(write_end)
        self.beats = read_end
        self.reported = self._terminated = False
        self.heartbeat()

    def terminate(self) -> None:
        """SIGTERM, once: a second signal would make the worker skip its graceful wait."""
        if not self._terminated and self.is_alive():
            self._terminated = True
            self.process.send_signal(signal.SIGTERM)

    def stop(self, timeout: float | None = None) -> bool:
        process = self.process
        if process is None or process.poll() is not None:
            self._close_pipe()
            return True
        self.terminate()
        try:
            process.wait(timeout)
            return True
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            return False
        finally:
            self._close_pipe()

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._close_pipe()

    def is_alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def exit_status(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def read_heartbeats(self) -> None:
        if self.beats is None:
            return
        try:
            while os.read(self.beats, 512):
                self.heartbeat()
                self.reported = True
        except BlockingIOError:
            pass

    def _close_pipe(self) -> None:
        if self.beats is not None:
            os.close(self.beats)
            self.beats = None


class Supervisor:
    """See module docstring.  ``run()`` returns the exit status."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.workers: list[WorkerProcess] = []
        self.selector = selectors.DefaultSelector()
        self._signals: list[int] = []
        self._listener: socket.socket | None = None
        self._restarts: list[float] = []
        self._watcher = None

    # ---- listening ---------------------------------------------------------
    def _prepare_listener(self) -> tuple[Config, int | None]:
        """The config workers get, and the fd they inherit (if any)."""
        config = self.config
        if config.fd is not None:
            return config, config.fd
        if config.uds is not None:
            if os.path.exists(config.uds):
                os.unlink(config.uds)
            sock = self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.bind(config.uds)
            os.chmod(config.uds, 0o666)
            sock.listen(config.backlog)
            sock.set_inheritable(True)
            return Config.from_json(config.to_json(), uds=None, fd=sock.fileno()), sock.fileno()
        family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
        sock = self._listener = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((config.host, config.port))  # reserved, never listening
        port = sock.getsockname()[1]
        return Config.from_json(config.to_json(), port=port), None

    # ---- running -----------------------------------------------------------
    def run(self) -> int:
        try:
            worker_config, inherited = self._prepare_listener()
        except OSError as exc:
            logger.error("cannot bind: %s", exc)
            return STARTUP_FAILURE
        wake_read, wake_write = os.pipe()
        os.set_blocking(wake_read, False)
        os.set_blocking(wake_write, False)
        previous_wakeup = signal.set_wakeup_fd(wake_write)
        handlers = {sig: signal.signal(sig, self._on_signal)
                    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
        self.selector.register(wake_read, selectors.EVENT_READ, "signal")
        try:
            if self.config.reload:
                from .reload import ChangeWatcher
                self._watcher = ChangeWatcher(self.config)
                self.selector.register(self._watcher.fileno(), selectors.EVENT_READ, "reload")
            logger.info("supervisor (pid %d) starting %d worker(s) on port %s", os.getpid(),
                        worker_config.workers, worker_config.port)
            config_json = worker_config.to_json()
            pin = worker_config.workers > 1 and worker_config.pin_workers
            self.workers = [WorkerProcess(i, core_for(i) if pin else None, config_json, inherited)
                            for i in range(worker_config.workers)]
            for worker in self.workers:
                self._start(worker)
            return self._watch(wake_read)
        finally:
            self._stop_all()
            if self._watcher is not None:
                self._watcher.close()
            for sig, handler in handlers.items():
                signal.signal(sig, handler)
            signal.set_wakeup_fd(previous_wakeup)
            self.selector.close()
            os.close(wake_read)
            os.close(wake_write)
            if self._listener is not None:
                self._listener.close()

    def _on_signal(self, signum: int, frame: object) -> None:
        self._signals.append(signum)

    def _start(self, worker: WorkerProcess) -> None:
        worker.start()
        self.selector.register(worker.beats, selectors.EVENT_READ, worker)

    def _watch(self, wake_read: int) -> int:
        while True:
            for key, _ in self.selector.select(timeout=0.5):
                if key.data == "signal":
                    _drain(wake_read)
                elif key.data == "reload":
                    if self._watcher.changed():
                        logger.info("sources changed: restarting workers")
                        self._restart_all()
                else:
                    key.data.read_heartbeats()
            while self._signals:
                signum = self._signals.pop(0)
                if signum == signal.SIGHUP:
                    logger.info("SIGHUP: restarting workers")
                    self._restart_all()
                else:
                    logger.info("shutting down (signal %d)", signum)
                    return 0
            status = self._check_workers()
            if status is not None:
                return status

    def _check_workers(self) -> int | None:
        """Restart dead or silent workers; an exit status when the server must end."""
        timeout = self.config.timeout_worker_healthcheck
        for worker in self.workers:
            code = worker.exit_status()
            if code is None:
                stalled = worker.health().stalled_for
                if worker.reported and stalled is not None and stalled > timeout:
                    logger.error("worker %d (pid %d) silent for %.1f s: restarting",
                                 worker.index, worker.process.pid, stalled)
                    self._unregister(worker)
                    worker.kill()
                    self._replace(worker)
                continue
            self._unregister(worker)
            if code == STARTUP_FAILURE:
                logger.error("worker %d could not start: stopping", worker.index)
                return STARTUP_FAILURE
            logger.warning("worker %d (pid %d) exited with status %d: restarting",
                           worker.index, worker.process.pid, code)
            self._replace(worker)
        return None

    def _replace(self, worker: WorkerProcess) -> None:
        now = time.monotonic()
        self._restarts = [t for t in self._restarts if now - t < RESTART_WINDOW] + [now]
        if len(self._restarts) > RESTART_BURST:
            time.sleep(1.0)  # a crash loop: do not spin
        worker.restarts += 1
        self._start(worker)

    def _restart_all(self) -> None:
        for worker in self.workers:
            self._unregister(worker)
            worker.stop(self._stop_timeout())
            self._start(worker)

    def _unregister(self, worker: WorkerProcess) -> None:
        if worker.beats is not None:
            try:
                self.selector.unregister(worker.beats)
            except KeyError:
                pass

    def _stop_timeout(self) -> float | None:
        """How long a stopping worker may take: unbounded, as in one process,
        unless --timeout-graceful-shutdown bounds it."""
        graceful = self.config.timeout_graceful_shutdown
        return None if graceful is None else graceful + STOP_MARGIN

    def _stop_all(self) -> None:
        for worker in self.workers:
            worker.terminate()
        timeout = self._stop_timeout()
        deadline = None if timeout is None else time.monotonic() + timeout
        for worker in self.workers:
            self._unregister(worker)
            worker.stop(None if deadline is None else max(0.0, deadline - time.monotonic()))


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 512):
            pass
    except BlockingIOError:
        pass
