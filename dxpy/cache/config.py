"""Where the caches live, how big they may grow, and how they complain.

Every cache under ``dxpy/cache/`` shares these rules:

* **One directory**: ``$DXPY_CACHE_DIR``, else ``$XDG_CACHE_HOME/dxpy``, else
  ``~/.cache/dxpy`` (the platform cache directory on Linux).  ``DXPY_CACHE=0``
  turns every cache off.
* **One size cap**: ``DXPY_CACHE_MAX`` (bytes, or with a ``K``/``M``/``G``
  suffix; default 256M) bounds the JIT code cache, which evicts least
  recently used entries, and triggers compaction of the bytecode store.
* **Degrade, never fail**: a cache that cannot be read or written (read-only
  or full disk, damaged files, a file some other program wrote) costs the
  program its speed-up, never its run.  Each distinct problem is reported
  once per process as a ``CacheWarning``.

Only modules loaded at interpreter start are imported here: this runs on
``dxpy run``'s start-up path.
"""

from __future__ import annotations

import os
import sys

DEFAULT_MAX_BYTES = 256 * 1024 * 1024
_UNITS = {"": 1, "K": 1024, "M": 1024 ** 2, "G": 1024 ** 3}
_warned: set[str] = set()


class CacheWarning(RuntimeWarning):
    """A cache was unusable and is being skipped or rebuilt (the program goes on)."""


def enabled() -> bool:
    """False when ``DXPY_CACHE=0`` (or ``off``/``no``/``false``)."""
    return os.environ.get("DXPY_CACHE", "1").strip().lower() not in ("0", "off", "no", "false")


def cache_dir() -> str:
    """The cache directory (not created here: writers create it when they first write)."""
    explicit = os.environ.get("DXPY_CACHE_DIR")
    if explicit:
        return os.path.abspath(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "dxpy")


def max_bytes() -> int:
    """``DXPY_CACHE_MAX`` in bytes; a malformed value is reported once and the default used."""
    text = os.environ.get("DXPY_CACHE_MAX", "").strip().upper()
    if not text:
        return DEFAULT_MAX_BYTES
    number, unit = (text[:-1], text[-1]) if text[-1] in "KMG" else (text, "")
    try:
        value = int(float(number) * _UNITS[unit])
    except ValueError:
        warn_once("max", f"DXPY_CACHE_MAX={text!r} is not a size (like 512M); "
                         f"using {DEFAULT_MAX_BYTES // 1024 ** 2}M")
        return DEFAULT_MAX_BYTES
    return max(value, 0)


def warn_once(problem: str, message: str) -> None:
    """Report ``message`` as a ``CacheWarning`` unless ``problem`` was reported already."""
    if problem in _warned:
        return
    _warned.add(problem)
    import warnings

    # explicit location: the line of dxpy that noticed is of no use to the user
    warnings.warn_explicit(f"dxpy cache: {message}", CacheWarning, "<dxpy cache>", 0)


def ensure_dir(path: str) -> bool:
    """Create ``path`` (and parents) if needed; False, with one warning, if impossible."""
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        warn_once(f"mkdir:{path}", f"cannot create {path} ({exc.strerror}); caching is off")
        return False
    return True


def write_failed(path: str, exc: OSError) -> None:
    """One warning for a cache file that cannot be written (read-only or full disk, ...)."""
    warn_once(f"write:{os.path.dirname(path)}",
              f"cannot write {path} ({exc.strerror or exc}); this run is not cached")


IMPLEMENTATION_TAG = f"{sys.implementation.cache_tag}-o{sys.flags.optimize}"
