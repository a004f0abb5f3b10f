"""Subprocess transports whose exit is observed through a pidfd poll.

asyncio's stdlib loops watch children with a thread per child or a SIGCHLD
handler.  Linux (5.3+) gives every process a pollable fd; the reactor polls
it like any socket, so no thread, no signal, and no interference with other
code that reaps children.  Pipes to the child are ordinary pipe transports
(``connect_read_pipe``/``connect_write_pipe``), set up by asyncio's
``BaseSubprocessTransport``.
"""

from __future__ import annotations

import contextvars
import os
import subprocess
from asyncio import base_subprocess
from typing import Any

from .host import OpLoop



class SubprocessTransport(base_subprocess.BaseSubprocessTransport):
    """A child process started with ``subprocess.Popen``."""

    def _start(self, args: Any, shell: bool, stdin: Any, stdout: Any, stderr: Any,
               bufsize: int, **kwargs: Any) -> None:
        self._proc = subprocess.Popen(args, shell=shell, stdin=stdin, stdout=stdout,
                                      stderr=stderr, universal_newlines=False,
                                      bufsize=bufsize, **kwargs)

    def _try_finish(self) -> None:
        # asyncio 3.11 learns of the exit in its child watcher's thread, after
        # the pipes' EOF as a rule: the protocol's connection_lost runs in that
        # thread's (empty) context, whichever of exit and EOF came last here
        contextvars.Context().run(super()._try_finish)


def watch_exit(loop: OpLoop, transport: SubprocessTransport) -> None:
    """Report the child's exit status to ``transport`` once it terminates."""
    pid = transport.get_pid()
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        _reap(transport, pid)  # already gone (and possibly reaped by Popen)
        return

    def on_exit(result: int, flags: int) -> None:
        os.close(pidfd)
        # asyncio 3.11 learns of the exit in its child watcher's thread, so
        # process_exited (and what it causes) runs in an empty context
        contextvars.Context().run(_reap, transport, pid)

    token = loop._start_op(on_exit)
    loop._reactor.poll_add(token, pidfd, 0x001)


def _reap(transport: SubprocessTransport, pid: int) -> None:
    """Collect the exit status; Popen may have reaped the child already."""
    try:
        reaped, status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        returncode = transport._proc.returncode
        if returncode is None:
            returncode = 255  # reaped elsewhere: asyncio reports 255 too
    else:
        returncode = os.waitstatus_to_exitcode(status) if reaped else None
    if returncode is None:
        transport._loop.call_soon(_reap, transport, pid)  # pidfd fired before zombie
        return
    transport._process_exited(returncode)
