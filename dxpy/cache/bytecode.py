"""CPython code objects for source files, through a ``CodeStore``.

``pyc_for(path, st)`` is what the import hook's loader asks: the module's
code, from the store when the source's stamp still matches (quick check),
else by hashing the source (full check: a touched or reverted file finds
its old record), else compiled and added.  Records are ``marshal`` dumps,
keyed by BLAKE3 of the kind tag (implementation, optimisation level,
format), the path and the source bytes, so one Python version's code is never
handed to another, nor one file's code (its co_filename) to another file.
"""

from __future__ import annotations

import marshal
import os
from importlib.util import MAGIC_NUMBER

from . import config
from .store import CodeStore, Stamp, stamp_of, trustworthy

KIND = f"py-{config.IMPLEMENTATION_TAG}"
FLUSH_EVERY = 512


def content_key(kind: str, path: str, source: bytes) -> bytes:
    """The BLAKE3 key of ``source`` at ``path`` compiled as ``kind``.  The path is
    in it because a code object carries its file name (tracebacks, ``inspect``):
    two files with equal content must not share one."""
    from blake3 import blake3

    return blake3(kind.encode() + b"\0" + os.fsencode(path) + b"\0" + source).digest()


class BytecodeCache:
    """Code objects per source path, validated as cheaply as it is safe to.

    ``trusted`` holds paths a file watcher vouches for (unchanged since they
    were last validated): those skip the quick check.  Everything else gets the
    quick check, and a failed quick check the full one.
    """

    def __init__(self, store: CodeStore, kind: str = KIND) -> None:
        self.store = store
        self.kind = kind
        self.trusted: set[str] = set()
        self.loaded: dict[str, Stamp] = {}  # path -> stamp it was served at (validation)

    def hit(self, path: str, st: os.stat_result | None = None) -> bytes | None:
        """The marshalled code of ``path`` if the cache holds it for the file as it is
        now (trusted by the watcher, or its stamp matches); None otherwise.  ``st`` is
        the source's stat result when the caller has just taken one (the finder's
        is-it-a-file check): the quick check then costs no second stat."""
        name = f"{self.kind}:{path}"
        if path in self.trusted:
            entry = self.store.stamped_key(name)
            payload = entry and self.store.payload(entry[1], name)
            if payload:
                return payload
        if st is None:
            try:
                st = os.stat(path)
            except OSError:
                return None
        stamp = stamp_of(st)
        payload = self.store.lookup(name, stamp)
        if payload is not None:
            self.loaded[path] = stamp
        return payload

    def pyc_for(self, path: str, st: os.stat_result) -> bytes:
        """A miss: ``path``'s code as the bytes of a timestamp ``.pyc`` for ``st``
        (what ``SourceLoader.get_code`` validates and unmarshals), found by the
        source's hash or compiled, and added.  ``OSError`` means "no code": the
        loader then compiles the source itself, so a SyntaxError is raised by
        CPython's own frames, as without the cache."""
        with open(path, "rb") as f:
            source = f.read()
        code = self._full_check(f"{self.kind}:{path}", path, stamp_of(st), source)
        if code is None:
            raise OSError(f"{path}: does not compile")
        return (MAGIC_NUMBER + b"\0\0\0\0" + (int(st.st_mtime) & 0xFFFFFFFF).to_bytes(4, "little")
                + (st.st_size & 0xFFFFFFFF).to_bytes(4, "little") + code)

    def _full_check(self, name: str, path: str, stamp: Stamp, source: bytes) -> bytes | None:
        """Hash the source: an existing record is re-stamped, otherwise compile and add."""
        key = content_key(self.kind, path, source)
        payload = self.store.payload(key, name)
        new = payload is None
        if new:
            try:
                payload = marshal.dumps(compile(source, path, "exec", dont_inherit=True))
            except (SyntaxError, ValueError):
                return None  # CPython compiles it again and raises, with its own frames
        self.store.add(name, trustworthy(stamp), key, payload if new else None)
        self.loaded[path] = stamp
        if self.store.pending_count >= FLUSH_EVERY:
            self.store.flush()
        return payload

    def forget(self, path: str) -> None:
        """``path`` changed: drop its trust and its entry, so its next import compiles
        or re-validates it (the watcher calls this on every change event)."""
        self.trusted.discard(path)
        self.loaded.pop(path, None)
        self.store.forget(f"{self.kind}:{path}")

    def validate(self, paths: list[str] | None = None) -> list[str]:
        """Full check of sources served on their quick check (``paths``, default all):
        hash each and compare with its entry's key; entries whose content differs
        are forgotten (recompiled on next import).  Returns the stale paths.  Runs in
        the background (``watcher.py``), never on an import."""
        stale = []
        for path in list(self.loaded) if paths is None else paths:
            entry = self.store.stamped_key(f"{self.kind}:{path}")
            try:
                with open(path, "rb") as f:
                    source = f.read()
            except OSError:
                source = None
            if entry is None or source is None or content_key(self.kind, path, source) != entry[1]:
                stale.append(path)
                self.forget(path)
        return stale
