"""What ``dxpy run`` does to the process before the script runs, at no import cost.

The dxpy loop becomes asyncio's policy *when asyncio is first imported*, not
before: a program that never imports asyncio never loads it, the loop, the
reactor or ssl (~50 ms of imports).  The hook is one object on
``sys.meta_path`` that answers only for the name ``asyncio``: it lets the
path finder find the real package, wraps its loader so the policy is set
right after the package body has run, and removes itself.  From the
program's side nothing differs: ``asyncio.get_event_loop_policy()`` is a
``dxpy.Policy`` from the first moment ``asyncio`` is visible to it.

Only modules already imported at interpreter start are used here (``sys``,
``os``, ``types``, ``importlib.machinery``: frozen or preloaded by CPython).
"""

from __future__ import annotations

import os
import sys
from importlib.machinery import ModuleSpec, PathFinder
from types import ModuleType

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not loaded at interpreter start everywhere
    from types import CodeType
    from typing import Any, Sequence

REACTOR_CHOICES = ("uring", "epoll")


class StartupError(Exception):
    """A configuration ``dxpy run`` refuses before running anything (exit status 2)."""


def check_reactor_choice(name: str | None) -> None:
    """Fail now, clearly, for an unknown or unavailable *forced* backend.

    Why not create a reactor as a check: that imports the reactor package and,
    for io_uring, loads the cffi extension; an unforced choice can never fail
    (epoll is the fallback), so only a forced one is worth checking."""
    choice = (name or os.environ.get("DXPY_REACTOR") or "").strip().lower()
    if choice == "":
        return
    if choice not in REACTOR_CHOICES:
        raise StartupError(f"unknown reactor backend {choice!r}: expected one of "
                           f"{REACTOR_CHOICES}")
    if choice == "uring":
        from .reactor import uring_status

        ok, why = uring_status()
        if not ok:
            raise StartupError(f"io_uring reactor requested but unavailable: {why}")


def install_policy_lazily(reactor: str | None = None) -> None:
    """Make ``dxpy.Policy(reactor)`` asyncio's policy, now if asyncio is loaded,
    else the moment it is imported."""
    if "asyncio" in sys.modules:
        _set_policy(reactor)
        return
    sys.meta_path.insert(0, AsyncioImportHook(reactor))


def _set_policy(reactor: str | None) -> None:
    from .policy import install

    install(reactor)


class AsyncioImportHook:
    """A ``sys.meta_path`` finder for the single name ``asyncio`` (see the module doc)."""

    def __init__(self, reactor: str | None) -> None:
        self.reactor = reactor

    def find_spec(self, name: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> ModuleSpec | None:
        if name != "asyncio":
            return None
        self.remove()
        spec = PathFinder.find_spec(name, path, target)
        if spec is None or spec.loader is None:
            return spec
        spec.loader = _PolicyAfterExec(spec.loader, self.reactor)
        return spec

    def remove(self) -> None:
        """Leave ``sys.meta_path`` (idempotent): the hook fires at most once."""
        try:
            sys.meta_path.remove(self)
        except ValueError:
            pass

    # importlib.invalidate_caches() calls this on every meta_path entry
    def invalidate_caches(self) -> None:
        return None


class _PolicyAfterExec:
    """The real asyncio loader, plus: set the policy once the package has run."""

    def __init__(self, loader: Any, reactor: str | None) -> None:
        self.loader = loader
        self.reactor = reactor

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        # the module's spec and __loader__ name the real loader again, as if no hook existed
        module.__spec__.loader = self.loader
        module.__loader__ = self.loader
        self.loader.exec_module(module)
        _set_policy(self.reactor)

    def __getattr__(self, name: str) -> Any:  # is_package, get_code, get_source, ...
        return getattr(self.loader, name)


def cache_program_modules(root: str) -> None:
    """Serve the program's own modules (those under ``root``) from the bytecode
    cache (``dxpy.cache``).  A cache that cannot be set up costs speed, never the run."""
    try:
        from .cache import install_for_program

        install_for_program([root])
    except Exception as exc:  # noqa: BLE001 - the program must run regardless
        from .cache.config import warn_once

        warn_once("install", f"the bytecode cache is off for this run: {exc!r}")


#: a script up to this size is compiled rather than fetched from the bytecode cache,
#: unless the cache is open already.  Why: opening the store (two modules, three files,
#: an mmap: 0.5-2 ms) costs more than compiling a one-liner, but a program with modules
#: of its own opens it anyway, and then serving its main script saves the compile
#: (0.1-0.4 ms per KiB); a main script past 1 KiB is taken to be such a program.
SMALL_SCRIPT = 1024


def script_code(path: str) -> CodeType:
    """The code object of the main script: from the bytecode cache when the cache is
    installed and the script is not small (``python`` compiles ``__main__`` on every
    run; dxpy need not), else compiled.  A script that does not compile is compiled here again, so the
    SyntaxError is the one ``compile`` raises, exactly as ``python script.py`` shows."""
    cached = _cached_script_code(path)
    if cached is not None:
        return cached
    with open(path, "rb") as source:
        return compile(source.read(), path, "exec", dont_inherit=True)


def _cached_script_code(path: str) -> CodeType | None:
    from . import cache
    from .cache import finder

    if finder.installed() is None:
        return None
    try:
        if not cache.is_open() and os.stat(path).st_size <= SMALL_SCRIPT:
            return None
        import marshal

        codes = cache.bytecode_cache()
        payload = codes.hit(path)
        if payload is None:
            payload = codes.pyc_for(path, os.stat(path))[16:]
        return marshal.loads(payload)
    except OSError:
        return None  # unreadable or does not compile: the plain path reports it
