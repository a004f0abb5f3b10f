"""Whole-file helpers: ``read_bytes``, ``read_text``, ``write_bytes``,
``write_text``, ``read_many``, ``stat``, ``copy``.

On io_uring a whole-file read is an OPENAT -> READ -> CLOSE chain per file,
prepared for a whole window of files in one reactor call (``read_files``).
On the thread pool each helper is one pool call doing the whole job (a hop
per file, or per group of files for ``read_many``), never one hop per system
call.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any, Iterable

from ._ops import RingOps, fs_bytes, os_error, ops_for, run_in_pool
from ._open import open_file
from ._whole import write_all


async def read_bytes(path: Any) -> bytes:
    """The whole file, as ``Path(path).read_bytes()``."""
    result = (await ops_for().read_whole([os.fsencode(os.fspath(path))]))[0]
    if isinstance(result, OSError):
        raise _with_name(result, path)
    return result


async def read_text(path: Any, encoding: str | None = None, errors: str | None = None,
                    newline: str | None = None) -> str:
    """The whole file decoded, as ``open(path, newline=...).read()`` would."""
    async with await open_file(path, "r", encoding=encoding, errors=errors,
                               newline=newline) as file:
        return await file.read()


async def write_bytes(path: Any, data: Any) -> int:
    """Replace the file's content with ``data``; return the byte count."""
    view = memoryview(data).cast("B")
    name = os.fspath(path)
    ops = ops_for()
    if not isinstance(ops, RingOps):
        return await run_in_pool(_write_bytes_sync, name, view)
    fd = await ops.open(os.fsencode(name), os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        await write_all(ops, fd, view, 0)
    except OSError as exc:
        await asyncio.shield(ops.close(fd))
        raise os_error(exc.errno, name) from None
    except BaseException:
        await asyncio.shield(ops.close(fd))
        raise
    await asyncio.shield(ops.close(fd))
    return len(view)


def _write_bytes_sync(name: Any, view: memoryview) -> int:
    with open(name, "wb") as file:
        return file.write(view)


async def write_text(path: Any, data: str, encoding: str | None = None,
                     errors: str | None = None, newline: str | None = None) -> int:
    """Replace the file's content with ``data`` encoded; return the char count."""
    async with await open_file(path, "w", encoding=encoding, errors=errors,
                               newline=newline) as file:
        return await file.write(data)


async def read_many(paths: Iterable[Any], *, return_exceptions: bool = False) -> list[Any]:
    """Read many whole files at once; results in the order of ``paths``.

    All files are attempted.  A file that fails contributes its exception
    (``FileNotFoundError``...) in its place with ``return_exceptions=True``;
    otherwise the first failure, in path order, is raised after every file
    was read and closed.
    """
    names = [os.fspath(path) for path in paths]
    results: list[Any] = await ops_for().read_whole([fs_bytes(name) for name in names])
    for index, result in enumerate(results):
        if isinstance(result, OSError):
            results[index] = error = _with_name(result, names[index])
            if not return_exceptions:
                raise error
    return results


def _with_name(exc: OSError, name: Any) -> OSError:
    """Name the path as the caller spelled it (str stays str, bytes stays bytes)."""
    if exc.filename is not None and exc.filename != name:
        return os_error(exc.errno, name)
    return exc


async def stat(path: Any, *, follow_symlinks: bool = True) -> os.stat_result:
    """``os.stat(path)``: ``dxpy.aio.os.stat`` (batched with concurrent calls)."""
    from .os import stat as os_stat  # the os module imports the package: import late

    return await os_stat(path, follow_symlinks=follow_symlinks)


async def copy(src: Any, dst: Any) -> int:
    """Copy the content of ``src`` to ``dst`` (created or truncated); return
    the byte count.

    The copy is ``os.copy_file_range`` in a loop on the thread pool: the
    kernel moves the bytes without a trip through user space (and shares
    extents on file systems that reflink), and io_uring offers no
    copy_file_range operation, so one pool call for the whole copy beats any
    sequence of reactor reads and writes.  Where the kernel refuses it
    (cross-device on old kernels, special files) it falls back to
    ``shutil.copyfileobj``-style read/write in the same call.
    """
    return await run_in_pool(_copy_sync, os.fspath(src), os.fspath(dst))


def _copy_sync(src: Any, dst: Any) -> int:
    import shutil

    with open(src, "rb") as source, open(dst, "wb") as target:
        total = 0
        try:
            while True:
                count = os.copy_file_range(source.fileno(), target.fileno(), 1 << 30)
                if count == 0:
                    return total
                total += count
        except OSError:
            if total:
                raise
            shutil.copyfileobj(source, target, 1 << 20)
            return target.tell()

