"""``dxpy run --vm`` for the user's own modules: an import hook and the DPB cache.

While a ``--vm`` run is active, ``DpbFinder`` sits on ``sys.meta_path`` just
before CPython's ``PathFinder``.  It asks ``PathFinder`` where a module is
(so search order, packages, namespace packages and ``__path__`` behave
exactly as in CPython) and claims only plain source files under the
script's directory that are not in the stdlib, site-packages or dxpy
itself.  Everything else is left to CPython: the VM is opt-in for the
user's code, never for libraries.

``DpbLoader`` is a ``SourceFileLoader`` whose ``exec_module`` runs the module
body in the DPB interpreter, so ``get_source``, ``get_resource_reader``,
``is_package`` and friends stay CPython's and ``inspect``/``linecache``/
``importlib.resources`` keep working.  A module the DPB compiler refuses
raises ``DpbCompileError``; with ``fallback`` it is instead executed by the
inherited (CPython) ``exec_module`` after one line on stderr.

The cache: ``<dir>/__pycache__/<stem>.dxpy-<format version>.dpb`` is a plain
DPB file (``load``, ``dxpy dis`` read it) whose constant pool ends with one
extra, unreferenced constant, the *cache key*
``("dxpy-cache-key", BLAKE3(source bytes), BLAKE3(toolchain))`` (documented
in docs/dpb-format.md).  The toolchain digest covers the Python version and
every source file of ``dxpy/vm``: a compiler fix must never leave a stale,
wrongly compiled file in use, and hashing those ~250 KB once per process
costs about half a millisecond.  A missing, stale or corrupt cache file
(``DpbError`` from the loader, including a truncated or bit-flipped one,
which the digest catches) is recompiled silently; files are written
atomically (temporary file + ``os.replace``) so a reader never maps a
half-written file; an unwritable directory, or ``sys.dont_write_bytecode``
(``-B``, ``PYTHONDONTWRITEBYTECODE``) as for ``.pyc`` files, skips writing.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.machinery
import importlib.util
import os
import site
import sys
import sysconfig
import tempfile
import types
from dataclasses import dataclass, fields
from importlib import _bootstrap  # type: ignore[attr-defined]
from typing import Iterator, Sequence

import blake3

from dxpy.vm.compiler import compile_source
from dxpy.vm.errors import DpbCompileError, DpbError
from dxpy.vm.format import FORMAT_VERSION, DpbModule, to_bytes
from dxpy.vm.interpreter import run_module
from dxpy.vm.loader import DpbFile, load, loads

CACHE_KEY_TAG = "dxpy-cache-key"
"""First member of the cache-key constant that ends a cache file's pool."""

_VM_DIR = os.path.dirname(os.path.abspath(__file__))
_DXPY_DIR = os.path.dirname(_VM_DIR)


@dataclass
class CacheStats:
    """What ``program_for`` did, counted since the last ``reset`` (tests and curious users).

    ``compiled``: sources compiled to DPB; ``hits``: programs mapped from a
    valid cache file; ``rejected``: cache files found stale or corrupt;
    ``written``: cache files written; ``fallbacks``: modules handed to CPython.
    """

    compiled: int = 0
    hits: int = 0
    rejected: int = 0
    written: int = 0
    fallbacks: int = 0

    def reset(self) -> None:
        for field in fields(self):
            setattr(self, field.name, 0)


stats = CacheStats()


# ---- the cache ---------------------------------------------------------------
def cache_path(source: str) -> str:
    """Where the DPB cache file of ``source`` lives (beside CPython's ``.pyc``)."""
    directory, filename = os.path.split(source)
    stem = filename.rpartition(".")[0] or filename
    return os.path.join(directory, "__pycache__", f"{stem}.dxpy-{FORMAT_VERSION}.dpb")


@functools.cache
def toolchain_digest() -> bytes:
    """BLAKE3 of the Python version and every ``dxpy/vm`` source: what compiled output depends on."""
    hasher = blake3.blake3(f"{sys.version}\0{sys.implementation.cache_tag}\0".encode())
    for name in sorted(os.listdir(_VM_DIR)):
        if name.endswith(".py"):
            with open(os.path.join(_VM_DIR, name), "rb") as file:
                hasher.update(name.encode() + b"\0" + file.read() + b"\0")
    return hasher.digest()


def cache_key(source: bytes) -> tuple[str, bytes, bytes]:
    """The constant that marks a cache file as compiled from exactly ``source`` by this toolchain."""
    return (CACHE_KEY_TAG, blake3.blake3(source).digest(), toolchain_digest())


def program_for(source_path: str, source: bytes | None = None) -> DpbFile:
    """The DPB program of ``source_path``: the cache file if it is valid, else a fresh compile.

    ``source`` is the file's bytes when the caller has already read them.
    The bytes that are hashed are the bytes that are compiled, so a file
    edited meanwhile cannot be cached under the wrong key.  Raises
    ``DpbCompileError`` or ``SyntaxError`` for source the compiler refuses.
    """
    if source is None:
        with open(source_path, "rb") as file:
            source = file.read()
    key = cache_key(source)
    cached = cache_path(source_path)
    program = _read_cache(cached, key)
    if program is not None:
        stats.hits += 1
        return program
    module = compile_source(importlib.util.decode_source(source), source_path)
    stats.compiled += 1
    image = to_bytes(DpbModule(module.code, (*module.constants, key), module.names))
    if _write_cache(cached, image, source_path):
        stats.written += 1
    return loads(image, cached)


def _read_cache(path: str, key: tuple[str, bytes, bytes]) -> DpbFile | None:
    """The mapped cache file if its key matches; None when absent, stale or corrupt."""
    try:
        program = load(path)
    except DpbError as exc:
        if not isinstance(exc.__cause__, (FileNotFoundError, NotADirectoryError)):  # absent: a miss
            stats.rejected += 1
        return None
    try:
        valid = program.constant_count > 0 and program.constant(program.constant_count - 1) == key
    except DpbError:
        valid = False
    if not valid:
        stats.rejected += 1
        with contextlib.suppress(DpbError):
            program.close()
        return None
    return program


def _write_cache(path: str, image: bytes, source_path: str) -> bool:
    """Atomically replace ``path`` with ``image``; False (and nothing left behind) if that fails."""
    if sys.dont_write_bytecode:
        return False
    directory = os.path.dirname(path)
    try:
        os.makedirs(directory, exist_ok=True)
        mode = os.stat(source_path).st_mode & 0o666
        descriptor, temporary = tempfile.mkstemp(prefix=".dxpy-", suffix=".tmp", dir=directory)
    except OSError:
        return False
    try:
        with os.fdopen(descriptor, "wb") as file:
            os.fchmod(file.fileno(), mode)
            file.write(image)
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        return False
    return True


# ---- the import hook ---------------------------------------------------------
class DpbLoader(importlib.machinery.SourceFileLoader):
    """Executes a user module in the DPB VM; every other loader method is CPython's."""

    def __init__(self, fullname: str, path: str, fallback: bool) -> None:
        super().__init__(fullname, path)
        self.fallback = fallback

    def exec_module(self, module: types.ModuleType) -> None:
        """Run the module body in the VM (or, refused with ``fallback``, on CPython).

        The work goes through importlib's ``_call_with_frames_removed`` and
        this loader's own traceback entries are dropped, so CPython's import
        machinery trims the importlib frames from a failing import as it
        does for ``.py`` files: tracebacks show the importer, then the
        module's own lines.
        """
        try:
            _bootstrap._call_with_frames_removed(self._execute, module)
        except BaseException as exc:
            exc.__traceback__ = _without_vm_frames(exc.__traceback__)
            raise

    def _execute(self, module: types.ModuleType) -> None:
        try:
            program = program_for(self.path, self.get_data(self.path))
        except DpbCompileError as exc:
            if not self.fallback:
                raise
            stats.fallbacks += 1
            print(f"dxpy: {exc}; importing {self.name} on CPython instead", file=sys.stderr)
            super().exec_module(module)
            return
        run_module(program, module.__dict__, filename=self.path)


def _without_vm_frames(tb: types.TracebackType | None) -> types.TracebackType | None:
    """``tb`` without the VM's own entries (this loader, the compiler); the entries the
    interpreter makes for VM code name the user's files and stay, as do library frames."""
    kept = []
    while tb is not None:
        if not _within(os.path.abspath(tb.tb_frame.f_code.co_filename), _VM_DIR):
            kept.append(tb)
        tb = tb.tb_next
    result = None
    for entry in reversed(kept):
        result = types.TracebackType(result, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    return result


class DpbFinder:
    """A ``sys.meta_path`` finder claiming the user's own source modules under ``root``."""

    def __init__(self, root: str, fallback: bool) -> None:
        self.root = os.path.realpath(root)
        self.fallback = fallback
        self._excluded = _library_dirs()

    def find_spec(self, fullname: str, path: Sequence[str] | None = None,
                  target: types.ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        """The spec CPython would use, with our loader, if the module is the user's; else None."""
        found = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if (found is None or type(found.loader) is not importlib.machinery.SourceFileLoader
                or not self.owns(found.origin)):
            return None
        spec = importlib.util.spec_from_file_location(
            fullname, found.origin, loader=DpbLoader(fullname, found.origin, self.fallback),
            submodule_search_locations=found.submodule_search_locations)
        spec.cached = cache_path(found.origin)
        return spec

    def owns(self, origin: str) -> bool:
        """Is ``origin`` under the root and outside every library directory?"""
        real = os.path.realpath(origin)
        return _within(real, self.root) and not any(_within(real, lib) for lib in self._excluded)

    def invalidate_caches(self) -> None:
        """Nothing of ours to drop: directory listings are ``PathFinder``'s, which importlib clears."""


def _within(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip(os.sep) + os.sep)


def _library_dirs() -> list[str]:
    """Directories whose modules are never the user's: stdlib, site-packages, dxpy itself."""
    paths: set[str] = {_DXPY_DIR}
    for name in ("stdlib", "platstdlib", "purelib", "platlib"):
        with contextlib.suppress(KeyError):
            paths.add(sysconfig.get_path(name))
    with contextlib.suppress(AttributeError):  # virtualenv's old site.py lacks these
        paths.update(site.getsitepackages())
        paths.add(site.getusersitepackages())
    return sorted({os.path.realpath(path) for path in paths if path})


@contextlib.contextmanager
def installed(root: str, fallback: bool) -> Iterator[DpbFinder]:
    """Put a ``DpbFinder`` for ``root`` on ``sys.meta_path`` for the duration of the block.

    It goes just before ``PathFinder`` so built-in and frozen modules keep
    precedence, as they do over source files in CPython.

    The list is rebound, never changed in place: an import running in another
    thread iterates the old list, and an in-place removal would make it skip
    the finder after ours.
    """
    finder = DpbFinder(root, fallback)
    entries = list(sys.meta_path)
    kinds = [entry is importlib.machinery.PathFinder for entry in entries]
    entries.insert(kinds.index(True) if True in kinds else len(entries), finder)
    sys.meta_path = entries
    try:
        yield finder
    finally:
        sys.meta_path = [entry for entry in sys.meta_path if entry is not finder]

