"""dxpy's caches: compiled code that survives the process.

* ``store.py``: ``CodeStore``, the one on-disk structure (append-only data
  file + atomically replaced index, flock for writers, crc32 per record).
* ``bytecode.py`` + ``finder.py``: the program's modules as CPython code
  objects, served to the import system through a ``sys.path_hooks`` entry.
* ``dpm.py`` / ``dpm_build.py`` / ``dpm_import.py``: the DPM module format
  (``docs/dpm-format.md``), ``dxpy build``, and its loader.
* ``watcher.py`` + ``background.py``: a watchfiles task on a background dxpy
  loop that invalidates entries as sources change, and background validation.
* ``jit.py``: the persistent cache of ``@dxpy.jit`` machine code; ``objload.py``
  links its stored objects without LLVM.
* ``config.py``: directory (``DXPY_CACHE_DIR``), size cap (``DXPY_CACHE_MAX``),
  on/off (``DXPY_CACHE=0``), and the one-warning-per-problem rule.

``dxpy run`` calls ``install_for_program``; a long-running program (the
REPL, ``dxpy serve --reload``) calls ``watch`` so imports after start-up
never revalidate on the hot path.
"""

from __future__ import annotations

import os

from . import config
from .config import CacheWarning, cache_dir

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .bytecode import BytecodeCache
    from .watcher import Watcher

_cache: BytecodeCache | None = None


def bytecode_cache() -> BytecodeCache:
    """The process's bytecode cache, opened on first use (its pending entries are
    written at exit)."""
    global _cache
    if _cache is None:
        import atexit

        from .bytecode import BytecodeCache
        from .store import CodeStore

        _cache = BytecodeCache(CodeStore(os.path.join(cache_dir(), "code")))
        atexit.register(_cache.store.flush)
    return _cache


def is_open() -> bool:
    """Whether this process has opened the bytecode cache already."""
    return _cache is not None


def install_for_program(roots: list[str], include_site: bool | None = None) -> bool:
    """Serve the modules under ``roots`` from the bytecode cache; False (and
    nothing installed) when ``DXPY_CACHE=0``.  ``include_site`` (default
    ``$DXPY_CACHE_SITE``) also serves site-packages."""
    if not config.enabled():
        return False
    from . import finder

    if include_site is None:
        include_site = os.environ.get("DXPY_CACHE_SITE", "") not in ("", "0")
    finder.install(roots, bytecode_cache, include_site)
    return True


def watch(roots: list[str] | None = None) -> Watcher | None:
    """Start watching the served roots (or ``roots``) on a background dxpy loop:
    changed sources are invalidated as they change, unchanged ones are trusted
    without a stat, and a background pass hashes what start-up only stat'ed."""
    from . import finder
    from .watcher import start_watcher

    hook = finder.installed()
    if hook is None and roots is None:
        return None
    return start_watcher(bytecode_cache(), roots or hook.served.roots)


__all__ = ["CacheWarning", "bytecode_cache", "cache_dir", "install_for_program", "is_open",
           "watch"]
