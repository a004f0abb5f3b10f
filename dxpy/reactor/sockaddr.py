"""Pack and unpack ``struct sockaddr`` bytes for the reactor's connect/sendmsg.

io_uring takes raw sockaddr structures; Python's ``socket`` module speaks in
address tuples.  These two functions translate between them for the families
the loop supports (AF_INET, AF_INET6, AF_UNIX), in the host's layout.
"""

from __future__ import annotations

import socket
import struct
from typing import Any

_FAMILY = struct.Struct("=H")
_IN4 = struct.Struct("=H2s4s8x")  # family, port (network order), addr, zero
_IN6 = struct.Struct("=H2sI16sI")  # family, port, flowinfo, addr, scope_id
_PORT = struct.Struct("!H")
_UNIX_PATH_MAX = 108


def pack(family: int, address: Any) -> bytes:
    """Return the sockaddr bytes for an already-resolved ``address`` tuple."""
    if family == socket.AF_INET:
        host, port = address[:2]
        return _IN4.pack(family, _PORT.pack(port), socket.inet_pton(family, host))
    if family == socket.AF_INET6:
        host, port = address[:2]
        flowinfo = address[2] if len(address) > 2 else 0
        scope_id = address[3] if len(address) > 3 else 0
        host = host.split("%", 1)[0]
        return _IN6.pack(family, _PORT.pack(port), flowinfo,
                         socket.inet_pton(family, host), scope_id)
    if family == socket.AF_UNIX:
        path = address.encode() if isinstance(address, str) else bytes(address)
        if len(path) >= _UNIX_PATH_MAX:
            raise OSError(f"AF_UNIX path too long ({len(path)} bytes): {path!r}")
        # Abstract-namespace paths start with NUL and are not NUL-terminated.
        tail = b"" if path[:1] == b"\0" else b"\0"
        return _FAMILY.pack(family) + path + tail
    raise ValueError(f"unsupported address family {family!r}")


def unpack(data: bytes) -> Any:
    """Return the ``socket``-style address tuple for raw sockaddr ``data``."""
    if len(data) < _FAMILY.size:
        return None
    (family,) = _FAMILY.unpack_from(data)
    if family == socket.AF_INET:
        _, port, addr = _IN4.unpack_from(data)
        return socket.inet_ntop(family, addr), _PORT.unpack(port)[0]
    if family == socket.AF_INET6:
        _, port, flowinfo, addr, scope_id = _IN6.unpack_from(data)
        return socket.inet_ntop(family, addr), _PORT.unpack(port)[0], flowinfo, scope_id
    if family == socket.AF_UNIX:
        path = data[_FAMILY.size:]
        if path[:1] != b"\0":
            path = path.split(b"\0", 1)[0]
        return path.decode(errors="surrogateescape") if path[:1] != b"\0" else path
    raise ValueError(f"unsupported address family {family!r}")
