"""``dxpy.aio.open``: ``open()``'s argument rules, then an async file object.

The checks and their messages are ``open()``'s, so code moving from ``open``
to ``dxpy.aio.open`` sees the same ``ValueError`` for the same bad mode.  The
directory check is ``FileIO``'s: ``openat`` succeeds on a directory opened
read-only, and the ``fstat`` that follows (also giving the buffer size)
turns it into ``IsADirectoryError``.
"""

from __future__ import annotations

import asyncio
import errno
import io
import os
import stat as stat_module
import warnings
from typing import Any, Generator

from ._binary import BinaryFile
from ._ops import FileOps, os_error, ops_for
from ._text import TextFile, check_newline, resolve_encoding

AsyncFile = BinaryFile | TextFile


class _Mode:
    """A parsed ``open()`` mode string."""

    def __init__(self, mode: str) -> None:
        if not isinstance(mode, str):
            raise TypeError(f"open() argument 'mode' must be str, not {type(mode).__name__}")
        chars = set(mode)
        if chars - set("axrwb+t") or len(mode) > len(chars):
            raise ValueError(f"invalid mode: {mode!r}")
        self.binary = "b" in chars
        if self.binary and "t" in chars:
            raise ValueError("can't have text and binary mode at once")
        kinds = [kind for kind in "xrwa" if kind in chars]
        if len(kinds) != 1:
            raise ValueError("must have exactly one of create/read/write/append mode")
        self.kind = kinds[0]
        self.update = "+" in chars
        self.readable = self.kind == "r" or self.update
        self.writable = self.kind != "r" or self.update
        self.append = self.kind == "a"
        self.raw_mode = {"x": "xb", "r": "rb", "w": "wb", "a": "ab"}[self.kind] + (
            "+" if self.update else "")

    def flags(self) -> int:
        access = os.O_RDWR if self.update else (os.O_RDONLY if self.kind == "r" else os.O_WRONLY)
        extra = {"x": os.O_CREAT | os.O_EXCL, "r": 0, "w": os.O_CREAT | os.O_TRUNC,
                 "a": os.O_CREAT | os.O_APPEND}[self.kind]
        return access | extra


def _check_arguments(mode: _Mode, buffering: int, encoding: str | None, errors: str | None,
                     newline: str | None) -> None:
    if mode.binary:
        for name, value in (("an encoding", encoding), ("an errors", errors),
                            ("a newline", newline)):
            if value is not None:
                raise ValueError(f"binary mode doesn't take {name} argument")
        if buffering == 1:
            warnings.warn("line buffering (buffering=1) isn't supported in binary mode, the "
                          "default buffer size will be used", RuntimeWarning, 4)
    elif buffering == 0:
        raise ValueError("can't have unbuffered text I/O")
    check_newline(newline)


async def open_file(path: Any, mode: str = "r", buffering: int = -1, encoding: str | None = None,
                    errors: str | None = None, newline: str | None = None,
                    ops: FileOps | None = None) -> AsyncFile:
    """Open ``path`` as ``open()`` would; return a ``BinaryFile`` or ``TextFile``."""
    parsed = _Mode(mode)
    buffering = buffering.__index__()
    _check_arguments(parsed, buffering, encoding, errors, newline)
    name = os.fspath(path)
    ops = ops or ops_for()
    fd = await ops.open(os.fsencode(name), parsed.flags())
    return _wrap_fd(ops, fd, name, parsed, mode, buffering, encoding, errors, newline)


def wrap_fd(fd: int, name: Any, mode: str = "r", buffering: int = -1,
            encoding: str | None = None, errors: str | None = None,
            newline: str | None = None) -> AsyncFile:
    """An async file object over the open ``fd`` (owned from now on: closing
    the file closes it), as ``open(fd, mode, ...)`` would build one.  Used by
    ``dxpy.aio.tempfile``, whose files are created on the pool."""
    parsed = _Mode(mode)
    buffering = buffering.__index__()
    _check_arguments(parsed, buffering, encoding, errors, newline)
    return _wrap_fd(ops_for(), fd, name, parsed, mode, buffering, encoding, errors, newline)


def _wrap_fd(ops: FileOps, fd: int, name: Any, parsed: _Mode, mode: str, buffering: int,
             encoding: str | None, errors: str | None, newline: str | None) -> AsyncFile:
    """The file object for an fd just opened; the fd is closed on failure."""
    try:
        text_encoding = None if parsed.binary else resolve_encoding(encoding)
        info = os.fstat(fd)
        if stat_module.S_ISDIR(info.st_mode):
            raise os_error(errno.EISDIR, name)
        size = buffering
        if buffering < 0 or buffering == 1:
            size = info.st_blksize if info.st_blksize > 1 else io.DEFAULT_BUFFER_SIZE
        binary = BinaryFile(ops, fd, name, parsed.raw_mode if parsed.binary else mode,
                            readable=parsed.readable, writable=parsed.writable,
                            append=parsed.append, buffer_size=size)
    except BaseException:
        os.close(fd)
        raise
    if parsed.binary:
        return binary
    return TextFile(binary, text_encoding, errors, newline, line_buffering=buffering == 1)


class OpenContext:
    """What ``dxpy.aio.open()`` returns: await it, or use it with ``async with``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._coro = open_file(*args, **kwargs)
        self._file: AsyncFile | None = None

    def __await__(self) -> Generator[Any, None, AsyncFile]:
        return self._coro.__await__()

    async def __aenter__(self) -> AsyncFile:
        self._file = await self._coro
        return self._file

    async def __aexit__(self, *exc: object) -> None:
        assert self._file is not None
        await self._file.close()


def open(path: Any, mode: str = "r", buffering: int = -1, encoding: str | None = None,
         errors: str | None = None, newline: str | None = None) -> OpenContext:
    """Open a file for async I/O, with ``open()``'s arguments and semantics.

    ``f = await dxpy.aio.open(path)`` or ``async with dxpy.aio.open(path) as f``.
    """
    return OpenContext(path, mode, buffering, encoding, errors, newline)
