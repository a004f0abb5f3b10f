"""``dxpy repl`` (and ``dxpy`` alone): an interactive console on a dxpy loop
with top-level ``await``, as ``python -m asyncio`` offers on the default loop.

Threads: the loop runs forever on a background thread, so tasks started at
the prompt (a server, a ticker) keep running while the console waits for
input; the console (``input()``, readline history and completion) stays on
the main thread, where SIGINT lands.  Each statement is compiled with
``PyCF_ALLOW_TOP_LEVEL_AWAIT`` and *executed on the loop's thread*: plain
statements inside a loop callback (so ``asyncio.get_running_loop()`` works),
statements that await as a task.  Ctrl-C while a statement runs interrupts
the main thread's wait; the console then cancels the statement's task and
prints ``KeyboardInterrupt``, and the prompt comes back with the loop and
its other tasks untouched.  Ctrl-C at the prompt discards the line, Ctrl-D
exits.  A statement that computes without awaiting cannot be interrupted
(Python delivers KeyboardInterrupt only to the main thread).

SIGINT is CPython's: the interpreter installs its KeyboardInterrupt handler at
start-up only if SIGINT's disposition was the default, so a console started
with SIGINT ignored (``nohup``, a shell's background job, ``trap '' INT``)
keeps ignoring Ctrl-C, exactly as ``python -i`` does.  The console never
re-enables it behind the user's back; tests start it with the default
disposition (``tests/test_repl.py``).

Modules imported at the prompt from the current directory come from the
bytecode cache, and a watcher on the runtime's service pool invalidates them
as they change (``dxpy.cache.watch``), so ``importlib.reload`` after an edit
never stats or hashes on the prompt's thread.
"""

from __future__ import annotations

import ast
import asyncio
import builtins
import code
import concurrent.futures
import inspect
import os
import sys
import threading
import traceback
import types
from typing import Any

from . import __version__
from .loop import Loop

_HISTORY = "~/.dxpy_history"


class AsyncConsole(code.InteractiveConsole):
    """An ``InteractiveConsole`` whose code runs on ``loop`` (another thread)."""

    def __init__(self, loop: Loop, namespace: dict[str, Any]) -> None:
        super().__init__(namespace, filename="<stdin>")
        self.compile.compiler.flags |= ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
        self.loop = loop

    def runcode(self, code_object: types.CodeType) -> None:
        result: concurrent.futures.Future = concurrent.futures.Future()
        tasks: list[asyncio.Task] = []
        self.loop.call_soon_threadsafe(self._start, code_object, result, tasks)
        try:
            self._wait(result, tasks)
        except SystemExit:
            raise
        except KeyboardInterrupt:
            self.write("KeyboardInterrupt\n")
        except BaseException as exc:  # noqa: BLE001 - shown like the stdlib console
            self._show(exc)

    def _start(self, code_object: types.CodeType, result: concurrent.futures.Future,
               tasks: list[asyncio.Task]) -> None:
        """On the loop's thread: run the statement, or start it as a task."""
        try:
            value = types.FunctionType(code_object, self.locals)()
        except BaseException as exc:  # noqa: BLE001 - handed to the console thread
            result.set_exception(exc)
            return
        if not inspect.iscoroutine(value):
            result.set_result(value)
            return
        task = self.loop.create_task(value)
        tasks.append(task)
        task.add_done_callback(lambda done: _copy_outcome(done, result))

    def _wait(self, result: concurrent.futures.Future, tasks: list[asyncio.Task]) -> None:
        """Wait for the statement; on Ctrl-C cancel it, wait for it to unwind,
        and report the interrupt."""
        try:
            result.result()
        except KeyboardInterrupt:
            if tasks:
                self.loop.call_soon_threadsafe(tasks[0].cancel)
            concurrent.futures.wait([result])
            raise

    def _show(self, exc: BaseException) -> None:
        """Print the traceback from the user's first frame on, as ``python`` does."""
        tb = exc.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename != self.filename:
            tb = tb.tb_next
        exc.__traceback__ = tb or exc.__traceback__
        sys.last_type, sys.last_value, sys.last_traceback = type(exc), exc, exc.__traceback__
        self.write("".join(traceback.format_exception(exc)))


def _copy_outcome(task: asyncio.Task, result: concurrent.futures.Future) -> None:
    if task.cancelled():
        result.set_exception(KeyboardInterrupt())
    elif task.exception() is not None:
        result.set_exception(task.exception())
    else:
        result.set_result(task.result())


def banner(loop: Loop) -> str:
    return (f"dxpy {__version__} REPL on the {loop.reactor.backend} reactor "
            f"(Python {sys.version.split()[0]} on {sys.platform})\n"
            'Use "await" directly instead of "asyncio.run()".\n'
            'Type "help", "copyright", "credits" or "license" for more information.')


def _setup_readline(namespace: dict[str, Any]) -> str | None:
    """History in ~/.dxpy_history and tab completion, where readline exists."""
    try:
        import readline
        import rlcompleter
    except ImportError:
        return None
    readline.set_completer(rlcompleter.Completer(namespace).complete)
    readline.parse_and_bind("tab: complete")
    history = os.path.expanduser(_HISTORY)
    try:
        readline.read_history_file(history)
    except OSError:
        pass
    return history


def _save_history(history: str | None) -> None:
    if history is None:
        return
    import readline

    try:
        readline.write_history_file(history)
    except OSError:
        pass


def _run_loop(loop: Loop, ready: threading.Event) -> None:
    asyncio.set_event_loop(loop)
    loop.call_soon(ready.set)
    try:
        loop.run_forever()
    finally:
        _cancel_all(loop)
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


def _cancel_all(loop: Loop) -> None:
    tasks = asyncio.all_tasks(loop)
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))


def _cache_and_watch(directory: str) -> None:
    """Serve ``directory``'s modules from the cache and watch it (not ``/`` or the home
    directory: a recursive watch of those costs more than it could save)."""
    from .startup import cache_program_modules

    cache_program_modules(directory)
    if directory not in (os.path.abspath(os.sep), os.path.expanduser("~")):
        from .cache import watch

        watch([directory])


def run_repl(reactor: str | None = None) -> int:
    """Run the console until Ctrl-D or ``exit()``; return the exit status."""
    loop = Loop(reactor)
    ready = threading.Event()
    thread = threading.Thread(target=_run_loop, args=(loop, ready), name="dxpy-loop",
                              daemon=True)
    thread.start()
    ready.wait()
    import dxpy

    namespace = {"__name__": "__main__", "__builtins__": builtins, "asyncio": asyncio,
                 "dxpy": dxpy}
    history = _setup_readline(namespace)
    _cache_and_watch(os.getcwd())
    console = AsyncConsole(loop, namespace)
    status = 0
    try:
        console.interact(banner=banner(loop), exitmsg="exiting dxpy REPL...")
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        _save_history(history)
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
    return status
