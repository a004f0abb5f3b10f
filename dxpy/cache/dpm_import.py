"""``DpmLoader``: importing ``.dpm`` files (``dxpy build``'s output).

The import hook's finder (``finder.py``) looks for ``name.dpm`` before
``name.py`` in every directory it serves, so a built tree runs from its DPM
files.  A DPM file beside its source must still describe that source: when
the source's size and mtime differ from what the DPM recorded, its BLAKE3
hash decides; a stale, damaged, truncated or foreign DPM file is reported
once (``CacheWarning``), rebuilt from the source where the directory is
writable, and the module runs from the source meanwhile.  Without a source
to fall back on, such a file is a ``DpmError`` (an ``ImportError`` naming the
file and the problem).
"""

from __future__ import annotations

import marshal
import os
from importlib.machinery import SourcelessFileLoader

from . import config, dpm

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import CodeType


def sibling_source(path: str) -> str:
    """``pkg/mod.dpm`` -> ``pkg/mod.py``."""
    return os.path.splitext(path)[0] + ".py"


class DpmLoader(SourcelessFileLoader):
    """Loads a module's code from its DPM file (``__file__`` is the ``.dpm``)."""

    def get_code(self, fullname: str) -> CodeType:
        source = sibling_source(self.path)
        has_source = os.path.exists(source)
        try:
            module = dpm.read(self.path)
            engine, code = module.code()
            if engine != dpm.ENGINE:
                raise dpm.DpmError(self.path, f"compiled for {engine}, this is {dpm.ENGINE}")
            if has_source and not _describes(module, source):
                raise dpm.DpmError(self.path, f"stale: {source} changed since it was built")
            return marshal.loads(code)
        except (dpm.DpmError, OSError, ValueError, EOFError) as exc:
            if not has_source:
                if isinstance(exc, dpm.DpmError):
                    raise
                raise dpm.DpmError(self.path, f"unreadable ({exc})") from exc
            config.warn_once(f"dpm:{self.path}", f"{exc}; rebuilt from {source}")
            return _rebuild(self.path, source, fullname)

    def get_source(self, fullname: str) -> str | None:
        source = sibling_source(self.path)
        if not os.path.exists(source):
            return None
        with open(source, "rb") as f:
            from importlib.util import decode_source

            return decode_source(f.read())


def _describes(module: dpm.DpmFile, source: str) -> bool:
    """Quick check (size + mtime), then the BLAKE3 hash, of ``source`` against the DPM."""
    _, _, size, mtime_ns, digest = module.meta()
    st = os.stat(source)
    if (st.st_size, st.st_mtime_ns) == (size, mtime_ns):
        return True
    with open(source, "rb") as f:
        return dpm.source_hash(f.read()) == digest


def _rebuild(path: str, source: str, fullname: str) -> CodeType:
    """Compile ``source`` (the code returned), and rewrite ``path`` if the directory lets us."""
    from .dpm_build import compile_module, write_atomic

    module, _ = compile_module(source, fullname)
    try:
        write_atomic(path, dpm.to_bytes(module))
    except OSError as exc:
        config.write_failed(path, exc)
    return marshal.loads(module.code)
