"""``dxpy.aio.tempfile``: ``TemporaryFile``, ``NamedTemporaryFile``,
``SpooledTemporaryFile`` and ``TemporaryDirectory`` as ``aiofiles.tempfile``
offers them (``async with`` or ``await``; same arguments as ``tempfile``).

The file is created by the stdlib's own ``tempfile.mkstemp`` (secure name,
``O_EXCL``, mode 0600) on the pool, then used as a ``dxpy.aio`` file: reads
and writes are reactor operations on io_uring.  ``TemporaryFile`` unlinks
the name at once (the stdlib's POSIX fallback), ``NamedTemporaryFile``
unlinks it when closed (``delete=True``).  ``SpooledTemporaryFile`` keeps its
data in memory, where every call is synchronous work that cannot block,
until it grows past ``max_size`` or ``fileno()``/``rollover()`` is called,
then moves it to a ``TemporaryFile``.
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile as _tempfile
from typing import Any, Awaitable, Callable, Generator

from ._binary import FileBase
from ._open import AsyncFile, wrap_fd
from ._ops import run_in_pool

__all__ = ["AsyncTemporaryDirectory", "NamedTemporaryFile", "SpooledTemporaryFile", "TemporaryDirectory", "TemporaryFile"]


class _Opening:
    """``await`` it or ``async with`` it: what every constructor here returns."""

    def __init__(self, make: Callable[[], Awaitable[Any]]) -> None:
        self._make = make
        self._made: Any = None

    def __await__(self) -> Generator[Any, None, Any]:
        return self._make().__await__()

    async def __aenter__(self) -> Any:
        self._made = await self._make()
        return await self._made.__aenter__()

    async def __aexit__(self, *exc: object) -> None:
        await self._made.__aexit__(*exc)


def _create(suffix: Any, prefix: Any, dir: Any, delete_name: bool) -> tuple[int, Any]:
    fd, name = _tempfile.mkstemp(suffix, prefix, dir)
    if delete_name:
        try:
            os.unlink(name)
        except BaseException:
            os.close(fd)
            raise
    return fd, name


async def _temporary(mode: str, buffering: int, encoding: str | None, newline: str | None,
                     suffix: Any, prefix: Any, dir: Any, errors: str | None,
                     named: bool) -> tuple[AsyncFile, Any]:
    fd, name = await run_in_pool(_create, suffix, prefix, dir, not named)
    try:
        file = wrap_fd(fd, name if named else fd, mode, buffering, encoding, errors, newline)
    except BaseException:
        if named:
            os.unlink(name)
        raise
    return file, name


def TemporaryFile(mode: str = "w+b", buffering: int = -1, encoding: str | None = None,
                  newline: str | None = None, suffix: Any = None, prefix: Any = None,
                  dir: Any = None, *, errors: str | None = None) -> _Opening:
    """An unnamed temporary file (gone once closed)."""
    async def make() -> AsyncFile:
        file, _ = await _temporary(mode, buffering, encoding, newline, suffix, prefix, dir,
                                   errors, named=False)
        return file
    return _Opening(make)


class NamedTemporaryFileWrapper:
    """A named temporary file: the ``dxpy.aio`` file's API (delegated), its
    path as ``name``, and the path removed on close when ``delete``."""

    def __init__(self, file: AsyncFile, name: Any, delete: bool) -> None:
        self.file = file
        self.name = name
        self.delete = delete

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self.file, attribute)

    async def close(self) -> None:
        """Close the file, then remove its path (``delete=True``)."""
        if self.file.closed:
            return
        try:
            await self.file.close()
        finally:
            if self.delete:
                from .os import unlink

                try:
                    await unlink(self.name)
                except FileNotFoundError:
                    pass

    async def __aenter__(self) -> "NamedTemporaryFileWrapper":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def __aiter__(self) -> Any:
        return self.file.__aiter__()


def NamedTemporaryFile(mode: str = "w+b", buffering: int = -1, encoding: str | None = None,
                       newline: str | None = None, suffix: Any = None, prefix: Any = None,
                       dir: Any = None, delete: bool = True, *,
                       errors: str | None = None) -> _Opening:
    """A temporary file with a visible ``name``; removed on close if ``delete``."""
    async def make() -> NamedTemporaryFileWrapper:
        file, name = await _temporary(mode, buffering, encoding, newline, suffix, prefix, dir,
                                      errors, named=True)
        return NamedTemporaryFileWrapper(file, name, delete)
    return _Opening(make)


class SpooledTemporaryFile(FileBase):
    """Data in memory until ``max_size`` is exceeded, then a ``TemporaryFile``
    (``tempfile.SpooledTemporaryFile``'s rules, every method a coroutine)."""

    def __init__(self, max_size: int = 0, mode: str = "w+b", buffering: int = -1,
                 encoding: str | None = None, newline: str | None = None, suffix: Any = None,
                 prefix: Any = None, dir: Any = None, *, errors: str | None = None) -> None:
        if "b" in mode:
            self._memory: Any = io.BytesIO()
        else:
            self._memory = io.TextIOWrapper(io.BytesIO(), encoding=encoding, errors=errors,
                                            newline=newline)
        self._file: AsyncFile | None = None
        self._max_size = max_size
        self._args = (mode, buffering, encoding, newline, suffix, prefix, dir, errors)
        self.mode = mode

    @property
    def _rolled(self) -> bool:
        return self._file is not None

    @property
    def closed(self) -> bool:
        return self._file.closed if self._file is not None else self._memory.closed

    @property
    def name(self) -> Any:
        return self._file.name if self._file is not None else None

    async def rollover(self) -> None:
        """Move the data to a real temporary file (position kept)."""
        if self._file is not None:
            return
        mode, buffering, encoding, newline, suffix, prefix, dir, errors = self._args
        file, _ = await _temporary(mode, buffering, encoding, newline, suffix, prefix, dir,
                                   errors, named=False)
        memory = self._memory
        position = memory.tell()
        if isinstance(memory, io.TextIOWrapper):
            memory.flush()
            await file.buffer.write(memory.buffer.getvalue())
        else:
            await file.write(memory.getvalue())
        await file.seek(position)
        self._file = file
        memory.close()

    async def fileno(self) -> int:
        """The fd of the real file (rolls over first, as the stdlib does)."""
        await self.rollover()
        assert self._file is not None
        return self._file.fileno()

    async def write(self, data: Any) -> int:
        if self._file is not None:
            return await self._file.write(data)
        count = self._memory.write(data)
        await self._check_size()
        return count

    async def readline(self, size: int = -1) -> Any:
        if self._file is not None:
            return await self._file.readline(size)
        return self._memory.readline(size)

    async def close(self) -> None:
        """Close the real file, or drop the data held in memory."""
        if self._file is not None:
            await self._file.close()
        else:
            self._memory.close()

    async def _check_size(self) -> None:
        if self._max_size and self._memory.tell() > self._max_size:
            await self.rollover()

    async def truncate(self, size: int | None = None) -> int:
        if self._file is not None:
            return await self._file.truncate(size)
        if size is not None and self._max_size and size > self._max_size:
            await self.rollover()
            return await self.truncate(size)
        return self._memory.truncate(size)

    def __getattr__(self, attribute: str) -> Any:
        """``read``, ``seek``, ``tell``, ``flush``, ``getvalue``...:
        the rolled-over file's coroutine, or the in-memory method as one."""
        if attribute.startswith("_"):
            raise AttributeError(attribute)
        if self._file is not None:
            return getattr(self._file, attribute)
        method = getattr(self._memory, attribute)
        if not callable(method):
            return method

        async def call(*args: Any) -> Any:
            return method(*args)
        return call

    def __await__(self) -> Generator[Any, None, "SpooledTemporaryFile"]:
        return self._itself().__await__()  # ``await SpooledTemporaryFile()`` works too

    async def _itself(self) -> "SpooledTemporaryFile":
        return self



class AsyncTemporaryDirectory:
    """A temporary directory (``name``), removed with its content by
    ``cleanup()`` or at the end of ``async with`` (which gives the name)."""

    def __init__(self, name: Any) -> None:
        self.name = name

    @classmethod
    async def create(cls, suffix: Any = None, prefix: Any = None,
                     dir: Any = None) -> "AsyncTemporaryDirectory":
        return cls(await run_in_pool(_tempfile.mkdtemp, suffix, prefix, dir))

    async def cleanup(self) -> None:
        """Remove the directory tree (on the pool: many unlinks and rmdirs)."""
        await run_in_pool(shutil.rmtree, self.name)

    async def __aenter__(self) -> Any:
        return self.name

    async def __aexit__(self, *exc: object) -> None:
        await self.cleanup()


def TemporaryDirectory(suffix: Any = None, prefix: Any = None, dir: Any = None) -> _Opening:
    """A new temporary directory: ``async with`` gives its name, ``await``
    gives an ``AsyncTemporaryDirectory`` (call ``cleanup()`` when done)."""
    return _Opening(lambda: AsyncTemporaryDirectory.create(suffix, prefix, dir))
