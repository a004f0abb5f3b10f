"""Response-head bytes: status lines, the cached ``date``/``server`` pair, header checks.

Everything here runs once per response, so the work is precomputed where it
can be: one status line per code (built at first use), one ``date`` + ``server``
block per second (refreshed by the server's ticker, not computed per request),
and header validation done on the joined block (two ``count`` calls) rather
than per header, falling back to the per-header check only to name the culprit.
"""

from __future__ import annotations

import http
import re
from email.utils import formatdate
from typing import Iterable

#: What the ``server`` header says (uvicorn writes ``server: uvicorn``).
SERVER_NAME = b"dxpy"

_STATUS_LINES: dict[int, bytes] = {}

#: RFC 9110 token characters: what a header name may contain.
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
#: A header value may not contain CR, LF or NUL (response splitting).
_BAD_VALUE = re.compile(rb"[\r\n\0]")


class HeaderError(ValueError):
    """An application gave a response header that cannot be sent safely."""


def status_line(status: int) -> bytes:
    """``HTTP/1.1 <code> <reason>\\r\\n`` for ``status``, cached per code."""
    line = _STATUS_LINES.get(status)
    if line is None or type(status) is not int:
        if type(status) is not int or not 100 <= status <= 999:
            raise HeaderError(f"invalid HTTP status code {status!r}")
        try:
            reason = http.HTTPStatus(status).phrase.encode()
        except ValueError:
            reason = b""
        line = _STATUS_LINES[status] = b"HTTP/1.1 %d %s\r\n" % (status, reason)
    return line


def date_block(server_header: bool = True, date_header: bool = True, now: float | None = None) -> bytes:
    """The ``date`` (and ``server``) header lines for the current second."""
    block = b""
    if server_header:
        block += b"server: " + SERVER_NAME + b"\r\n"
    if date_header:
        block += b"date: " + formatdate(now, usegmt=True).encode() + b"\r\n"
    return block


def encode_headers(headers: Iterable[tuple[bytes, bytes]]) -> tuple[bytes, int | None, bool, bool]:
    """Join ASGI response header pairs into ``name: value\r\n`` lines, noting
    the framing headers on the way (one pass: this runs for every response).

    Returns ``(block, content_length or None, chunked, connection_close)``.
    Raises ``HeaderError`` for anything that would split the response
    (CR/LF/NUL) or a name that is not an HTTP token.
    """
    parts = []
    length = None
    chunked = close = False
    for name, value in headers:
        parts += (name, b": ", value, b"\r\n")
        lower = name.lower()
        if lower == b"content-length":
            try:
                length = int(value)
            except ValueError:
                raise HeaderError(f"invalid content-length {value!r}") from None
        elif lower == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
        elif lower == b"connection":
            close = value.lower() == b"close"
    count = len(parts) >> 2
    try:
        block = b"".join(parts)
    except TypeError:
        raise HeaderError("response header names and values must be bytes") from None
    if block.count(b"\n") != count or block.count(b"\r") != count or b"\0" in block:
        _name_bad_header(headers)
    return block, length, chunked, close


def _name_bad_header(headers: Iterable[tuple[bytes, bytes]]) -> None:
    """The slow path of ``encode_headers``: find and name the unsafe header."""
    for name, value in headers:
        if not _TOKEN.match(name):
            raise HeaderError(f"invalid response header name {name!r}")
        if _BAD_VALUE.search(value):
            raise HeaderError(f"invalid response header value for {name!r}: {value!r}")
    raise HeaderError("response header block contains a line break")


def simple_response(status: int, body: bytes, *, close: bool = True,
                    extra: bytes = b"") -> bytes:
    """A complete plain-text response the server writes itself (errors, 100-continue)."""
    head = [status_line(status), date_block(),
            b"content-type: text/plain; charset=utf-8\r\n",
            b"content-length: %d\r\n" % len(body), extra]
    if close:
        head.append(b"connection: close\r\n")
    head.append(b"\r\n")
    return b"".join(head) + body


CONTINUE_100 = b"HTTP/1.1 100 Continue\r\n\r\n"
