"""The two kinds of executor worker: a pinned thread, or a pinned process behind a Channel.

Both take items from the executor's ``Scheduler`` (own deque, injector,
stealing) and complete the item's future.  A thread runs the call itself, so
it suits work that releases the GIL (NumPy, I/O, ``nogil`` compiled code).  A
process worker's thread sends the call over its HBTP ``Channel`` (arguments
pickled with protocol 5, large buffers through the channel's shared-memory
arena, never through a pipe) and waits for the reply; the child process runs
pure-Python work on its own GIL.  A child that dies fails only the call it
was running (``BrokenExecutor``) and is restarted.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from concurrent.futures import BrokenExecutor
from typing import Any, Callable

from .. import cores
from ..ipc.channel import Channel, ChannelClosed
from ..ipc.codec import error_value, raise_remote
from ..ipc.frames import MessageType, ProtocolError
from .scheduler import Scheduler, WorkItem

#: Thread ident -> (scheduler, index) of every running executor worker thread
#: (a dict lookup by ``get_ident()``: cheaper than a miss on a ``threading.local``,
#: which every ``submit`` from a non-worker thread is).
_worker_threads: dict[int, tuple[Scheduler, int]] = {}


def current_worker() -> tuple[Scheduler, int] | None:
    """(scheduler, index) when the calling thread is an executor worker thread."""
    return _worker_threads.get(threading.get_ident())


def run_item(item: WorkItem) -> None:
    """Run one item on this thread, completing its future (unless cancelled)."""
    if not item.future.set_running_or_notify_cancel():
        return
    try:
        result = item.fn(*item.args, **item.kwargs)
    except BaseException as exc:  # noqa: BLE001 - the future carries it
        item.future.set_exception(exc)
    else:
        item.future.set_result(result)


class ThreadWorker(cores.ThreadCoreWorker):
    """A worker thread pinned to its core, running items itself (it ends once
    the executor closes its scheduler)."""

    def __init__(self, index: int, core: int | None, scheduler: Scheduler, name: str) -> None:
        super().__init__(index, core, f"{name}-{index}", daemon=True)
        self._scheduler = scheduler
        self.tasks = 0

    def health(self) -> cores.Health:
        health = super().health()
        health.detail = {"tasks": self.tasks, "steals": self._scheduler.steals[self.index]}
        return health

    def run(self) -> None:
        if self.core is not None and not cores.pin_current(self.core):
            self.core = None
        ident = threading.get_ident()
        _worker_threads[ident] = (self._scheduler, self.index)
        try:
            while (item := self._scheduler.take(self.index)) is not None:
                run_item(item)
                del item
                self.tasks += 1
                self.heartbeat()
        finally:
            del _worker_threads[ident]


class ProcessWorker(cores.CoreWorker):
    """A child process pinned to its core, fed over a Channel by a parent thread."""

    def __init__(self, index: int, core: int | None, scheduler: Scheduler, name: str,
                 context: multiprocessing.context.BaseContext,
                 open_ends: Callable[[], list[int]]) -> None:
        super().__init__(index, core)
        self._scheduler = scheduler
        self._context = context
        self._name = f"{name}-{index}"
        self._open_ends = open_ends
        self.channel: Channel | None = None
        self.process: multiprocessing.process.BaseProcess | None = None
        self.tasks = 0
        self._feeder = threading.Thread(target=self._feed, name=self._name, daemon=True)

    def start(self) -> None:
        self._spawn()
        self._feeder.start()

    def _spawn(self) -> None:
        parent_end, child_end = Channel.pair()
        # A forked child inherits every end this parent holds; it closes the
        # parent-side ones so that it (and its siblings) see EOF if we die.
        inherited = [*self._open_ends(), parent_end.fileno()]
        process = self._context.Process(target=child_main, name=self._name, daemon=True,
                                        args=(child_end, self.core, inherited))
        try:
            process.start()
        finally:
            child_end.close()
        self.channel, self.process = parent_end, process

    def stop(self, timeout: float | None = None) -> bool:
        """Called once the scheduler is closed: the feeder finishes its call
        and exits, then the child sees EOF on its channel and exits too."""
        if self._feeder.is_alive():
            self._feeder.join(timeout)
        self._end_child(timeout)
        return not self._feeder.is_alive()

    def _end_child(self, timeout: float | None) -> None:
        if self.channel is not None:
            self.channel.close()
        if self.process is not None:
            self.process.join(timeout if timeout is not None else 10.0)
            if self.process.is_alive():
                self.process.kill()
                self.process.join()
            self.process.close()
            self.process = None

    def is_alive(self) -> bool:
        return self._feeder.is_alive() and self.process is not None and self.process.is_alive()

    def health(self) -> cores.Health:
        health = super().health()
        health.detail = {"tasks": self.tasks, "steals": self._scheduler.steals[self.index],
                         "pid": self.process.pid if self.process is not None else None}
        return health

    def _feed(self) -> None:
        while (item := self._scheduler.take(self.index)) is not None:
            if item.future.set_running_or_notify_cancel():
                self._call(item)
            del item
            self.tasks += 1
            self.heartbeat()

    def _call(self, item: WorkItem) -> None:
        assert self.channel is not None
        try:
            self.channel.send_message(MessageType.CALL,
                                      (item.seq, item.fn, item.args, item.kwargs))
        except (ChannelClosed, ProtocolError, OSError) as exc:
            self._broken(item, exc)
            return
        except Exception as exc:  # noqa: BLE001 - the call does not pickle: its future says so
            item.future.set_exception(exc)
            return
        try:
            msg_type, value = self.channel.recv_message()
        except (ChannelClosed, ProtocolError, OSError) as exc:
            self._broken(item, exc)
            return
        if msg_type is MessageType.REPLY:
            item.future.set_result(value[1])
        elif msg_type is MessageType.ERROR:
            item.future.set_exception(raise_remote(value))
        else:
            self._broken(item, ProtocolError(f"worker replied with a {msg_type.name} frame"))

    def _broken(self, item: WorkItem, exc: BaseException) -> None:
        """The child died (or spoke garbage): fail this call, start a new child."""
        code = None
        if self.process is not None:
            self.process.join(2.0)  # a child that died is reaped by now: its exit code
            code = self.process.exitcode
        item.future.set_exception(BrokenExecutor(
            f"process worker {self.index} died while running {item.fn!r} "
            f"(exit code {code}): {exc}"))
        self._end_child(1.0)
        self.restarts += 1
        self._spawn()


def child_main(channel: Channel, core: int | None, inherited: list[int]) -> None:
    """A process worker's main: run every CALL received, reply, until EOF."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    for fd in inherited:
        if fd != channel.fileno():
            try:
                os.close(fd)
            except OSError:
                pass
    if core is not None:
        cores.pin_current(core)
    with channel:
        while True:
            try:
                msg_type, value = channel.recv_message()
            except ChannelClosed:
                return
            if msg_type is not MessageType.CALL:
                raise ProtocolError(f"process worker received a {msg_type.name} frame")
            reply = _run_call(value)
            del value  # its shared-memory views: released with the reply
            _send_reply(channel, reply)


def _run_call(value: tuple[int, Callable[..., Any], tuple[Any, ...], dict[str, Any]]
              ) -> tuple[MessageType, Any]:
    call_id, fn, args, kwargs = value
    try:
        return MessageType.REPLY, (call_id, fn(*args, **kwargs))
    except BaseException as exc:  # noqa: BLE001 - sent back to the caller
        return MessageType.ERROR, error_value(call_id, exc)


def _send_reply(channel: Channel, reply: tuple[MessageType, Any]) -> None:
    try:
        channel.send_message(*reply)
    except ChannelClosed:
        raise
    except Exception as exc:  # noqa: BLE001 - the result does not pickle: say so instead
        channel.send_message(MessageType.ERROR, error_value(reply[1][0], exc))


__all__ = ["ProcessWorker", "ThreadWorker", "child_main", "current_worker", "run_item"]
