"""The ``dxpy`` command: ``run`` a script on the dxpy loop, ``repl``, ``info``, ``--version``.

``dxpy`` alone (or ``dxpy repl``) opens an interactive console on a dxpy loop
with top-level ``await`` (see ``dxpy.repl``).

``dxpy run script.py args...`` behaves as ``python script.py args...`` does
(``sys.argv``, ``__main__``, ``sys.path[0]``, exit status, traceback), with
``dxpy.Policy()`` installed as asyncio's event loop policy the moment the
program imports asyncio (``dxpy.startup``), so every
``asyncio.run()``/``new_event_loop()`` in the program gets a dxpy loop.

Start-up rule for everyone editing this file: ``dxpy run`` must start as fast
as ``python`` (``benchmarks/startup_bench.py``), so this module imports only
``os`` and ``sys`` at the top.  Everything else (argparse, the loop, the
reactor, the VM, the JIT, traceback, platform) is imported inside the
function that needs it; ``dxpy run`` with ordinary options never builds the
argparse parser (``_parse_run_quickly``; help and errors still go through
argparse).  ``tests/test_startup.py`` checks what ``dxpy run`` of an empty
script has imported.
"""

from __future__ import annotations

import os
import sys
from types import SimpleNamespace

from . import __version__

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from types import TracebackType
    from typing import Callable, Sequence

#: ``dxpy run``'s on/off options: flag -> (attribute, help).  Both the quick
#: parser and argparse read this table.
RUN_FLAGS = {
    "--vm": ("vm", "run the script through the dxpy VM (DPB bytecode; slower than CPython)"),
    "--fallback": ("fallback", "with --vm: run on CPython instead when the DPB compiler "
                               "refuses the script"),
    "--jit-stats": ("jit_stats", "at exit, print on stderr which functions the JIT compiled, "
                                 "at which tier, their deopts and compile time"),
}
REACTOR_CHOICES = ("uring", "epoll")


def _parser() -> argparse.ArgumentParser:
    import argparse

    parser = argparse.ArgumentParser(prog="dxpy", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"dxpy {__version__}")
    commands = parser.add_subparsers(dest="command")
    run = commands.add_parser("run", help="run a Python script (or -m module) on the dxpy loop")
    run.add_argument("--reactor", choices=REACTOR_CHOICES,
                     help="force a reactor backend (default: best available, or $DXPY_REACTOR)")
    run.add_argument("-m", dest="module", help="run a library module as a script")
    for flag, (dest, text) in RUN_FLAGS.items():
        run.add_argument(flag, dest=dest, action="store_true", help=text)
    run.add_argument("target", nargs="?", help="the script to run")
    run.add_argument("args", nargs=argparse.REMAINDER, help="arguments for the script")
    commands.add_parser("info", help="show the active reactor backend and why")
    build = commands.add_parser("build", help="compile a package tree (or a .py file) to DPM "
                                              "module files that dxpy run loads")
    build.add_argument("path", help="a package directory or a .py file")
    build.add_argument("-o", dest="output",
                       help="write the tree of .dpm files here (default: beside the sources)")
    commands.add_parser("serve", add_help=False,  # parsed by dxpy.serve.main (see main())
                        help="serve an ASGI app ('module:app') on dxpy loops; "
                             "see dxpy serve --help")
    dis = commands.add_parser("dis", help="list the DPB bytecode of a .py or .dpb file")
    dis.add_argument("path", help="a Python source file, or a .dpb file")
    dis.add_argument("--annotated", action="store_true",
                     help="run the program in the VM first (its output goes to stderr) and show the "
                          "recorded profile: calls, type feedback, inline caches, branch counts")
    compile_ = commands.add_parser("compile", help="compile a Python source file to DPB")
    compile_.add_argument("source", help="the .py file")
    compile_.add_argument("-o", dest="output", help="output path (default: beside it, .dpb)")
    repl = commands.add_parser("repl", help="interactive console with top-level await "
                                            "(the default command)")
    repl.add_argument("--reactor", choices=("uring", "epoll"),
                      help="force a reactor backend (default: best available, or $DXPY_REACTOR)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``dxpy`` console script."""
    args = sys.argv[1:] if argv is None else list(argv)
    if args[:1] == ["serve"]:
        from .serve.main import main as serve_main  # the server only when it is asked for
        return serve_main(args[1:])
    options = _parse_run_quickly(args[1:]) if args[:1] == ["run"] else None
    if options is None:
        options = _parser().parse_args(args)
    if options.command == "run":
        if options.jit_stats:
            return _run_with_jit_stats(options)
        return _run(options)
    if options.command == "info":
        print(info())
        return 0
    if options.command == "build":
        return _build(options.path, options.output)
    if options.command in ("dis", "compile"):
        return _vm_tool(options)
    return _repl(getattr(options, "reactor", None))


def _repl(reactor: str | None) -> int:
    from .reactor import ReactorError
    from .repl import run_repl  # readline and friends only when a console is wanted

    try:
        return run_repl(reactor)
    except ReactorError as exc:
        print(f"dxpy: {exc}", file=sys.stderr)
        return 2


# ---- dxpy build -------------------------------------------------------------
def _build(path: str, output: str | None) -> int:
    """``dxpy build``: one line per file written, unresolved imports on stderr."""
    from .cache.dpm_build import build_tree

    if not os.path.exists(path):
        print(f"dxpy: build: no such file or directory: {path!r}", file=sys.stderr)
        return 2
    try:
        report = build_tree(path, output)
    except (SyntaxError, OSError, ValueError) as exc:
        print(f"dxpy: build: {exc}", file=sys.stderr)
        return 1
    for written in report.written:
        print(written)
    for problem in report.problems:
        print(f"dxpy: build: warning: {problem}", file=sys.stderr)
    return 0


# ---- dxpy dis / dxpy compile ------------------------------------------------
def _vm_tool(options: argparse.Namespace) -> int:
    """``dis`` and ``compile``; the VM is imported only when one is asked for."""
    from .vm import dis as vm_dis
    from .vm.errors import DpbCompileError, DpbError

    try:
        if options.command == "dis":
            with vm_dis.open_program(options.path) as program:
                listing = (vm_dis.run_annotated(program, options.path) if options.annotated
                           else vm_dis.disassemble(program))
                print(listing, end="")
        else:
            print(vm_dis.compile_to_file(options.source, options.output))
    except (DpbError, DpbCompileError, SyntaxError, OSError) as exc:
        print(f"dxpy: {exc}", file=sys.stderr)
        return 1
    return 0


# ---- dxpy info ------------------------------------------------------------
def info() -> str:
    """A human-readable report of the runtime's configuration."""
    import platform

    from .ipc import atomics
    from .reactor import ReactorError, create_reactor, uring_status

    ok, why = uring_status()
    forced = os.environ.get("DXPY_REACTOR")
    try:
        reactor = create_reactor()
        active = reactor.backend
        features = getattr(reactor, "features", lambda: {})()
        file_io = _file_io_line(reactor)
        reactor.close()
    except ReactorError as exc:
        active, features, file_io = f"none ({exc})", {}, "thread pool (no reactor)"
    reason = (f"forced by DXPY_REACTOR={forced}" if forced
              else "io_uring available" if ok else f"io_uring unavailable: {why}")
    lines = [
        f"dxpy {__version__}",
        f"python: {platform.python_implementation()} {platform.python_version()}",
        f"platform: {platform.system()} {platform.release()} ({platform.machine()})",
        f"reactor: {active} ({reason})",
        f"io_uring: {'yes' if ok else 'no'} ({why})",
        f"loop core: {_core_line()}",
        f"file I/O: {file_io}",
        f"SIMD engine: {_simd_line()}",
        "Entangled writes: " + ("atomic (16-byte CAS, dxpy.ipc._atomics)" if atomics.AVAILABLE
                                else f"lock protocol ({atomics.WHY_NOT})"),
        "execution engine: CPython bytecode; `dxpy run --vm` runs the script and its own modules "
        "in the DPB VM (opt-in, slower than CPython) with JIT tiers for hot functions and loops "
        f"(DXPY_JIT={os.environ.get('DXPY_JIT') or 'on'}); `@dxpy.jit` compiles a function directly",
    ]
    if features:
        lines.append("io_uring features: " + ", ".join(
            f"{name}={value}" for name, value in features.items()))
    return "\n".join(lines)


def _simd_line() -> str:
    """The dxpy.simd engine in force (DXPY_SIMD), or why none could be chosen."""
    try:
        from .simd import engine, front, list_front
        return (f"{engine()}; small calls: strings {front.implementation()}, "
                f"SimdList {list_front.implementation()}")
    except RuntimeError as exc:  # SimdError: DXPY_SIMD names an unknown or unbuilt engine
        return f"none ({exc})"


def _core_line() -> str:
    """Which loop core new loops get (``DXPY_CORE``), and whether the compiled one was built."""
    from .core import compiled_status, resolve

    built, why = compiled_status()
    forced = os.environ.get("DXPY_CORE")
    try:
        active = resolve()
    except (ValueError, RuntimeError) as exc:
        return f"none ({exc})"
    reason = f"forced by DXPY_CORE={forced}" if forced else (
        "the default" if built else f"fallback: {why}")
    return f"{active} ({reason})" + ("" if built else "; compiled: not built")


def _file_io_line(reactor: object) -> str:
    """Where ``dxpy.aio`` does its work with this reactor (the rule of
    ``dxpy.aio.ops_for``): reactor operations where submissions batch."""
    if getattr(reactor, "batches_submissions", False):
        return ("io_uring ops (OPENAT/READ/WRITE/STATX/FSYNC/CLOSE; large reads in offloaded "
                "parts; sendfile by SPLICE; many path calls at once batched on the pool; "
                "stat/rename/unlink from the dentry cache on the loop's thread)")
    return f"thread pool ({getattr(reactor, 'backend', '?')} backend: epoll cannot wait for files)"


# ---- dxpy run -------------------------------------------------------------
def _parse_run_quickly(args: list[str]) -> SimpleNamespace | None:
    """``dxpy run``'s arguments without argparse (~4 ms of imports), or None when
    argparse must decide: ``-h``, an unknown option, ``--opt=value``, a missing value.
    Same result as argparse: options first, then the target, the rest verbatim."""
    values: dict[str, object] = {dest: False for dest, _ in RUN_FLAGS.values()}
    values.update(command="run", reactor=None, module=None, target=None, args=[])
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in RUN_FLAGS:
            values[RUN_FLAGS[arg][0]] = True
        elif arg in ("--reactor", "-m"):
            if i + 1 == len(args) or args[i + 1].startswith("-") or (
                    arg == "--reactor" and args[i + 1] not in REACTOR_CHOICES):
                return None
            values["reactor" if arg == "--reactor" else "module"] = args[i + 1]
            i += 1
        elif arg.startswith("-"):
            return None
        else:
            values["target"], values["args"] = arg, args[i + 1:]
            break
        i += 1
    return SimpleNamespace(**values)


def _usage_error(message: str) -> None:
    """argparse's usage line and ``dxpy: error: ...``, exit status 2."""
    _parser().error(message)


def _run_with_jit_stats(options: SimpleNamespace) -> int:
    """``--jit-stats``: the run, then the JIT's table on stderr (also after ``sys.exit``)."""
    from .jit.report import print_report  # imported first: the run registers into it

    try:
        return _run(options)
    finally:
        print_report(sys.stderr)


def _run(options: SimpleNamespace) -> int:
    """``dxpy run``: check, prepare the process (``dxpy.startup``), run the program."""
    if options.module is None and options.target is None:
        _usage_error("run: give a script path or -m module")
    if options.module is not None and options.target is not None:
        options.args.insert(0, options.target)
    if options.fallback and not options.vm:
        _usage_error("run: --fallback only applies with --vm")
    if options.vm and options.module is not None:
        _usage_error("run: --vm runs a script path, not -m module")
    from .startup import (StartupError, cache_program_modules, check_reactor_choice,
                          install_policy_lazily)
    try:
        check_reactor_choice(options.reactor)
    except StartupError as exc:
        print(f"dxpy: {exc}", file=sys.stderr)
        return 2
    install_policy_lazily(options.reactor)
    if options.module is not None:
        import runpy

        sys.argv = [options.module, *options.args]
        cache_program_modules(os.getcwd())
        return _execute(lambda: runpy.run_module(options.module, run_name="__main__",
                                                 alter_sys=True), None)
    script = options.target
    if not os.path.exists(script):
        print(f"dxpy: can't open file {os.path.abspath(script)!r}: "
              f"[Errno 2] No such file or directory", file=sys.stderr)
        return 2
    sys.argv = [script, *options.args]
    script = os.path.abspath(script)  # as CPython: __file__ and tracebacks name the full path
    sys.path[0] = os.path.dirname(script)
    if script.endswith(".dpb"):  # as `python file.pyc`: DPB bytecode, run by the VM
        return _run_dpb(script)
    if options.vm:
        return _run_on_vm(script, options.fallback)
    cache_program_modules(sys.path[0])
    return _execute(lambda: _run_path(script), script)


def _run_path(script: str) -> None:
    """Run ``script`` in a fresh ``__main__`` exactly as ``python script.py`` sets it
    up (``__spec__`` None, a ``SourceFileLoader``, ``__cached__`` None), not as
    ``runpy.run_path`` does (which swaps ``__main__`` back afterwards); its code
    comes from the bytecode cache (``dxpy.startup.script_code``)."""
    import builtins
    from importlib.machinery import SourceFileLoader
    from types import ModuleType

    from .startup import script_code

    code = script_code(script)
    main = ModuleType("__main__")
    main.__loader__ = SourceFileLoader("__main__", script)
    main.__dict__.update(__annotations__={}, __builtins__=builtins, __file__=script,
                         __cached__=None)
    sys.modules["__main__"] = main
    exec(code, main.__dict__)


def _run_dpb(path: str) -> int:
    """``dxpy run file.dpb``: a corrupt or foreign file is one ``DpbError`` line, exit status 1."""
    from .vm.errors import DpbError
    from .vm.runner import dpb_runner
    try:
        body = dpb_runner(path)
    except DpbError as exc:
        import traceback

        traceback.print_exception(exc.with_traceback(None))
        return 1
    return _execute(body, None)  # its frames name the source file compiled from, not `path`


def _run_on_vm(script: str, fallback: bool) -> int:
    """``dxpy run --vm``: compile first (refusals reported without a traceback), then run."""
    from .vm.errors import DpbCompileError
    from .vm.runner import script_runner
    try:
        body = script_runner(script, fallback)
    except DpbCompileError as exc:
        print(f"dxpy: {exc} (use --fallback to run it on CPython)", file=sys.stderr)
        return 1
    except SyntaxError as exc:
        _print_user_traceback(exc, script)
        return 1

    def body_refusing_modules() -> None:
        """A user module the compiler refuses at import time ends the run as the script would."""
        try:
            body()
        except DpbCompileError as exc:
            print(f"dxpy: {exc} (use --fallback to run it on CPython)", file=sys.stderr)
            raise SystemExit(1) from None
    return _execute(body_refusing_modules, script)


def _execute(body: Callable[[], object], script: str | None) -> int:
    """Run ``body`` as the main program; report errors as CPython would."""
    try:
        body()
    except SystemExit:
        raise
    except KeyboardInterrupt as exc:
        _print_user_traceback(exc, script)
        _die_of_sigint()
    except BaseException as exc:  # noqa: BLE001 - this is the top level
        _print_user_traceback(exc, script)
        return 1
    return 0


def _print_user_traceback(exc: BaseException, script: str | None) -> None:
    """Print the traceback without dxpy's and runpy's own frames (none at all
    for a SyntaxError in the script itself, as CPython prints it)."""
    own_syntax_error = (isinstance(exc, SyntaxError) and script is not None and exc.filename
                        and os.path.abspath(exc.filename) == os.path.abspath(script))
    exc.__traceback__ = None if own_syntax_error else _user_frames(exc.__traceback__, script)
    import traceback

    traceback.print_exception(exc)
    sys.stderr.flush()


def _user_frames(tb: TracebackType | None, script: str | None) -> TracebackType | None:
    import runpy

    internal = (os.path.dirname(os.path.abspath(__file__)), os.path.dirname(runpy.__file__))
    first = tb
    while first is not None:
        filename = first.tb_frame.f_code.co_filename
        if script is not None and os.path.abspath(filename) == os.path.abspath(script):
            return first
        if script is None and not filename.startswith(internal) and "<frozen" not in filename:
            return first
        first = first.tb_next
    return tb


def _die_of_sigint() -> None:
    """Exit as CPython does on an uncaught KeyboardInterrupt: killed by SIGINT."""
    import signal

    sys.stdout.flush()
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGINT)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
