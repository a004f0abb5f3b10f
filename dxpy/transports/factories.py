"""The ``_make_*_transport`` hooks ``BaseEventLoop`` calls, in one place.

``create_connection``, ``create_server``, ``connect_read_pipe``,
``create_datagram_endpoint``, ``subprocess_exec`` and friends are inherited
from asyncio; they end in these factories, which build dxpy's transports.
TLS is asyncio's own ``SSLProtocol`` layered on a dxpy socket transport.
"""

from __future__ import annotations

import socket
from asyncio import constants, futures, protocols, sslproto
from typing import Any

from .datagram import DatagramTransport
from .subprocess import SubprocessTransport, watch_exit
from .pipes import ReadPipeTransport, WritePipeTransport


class TransportFactoryMixin:
    """Transport construction for ``Loop`` (socket transports come from the
    loop core: ``_make_socket_transport`` is the core's)."""

    def _make_ssl_transport(self, rawsock: socket.socket, protocol: protocols.BaseProtocol,
                            sslcontext: Any, waiter: futures.Future | None = None, *,
                            server_side: bool = False, server_hostname: str | None = None,
                            extra: dict | None = None, server: Any = None,
                            ssl_handshake_timeout: float | None = constants.SSL_HANDSHAKE_TIMEOUT,
                            ssl_shutdown_timeout: float | None = constants.SSL_SHUTDOWN_TIMEOUT,
                            call_connection_made: bool = True) -> Any:
        ssl_protocol = sslproto.SSLProtocol(
            self, protocol, sslcontext, waiter, server_side, server_hostname,
            call_connection_made=call_connection_made,
            ssl_handshake_timeout=ssl_handshake_timeout,
            ssl_shutdown_timeout=ssl_shutdown_timeout)
        self._make_socket_transport(rawsock, ssl_protocol, extra=extra, server=server)
        return ssl_protocol._app_transport

    def _make_datagram_transport(self, sock: socket.socket, protocol: protocols.BaseProtocol,
                                 address: Any = None, waiter: futures.Future | None = None,
                                 extra: dict | None = None) -> DatagramTransport:
        return DatagramTransport(self, sock, protocol, address, waiter, extra)

    def _make_read_pipe_transport(self, pipe: Any, protocol: protocols.BaseProtocol,
                                  waiter: futures.Future | None = None,
                                  extra: dict | None = None) -> ReadPipeTransport:
        return ReadPipeTransport(self, pipe, protocol, waiter, extra)

    def _make_write_pipe_transport(self, pipe: Any, protocol: protocols.BaseProtocol,
                                   waiter: futures.Future | None = None,
                                   extra: dict | None = None) -> WritePipeTransport:
        return WritePipeTransport(self, pipe, protocol, waiter, extra)

    async def _make_subprocess_transport(self, protocol: protocols.BaseProtocol, args: Any,
                                         shell: bool, stdin: Any, stdout: Any, stderr: Any,
                                         bufsize: int, extra: dict | None = None,
                                         **kwargs: Any) -> SubprocessTransport:
        waiter = self.create_future()
        transport = SubprocessTransport(self, protocol, args, shell, stdin, stdout, stderr,
                                        bufsize, waiter=waiter, extra=extra, **kwargs)
        watch_exit(self, transport)
        try:
            await waiter
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException:
            transport.close()
            await transport._wait()
            raise
        return transport
