"""The guardian: unlinks a process's named shared-memory segments when it dies, however it dies.

Why a separate process: a process killed with SIGKILL runs no code, so the
segments it created (``Entangled.create``) would stay in ``/dev/shm`` for
ever.  The first ``create`` in a process starts one small guardian (a
Python interpreter importing only this module) connected by a pipe; the
creator writes ``+<inode> <path>`` and ``-<inode> <path>`` lines as it creates
and unlinks.  The guardian sees EOF when the creator (and every child that
inherited the pipe across ``fork``) is gone, and unlinks what is still
registered, if the path still names the same inode.  It runs in its own
session, so a Ctrl-C meant for the program's process group does not end it
first.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from typing import IO

_pipe: IO[str] | None = None
_child: subprocess.Popen[str] | None = None  # kept: a collected Popen warns it still runs
_owner_pid = 0
_lock = threading.Lock()


def _send(line: str) -> None:
    global _pipe, _child, _owner_pid
    with _lock:
        if _pipe is None or _owner_pid != os.getpid():
            child = subprocess.Popen([sys.executable, "-S", "-I", __file__],
                                     stdin=subprocess.PIPE, text=True, start_new_session=True,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            _pipe, _child, _owner_pid = child.stdin, child, os.getpid()
        assert _pipe is not None
        _pipe.write(line + "\n")
        _pipe.flush()


def register(path: str, inode: int) -> None:
    """Unlink ``path`` (if it is still ``inode``) when this process dies."""
    _send(f"+{inode} {path}")


def unregister(path: str, inode: int) -> None:
    """``path`` was unlinked: forget it (a no-op where this process registered nothing)."""
    if _pipe is not None and _owner_pid == os.getpid():
        _send(f"-{inode} {path}")


def _guard(lines: IO[str]) -> None:
    """The guardian's main: track registrations until EOF, then clean up."""
    live: dict[str, int] = {}
    for line in lines:
        sign, rest = line[0], line[1:].rstrip("\n")
        inode, _, path = rest.partition(" ")
        if sign == "+":
            live[path] = int(inode)
        elif live.get(path) == int(inode):
            del live[path]
    for path, inode in live.items():
        try:
            if os.stat(path).st_ino == inode:
                os.unlink(path)
        except OSError:
            pass


if __name__ == "__main__":
    import signal
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _guard(sys.stdin)
