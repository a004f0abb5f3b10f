"""``--reload``: watch the sources (watchfiles) and tell the supervisor when they change.

watchfiles' ``watch`` blocks, so it runs on a thread of the supervisor
process and reports through a pipe, which the supervisor's selector waits on
beside the worker heartbeats and signals.  Only Python files count
(``PythonFilter``: ``.py``, ``.pyx``, ``.pyd``), changes within
``--reload-delay`` are one restart, and the worker itself never watches
anything: a restart is a new process with a fresh import of the app.
"""

from __future__ import annotations

import os
import threading

from .config import Config, ConfigError


class ChangeWatcher:
    """A thread watching ``--reload-dir`` (default: ``--app-dir``)."""

    def __init__(self, config: Config) -> None:
        try:
            import watchfiles
        except ImportError:
            raise ConfigError("--reload needs the watchfiles package "
                              "(pip install 'dxpy[serve]')") from None
        self._watchfiles = watchfiles
        self.dirs = [os.path.abspath(d) for d in (config.reload_dirs or [config.app_dir])]
        missing = [d for d in self.dirs if not os.path.isdir(d)]
        if missing:
            raise ConfigError(f"--reload-dir: not a directory: {', '.join(missing)}")
        self._debounce_ms = max(1, int(config.reload_delay * 1000))
        self._read, self._write = os.pipe()
        os.set_blocking(self._read, False)
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="dxpy-serve-reload", daemon=True)
        self._thread.start()
        self._ready.wait(5.0)

    def fileno(self) -> int:
        return self._read

    def _run(self) -> None:
        watch = self._watchfiles.watch(*self.dirs, watch_filter=self._watchfiles.PythonFilter(),
                                       debounce=self._debounce_ms, step=50,
                                       stop_event=self._stop, yield_on_timeout=True,
                                       rust_timeout=200, raise_interrupt=False)
        for changes in watch:
            self._ready.set()  # the first (timeout) yield: the watch is armed
            if changes:
                os.write(self._write, b"c")

    def changed(self) -> bool:
        """Consume the notifications; True if any arrived."""
        seen = False
        try:
            while os.read(self._read, 64):
                seen = True
        except BlockingIOError:
            pass
        return seen

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2.0)
        os.close(self._read)
        os.close(self._write)
