"""The import hook: the program's own modules come from the bytecode cache.

How it hooks in, and why this way: ``sys.meta_path``'s ``PathFinder`` walks
``sys.path`` (or a package's ``__path__``) in order and asks one finder per
directory, which it gets from ``sys.path_hooks``.  ``install`` puts a hook
first in ``sys.path_hooks`` that claims the *served* directories (under the
program's root, never the standard library, site-packages only when asked
for) and gives each a ``CachedFileFinder``: CPython's ``FileFinder`` whose
source modules load through the cache (``CachedSourceLoader`` for a hit,
``CachingSourceLoader`` for a miss).  Everything about *finding* therefore
stays CPython's own code: search order, shadowing, packages, namespace
packages, relative imports, ``importlib.invalidate_caches()``; only where
the code object comes from is ours.  A separate finder in front of ``PathFinder`` would have to re-derive
that order and would search every directory twice for every module it does
not serve (the whole standard library).

Modules keep CPython's attributes: ``__file__`` is the source,
``__cached__`` is where CPython would put the ``.pyc`` (nothing is written
there), ``__loader__`` is a ``SourceFileLoader`` subclass (``get_source``,
``importlib.resources`` and ``importlib.reload`` work), and a SyntaxError
names the source file and line as CPython's does.  Files compiled with
``dxpy build`` (``.dpm``, ``dxpy.cache.dpm``) are loaded by ``DpmLoader``.
"""

from __future__ import annotations

import marshal
import os
import sys
from importlib.machinery import (BYTECODE_SUFFIXES, EXTENSION_SUFFIXES, SOURCE_SUFFIXES,
                                 ExtensionFileLoader, FileFinder, ModuleSpec,
                                 SourceFileLoader, SourcelessFileLoader)
from stat import S_ISREG

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import CodeType
    from typing import Callable

    from .bytecode import BytecodeCache


class CachedSourceLoader(SourceFileLoader):
    """A module the cache holds: ``get_code`` unmarshals the record found at
    ``find_spec`` time.

    Why the hit is decided while *finding*: a frame of ours between
    importlib's frames would keep the interpreter from trimming them from a
    traceback (it trims a run of importlib frames that ends in
    ``_call_with_frames_removed``).  ``exec_module`` is CPython's, and by the
    time it runs the module's code our ``get_code`` has returned."""

    def __init__(self, fullname: str, path: str, payload: bytes = b"") -> None:
        super().__init__(fullname, path)
        self.payload = payload

    def get_code(self, fullname: str) -> CodeType:
        if not self.payload:  # made by someone else from the class alone: CPython's path
            return super().get_code(fullname)
        return marshal.loads(self.payload)


class CachingSourceLoader(SourceFileLoader):
    """A module the cache lacks: CPython's ``get_code`` runs, and the ``.pyc``
    it asks for comes from the cache, compiled there on the way.

    Our methods raise nothing but ``OSError`` ("no .pyc"), so a SyntaxError is
    raised by CPython's own ``source_to_code``, through importlib frames only,
    and is reported exactly as without the cache."""

    get_cache: Callable[[], BytecodeCache]  # set by ``PathHook`` on its own subclass
    _stat: os.stat_result | None = None

    def path_stats(self, path: str) -> dict[str, float]:
        st = os.stat(path)
        if path == self.path:
            self._stat = st
        return {"mtime": st.st_mtime, "size": st.st_size}

    def get_data(self, path: str) -> bytes:
        st, self._stat = self._stat, None
        if st is None or not path.endswith(BYTECODE_SUFFIXES[0]):
            return super().get_data(path)  # the source (or a real .pyc)
        try:
            return self.get_cache().pyc_for(self.path, st)
        except OSError:
            raise
        except Exception as exc:  # noqa: BLE001 - a cache problem must not fail the import
            _cache_failed(self.path, exc)
            raise OSError(str(exc)) from None


def _cache_failed(path: str, exc: Exception) -> None:
    from .config import warn_once

    warn_once("lookup", f"cache lookup failed for {path} ({exc!r}); compiling it instead")


#: platforms where ``FileFinder`` matches names case-insensitively (or lower-cases
#: suffixes): there ``CachedFileFinder`` leaves every lookup to ``FileFinder``
_CASE_FOLDING = sys.platform.startswith(("win", "cygwin", "darwin"))


class CachedFileFinder(FileFinder):
    """CPython's ``FileFinder``, plus: a source module the cache holds gets a
    ``CachedSourceLoader`` with its record (the quick check happens here).

    A plain module (``name.py``, no package or other file kind of that name in the
    directory) is found in one pass by ``_source_spec``, the steps of
    ``FileFinder.find_spec`` for that case in the same order (directory mtime,
    its listing, the first suffix present, is-it-a-file), with the file's one stat
    doubling as the cache's quick check.  Why: ``FileFinder.find_spec`` is ~60k
    instructions per module (a path join and a verbose-message call per suffix,
    two stats, ``spec_from_file_location``), more than the cache saves on loading;
    the one pass is a fifth of that.  Everything else (packages, namespace
    portions, extension modules, ``.dpm``, ``.pyc``, ``python -v``, case-folding
    platforms) goes to ``FileFinder`` itself."""

    def __init__(self, path: str, get_cache: Callable[[], BytecodeCache],
                 *details: tuple[object, list[str]]) -> None:
        super().__init__(path, *details)
        self.get_cache = get_cache
        self._source_loader = next((loader for _, loader in self._loaders
                                    if isinstance(loader, type)
                                    and issubclass(loader, CachingSourceLoader)), None)

    def find_spec(self, fullname: str, target: object = None) -> object:
        spec = self._source_spec(fullname)
        if spec is not None:
            return spec
        spec = super().find_spec(fullname, target)
        loader = spec.loader if spec is not None else None
        if isinstance(loader, CachingSourceLoader):
            try:
                payload = self.get_cache().hit(loader.path)
            except Exception as exc:  # noqa: BLE001 - degrade to compiling
                _cache_failed(loader.path, exc)
                payload = None
            if payload:
                spec.loader = CachedSourceLoader(fullname, loader.path, payload)
        return spec

    def _source_spec(self, fullname: str) -> ModuleSpec | None:
        """The spec of ``fullname`` when ``FileFinder.find_spec`` would find it as a
        plain source (or ``.dpm``) file of this directory (the spec it would make,
        with our loader); None when it would find anything else, or nothing."""
        if _CASE_FOLDING or sys.flags.verbose or self._source_loader is None:
            return None
        tail = fullname.rpartition(".")[2]
        try:
            mtime = os.stat(self.path).st_mtime
        except OSError:
            return None
        if mtime != self._path_mtime:
            self._fill_cache()
            self._path_mtime = mtime
        listing = self._path_cache
        if tail in listing:  # a package or namespace directory of that name: FileFinder's case
            return None
        for suffix, loader in self._loaders:
            if tail + suffix in listing:  # the first suffix present wins, if it is a file
                break
        else:
            return None
        if loader is not self._source_loader and loader is not dpm_loader:
            return None
        path = f"{self.path.rstrip(os.sep)}{os.sep}{tail}{suffix}"
        try:
            st = os.stat(path)
        except (OSError, ValueError):
            return None
        if not S_ISREG(st.st_mode):
            return None
        if loader is dpm_loader:  # its loader checks the file against its source itself
            spec = ModuleSpec(fullname, dpm_loader(fullname, path), origin=path)
            spec._set_fileattr = True  # __cached__: None, as importlib has for a .dpm
            return spec
        try:
            payload = self.get_cache().hit(path, st)
        except Exception as exc:  # noqa: BLE001 - degrade to compiling
            _cache_failed(path, exc)
            payload = None
        spec = ModuleSpec(fullname, CachedSourceLoader(fullname, path, payload) if payload
                          else loader(fullname, path), origin=path)
        spec._set_fileattr = True  # as spec_from_file_location: __file__, __cached__
        spec.cached = _cached_path(self.path, tail, suffix)
        return spec


#: the optimisation-level part of a ``.pyc`` name (``m.cpython-311.opt-1.pyc``)
OPTIMIZATION_TAG = "opt-"


def _cached_path(directory: str, tail: str, suffix: str) -> str | None:
    """``importlib.util.cache_from_source`` of ``directory/tail + suffix`` (what a
    module's ``__cached__`` names), without its generic path splitting; None (left
    to importlib) under ``sys.pycache_prefix`` or without a cache tag."""
    tag = sys.implementation.cache_tag
    directory = directory.rstrip(os.sep)
    if (sys.pycache_prefix is not None or tag is None or suffix.rfind(".") != 0
            or not directory):
        return None
    level = sys.flags.optimize
    optimization = f".{OPTIMIZATION_TAG}{level}" if level else ""
    return (f"{directory}{os.sep}__pycache__{os.sep}"
            f"{tail}.{tag}{optimization}{BYTECODE_SUFFIXES[0]}")


def dpm_loader(fullname: str, path: str) -> object:
    """The loader for a ``.dpm`` file; the DPM reader is imported only when one is found."""
    from .dpm_import import DpmLoader

    return DpmLoader(fullname, path)


class ServedDirectories:
    """Which directories the cache serves: under a root, not excluded."""

    def __init__(self, roots: list[str], include_site: bool) -> None:
        self.roots = [os.path.abspath(root) for root in roots]
        excluded = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.__file__)}
        site = {entry for entry in sys.path if os.path.basename(entry) in
                ("site-packages", "dist-packages")}
        if include_site:  # the venv's site-packages may sit under sys.prefix: allow it
            self.allowed = [os.path.abspath(p) for p in site]
        else:
            self.allowed = []
            excluded |= site
        self.excluded = [os.path.abspath(p) for p in excluded if p]

    def __contains__(self, path: str) -> bool:
        path = os.path.abspath(path or ".")
        if any(_under(path, allowed) for allowed in self.allowed):
            return True
        return (any(_under(path, root) for root in self.roots)
                and not any(_under(path, ex) for ex in self.excluded))


def _under(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip(os.sep) + os.sep)


class PathHook:
    """The ``sys.path_hooks`` entry: a cached ``FileFinder`` for served directories."""

    def __init__(self, served: ServedDirectories, get_cache: Callable[[], BytecodeCache],
                 with_dpm: bool = True) -> None:
        self.served = served
        self.get_cache = get_cache
        loader = type("CachingSourceLoader", (CachingSourceLoader,),
                      {"get_cache": staticmethod(get_cache)})
        details: list[tuple[type, list[str]]] = [(ExtensionFileLoader, EXTENSION_SUFFIXES)]
        if with_dpm:
            details.append((dpm_loader, [".dpm"]))
        details += [(loader, SOURCE_SUFFIXES), (SourcelessFileLoader, BYTECODE_SUFFIXES)]
        self.details = details

    def __call__(self, path: str) -> CachedFileFinder:
        if path not in self.served:
            raise ImportError("not a directory the dxpy cache serves", path=path)
        if not os.path.isdir(path or "."):
            raise ImportError("only directories are supported", path=path)
        return CachedFileFinder(path, self.get_cache, *self.details)


_installed: PathHook | None = None


def install(roots: list[str], get_cache: Callable[[], BytecodeCache],
            include_site: bool = False) -> PathHook:
    """Serve modules under ``roots`` from ``get_cache()`` (idempotent: a second call
    replaces the first hook)."""
    global _installed
    uninstall()
    hook = PathHook(ServedDirectories(roots, include_site), get_cache)
    sys.path_hooks.insert(0, hook)
    for entry in list(sys.path_importer_cache):
        if entry in hook.served:  # finders made before the hook existed: ask it again
            del sys.path_importer_cache[entry]
    _installed = hook
    return hook


def uninstall() -> None:
    """Remove the hook and the finders it made (imports go back to CPython's)."""
    global _installed
    if _installed is None:
        return
    try:
        sys.path_hooks.remove(_installed)
    except ValueError:
        pass
    for entry, finder in list(sys.path_importer_cache.items()):
        if isinstance(finder, CachedFileFinder):
            del sys.path_importer_cache[entry]
    _installed = None


def installed() -> PathHook | None:
    return _installed


__all__ = ["CachedFileFinder", "CachedSourceLoader", "PathHook", "ServedDirectories",
           "install", "installed", "uninstall"]
