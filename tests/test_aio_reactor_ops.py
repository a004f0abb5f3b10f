"""The reactor operations ``dxpy.aio`` added (path operations, splice,
offloaded reads), on both backends: results are what the system calls give
(0 or ``-errno``), and the file system ends up as ``os`` would leave it."""

from __future__ import annotations

import errno
import os
from pathlib import Path
import pytest

from dxpy.reactor import Reactor

from .test_reactor import finish, reactor, result_of  # noqa: F401 - reactor is a fixture

#: The reactors alone: no loop, so no loop-core dimension (see conftest).
REACTOR_ONLY = True


def _b(path: Path) -> bytes:
    return os.fsencode(path)


def test_path_operations_and_their_errors(reactor: Reactor, tmp_path: Path) -> None:
    d, moved, link, hard = tmp_path / "d", tmp_path / "moved", tmp_path / "l", tmp_path / "h"
    reactor.mkdirat(1, _b(d), 0o755)
    assert result_of(reactor, 1) == 0 and d.is_dir()
    reactor.mkdirat(2, _b(d))
    assert result_of(reactor, 2) == -errno.EEXIST
    reactor.renameat(3, _b(d), _b(moved))
    assert result_of(reactor, 3) == 0 and moved.is_dir() and not d.exists()
    reactor.symlinkat(4, _b(moved), _b(link))
    assert result_of(reactor, 4) == 0 and os.readlink(link) == str(moved)
    reactor.linkat(5, _b(link), _b(hard))
    assert result_of(reactor, 5) == 0 and os.readlink(hard) == str(moved)  # not followed
    reactor.linkat(6, _b(moved), _b(tmp_path / "h2"))
    assert result_of(reactor, 6) == -errno.EPERM  # hard links to directories are refused
    reactor.unlinkat(7, _b(moved))
    assert result_of(reactor, 7) == -errno.EISDIR
    for token, path in ((8, link), (9, hard)):
        reactor.unlinkat(token, _b(path))
        assert result_of(reactor, token) == 0 and not path.is_symlink()
    reactor.unlinkat(10, _b(moved), remove_dir=True)
    assert result_of(reactor, 10) == 0 and not moved.exists()
    reactor.unlinkat(11, _b(moved), remove_dir=True)
    assert result_of(reactor, 11) == -errno.ENOENT
    reactor.renameat(12, _b(moved), _b(d))
    assert result_of(reactor, 12) == -errno.ENOENT


def test_paths_relative_to_a_directory_fd(reactor: Reactor, tmp_path: Path) -> None:
    dirfd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        reactor.mkdirat(1, b"sub", 0o700, dirfd=dirfd)
        assert result_of(reactor, 1) == 0 and (tmp_path / "sub").is_dir()
        reactor.renameat(2, b"sub", b"other", olddirfd=dirfd, newdirfd=dirfd)
        assert result_of(reactor, 2) == 0 and (tmp_path / "other").is_dir()
        reactor.unlinkat(3, b"other", dirfd=dirfd, remove_dir=True)
        assert result_of(reactor, 3) == 0 and not (tmp_path / "other").exists()
    finally:
        os.close(dirfd)


def test_embedded_nul_is_value_error(reactor: Reactor) -> None:
    with pytest.raises(ValueError):
        reactor.unlinkat(1, b"a\0b")
        reactor.submit()


def test_splice_file_to_pipe_and_pipe_to_file(reactor: Reactor, tmp_path: Path) -> None:
    source, target = tmp_path / "src", tmp_path / "dst"
    payload = os.urandom(48 * 1024)
    source.write_bytes(payload)
    r, w = os.pipe()
    fd_in = os.open(source, os.O_RDONLY)
    fd_out = os.open(target, os.O_WRONLY | os.O_CREAT)
    try:
        reactor.splice(1, fd_in, 1000, w, -1, 40_000)
        assert result_of(reactor, 1) == 40_000
        reactor.splice(2, r, -1, fd_out, 0, 40_000)
        assert result_of(reactor, 2) == 40_000
        assert target.read_bytes() == payload[1000:41_000]
        reactor.splice(3, fd_in, len(payload), w, -1, 10)
        assert result_of(reactor, 3) == 0  # EOF
        reactor.splice(4, fd_in, 0, fd_out, 0, 10)
        assert result_of(reactor, 4) == -errno.EINVAL  # neither end is a pipe
    finally:
        for fd in (r, w, fd_in, fd_out):
            os.close(fd)


def test_read_offloaded_reads_at_its_offset(reactor: Reactor, tmp_path: Path) -> None:
    path = tmp_path / "f"
    payload = os.urandom(3 << 20)
    path.write_bytes(payload)
    fd = os.open(path, os.O_RDONLY)
    try:
        buffers = [bytearray(1 << 20) for _ in range(3)]
        for i, buf in enumerate(buffers):
            reactor.read_offloaded(i + 1, fd, buf, i << 20)
        done = finish(reactor, 1, 2, 3)
        assert [done[i + 1][-1][0] for i in range(3)] == [1 << 20] * 3
        assert b"".join(buffers) == payload
        reactor.read_offloaded(9, -5, bytearray(1), 0)
        assert result_of(reactor, 9) == -errno.EBADF
    finally:
        os.close(fd)
