"""Random sequences of reactor operations give the same results on io_uring and epoll.

Hypothesis draws a program (stream sends and receives, file writes and reads
at offsets, datagrams, polls, cancels, failing opens and closes, timeouts);
the program runs step by step on a fresh reactor of each backend and the two
traces must be identical.  Each trace is also checked against a plain model
(the bytes received are the bytes sent, file reads see earlier writes), so
two backends that were wrong the same way would still fail.
"""

from __future__ import annotations

import errno
import os
import socket
import tempfile
import time
from typing import Any

from hypothesis import HealthCheck, given, settings, strategies as st

from dxpy.reactor import POLLIN, Reactor, create_reactor
from dxpy.reactor.sockaddr import pack, unpack

from .conftest import URING_OK
from .test_reactor import finish

#: The reactors alone: no loop, so no loop-core dimension (see conftest).
REACTOR_ONLY = True

payloads = st.binary(min_size=1, max_size=3000)
steps = st.one_of(
    st.tuples(st.just("send"), payloads),
    st.tuples(st.just("recv"), st.integers(1, 5000)),
    st.tuples(st.just("pwrite"), st.integers(0, 8000), payloads),
    st.tuples(st.just("pread"), st.integers(0, 9000), st.integers(1, 4000)),
    st.tuples(st.just("datagram"), payloads),
    st.tuples(st.just("poll")),
    st.tuples(st.just("cancel")),
    st.tuples(st.just("open_missing")),
    st.tuples(st.just("close_bad")),
    st.tuples(st.just("timeout"), st.floats(0, 0.01)),
    st.tuples(st.just("stat"), st.booleans()),
    st.tuples(st.just("fsync"), st.booleans()),
)


class Program:
    """Runs steps on one reactor, recording a backend-independent trace."""

    def __init__(self, reactor: Reactor, workdir: str) -> None:
        self.reactor = reactor
        self.tx, self.rx = socket.socketpair()
        self.udp_rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp_tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for sock in (self.tx, self.rx, self.udp_rx, self.udp_tx):
            sock.setblocking(False)
        self.udp_rx.bind(("127.0.0.1", 0))
        self.udp_tx.bind(("127.0.0.1", 0))
        self.file_fd = os.open(os.path.join(workdir, "f"), os.O_RDWR | os.O_CREAT | os.O_TRUNC)
        self.workdir = workdir
        self.token = 0
        self.unread = bytearray()  # bytes sent and not yet received (the model)
        self.trace: list[Any] = []

    def close(self) -> None:
        for sock in (self.tx, self.rx, self.udp_rx, self.udp_tx):
            sock.close()
        os.close(self.file_fd)

    def next_token(self) -> int:
        self.token += 1
        return self.token

    def result(self, token: int) -> int:
        return finish(self.reactor, token)[token][-1][0]

    def run(self, step: tuple) -> None:
        getattr(self, "do_" + step[0])(*step[1:])

    def do_send(self, data: bytes) -> None:
        token = self.next_token()
        self.reactor.send(token, self.tx.fileno(), data)
        sent = self.result(token)
        self.unread += data[:max(sent, 0)]
        self.trace.append(("send", sent))

    def take_unread(self, received: bytes) -> None:
        assert received == self.unread[:len(received)]
        del self.unread[:len(received)]

    def do_recv(self, n: int) -> None:
        if not self.unread:  # would block: make it wait for a send
            self.do_recv_then_send(n)
            return
        buf = bytearray(n)
        token = self.next_token()
        self.reactor.recv(token, self.rx.fileno(), buf)
        got = self.result(token)
        self.take_unread(bytes(buf[:got]))
        self.trace.append(("recv", got, bytes(buf[:got])))

    def do_recv_then_send(self, n: int) -> None:
        buf = bytearray(n)
        recv_token, send_token = self.next_token(), self.next_token()
        self.reactor.recv(recv_token, self.rx.fileno(), buf)
        self.reactor.send(send_token, self.tx.fileno(), b"wake")
        results = finish(self.reactor, recv_token, send_token)
        got = results[recv_token][-1][0]
        self.unread += b"wake"
        self.take_unread(bytes(buf[:got]))
        self.trace.append(("recv-wait", got, bytes(buf[:got]), results[send_token][-1][0]))

    def do_pwrite(self, offset: int, data: bytes) -> None:
        token = self.next_token()
        self.reactor.write(token, self.file_fd, data, offset)
        self.trace.append(("pwrite", self.result(token)))

    def do_pread(self, offset: int, n: int) -> None:
        buf = bytearray(n)
        token = self.next_token()
        self.reactor.read(token, self.file_fd, buf, offset)
        got = self.result(token)
        assert bytes(buf[:got]) == os.pread(self.file_fd, n, offset)
        self.trace.append(("pread", got, bytes(buf[:got])))

    def do_datagram(self, data: bytes) -> None:
        buf = bytearray(4096)
        recv_token, send_token = self.next_token(), self.next_token()
        message = self.reactor.recvmsg(recv_token, self.udp_rx.fileno(), buf)
        self.reactor.sendmsg(send_token, self.udp_tx.fileno(), data,
                             pack(socket.AF_INET, self.udp_rx.getsockname()))
        results = finish(self.reactor, recv_token, send_token)
        got = results[recv_token][-1][0]
        assert unpack(message.address) == self.udp_tx.getsockname()
        assert bytes(buf[:got]) == data
        self.trace.append(("datagram", results[send_token][-1][0], got))

    def do_poll(self) -> None:
        if not self.unread:
            self.do_send(b"p")
        token = self.next_token()
        self.reactor.poll_add(token, self.rx.fileno(), POLLIN)
        self.trace.append(("poll", bool(self.result(token) & POLLIN)))

    def do_cancel(self) -> None:
        if self.unread:  # a recv would complete at once; cancel needs one that waits
            self.trace.append(("cancel-skipped",))
            return
        token = self.next_token()
        self.reactor.recv(token, self.rx.fileno(), bytearray(16))
        self.reactor.submit()
        self.reactor.cancel(token)
        self.trace.append(("cancel", self.result(token)))

    def do_open_missing(self) -> None:
        token = self.next_token()
        self.reactor.openat(token, os.fsencode(os.path.join(self.workdir, "nope")), os.O_RDONLY)
        self.trace.append(("open", self.result(token)))

    def do_close_bad(self) -> None:
        token = self.next_token()
        self.reactor.close_fd(token, 1_000_000)
        self.trace.append(("close", self.result(token)))

    def do_timeout(self, seconds: float) -> None:
        token = self.next_token()
        start = time.monotonic()
        self.reactor.timeout(token, seconds)
        result = self.result(token)
        assert time.monotonic() - start >= seconds * 0.9
        self.trace.append(("timeout", result))


    def do_stat(self, existing: bool) -> None:
        token = self.next_token()
        path = os.path.join(self.workdir, "f" if existing else "nope")
        holder = self.reactor.statx(token, os.fsencode(path))
        result = self.result(token)
        size = holder.stat.st_size if holder.stat else None
        assert size == (os.fstat(self.file_fd).st_size if existing else None)
        self.trace.append(("stat", result, size))

    def do_fsync(self, datasync: bool) -> None:
        token = self.next_token()
        self.reactor.fsync(token, self.file_fd, datasync)
        self.trace.append(("fsync", self.result(token)))


def run_program(backend: str, program: list[tuple]) -> list[Any]:
    with tempfile.TemporaryDirectory() as workdir:
        reactor = create_reactor(backend)
        runner = Program(reactor, workdir)
        try:
            for step in program:
                runner.run(step)
            assert reactor.pending == 0
            return runner.trace
        finally:
            runner.close()
            reactor.close()


def check_model(trace: list[Any]) -> None:
    """The trace on its own must make sense: errors are the expected errnos."""
    for entry in trace:
        if entry[0] == "open":
            assert entry[1] == -errno.ENOENT
        elif entry[0] == "close":
            assert entry[1] == -errno.EBADF
        elif entry[0] == "timeout":
            assert entry[1] == -errno.ETIME
        elif entry[0] == "cancel":
            assert entry[1] == -errno.ECANCELED


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(steps, min_size=1, max_size=25))
def test_uring_and_epoll_agree(program: list[tuple]) -> None:
    epoll_trace = run_program("epoll", program)
    check_model(epoll_trace)
    if URING_OK:
        assert run_program("uring", program) == epoll_trace
