"""The Reactor contract (dxpy/reactor/base.py), checked on both backends.

Every test takes a fresh reactor of each backend; ``finish`` drives it until
the given tokens have produced their final completion, so the tests say what
a caller sees, not how a backend gets there.
"""

from __future__ import annotations

import errno
import os
import socket
import time
from typing import Iterator

import pytest

from dxpy.reactor import (F_MORE, F_TRUNCATED, POLLIN, POLLOUT, Reactor, ReactorError,
                          create_reactor, error_for)
from dxpy.reactor.sockaddr import pack, unpack

from .conftest import URING_OK, URING_WHY, open_fds

#: The reactors alone: no loop, so no loop-core dimension (see conftest).
REACTOR_ONLY = True


@pytest.fixture
def reactor(backend: str) -> Iterator[Reactor]:
    r = create_reactor(backend)
    try:
        yield r
    finally:
        r.close()


def finish(reactor: Reactor, *tokens: int, limit: float = 5.0) -> dict[int, list[tuple[int, int]]]:
    """Reap until every token in ``tokens`` has its final completion."""
    seen: dict[int, list[tuple[int, int]]] = {t: [] for t in tokens}
    open_tokens = set(tokens)
    deadline = time.monotonic() + limit
    while open_tokens:
        assert time.monotonic() < deadline, f"tokens {open_tokens} never completed"
        for token, result, flags in reactor.wait(0.2):
            seen.setdefault(token, []).append((result, flags))
            if not flags & F_MORE:
                open_tokens.discard(token)
    return seen


def result_of(reactor: Reactor, token: int) -> int:
    return finish(reactor, token)[token][-1][0]


def stream_pair() -> tuple[socket.socket, socket.socket]:
    a, b = socket.socketpair()
    a.setblocking(False)
    b.setblocking(False)
    return a, b


def test_send_then_recv(reactor: Reactor) -> None:
    a, b = stream_pair()
    with a, b:
        reactor.send(1, a.fileno(), b"hello")
        assert result_of(reactor, 1) == 5
        buf = bytearray(16)
        reactor.recv(2, b.fileno(), buf)
        assert result_of(reactor, 2) == 5
        assert buf[:5] == b"hello"
        assert reactor.pending == 0


def test_recv_waits_for_data_and_sees_eof(reactor: Reactor) -> None:
    a, b = stream_pair()
    with a, b:
        buf = bytearray(8)
        reactor.recv(1, b.fileno(), buf)
        assert reactor.wait(0.05) == []  # nothing yet, and nothing synchronous
        assert reactor.pending == 1
        a.send(b"xyz")
        assert result_of(reactor, 1) == 3
        a.shutdown(socket.SHUT_WR)
        reactor.recv(2, b.fileno(), buf)
        assert result_of(reactor, 2) == 0


def test_recv_multishot_delivers_each_chunk_then_eof(reactor: Reactor) -> None:
    a, b = stream_pair()
    with a, b:
        reactor.recv_multishot(1, b.fileno())
        received, expected = bytearray(), bytearray()
        for chunk in (b"one", b"two" * 1000, b"three" * 5000):
            a.sendall(chunk)
            expected += chunk
            deadline = time.monotonic() + 5
            while len(received) < len(expected):
                assert time.monotonic() < deadline
                for token, result, flags in reactor.wait(0.2):
                    assert token == 1 and result > 0 and flags & F_MORE
                    received += reactor.take(result, flags)
        assert received == b"one" + b"two" * 1000 + b"three" * 5000
        a.shutdown(socket.SHUT_WR)
        assert finish(reactor, 1)[1][-1][0] == 0
        assert reactor.pending == 0


def test_cancel_pending_recv(reactor: Reactor) -> None:
    a, b = stream_pair()
    with a, b:
        reactor.recv(7, b.fileno(), bytearray(4))
        reactor.submit()
        reactor.cancel(7)
        assert result_of(reactor, 7) == -errno.ECANCELED
        reactor.cancel(7)  # finished token: no-op
        reactor.cancel(12345)  # unknown token: no-op
        assert reactor.wait(0.01) == []
        assert reactor.pending == 0


def test_cancel_multishot_accept(reactor: Reactor) -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.setblocking(False)
        reactor.accept(1, listener.fileno(), multishot=True)
        clients = [socket.create_connection(listener.getsockname()) for _ in range(3)]
        accepted: list[int] = []
        deadline = time.monotonic() + 5
        while len(accepted) < 3:
            assert time.monotonic() < deadline
            for token, result, flags in reactor.wait(0.2):
                assert token == 1 and result >= 0 and flags & F_MORE
                accepted.append(result)
        for fd in accepted:
            assert os.get_blocking(fd) is False
            os.close(fd)
        reactor.cancel(1)
        assert result_of(reactor, 1) == -errno.ECANCELED
        for c in clients:
            c.close()


def test_connect_success_and_refused(reactor: Reactor) -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        s = socket.socket()
        s.setblocking(False)
        with s:
            reactor.connect(1, s.fileno(), pack(socket.AF_INET, listener.getsockname()))
            assert result_of(reactor, 1) == 0
            assert s.getpeername() == listener.getsockname()
        port = listener.getsockname()[1]
    s = socket.socket()
    s.setblocking(False)
    with s:
        reactor.connect(2, s.fileno(), pack(socket.AF_INET, ("127.0.0.1", port)))
        assert result_of(reactor, 2) == -errno.ECONNREFUSED


def test_timeout_expires_with_etime(reactor: Reactor) -> None:
    start = time.monotonic()
    reactor.timeout(1, 0.05)
    assert result_of(reactor, 1) == -errno.ETIME
    assert time.monotonic() - start >= 0.045


def test_wait_honours_its_timeout(reactor: Reactor) -> None:
    start = time.monotonic()
    assert reactor.wait(0.1) == []
    assert 0.09 <= time.monotonic() - start < 1.0


def test_poll_add_reports_readiness(reactor: Reactor) -> None:
    a, b = stream_pair()
    with a, b:
        reactor.poll_add(1, a.fileno(), POLLOUT)
        assert result_of(reactor, 1) & POLLOUT
        reactor.poll_add(2, b.fileno(), POLLIN)
        assert reactor.wait(0.05) == []
        a.send(b"!")
        assert result_of(reactor, 2) & POLLIN


def test_file_read_write_at_offsets_and_open_close(reactor: Reactor, tmp_path) -> None:
    path = tmp_path / "data.bin"
    reactor.openat(1, os.fsencode(path), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    fd = result_of(reactor, 1)
    assert fd >= 0
    reactor.write(2, fd, b"0123456789", 0)
    assert result_of(reactor, 2) == 10
    reactor.write(3, fd, b"AB", 4)
    assert result_of(reactor, 3) == 2
    buf = bytearray(20)
    reactor.read(4, fd, buf, 0)
    assert result_of(reactor, 4) == 10
    assert buf[:10] == b"0123AB6789"
    reactor.close_fd(5, fd)
    assert result_of(reactor, 5) == 0
    with pytest.raises(OSError):
        os.fstat(fd)


def test_open_missing_file_gives_enoent(reactor: Reactor, tmp_path) -> None:
    reactor.openat(1, os.fsencode(tmp_path / "missing"), os.O_RDONLY)
    assert result_of(reactor, 1) == -errno.ENOENT
    err = error_for(-errno.ENOENT, "open missing")
    assert isinstance(err, FileNotFoundError) and "open missing" in str(err)


def test_datagrams_carry_addresses(reactor: Reactor) -> None:
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    with rx, tx:
        rx.bind(("127.0.0.1", 0))
        tx.bind(("127.0.0.1", 0))
        rx.setblocking(False)
        buf = bytearray(64)
        message = reactor.recvmsg(1, rx.fileno(), buf)
        reactor.sendmsg(2, tx.fileno(), b"ping", pack(socket.AF_INET, rx.getsockname()))
        results = finish(reactor, 1, 2)
        assert results[2][-1][0] == 4
        assert results[1][-1][0] == 4 and buf[:4] == b"ping"
        assert unpack(message.address) == tx.getsockname()


def tcp_pair() -> tuple[socket.socket, socket.socket]:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        a = socket.create_connection(listener.getsockname())
        b, _ = listener.accept()
    a.setblocking(False)
    b.setblocking(False)
    return a, b


@pytest.mark.parametrize("make_pair", [stream_pair, tcp_pair], ids=["unix", "tcp"])
def test_large_send_zc_is_one_completion(reactor: Reactor, make_pair) -> None:
    """One completion per zero-copy send (the kernel's buffer-release
    notification is not reported); Unix sockets have no SEND_ZC and fall
    back to a plain send."""
    a, b = make_pair()
    payload = os.urandom(4 << 20)
    with a, b:
        reactor.send_zc(1, a.fileno(), payload)
        buf = bytearray(1 << 20)
        reactor.recv(2, b.fileno(), buf)
        received, sends = bytearray(), []
        deadline = time.monotonic() + 10
        while not sends:
            assert time.monotonic() < deadline
            for token, result, flags in reactor.wait(0.2):
                if token == 1:
                    sends.append((result, flags))
                else:
                    assert result > 0
                    received += buf[:result]
                    reactor.recv(2, b.fileno(), buf)
        reactor.cancel(2)
        last = finish(reactor, 2)[2][-1][0]  # data if it raced the cancel
        received += buf[:max(last, 0)]
        assert sends[0][0] > 0 and not sends[0][1] & F_MORE
        assert reactor.wait(0.05) == []  # the notification was folded in
        while len(received) < sends[0][0]:
            received += b.recv(1 << 20)
        assert received == payload[:sends[0][0]]


def test_send_to_reset_peer_is_an_error(reactor: Reactor) -> None:
    a, b = stream_pair()
    b.close()
    with a:
        reactor.send(1, a.fileno(), b"x" * 10)
        assert result_of(reactor, 1) == -errno.EPIPE


def test_closed_reactor_refuses_and_close_is_idempotent(backend: str) -> None:
    r = create_reactor(backend)
    a, b = stream_pair()
    with a, b:
        r.recv(1, b.fileno(), bytearray(4))  # in flight when closed
        r.submit()
        r.close()
        r.close()
    if backend == "uring":
        with pytest.raises(ReactorError):
            r.wait(0)


def test_unknown_backend_is_a_clear_error() -> None:
    with pytest.raises(ReactorError, match="unknown reactor backend"):
        create_reactor("kqueue")


def test_reactor_churn_leaks_no_fds(backend: str) -> None:
    before = open_fds()
    for _ in range(200):
        r = create_reactor(backend)
        a, b = stream_pair()
        r.recv(1, b.fileno(), bytearray(4))
        r.submit()
        r.close()
        a.close()
        b.close()
    assert open_fds() == before


@pytest.mark.skipif(not URING_OK, reason=f"io_uring unavailable: {URING_WHY}")
def test_registered_fd_ops_and_close() -> None:
    """Registered files are an io_uring feature (the epoll backend has none)."""
    r = create_reactor("uring")
    a, b = stream_pair()
    try:
        assert r.register_fd(b.fileno())
        a.send(b"fixed")
        buf = bytearray(8)
        r.recv(1, b.fileno(), buf)
        assert result_of(r, 1) == 5 and buf[:5] == b"fixed"
        r.close_fd(2, b.detach())  # unregisters, then closes: the peer sees EOF
        assert result_of(r, 2) == 0
        assert a.recv(1) == b""
    finally:
        r.close()
        a.close()


def test_statx_matches_os_stat_and_fsync(reactor: Reactor, tmp_path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"abc")
    link = tmp_path / "link"
    link.symlink_to(path)
    found = reactor.statx(1, os.fsencode(path))
    missing = reactor.statx(2, os.fsencode(tmp_path / "missing"))
    lstat = reactor.statx(3, os.fsencode(link), follow_symlinks=False)
    fd = os.open(path, os.O_RDWR)
    try:
        reactor.fsync(4, fd)
        reactor.fsync(5, fd, datasync=True)
        results = finish(reactor, 1, 2, 3, 4, 5)
    finally:
        os.close(fd)
    assert [results[t][-1][0] for t in (1, 2, 3, 4, 5)] == [0, -errno.ENOENT, 0, 0, 0]
    expected = os.stat(path)
    assert found.stat == expected
    assert (found.stat.st_mtime_ns, found.stat.st_size, found.stat.st_blksize) == \
        (expected.st_mtime_ns, expected.st_size, expected.st_blksize)
    assert missing.stat is None
    assert lstat.stat == os.lstat(link)


def _read_files(reactor: Reactor, paths: list, bufsize: int, first_token: int = 100):
    tokens = list(range(first_token, first_token + len(paths)))
    batch = reactor.read_files(tokens, [os.fsencode(p) for p in paths], bufsize)
    results = finish(reactor, *tokens)
    assert all(len(results[t]) == 1 for t in tokens)  # one completion per file
    return batch, [results[t][0] for t in tokens]


def test_read_files_results_per_file(reactor: Reactor, tmp_path) -> None:
    """One completion per file, with the byte count or the open/read -errno;
    files over ``bufsize`` are flagged F_TRUNCATED; no fd is left open."""
    sizes = [0, 1, 63, 64, 65, 1000]
    paths = []
    for size in sizes:
        paths.append(tmp_path / f"s{size}")
        paths[-1].write_bytes(os.urandom(size))
    paths += [tmp_path / "missing", tmp_path]
    before = open_fds()
    batch, results = _read_files(reactor, paths, 64)
    for index, size in enumerate(sizes):
        result, flags = results[index]
        assert result == min(size, 64)
        assert bool(flags & F_TRUNCATED) == (size > 64)
        assert batch.data(index, result) == paths[index].read_bytes()[:64]
    assert results[-2] == (-errno.ENOENT, 0)
    assert results[-1] == (-errno.EISDIR, 0)
    assert reactor.pending == 0
    assert open_fds() == before


def test_read_files_many_batches_reuse_resources(reactor: Reactor, tmp_path) -> None:
    """Batches larger than the ring, one after the other: every file's
    descriptor (registered slot on io_uring) is released."""
    paths = []
    for i in range(1500):
        paths.append(tmp_path / f"f{i}")
        paths[-1].write_bytes(b"%d" % i)
    for round_ in range(4):
        batch, results = _read_files(reactor, paths, 16, first_token=10_000 * (round_ + 1))
        assert [batch.data(i, r) for i, (r, _) in enumerate(results)] == \
            [b"%d" % i for i in range(1500)]
    assert reactor.pending == 0


def test_read_files_refuses_nul(reactor: Reactor) -> None:
    with pytest.raises(ValueError, match="null byte"):
        reactor.read_files([1], [b"a\0b"], 16)
    assert reactor.pending == 0


@pytest.mark.skipif(not URING_OK, reason=f"io_uring unavailable: {URING_WHY}")
def test_read_files_cancel_frees_everything(tmp_path) -> None:
    """A cancelled file completes with -ECANCELED, its neighbours are
    unaffected, and its registered slot is released (the epoll backend does
    each file when submitted, so there is nothing in flight to cancel)."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # its read waits for a writer that never comes
    (tmp_path / "x").write_bytes(b"x")
    before = open_fds()
    r = create_reactor("uring")
    try:
        r.read_files([1, 2], [os.fsencode(fifo), os.fsencode(tmp_path / "x")], 16)
        assert finish(r, 2)[2][-1][0] == 1
        r.cancel(1)
        assert finish(r, 1)[1][-1][0] == -errno.ECANCELED
        assert r.pending == 0
        for round_ in range(3):  # every slot came back: 3 x 3000 > 4096 slots
            paths = [os.fsencode(tmp_path / "x")] * 3000
            tokens = list(range(10_000 * (round_ + 1), 10_000 * (round_ + 1) + 3000))
            r.read_files(tokens, paths, 16)
            assert {res[-1][0] for res in finish(r, *tokens).values()} == {1}
        from dxpy.reactor.uring import lib

        assert lib.dx_free_slots(r._ring) == 4096
    finally:
        r.close()
    assert open_fds() == before
