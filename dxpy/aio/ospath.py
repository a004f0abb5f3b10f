"""``dxpy.aio.os.path``: the ``os.path`` queries that touch the file system,
as coroutines (``aiofiles.os.path``'s set, plus ``lexists``).

Each is ``os.path``'s definition over ``dxpy.aio.os.stat``/``lstat`` (one
STATX operation on io_uring), so results and the errors that are swallowed
(``OSError``, ``ValueError``) or raised (``TypeError``) are ``os.path``'s.
``ismount``, ``abspath`` and ``sameopenfile`` need ``os`` calls io_uring has
no operation for, and run on the pool.
"""

from __future__ import annotations

import asyncio
import functools
import os
import stat as stat_module
from typing import Any, Callable

from ._ops import run_in_pool

__all__ = [
    "abspath", "exists", "getatime", "getctime", "getmtime", "getsize", "isdir", "isfile",
    "islink", "ismount", "lexists", "samefile", "sameopenfile", "wrap",
]


def wrap(func: Callable[..., Any]) -> Callable[..., Any]:
    """``func`` as a coroutine function run on the thread pool."""
    @functools.wraps(func)
    async def run(*args: Any, **kwargs: Any) -> Any:
        return await run_in_pool(functools.partial(func, *args, **kwargs))
    return run


async def _stat(path: Any, follow_symlinks: bool = True) -> os.stat_result:
    from .os import stat  # the os module imports this one as its ``path``

    return await stat(path, follow_symlinks=follow_symlinks)


async def _mode_or_none(path: Any, follow_symlinks: bool = True) -> int | None:
    try:
        return (await _stat(path, follow_symlinks)).st_mode
    except (OSError, ValueError):
        return None


async def exists(path: Any) -> bool:
    """Whether ``path`` names an existing file (a broken symlink does not)."""
    return await _mode_or_none(path) is not None


async def lexists(path: Any) -> bool:
    """Whether ``path`` exists, a broken symlink included."""
    return await _mode_or_none(path, follow_symlinks=False) is not None


async def isfile(path: Any) -> bool:
    """Whether ``path`` is a regular file (following symlinks)."""
    mode = await _mode_or_none(path)
    return mode is not None and stat_module.S_ISREG(mode)


async def isdir(path: Any) -> bool:
    """Whether ``path`` is a directory (following symlinks)."""
    mode = await _mode_or_none(path)
    return mode is not None and stat_module.S_ISDIR(mode)


async def islink(path: Any) -> bool:
    """Whether ``path`` is a symbolic link."""
    mode = await _mode_or_none(path, follow_symlinks=False)
    return mode is not None and stat_module.S_ISLNK(mode)


async def getsize(path: Any) -> int:
    """``os.path.getsize``: ``st_size``, or the ``OSError`` of the stat."""
    return (await _stat(path)).st_size


async def getmtime(path: Any) -> float:
    """``os.path.getmtime``."""
    return (await _stat(path)).st_mtime


async def getatime(path: Any) -> float:
    """``os.path.getatime``."""
    return (await _stat(path)).st_atime


async def getctime(path: Any) -> float:
    """``os.path.getctime``."""
    return (await _stat(path)).st_ctime


async def samefile(f1: Any, f2: Any) -> bool:
    """Whether both paths name the same file (both stats in flight at once)."""
    s1, s2 = await asyncio.gather(_stat(f1), _stat(f2))
    return os.path.samestat(s1, s2)


async def sameopenfile(fp1: int, fp2: int) -> bool:
    """Whether two open fds refer to the same file."""
    return await run_in_pool(os.path.sameopenfile, fp1, fp2)


async def ismount(path: Any) -> bool:
    """``os.path.ismount`` (stats the path and its parent; on the pool)."""
    return await run_in_pool(os.path.ismount, path)


async def abspath(path: Any) -> Any:
    """``os.path.abspath`` (may ask for the working directory; on the pool)."""
    return await run_in_pool(os.path.abspath, path)
