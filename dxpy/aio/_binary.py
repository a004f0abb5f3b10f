"""``BinaryFile``: the async counterpart of ``io.BufferedRandom`` over an fd.

Why our own buffered layer instead of wrapping ``io.BufferedRandom``: the
stdlib classes call their raw stream synchronously, and an async read cannot
be hidden behind a synchronous call without a thread.  So this class keeps
the stdlib's *observable* rules (checked against ``open()`` by the hypothesis
suite) and does the raw I/O as awaited operations:

* The file position is kept here and every raw operation carries an explicit
  offset (``pread``/``pwrite``).  A cancelled operation therefore changes
  nothing we report: the position and buffers stay as they were, and
  re-flushing a write buffer writes the same bytes at the same offset again.
  Append mode writes at offset -1 (O_APPEND puts them at the end) and then
  reads the kernel's position back with ``lseek``.
* One read buffer or one write buffer at a time, ``buffer_size`` bytes;
  ``read(n)`` larger than the buffer reads straight into the result;
  ``read1`` makes at most one raw read, as ``BufferedReader.read1`` does.
* Large requests keep several reads in flight (``_large``): ``read()``,
  ``read(n)`` and ``readinto`` of many MiB split into parts read together,
  straight into the returned ``bytes`` or the caller's buffer; a run of
  equal sequential ``read(n)`` calls is served by read-ahead.  ``read()``
  sizes its one result by ``fstat`` and probes for EOF alongside, so the
  bytes the kernel wrote are the bytes returned (no join, no copy).
* Large ``bytes`` written (64 KiB to 4 MiB) are held by reference and
  written together by one ``pwritev`` on the loop's thread once 4 MiB wait
  (``_gather``: ext4 has no non-blocking buffered write, so an operation
  per write paid two thread hand-overs); flush, seek, read, truncate and
  close write them first, and ``tell`` counts them.
* ``seek(.., SEEK_END)`` asks ``fstat`` for the size (it does no I/O on a
  local file system); ``truncate`` runs ``ftruncate`` on the pool (no reactor
  operation exists for it and it may free many blocks).
"""

from __future__ import annotations

import abc

import asyncio
import errno
import io
import os
from typing import TYPE_CHECKING, Any, AsyncIterator

from ._fresh import fresh_bytes, writable_view
from ._gather import GATHER_BYTES, gathers, remaining, write_gathered
from ._large import (AHEAD_BELOW, INLINE_MAX, ReadAhead, fresh_cached, read_cached, read_fresh,
                     read_into)
from ._ops import MAX_IO, os_error
from ._whole import read_rest, write_all

if TYPE_CHECKING:  # pragma: no cover
    from ._ops import FileOps



class FileBase(abc.ABC):
    """What binary and text files share: closing, context manager, iteration."""

    name: Any
    mode: str

    @property
    @abc.abstractmethod
    def closed(self) -> bool:
        """Whether ``close()`` has run."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Flush and release the file."""

    @abc.abstractmethod
    async def readline(self, size: int = -1) -> Any:
        """One line (at most ``size`` bytes/characters when ``size >= 0``)."""

    async def readlines(self, hint: int = -1) -> list[Any]:
        """Lines until their total size reaches ``hint`` (``-1``: all), as
        ``IOBase.readlines`` counts."""
        lines = []
        total = 0
        while True:
            line = await self.readline()
            if not line:
                return lines
            lines.append(line)
            total += len(line)
            if 0 < hint <= total:
                return lines

    async def writelines(self, lines: Any) -> None:
        for line in lines:
            await self.write(line)

    @abc.abstractmethod
    async def write(self, data: Any) -> int:
        """Write ``data``; return how much was written (as ``open()``'s files do)."""

    async def __aenter__(self) -> "FileBase":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def __aiter__(self) -> AsyncIterator[Any]:
        return self

    async def __anext__(self) -> Any:
        line = await self.readline()
        if not line:
            raise StopAsyncIteration
        return line

    def __repr__(self) -> str:
        state = " closed" if self.closed else ""
        return f"<dxpy.aio.{type(self).__name__} name={self.name!r} mode={self.mode!r}{state}>"


class BinaryFile(FileBase):
    """An open file in binary mode; every I/O method is a coroutine."""

    def __init__(self, ops: "FileOps", fd: int, name: Any, mode: str, *, readable: bool,
                 writable: bool, append: bool, buffer_size: int) -> None:
        self._ops = ops
        self._fd = fd
        self.name = name
        self.mode = mode
        self._readable = readable
        self._writable = writable
        self._append = append
        self._buffer_size = buffer_size
        self._closed = False
        self._pos = os.lseek(fd, 0, os.SEEK_END) if append else 0  # raw position
        self._rbuf = b""  # read buffer: file bytes ending at self._pos
        self._rused = 0
        self._wbuf = bytearray()  # write buffer: bytes going to self._pos
        # Large ``bytes`` written, held for one gathered write (``_gather``),
        # going to self._pos before the write buffer's bytes.
        self._gather: list[bytes | bytearray] = []
        self._gathered = 0
        self._ahead: ReadAhead | None = None  # read-ahead of equal sequential reads
        self._last_direct = (-1, 0)  # (end offset, size) of the last direct read
        self._inline_reads = True  # False once the fd refused a page-cache-only read

    # ---- state ---------------------------------------------------------------
    @property
    def closed(self) -> bool:
        return self._closed

    def fileno(self) -> int:
        self._check_open()
        return self._fd

    def readable(self) -> bool:
        self._check_open()
        return self._readable

    def writable(self) -> bool:
        self._check_open()
        return self._writable

    def seekable(self) -> bool:
        self._check_open()
        return True

    def _check_open(self, what: str = "I/O operation on") -> None:
        if self._closed:
            raise ValueError(f"{what} closed file {self.name!r}")

    def _check_readable(self) -> None:
        self._check_open("read of")
        if not self._readable:
            raise io.UnsupportedOperation(f"read: {self.name!r} is not open for reading")

    def _check_writable(self) -> None:
        self._check_open("write to")
        if not self._writable:
            raise io.UnsupportedOperation(f"write: {self.name!r} is not open for writing")

    def _buffered(self) -> int:
        return len(self._rbuf) - self._rused

    def _take(self, count: int) -> bytes:
        start = self._rused
        self._rused = min(start + count, len(self._rbuf))
        return self._rbuf[start:self._rused]

    def _drop_read_buffer(self) -> None:
        self._pos -= self._buffered()
        self._rbuf, self._rused = b"", 0

    # ---- reading ---------------------------------------------------------------
    async def read(self, size: int | None = -1) -> bytes:
        """Up to ``size`` bytes (all of them unless EOF); ``-1``/None: to EOF."""
        if self._closed or not self._readable:
            self._check_readable()
        if size.__class__ is not int or size < 0:
            size = _size_arg(size)
        if (size > self._buffer_size and not self._wbuf and not self._gather
                and self._rused == len(self._rbuf)):
            # The common large read (nothing buffered either way) in fewer
            # steps; a cached one is a single C call (``fresh_cached``).
            if self._ahead is None and size <= INLINE_MAX and self._inline_reads:
                data, count = fresh_cached(self._fd, size, self._pos)
                if count == size:
                    self._pos += size
                    self._last_direct = (-1, 0)
                    return data
                finished = await self._finish_cached(data, count, size)
                if finished is not None:
                    return finished
                return await self._read_direct(size, try_cache=False)
            return await self._read_direct(size)
        await self._flush_writes()
        if size < 0:
            return await self._read_all(self._take(self._buffered()))
        if size <= self._buffered():
            return self._take(size)
        parts = [self._take(self._buffered())]
        missing = size - len(parts[0])
        if missing > self._buffer_size:
            direct = await self._read_direct(missing)
            if not parts[0]:
                return direct  # nothing was buffered: no join, no copy
            parts.append(direct)
        else:
            while missing > 0 and await self._fill():
                parts.append(self._take(missing))
                missing -= len(parts[-1])
        return b"".join(parts)

    async def read1(self, size: int = -1) -> bytes:
        """Buffered bytes if any, else the result of at most one raw read."""
        self._check_readable()
        size = _size_arg(size)
        await self._flush_writes()
        if size < 0:
            size = self._buffer_size
        if size == 0:
            return b""
        if self._buffered():
            return self._take(size)
        buf = bytearray(min(size, MAX_IO))
        count = await self._raw_read(memoryview(buf), self._pos)
        self._pos += count
        return bytes(buf) if count == len(buf) else bytes(memoryview(buf)[:count])

    async def readinto(self, buffer: Any) -> int:
        """Fill ``buffer`` (fewer bytes only at EOF); return the count."""
        self._check_readable()
        view = memoryview(buffer).cast("B")
        await self._flush_writes()
        head = self._take(len(view))
        view[:len(head)] = head
        done = len(head)
        if len(view) - done > self._buffer_size:
            self._drop_ahead()
            rest = view[done:]
            count = self._read_cached(rest) if len(rest) <= INLINE_MAX else 0
            count += await self._read_into_view(rest[count:], self._pos + count)
            self._pos += count
            return done + count
        while done < len(view) and await self._fill():
            chunk = self._take(len(view) - done)
            view[done:done + len(chunk)] = chunk
            done += len(chunk)
        return done

    async def readline(self, size: int | None = -1) -> bytes:
        """One line including its ``b"\\n"`` (at most ``size`` bytes)."""
        size = _size_arg(size)
        if size == 0:  # IOBase.readline reads nothing, so even a writer allows it
            self._check_open("readline of")
            return b""
        self._check_readable()
        await self._flush_writes()
        parts: list[bytes] = []
        got = 0
        while size < 0 or got < size:
            if not self._buffered() and not await self._fill():
                break
            end = self._rbuf.find(b"\n", self._rused)
            count = (end + 1 if end >= 0 else len(self._rbuf)) - self._rused
            if size >= 0:
                count = min(count, size - got)
            parts.append(self._take(count))
            got += count
            if parts[-1].endswith(b"\n"):
                break
        return b"".join(parts)

    async def _fill(self) -> bool:
        """Refill the empty read buffer with one raw read; False at EOF."""
        buf = bytearray(max(self._buffer_size, 1))
        count = await self._raw_read(memoryview(buf), self._pos)
        self._pos += count
        self._rbuf = bytes(buf) if count == len(buf) else bytes(memoryview(buf)[:count])
        self._rused = 0
        return count > 0

    async def _read_direct(self, size: int, try_cache: bool = True) -> bytes:
        """Read ``size`` bytes (fewer at EOF) past the buffer.

        The kernel fills the ``bytes`` object that is returned (see
        ``_fresh``): no landing buffer, no copy, except the slice after a short
        read at EOF.  The second of two equal reads in a row starts read-ahead.
        ``try_cache=False``: the page cache was just asked and had nothing.
        """
        ahead = self._ahead
        if ahead is not None and not ahead.serves(self._pos, size):
            self._drop_ahead()
            ahead = None
        if ahead is None and size <= INLINE_MAX and try_cache and self._inline_reads:
            finished = await self._finish_cached(*fresh_cached(self._fd, size, self._pos), size)
            if finished is not None:
                return finished
        if ahead is None and self._last_direct == (self._pos, size) and size < AHEAD_BELOW:
            ahead = self._ahead = ReadAhead(self._ops, self._fd, size, self._pos)
        try:
            if ahead is not None:
                data = await ahead.next()
            else:
                data = await read_fresh(self._ops, self._fd, size, self._pos)
        except OSError as exc:
            self._drop_ahead()
            raise os_error(exc.errno, self.name) from None
        self._pos += len(data)
        self._last_direct = (self._pos, size)
        if not data:
            self._drop_ahead()
        return data

    async def _read_all(self, rest: bytes) -> bytes:
        """``read()``: ``rest`` (what was buffered) plus everything to EOF.

        Sized by ``fstat``: the remaining bytes are read in parts straight into
        one result object, with a 1-byte EOF probe in flight beside them; only
        a file that grew (probe found data) or shrank takes the slow path."""
        self._drop_ahead()
        expected = os.fstat(self._fd).st_size - self._pos
        if expected <= self._buffer_size:
            data = await read_rest(self._ops, self._fd, rest, self.name, self._pos)
            self._pos += len(data) - len(rest)
            return data
        data, view = fresh_bytes(len(rest) + expected)
        view[:len(rest)] = rest
        probe = bytearray(1)
        try:
            count, extra = await asyncio.gather(
                read_into(self._ops, self._fd, view[len(rest):], self._pos),
                self._ops.pread(self._fd, memoryview(probe), self._pos + expected))
        except OSError as exc:
            raise os_error(exc.errno, self.name) from None
        if count == expected and extra == 0:
            self._pos += count
            return data
        head = data[:len(rest) + count]
        full = await read_rest(self._ops, self._fd, head, self.name, self._pos + count)
        self._pos += len(full) - len(rest)
        return full

    async def _finish_cached(self, data: bytes, count: int, size: int) -> bytes | None:
        """A direct read that ``fresh_cached`` started: ``count`` of the
        ``size`` bytes of ``data`` came from the page cache; the rest is read
        the usual way, in place.  None: nothing was cached (or the file
        refuses, and is not asked again)."""
        if count <= 0:
            if count < 0:
                self._inline_reads = False
            return None
        if count < size:
            count += await self._read_into_view(writable_view(data)[count:], self._pos + count)
        self._pos += count
        self._last_direct = (-1, 0)  # no read-ahead while the cache serves
        return data if count == size else data[:count]

    def _read_cached(self, view: memoryview) -> int:
        """``read_cached`` at the position: bytes copied at once (0: none)."""
        if not self._inline_reads:
            return 0
        count = read_cached(self._fd, view, self._pos)
        if count < 0:
            self._inline_reads = False
            return 0
        return count

    async def _read_into_view(self, view: memoryview, offset: int) -> int:
        """``read_into`` with the file's name on its error (0 for an empty view)."""
        if not view:
            return 0
        try:
            return await read_into(self._ops, self._fd, view, offset)
        except OSError as exc:
            raise os_error(exc.errno, self.name) from None

    def _drop_ahead(self) -> None:
        if self._ahead is not None:
            self._ahead.drop()
            self._ahead = None

    async def _raw_read(self, view: memoryview, offset: int) -> int:
        try:
            return await self._ops.pread(self._fd, view, offset)
        except OSError as exc:
            raise os_error(exc.errno, self.name) from None

    # ---- writing ---------------------------------------------------------------
    async def write(self, data: Any) -> int:
        """Buffer (or write) all of ``data``; return its length."""
        self._check_writable()
        if isinstance(data, str):
            raise TypeError("a bytes-like object is required, not 'str'")
        view = memoryview(data).cast("B")
        self._drop_ahead()
        if self._buffered():
            self._drop_read_buffer()
        if len(self._wbuf) + len(view) <= self._buffer_size:
            self._wbuf += view
            return len(view)
        if self._buffer_size and gathers(data, len(view), self._append):
            self._gather_write(data)
            return len(view)
        await self._flush_writes()
        if len(view) >= self._buffer_size:
            await self._raw_write(view)
        else:
            self._wbuf += view
        return len(view)

    async def flush(self) -> None:
        """Write the write buffer out (the kernel has the bytes afterwards)."""
        self._check_open("flush of")
        await self._flush_writes()
        if self._writable:  # as BufferedRandom: the next read starts afresh
            self._drop_read_buffer()

    async def fsync(self, datasync: bool = False) -> None:
        """Flush, then ``fsync`` (``fdatasync`` with ``datasync``) the file."""
        await self.flush()
        try:
            await self._ops.fsync(self._fd, datasync)
        except OSError as exc:
            raise os_error(exc.errno, self.name) from None

    def _gather_write(self, data: bytes) -> None:
        """Hold ``data`` (after what the write buffer holds) for one gathered
        write; write them all on the loop's thread once enough wait (``_gather``)."""
        if self._wbuf:  # its bytes go first; the object is not changed again
            self._gather.append(self._wbuf)
            self._gathered += len(self._wbuf)
            self._wbuf = bytearray()
        self._gather.append(data)
        self._gathered += len(data)
        if self._gathered >= GATHER_BYTES:
            self._write_gathered()

    def _write_gathered(self) -> None:
        """Write the gathered chunks at the position; on an error what was
        not written stays gathered (as ``BufferedWriter`` keeps its buffer)."""
        chunks, total = self._gather, self._gathered
        self._gather, self._gathered = [], 0
        try:
            self._pos += write_gathered(self._fd, chunks, total, self._pos)
        except OSError as exc:
            written = exc.written  # type: ignore[attr-defined]
            self._pos += written
            self._gather, self._gathered = remaining(chunks, written), total - written
            raise os_error(exc.errno, self.name) from None

    async def _flush_writes(self) -> None:
        if self._gather:
            self._write_gathered()
        if self._wbuf:
            await self._raw_write(memoryview(self._wbuf))
            self._wbuf = bytearray()

    async def _raw_write(self, view: memoryview) -> None:
        """Write all of ``view`` at the position; position moves only when done."""
        try:
            if self._append:
                await write_all(self._ops, self._fd, view, -1)
                self._pos = os.lseek(self._fd, 0, os.SEEK_CUR)
            else:
                self._pos = await write_all(self._ops, self._fd, view, self._pos)
        except OSError as exc:
            raise os_error(exc.errno, self.name) from None

    # ---- positioning -------------------------------------------------------------
    async def tell(self) -> int:
        self._check_open()
        return self._pos - self._buffered() + self._gathered + len(self._wbuf)

    async def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        """Move the position; return it (the rules of ``BufferedRandom.seek``)."""
        self._check_open("seek of")
        offset = offset.__index__()
        if whence not in (os.SEEK_SET, os.SEEK_CUR, os.SEEK_END):
            raise ValueError(f"whence value {whence} unsupported")
        await self._flush_writes()
        if whence == os.SEEK_CUR:
            offset += self._pos - self._buffered()
        elif whence == os.SEEK_END:
            offset += os.fstat(self._fd).st_size
        if offset < 0:
            raise os_error(errno.EINVAL, self.name)
        start = self._pos - len(self._rbuf)
        if offset != self._pos - self._buffered():
            self._drop_ahead()
        if start <= offset <= self._pos and self._rbuf:
            self._rused = offset - start  # inside the read buffer: keep it
        else:
            self._rbuf, self._rused = b"", 0
            self._pos = offset
        return offset

    async def truncate(self, size: int | None = None) -> int:
        """Resize the file to ``size`` (default: the position); position unchanged."""
        self._check_writable()
        await self._flush_writes()
        self._drop_read_buffer()
        self._drop_ahead()
        size = self._pos if size is None else size.__index__()
        try:
            await self._ops.blocking(os.ftruncate, self._fd, size)
        except OSError as exc:
            raise os_error(exc.errno, self.name) from None
        return size

    # ---- closing -------------------------------------------------------------------
    async def close(self) -> None:
        """Flush and close; the fd is closed even if the flush fails."""
        if self._closed:
            return
        self._drop_ahead()
        try:
            if self._writable:
                await self._flush_writes()
        finally:
            self._closed = True
            try:  # shielded: a cancelled close must still release the fd
                await asyncio.shield(self._ops.close(self._fd))
            except OSError as exc:
                raise os_error(exc.errno, self.name) from None


def _size_arg(size: int | None) -> int:
    """``size`` as the stdlib reads it: None means -1, anything below -1 is an error."""
    if size is None:
        return -1
    size = size.__index__()
    if size < -1:
        raise ValueError("read length must be non-negative or -1")
    return size
