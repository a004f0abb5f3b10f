"""``TextFile``: the async counterpart of ``io.TextIOWrapper``.

Decoding is Python's own: the codec's incremental decoder wrapped in
``io.IncrementalNewlineDecoder`` (exactly what ``TextIOWrapper`` builds), and
the codec's incremental encoder for writing, so every encoding, error handler
and newline mode behaves as ``open()``'s.  What is re-done here is the
bookkeeping around them, following ``TextIOWrapper``'s documented algorithm:
decode the file in chunks (``read1`` of 8 KiB, more for a large ``read(n)``),
keep a snapshot ``(decoder flags, bytes fed)`` taken before each chunk, and
make ``tell()`` an opaque cookie (byte position, decoder flags, bytes to
feed, EOF flag, characters to skip) that ``seek()`` replays.  Following the
same chunking and the same search makes the cookies equal to ``open()``'s,
which the hypothesis suite checks.
"""

from __future__ import annotations

import codecs
import io
import locale
import operator
import os
from typing import Any

from ._binary import BinaryFile, FileBase

_CHUNK_SIZE = 8192


def resolve_encoding(encoding: str | None) -> str:
    """``open()``'s choice of encoding, with its errors for bad names."""
    encoding = io.text_encoding(encoding)
    if encoding == "locale":
        encoding = locale.getpreferredencoding(False)
    if not codecs.lookup(encoding)._is_text_encoding:
        raise LookupError(f"{encoding!r} is not a text encoding; use codecs.open() to "
                          "handle arbitrary codecs")
    return encoding


def check_newline(newline: str | None) -> None:
    if newline is not None and not isinstance(newline, str):
        raise TypeError(f"illegal newline type: {type(newline).__name__}")
    if newline not in (None, "", "\n", "\r", "\r\n"):
        raise ValueError(f"illegal newline value: {newline}")


def pack_cookie(position: int, dec_flags: int = 0, bytes_to_feed: int = 0,
                need_eof: bool = False, chars_to_skip: int = 0) -> int:
    """The cookie as the C ``TextIOWrapper`` lays it out (its ``cookie_type``
    struct read as a little-endian integer: 64-bit position, then 32-bit
    flags, bytes to feed, chars to skip, and an EOF byte), so that ``tell()``
    returns the very numbers ``open()``'s files return."""
    return (position | (dec_flags << 64) | (bytes_to_feed << 96) | (chars_to_skip << 128)
            | int(need_eof) << 160)


def unpack_cookie(cookie: int) -> tuple[int, int, int, bool, int]:
    """(position, decoder flags, bytes to feed, need EOF, chars to skip)."""
    fields = []
    for bits in (64, 32, 32, 32):
        cookie, value = divmod(cookie, 1 << bits)
        fields.append(value)
    position, dec_flags, bytes_to_feed, chars_to_skip = fields
    return position, dec_flags, bytes_to_feed, bool(cookie & 0xFF), chars_to_skip


def _fast_start(decoder: Any, dec_flags: int, data: bytes, skip: int,
                ratio: float) -> tuple[int, int, int]:
    """Guess a safe start (decoder buffer empty, at most ``skip`` chars before
    it) near the target from the bytes-per-char ratio; (offset, flags, chars
    still to skip).  Offset 0 when the guess fails."""
    guess = int(ratio * skip)
    step = 1
    while guess > 0:
        decoder.setstate((b"", dec_flags))
        count = len(decoder.decode(data[:guess]))
        if count <= skip:
            pending, flags = decoder.getstate()
            if not pending:
                return guess, flags, skip - count
            guess -= len(pending)
            step = 1
        else:
            guess -= step
            step *= 2
    decoder.setstate((b"", dec_flags))
    return 0, dec_flags, skip


def tell_cookie(decoder: Any, position: int, dec_flags: int, data: bytes, skip: int,
                ratio: float) -> int:
    """The cookie for ``skip`` characters into the chunk ``data`` that was decoded
    from byte ``position`` with decoder flags ``dec_flags``: the nearest safe
    start before the target, plus how to walk from there."""
    if skip == 0:
        return pack_cookie(position, dec_flags)
    saved = decoder.getstate()
    try:
        offset, flags, skip = _fast_start(decoder, dec_flags, data, skip, ratio)
        start = position + offset
        if skip == 0:
            return pack_cookie(start, flags)
        fed = decoded = 0
        need_eof = False
        for index in range(offset, len(data)):
            fed += 1
            decoded += len(decoder.decode(data[index:index + 1]))
            pending, now = decoder.getstate()
            if not pending and decoded <= skip:
                start, skip, flags, fed, decoded = start + fed, skip - decoded, now, 0, 0
            if decoded >= skip:
                break
        else:
            decoded += len(decoder.decode(b"", final=True))
            need_eof = True
            if decoded < skip:
                raise OSError("can't reconstruct logical file position")
        return pack_cookie(start, flags, fed, need_eof, skip)
    finally:
        decoder.setstate(saved)


class TextFile(FileBase):
    """An open file in text mode over a ``BinaryFile``; I/O methods are coroutines."""

    def __init__(self, binary: BinaryFile, encoding: str, errors: str | None,
                 newline: str | None, line_buffering: bool) -> None:
        self.buffer = binary
        self.name = binary.name
        self.mode = binary.mode
        self.encoding = encoding
        self.errors = errors or "strict"
        self.line_buffering = line_buffering
        self._readuniversal = newline in (None, "")
        self._readtranslate = newline is None
        self._readnl = newline
        self._writetranslate = newline != ""
        self._writenl = newline or os.linesep
        self._decoder: Any = None
        self._encoder: Any = None
        self._decoded = ""
        self._used = 0
        self._snapshot: tuple[int, bytes] | None = None
        self._b2cratio = 0.0
        self._chunk_size = _CHUNK_SIZE  # as TextIOWrapper._CHUNK_SIZE
        if binary.readable():  # eagerly, as TextIOWrapper: seek() restores its state
            self._get_decoder()
        if binary.writable():
            self._encoder = codecs.getincrementalencoder(encoding)(self.errors)
            if binary._pos != 0:  # appending: no BOM in the middle of a file
                self._encoder.setstate(0)

    @property
    def closed(self) -> bool:
        return self.buffer.closed

    @property
    def newlines(self) -> Any:
        return self._decoder.newlines if self._decoder is not None else None

    def fileno(self) -> int:
        return self.buffer.fileno()

    def readable(self) -> bool:
        return self.buffer.readable()

    def writable(self) -> bool:
        return self.buffer.writable()

    def seekable(self) -> bool:
        return self.buffer.seekable()

    # ---- decoding state --------------------------------------------------------------
    def _get_decoder(self) -> Any:
        if self._decoder is None:
            if not self.buffer.readable():
                raise io.UnsupportedOperation(f"not readable: {self.name!r}")
            decoder = codecs.getincrementaldecoder(self.encoding)(self.errors)
            if self._readuniversal:
                decoder = io.IncrementalNewlineDecoder(decoder, self._readtranslate)
            self._decoder = decoder
        return self._decoder

    def _set_decoded(self, chars: str) -> None:
        self._decoded, self._used = chars, 0

    def _take(self, count: int | None = None) -> str:
        start = self._used
        chars = self._decoded[start:] if count is None else self._decoded[start:start + count]
        self._used += len(chars)
        return chars

    async def _read_chunk(self, size_hint: int = 0) -> bool:
        """Decode the next chunk into the decoded-chars buffer; False at EOF
        (no bytes and no characters left)."""
        decoder = self._get_decoder()
        pending, dec_flags = decoder.getstate()
        size = self._chunk_size
        if size_hint > 0:
            size = max(size, int(max(self._b2cratio, 1.0) * size_hint))
        chunk = await self.buffer.read1(size)
        chars = decoder.decode(chunk, not chunk)
        self._set_decoded(chars)
        self._b2cratio = len(chunk) / len(chars) if chars else 0.0
        self._snapshot = (dec_flags, pending + chunk)
        return bool(chunk) or bool(chars)  # as C: text the final decode flushed is not EOF yet

    def _check_readable(self) -> None:
        self.buffer._check_open("read of")
        self._get_decoder()

    # ---- reading ------------------------------------------------------------------------
    async def read(self, size: int | None = -1) -> str:
        """Up to ``size`` characters; ``-1``/None: everything to EOF."""
        self._check_readable()
        size = -1 if size is None else size.__index__()
        await self.buffer._flush_writes()
        if size < 0:
            tail = self._decoder.decode(await self.buffer.read(), final=True)
            result = self._take() + tail
            self._set_decoded("")
            self._snapshot = None
            return result
        result = self._take(size)
        while len(result) < size:
            if not await self._read_chunk(size - len(result)):
                break
            result += self._take(size - len(result))
        return result

    async def readline(self, size: int = -1) -> str:
        """One line with its ending (the file's newline mode decides what ends one)."""
        self._check_readable()
        size = operator.index(size)  # TextIOWrapper refuses None here
        await self.buffer._flush_writes()
        line = ""
        start = 0
        while True:
            if self._used >= len(self._decoded):  # like TextIOWrapper: fetch first
                while await self._read_chunk():
                    if self._decoded:
                        break
                if not self._decoded:  # EOF
                    self._set_decoded("")
                    self._snapshot = None
                    return line
            line += self._take()
            end, start = self._line_end(line, start)
            if end >= 0:
                break
            if size >= 0 and len(line) >= size:
                end = size
                break
        if size >= 0 and end > size:
            end = size
        self._used -= len(line) - end  # give back what follows the line
        return line[:end]

    def _line_end(self, line: str, start: int) -> tuple[int, int]:
        """(index after the line ending or -1, where to search next time)."""
        if self._readtranslate:
            found = line.find("\n", start)
            return (found + 1, start) if found >= 0 else (-1, len(line))
        if self._readuniversal:
            return _universal_end(line, start)
        found = line.find(self._readnl, start)
        if found >= 0:
            return found + len(self._readnl), start
        return -1, max(start, len(line) - len(self._readnl) + 1)

    # ---- writing --------------------------------------------------------------------------
    async def write(self, text: str) -> int:
        """Encode and write ``text``; return its length in characters."""
        self.buffer._check_open("write to")
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        if self._encoder is None:
            raise io.UnsupportedOperation(f"not writable: {self.name!r}")
        length = len(text)
        has_lf = (self._writetranslate or self.line_buffering) and "\n" in text
        if has_lf and self._writetranslate and self._writenl != "\n":
            text = text.replace("\n", self._writenl)
        await self.buffer.write(self._encoder.encode(text))
        if self.line_buffering and (has_lf or "\r" in text):
            await self.buffer.flush()
        self._set_decoded("")
        self._snapshot = None
        if self._decoder is not None:
            self._decoder.reset()
        return length

    async def flush(self) -> None:
        await self.buffer.flush()

    async def fsync(self, datasync: bool = False) -> None:
        await self.buffer.fsync(datasync)

    async def close(self) -> None:
        await self.buffer.close()

    # ---- positioning ------------------------------------------------------------------------
    async def tell(self) -> int:
        """An opaque cookie for ``seek`` (a byte offset in the simple cases)."""
        self.buffer._check_open()
        await self.buffer.flush()
        position = await self.buffer.tell()
        if self._decoder is None or self._snapshot is None:
            return position
        dec_flags, data = self._snapshot
        return tell_cookie(self._decoder, position - len(data), dec_flags, data, self._used,
                           self._b2cratio)

    async def seek(self, cookie: int, whence: int = os.SEEK_SET) -> int:
        """Go to a ``tell()`` cookie, or to the end (``seek(0, 2)``)."""
        self.buffer._check_open("seek of")
        if whence == os.SEEK_CUR:
            if cookie != 0:
                raise io.UnsupportedOperation("can't do nonzero cur-relative seeks")
            cookie, whence = await self.tell(), os.SEEK_SET
        elif whence == os.SEEK_END:
            if cookie != 0:
                raise io.UnsupportedOperation("can't do nonzero end-relative seeks")
            await self.buffer.flush()
            position = await self.buffer.seek(0, os.SEEK_END)
            self._reset_decoding()
            self._reset_encoder(position)
            return position
        if whence != os.SEEK_SET:
            raise ValueError(f"invalid whence ({whence}, should be 0, 1 or 2)")
        if cookie < 0:
            raise ValueError(f"negative seek position {cookie}")
        await self.buffer.flush()
        await self._replay(cookie)
        self._reset_encoder(cookie)
        return cookie

    async def _replay(self, cookie: int) -> None:
        """Restore the decoder at the cookie's safe start and skip forward."""
        position, dec_flags, to_feed, need_eof, skip = unpack_cookie(cookie)
        await self.buffer.seek(position)
        self._reset_decoding(position, dec_flags)
        if skip:
            data = await self.buffer.read(to_feed)
            self._set_decoded(self._get_decoder().decode(data, need_eof))
            self._snapshot = (dec_flags, data)
            if len(self._decoded) < skip:
                raise OSError("can't restore logical file position")
            self._used = skip

    def _reset_decoding(self, position: int | None = None, dec_flags: int = 0) -> None:
        """Drop decoded text; put the decoder in its state at a cookie's safe
        start, or reset it (``position`` None, or the start of the file
        with no flags: utf-16's fresh state is "expecting a BOM", not 0)."""
        self._set_decoded("")
        self._snapshot = None
        if self._decoder is None:
            return
        if position is None or (position == 0 and dec_flags == 0):
            self._decoder.reset()
        else:
            self._decoder.setstate((b"", dec_flags))
            self._snapshot = (dec_flags, b"")  # so tell() keeps the flags

    def _reset_encoder(self, position: int) -> None:
        """A BOM is written only at the very start of a file."""
        if self._encoder is not None:
            if position:
                self._encoder.setstate(0)
            else:
                self._encoder.reset()

    async def truncate(self, size: int | None = None) -> int:
        """Resize the file; with no size, at the *byte* position, which after
        a read is the end of the decoded chunk (as the C TextIOWrapper does)."""
        await self.buffer.flush()
        return await self.buffer.truncate(size)


def _universal_end(line: str, start: int) -> tuple[int, int]:
    """Line end under universal newlines without translation: \\r\\n, \\r or \\n.

    A \\r at the very end is a whole line ending: the newline decoder holds
    a trailing \\r back until it sees the next byte or EOF (the C
    TextIOWrapper relies on the same fact)."""
    lf = line.find("\n", start)
    cr = line.find("\r", start)
    if cr < 0:
        return (lf + 1, start) if lf >= 0 else (-1, len(line))
    if lf < 0 or lf > cr + 1:
        return cr + 1, start
    return (lf + 1 if lf < cr else cr + 2), start
