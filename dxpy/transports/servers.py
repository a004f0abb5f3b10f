"""Accepting connections (multishot accept) and the Unix-socket endpoints.

``BaseEventLoop.create_server`` builds the listening sockets and a
``Server``; the ``Server`` calls ``_start_serving`` / ``_stop_serving`` here.
One multishot accept operation per listening socket delivers every new
connection without re-submitting.
"""

from __future__ import annotations

import contextvars
import errno
import os
import socket
import stat
from asyncio import base_events, constants, tasks
from typing import Any, Callable

from ..reactor import F_MORE

#: Errors after which accepting simply continues (the peer went away, ...).
_TRANSIENT_ACCEPT = frozenset({errno.ECONNABORTED, errno.EAGAIN, errno.EPERM,
                               errno.EPROTO, errno.EINTR})
#: Out of resources: pause accepting for a moment instead of spinning.
_EXHAUSTED_ACCEPT = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})


class ServerMixin:
    """Server-side plumbing for ``Loop``."""

    def _start_serving(self, protocol_factory: Callable[[], Any], sock: socket.socket,
                       sslcontext: Any = None, server: base_events.Server | None = None,
                       backlog: int = 100,
                       ssl_handshake_timeout: float | None = constants.SSL_HANDSHAKE_TIMEOUT,
                       ssl_shutdown_timeout: float | None = constants.SSL_SHUTDOWN_TIMEOUT) -> None:
        fd = sock.fileno()
        ssl_args = (sslcontext, ssl_handshake_timeout, ssl_shutdown_timeout)
        # asyncio runs accepting (the protocol factory, then the transport's
        # callbacks) in a copy of the context current when serving started
        context = contextvars.copy_context()

        def on_accept(result: int, flags: int) -> None:
            context.run(accepted, result, flags)

        def accepted(result: int, flags: int) -> None:
            if self._accepting.get(fd) != token_box[0]:  # stopped serving meanwhile
                if result >= 0:
                    os.close(result)
                return
            if result >= 0:
                self._accepted(protocol_factory, sock, result, server, ssl_args)
            elif result != -errno.ECANCELED:
                if -result in _EXHAUSTED_ACCEPT:
                    self._accept_exhausted(sock, -result, rearm)
                    return
                if -result not in _TRANSIENT_ACCEPT:
                    self.call_exception_handler({
                        "message": "accept() failed on a listening socket",
                        "exception": OSError(-result, os.strerror(-result)),
                        "socket": sock})
            if not flags & F_MORE:
                rearm()

        def rearm() -> None:
            if fd in self._accepting and not self._closed:
                token_box[0] = self._accepting[fd] = self._start_op(on_accept)
                self._reactor.accept(token_box[0], fd, multishot=True)

        token_box = [0]
        self._accepting[fd] = 0
        rearm()

    def _accept_exhausted(self, sock: socket.socket, code: int, rearm: Callable[[], None]) -> None:
        self.call_exception_handler({
            "message": "socket.accept() out of system resource",
            "exception": OSError(code, os.strerror(code)),
            "socket": sock})
        self.call_later(constants.ACCEPT_RETRY_DELAY, rearm)

    def _accepted(self, protocol_factory: Callable[[], Any], listener: socket.socket,
                  fd: int, server: base_events.Server | None, ssl_args: tuple) -> None:
        conn = socket.socket(listener.family, listener.type, listener.proto, fileno=fd)
        conn.setblocking(False)
        sslcontext, handshake_timeout, shutdown_timeout = ssl_args
        try:
            extra = {"peername": conn.getpeername()}
        except OSError:
            extra = {"peername": None}
        if sslcontext:
            self.create_task(self._accept_tls(protocol_factory, conn, extra, server, ssl_args))
            return
        protocol = transport = None
        try:
            protocol = protocol_factory()
            transport = self._make_socket_transport(conn, protocol, extra=extra, server=server)
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            conn.close()
            self._report_transport_error(exc, protocol, transport)

    async def _accept_tls(self, protocol_factory: Callable[[], Any], conn: socket.socket,
                          extra: dict, server: base_events.Server | None, ssl_args: tuple) -> None:
        sslcontext, handshake_timeout, shutdown_timeout = ssl_args
        protocol = transport = None
        try:
            protocol = protocol_factory()
            waiter = self.create_future()
            transport = self._make_ssl_transport(
                conn, protocol, sslcontext, waiter, server_side=True, extra=extra, server=server,
                ssl_handshake_timeout=handshake_timeout, ssl_shutdown_timeout=shutdown_timeout)
            try:
                await waiter
            except BaseException:
                transport.close()
                raise
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            self._report_transport_error(exc, protocol, transport)

    def _report_transport_error(self, exc: BaseException, protocol: Any, transport: Any) -> None:
        if self._debug:
            context = {"message": "Error on transport creation for incoming connection",
                       "exception": exc}
            if protocol is not None:
                context["protocol"] = protocol
            if transport is not None:
                context["transport"] = transport
            self.call_exception_handler(context)

    def _stop_serving(self, sock: socket.socket) -> None:
        """Stop listening now: a queued accept holds its own reference to the
        socket, so closing our fd alone would leave it accepting until the
        cancel reaches the kernel; shutting it down refuses new peers at once."""
        token = self._accepting.pop(sock.fileno(), 0)
        if token:
            self._cancel_op(token)
            try:
                sock.shutdown(socket.SHUT_RD)
            except OSError:
                pass
        sock.close()

    # ---- Unix sockets ---------------------------------------------------
    async def create_unix_connection(self, protocol_factory: Callable[[], Any],
                                     path: str | None = None, *, ssl: Any = None,
                                     sock: socket.socket | None = None,
                                     server_hostname: str | None = None,
                                     ssl_handshake_timeout: float | None = None,
                                     ssl_shutdown_timeout: float | None = None) -> tuple:
        """Connect to the Unix socket ``path`` (or use ``sock``)."""
        if ssl:
            if server_hostname is None:
                raise ValueError("you have to pass server_hostname when using ssl")
        else:
            if server_hostname is not None:
                raise ValueError("server_hostname is only meaningful with ssl")
            if ssl_handshake_timeout is not None:
                raise ValueError("ssl_handshake_timeout is only meaningful with ssl")
            if ssl_shutdown_timeout is not None:
                raise ValueError("ssl_shutdown_timeout is only meaningful with ssl")
        if path is not None:
            if sock is not None:
                raise ValueError("path and sock can not be specified at the same time")
            path = os.fspath(path)
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM, 0)
            try:
                sock.setblocking(False)
                await self.sock_connect(sock, path)
            except BaseException:
                sock.close()
                raise
        else:
            if sock is None:
                raise ValueError("no path and sock were specified")
            if sock.family != socket.AF_UNIX or sock.type != socket.SOCK_STREAM:
                raise ValueError(f"A UNIX Domain Stream Socket was expected, got {sock!r}")
            sock.setblocking(False)
        return await self._create_connection_transport(
            sock, protocol_factory, ssl, server_hostname,
            ssl_handshake_timeout=ssl_handshake_timeout,
            ssl_shutdown_timeout=ssl_shutdown_timeout)

    async def create_unix_server(self, protocol_factory: Callable[[], Any],
                                 path: str | None = None, *, sock: socket.socket | None = None,
                                 backlog: int = 100, ssl: Any = None,
                                 ssl_handshake_timeout: float | None = None,
                                 ssl_shutdown_timeout: float | None = None,
                                 start_serving: bool = True) -> base_events.Server:
        """Listen on the Unix socket ``path`` (a stale socket file is replaced)."""
        if isinstance(ssl, bool):
            raise TypeError("ssl argument must be an SSLContext or None")
        if ssl_handshake_timeout is not None and not ssl:
            raise ValueError("ssl_handshake_timeout is only meaningful with ssl")
        if ssl_shutdown_timeout is not None and not ssl:
            raise ValueError("ssl_shutdown_timeout is only meaningful with ssl")
        if path is not None:
            if sock is not None:
                raise ValueError("path and sock can not be specified at the same time")
            sock = _bind_unix(os.fspath(path), backlog)
        else:
            if sock is None:
                raise ValueError("path was not specified, and no sock specified")
            if sock.family != socket.AF_UNIX or sock.type != socket.SOCK_STREAM:
                raise ValueError(f"A UNIX Domain Stream Socket was expected, got {sock!r}")
        sock.setblocking(False)
        server = base_events.Server(self, [sock], protocol_factory, ssl, backlog,
                                    ssl_handshake_timeout, ssl_shutdown_timeout)
        if start_serving:
            server._start_serving()
            await tasks.sleep(0)  # let the accept operation reach the kernel
        return server


def _bind_unix(path: str, backlog: int) -> socket.socket:
    if path[0] not in (0, "\x00"):
        try:
            if stat.S_ISSOCK(os.stat(path).st_mode):
                os.remove(path)
        except FileNotFoundError:
            pass
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(path)
        sock.listen(backlog)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise OSError(errno.EADDRINUSE, f"Address {path!r} is already in use") from None
        raise
    except BaseException:
        sock.close()
        raise
    return sock
