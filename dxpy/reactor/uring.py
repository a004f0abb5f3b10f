"""``IoUringReactor``: the completion interface on io_uring (liburing via cffi).

Each operation becomes one SQE prepared by a C helper (``uring_helpers.c``)
and tagged with the caller's token as ``user_data``.  ``wait`` submits every
queued SQE and waits for completions in a single ``io_uring_enter``; the C
side copies all ready CQEs into a flat array that is unpacked into
``(token, result, flags)`` tuples with one ``struct.iter_unpack`` call.

Kernel features used, each with a fallback or a clear error:

* multishot recv selecting from a provided-buffer ring (``recv_multishot``);
  the buffer id rides in ``flags >> 16`` and ``take`` copies the bytes out
  and gives the buffer straight back to the ring;
* multishot accept and multishot poll;
* SEND_ZC for large payloads; its second (notification) CQE is folded into
  one completion so callers see exactly one result per send;
* registered files (``register_fd``): ops on a registered fd use its slot;
* ``read_files``: per file a hard-linked OPENAT -> READ -> READ(1 byte, EOF
  probe) -> CLOSE chain on a registered slot (a direct descriptor, never a
  process fd), all chains prepared in one C call; ``dx_reap`` consumes the
  chain's internal CQEs in C and emits one completion per file;
* SQPOLL when asked for (``DXPY_SQPOLL=1``) and permitted, else plain mode.
  It is off by default: on a machine with few cores the kernel polling
  thread competes with the program for CPU.
* SINGLE_ISSUER + DEFER_TASKRUN by default: the kernel defers completion
  work until the loop asks for events instead of interrupting on every
  packet (about 20% more echo throughput here).  The price: the ring
  belongs to the first thread that runs the loop; running the same loop
  later from another thread raises a clear ``ReactorError``.
  ``DXPY_URING_SHARED=1`` (or ``single_issuer=False``) lifts that.
"""

from __future__ import annotations

import errno
import operator
import os
import struct
from typing import Any, Callable, Sequence

from .base import F_MORE, Completion, FileBatch, FileStat, Message, Reactor, ReactorError

try:
    from ._uring import ffi, lib
except ImportError as _exc:  # extension not built: create_reactor falls back
    ffi = lib = None
    _IMPORT_ERROR: str = str(_exc)
else:
    _IMPORT_ERROR = ""
    # Per-message calls, bound once (an attribute lookup each is measurable).
    _unpack, _from_buffer = ffi.unpack, ffi.from_buffer
    _recycle, _dx_send = lib.dx_recycle, lib.dx_send

_CQE = struct.Struct("QiI")
_WRONG_THREAD = ("this io_uring ring belongs to the thread that first ran its loop "
                 "(SINGLE_ISSUER mode); run each dxpy loop from one thread, or set "
                 "DXPY_URING_SHARED=1 to allow any thread")
_NOTIF = 8  # IORING_CQE_F_NOTIF
_BUFFER_GROUP = 0
_FIXED_SLOTS = 4096
_FD_CAP = 65536
_MAX_RW = 0x7FFFF000  # the kernel's cap on one read/write
_AT_SYMLINK_NOFOLLOW = 0x100
_AT_REMOVEDIR = 0x200


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


class IoUringReactor(Reactor):
    """Completion reactor on one io_uring instance (not thread-safe: one loop)."""

    backend = "uring"
    batches_submissions = True

    def __init__(self, entries: int = 1024, sqpoll: bool | None = None,
                 recv_buffers: int = 64, recv_buffer_size: int = 256 * 1024,
                 single_issuer: bool | None = None) -> None:
        if lib is None:
            raise ReactorError(f"io_uring extension not built: {_IMPORT_ERROR}")
        if sqpoll is None:
            sqpoll = _env_flag("DXPY_SQPOLL")
        if single_issuer is None:
            single_issuer = not _env_flag("DXPY_URING_SHARED")
        cq_entries = entries * 4
        err = ffi.new("int *")
        ring = lib.dx_open(entries, cq_entries, int(sqpoll), int(single_issuer), err)
        if ring == ffi.NULL:
            raise ReactorError(-err[0], f"io_uring_setup failed: {os.strerror(-err[0])}")
        self._ring = ring
        self._out = ffi.new("dx_cqe[]", cq_entries)
        self._out_view = memoryview(ffi.buffer(self._out))
        self._cq_entries = cq_entries
        # token -> objects the kernel may still touch (None: nothing to keep)
        self._live: dict[int, Any] = {}
        self._zc: dict[int, int] = {}  # send_zc token -> fd, until its result arrives
        self._zc_held: dict[int, Any] = {}  # send_zc token -> buffer, until NOTIF
        # token -> fills a result holder (recvmsg address, statx) on success
        self._fillers: dict[int, Callable[[], None]] = {}
        # completions made without the kernel (read_files that found no SQE
        # room); the same list for the ring's lifetime (emptied in place):
        # the compiled core's UringLane holds it to test it in C
        self._synthetic: list[Completion] = []
        self._closed = False
        self._setup_buffers(recv_buffers, recv_buffer_size)
        self._fixed_files = lib.dx_setup_files(ring, _FIXED_SLOTS, _FD_CAP) == 0
        self._send_zc_ok = bool(lib.dx_opcode_supported(ring, lib.IORING_OP_SEND_ZC))

    def _setup_buffers(self, count: int, size: int) -> None:
        ret = lib.dx_setup_buffers(self._ring, count, size, _BUFFER_GROUP)
        if ret < 0:
            lib.dx_close(self._ring)
            raise ReactorError(-ret, "io_uring provided-buffer ring unavailable "
                                     f"(kernel >= 5.19 needed): {os.strerror(-ret)}")
        self._buffers = [lib.dx_buffer(self._ring, bid) for bid in range(count)]

    # ---- information -------------------------------------------------------
    def features(self) -> dict[str, Any]:
        """What this ring runs with (shown by ``dxpy info``)."""
        flags = lib.dx_setup_flags(self._ring)
        return {
            "sqpoll": bool(flags & lib.IORING_SETUP_SQPOLL),
            "coop_taskrun": bool(flags & lib.IORING_SETUP_COOP_TASKRUN),
            "defer_taskrun": bool(flags & lib.IORING_SETUP_DEFER_TASKRUN),
            "fast_poll": bool(lib.dx_features(self._ring) & lib.IORING_FEAT_FAST_POLL),
            "provided_buffers": len(self._buffers),
            "registered_files": self._fixed_files,
            "send_zc": self._send_zc_ok,
        }

    # ---- registered files --------------------------------------------------
    def register_fd(self, fd: int) -> bool:
        """Register ``fd`` so its ops skip the kernel's fd lookup.

        Must be paired with ``unregister_fd`` before the fd is closed other
        than through ``close_fd`` (a registered slot keeps the file open).
        Returns False when the table is full or unsupported (ops still work).
        """
        return self._fixed_files and lib.dx_register_fd(self._ring, fd) >= 0

    def unregister_fd(self, fd: int) -> None:
        """Drop ``fd``'s registered slot (no-op if it has none)."""
        if self._fixed_files and not self._closed:
            lib.dx_unregister_fd(self._ring, fd)

    # ---- queuing -------------------------------------------------------------
    def _queued(self, token: int, ret: int, keep: Any = None) -> None:
        if ret < 0:
            raise ReactorError(-ret, f"io_uring: cannot queue operation: {os.strerror(-ret)}")
        self._live[token] = keep

    def recv(self, token: int, fd: int, buf: Any, flags: int = 0) -> None:
        c = ffi.from_buffer(buf, require_writable=True)
        self._queued(token, lib.dx_recv(self._ring, token, fd, c, len(c), flags), c)

    def recv_multishot(self, token: int, fd: int) -> None:
        self._queued(token, lib.dx_recv_multishot(self._ring, token, fd))

    def take(self, result: int, flags: int) -> bytes:
        bid = flags >> 16
        data = _unpack(self._buffers[bid], result)
        _recycle(self._ring, bid)
        return data

    def send(self, token: int, fd: int, data: Any, flags: int = 0) -> None:
        c = _from_buffer(data)
        ret = _dx_send(self._ring, token, fd, c, len(c), flags)
        if ret < 0:
            self._queued(token, ret)  # raises
        self._live[token] = c

    def send_zc(self, token: int, fd: int, data: Any) -> None:
        if not self._send_zc_ok:
            self.send(token, fd, data)
            return
        c = ffi.from_buffer(data)
        self._queued(token, lib.dx_send_zc(self._ring, token, fd, c, len(c)), c)
        self._zc[token] = fd

    def read(self, token: int, fd: int, buf: Any, offset: int = -1) -> None:
        c = ffi.from_buffer(buf, require_writable=True)
        size = min(len(c), _MAX_RW)
        self._queued(token, lib.dx_read(self._ring, token, fd, c, size, offset), c)

    def write(self, token: int, fd: int, data: Any, offset: int = -1) -> None:
        c = ffi.from_buffer(data)
        size = min(len(c), _MAX_RW)
        self._queued(token, lib.dx_write(self._ring, token, fd, c, size, offset), c)

    def recvmsg(self, token: int, fd: int, buf: Any, flags: int = 0) -> Message:
        c = ffi.from_buffer(buf, require_writable=True)
        msg = ffi.new("dx_msg *")
        lib.dx_msg_init(msg, c, len(c), ffi.NULL, 0)
        self._queued(token, lib.dx_recvmsg(self._ring, token, fd, msg, flags), (c, msg))
        message = Message()

        def fill() -> None:
            message.address = ffi.unpack(lib.dx_msg_name(msg), lib.dx_msg_namelen(msg))

        self._fillers[token] = fill
        return message

    def sendmsg(self, token: int, fd: int, data: Any, address: bytes = b"") -> None:
        c = ffi.from_buffer(data)
        msg = ffi.new("dx_msg *")
        lib.dx_msg_init(msg, c, len(c), address, len(address))
        self._queued(token, lib.dx_sendmsg(self._ring, token, fd, msg, 0), (c, msg))

    def accept(self, token: int, fd: int, multishot: bool = False) -> None:
        self._queued(token, lib.dx_accept(self._ring, token, fd, int(multishot)))

    def connect(self, token: int, fd: int, address: bytes) -> None:
        self._queued(token, lib.dx_connect(self._ring, token, fd, address, len(address)),
                     address)

    def poll_add(self, token: int, fd: int, mask: int, multishot: bool = False) -> None:
        self._queued(token, lib.dx_poll_add(self._ring, token, fd, mask, int(multishot)))

    def timeout(self, token: int, seconds: float) -> None:
        ts = ffi.new("struct __kernel_timespec *")
        nanos = max(0, int(seconds * 1e9))
        ts.tv_sec, ts.tv_nsec = divmod(nanos, 1_000_000_000)
        self._queued(token, lib.dx_timeout(self._ring, token, ts), ts)

    def close_fd(self, token: int, fd: int) -> None:
        self._queued(token, lib.dx_close_fd(self._ring, token, fd))

    def openat(self, token: int, path: bytes, flags: int, mode: int = 0o666,
               dirfd: int = -100) -> None:
        c_path = ffi.new("char[]", bytes(path))
        self._queued(token, lib.dx_openat(self._ring, token, dirfd, c_path, flags, mode), c_path)

    def fsync(self, token: int, fd: int, datasync: bool = False) -> None:
        self._queued(token, lib.dx_fsync(self._ring, token, fd, int(datasync)))

    def statx(self, token: int, path: bytes, dirfd: int = -100,
              follow_symlinks: bool = True) -> FileStat:
        buf = ffi.new("struct statx *")
        c_path = ffi.new("char[]", bytes(path))
        flags = 0 if follow_symlinks else _AT_SYMLINK_NOFOLLOW
        self._queued(token, lib.dx_statx(self._ring, token, dirfd, c_path, flags, buf), (buf, c_path))
        holder = FileStat()

        def fill() -> None:
            holder.stat = _stat_result(buf)

        self._fillers[token] = fill
        return holder

    def read_offloaded(self, token: int, fd: int, buf: Any, offset: int = -1) -> None:
        c = ffi.from_buffer(buf, require_writable=True)
        size = min(len(c), _MAX_RW)
        self._queued(token, lib.dx_read_async(self._ring, token, fd, c, size, offset), c)

    def renameat(self, token: int, old: bytes, new: bytes, olddirfd: int = -100,
                 newdirfd: int = -100, flags: int = 0) -> None:
        c_old, c_new = _c_path(old), _c_path(new)
        self._queued(token, lib.dx_renameat(self._ring, token, olddirfd, c_old, newdirfd, c_new,
                                            flags), (c_old, c_new))

    def unlinkat(self, token: int, path: bytes, dirfd: int = -100,
                 remove_dir: bool = False) -> None:
        c_path = _c_path(path)
        flags = _AT_REMOVEDIR if remove_dir else 0
        self._queued(token, lib.dx_unlinkat(self._ring, token, dirfd, c_path, flags), c_path)

    def mkdirat(self, token: int, path: bytes, mode: int = 0o777, dirfd: int = -100) -> None:
        c_path = _c_path(path)
        self._queued(token, lib.dx_mkdirat(self._ring, token, dirfd, c_path, mode), c_path)

    def symlinkat(self, token: int, target: bytes, linkpath: bytes, dirfd: int = -100) -> None:
        c_target, c_link = _c_path(target), _c_path(linkpath)
        self._queued(token, lib.dx_symlinkat(self._ring, token, c_target, dirfd, c_link),
                     (c_target, c_link))

    def linkat(self, token: int, old: bytes, new: bytes, olddirfd: int = -100,
               newdirfd: int = -100) -> None:
        c_old, c_new = _c_path(old), _c_path(new)
        self._queued(token, lib.dx_linkat(self._ring, token, olddirfd, c_old, newdirfd, c_new, 0),
                     (c_old, c_new))

    def splice(self, token: int, fd_in: int, off_in: int, fd_out: int, off_out: int,
               nbytes: int) -> None:
        self._queued(token, lib.dx_splice(self._ring, token, fd_in, off_in, fd_out, off_out,
                                          min(nbytes, _MAX_RW), 0))

    def read_files(self, tokens: Sequence[int], paths: Sequence[bytes],
                   bufsize: int) -> FileBatch:
        n = len(paths)
        if len(tokens) != n:
            raise ValueError("read_files: one token per path")
        packed = b"\0".join(paths) + b"\0"
        if packed.count(0) != n:
            raise ValueError("embedded null byte")
        err = ffi.new("int *")
        c = lib.dx_read_files(self._ring, tokens, n, packed, len(packed), bufsize, err)
        if c == ffi.NULL:
            raise ReactorError(-err[0], "io_uring: cannot queue read_files: "
                                        f"{os.strerror(-err[0])}")
        batch = _UringFileBatch(ffi.gc(c, lib.dx_batch_free), tokens)
        prepared = lib.dx_batch_prepared(c)
        live = self._live
        for token in tokens[:prepared]:
            live[token] = batch
        if prepared < n:  # the SQ stayed full: those files fail, as a queue error would
            self._synthetic.extend((token, -errno.EBUSY, 0) for token in tokens[prepared:])
        return batch

    def cancel(self, token: int) -> None:
        keep = self._live.get(token)
        if type(keep) is _UringFileBatch and not self._closed:
            ret = keep.cancel(self._ring, token)
            if ret < 0:
                raise ReactorError(-ret, f"io_uring: cannot queue cancel: {os.strerror(-ret)}")
            return
        if token in self._live and not self._closed:
            ret = lib.dx_cancel(self._ring, token)
            if ret < 0:
                raise ReactorError(-ret, f"io_uring: cannot queue cancel: {os.strerror(-ret)}")

    # ---- driving ---------------------------------------------------------------
    def cancel_all(self) -> None:
        """Cancel every operation in flight on the ring (the loop closing)."""
        if not self._closed:
            lib.dx_cancel_all(self._ring)

    def submit(self) -> int:
        ret = lib.dx_submit(self._ring)
        if ret < 0 and ret not in (-errno.EBUSY, -errno.EAGAIN, -errno.EINTR):
            raise ReactorError(-ret, f"io_uring_submit failed: {os.strerror(-ret)}")
        return max(ret, 0)

    def poll(self) -> list[Completion]:
        return self._reap(0, 0)

    def wait(self, timeout: float | None) -> list[Completion]:
        if timeout is None or timeout < 0:
            return self._reap(1, -1)
        if timeout == 0:
            # A zero-timeout wait arms a kernel timer (~10 us); not waiting
            # at all is ~1 us, and nothing when the ring has nothing to do.
            if not self._synthetic and not lib.dx_needs_enter(self._ring):
                return []
            return self._reap(0, 0)
        return self._reap(1, int(timeout * 1e9))

    def _reap(self, wait: int, timeout_ns: int) -> list[Completion]:
        if self._closed:
            raise ReactorError(errno.EBADF, "io_uring reactor is closed")
        if self._synthetic:
            wait = 0
        n = lib.dx_reap(self._ring, self._out, self._cq_entries, wait, timeout_ns)
        if self._synthetic:
            return self.take_synthetic() + self._reaped(max(n, 0))
        if n <= 0:
            if n < 0:
                self.raise_reap_error(n)
            return []
        return self._reaped(n)

    def _reaped(self, n: int) -> list[Completion]:
        if not n:
            return []
        return self.finish(list(_CQE.iter_unpack(self._out_view[:n * 16])))

    @staticmethod
    def raise_reap_error(n: int) -> None:
        """Raise the error of a failed ``dx_reap`` (``n`` = -errno)."""
        if n == -errno.EEXIST:
            raise ReactorError(errno.EEXIST, _WRONG_THREAD)
        raise ReactorError(-n, f"io_uring_enter failed: {os.strerror(-n)}")

    def take_synthetic(self) -> list[Completion]:
        """Completions made without the kernel (see ``read_files``), once."""
        done = self._synthetic.copy()
        self._synthetic.clear()
        return done

    def finish(self, done: list[Completion]) -> list[Completion]:
        """Book-keep reaped completions of operations queued through this
        object: fold SEND_ZC notifications, fill result holders, release the
        buffers of finished operations.  ``wait`` does this itself; the
        compiled loop core, which reaps the ring in C, hands it the
        completions that are not its own."""
        if self._zc or self._zc_held or self._fillers:
            done = self._finish_special(done)
        live = self._live
        for token, _, flags in done:
            if not flags & F_MORE:
                live.pop(token, None)
        return done

    def core_interface(self) -> tuple[int, int, dict[str, int]]:
        """What the compiled loop core needs to drive this ring from C: the
        ring's address, the CQE batch size, and the addresses of the C
        helpers it calls (``dxpy/core/compiled.pyx`` declares their
        signatures).  Operations the core queues itself carry user_data with
        ``CORE_TAG`` set and never pass through this object's book-keeping."""
        names = ("dx_reap", "dx_send", "dx_recv_multishot", "dx_cancel", "dx_recycle",
                 "dx_buffer", "dx_needs_enter", "dx_poll_add")
        return (int(ffi.cast("uintptr_t", self._ring)), self._cq_entries,
                {name: int(ffi.cast("uintptr_t", ffi.addressof(lib, name))) for name in names})

    def _resend_plain(self, token: int) -> None:
        """Re-issue a refused zero-copy send as a plain send, same token."""
        c = self._live[token]
        self._queued(token, lib.dx_send(self._ring, token, self._zc.pop(token), c, len(c), 0), c)

    def _finish_special(self, done: list[Completion]) -> list[Completion]:
        """SEND_ZC: report the result CQE, hold the buffer until the NOTIF
        CQE (which is swallowed); recvmsg, statx: fill the result holder."""
        out = []
        zc, held, fillers = self._zc, self._zc_held, self._fillers
        for token, result, flags in done:
            if flags & _NOTIF:
                held.pop(token, None)  # the kernel released the buffer
                continue
            if token in zc:
                if result == -errno.EOPNOTSUPP:  # not TCP/UDP: send it plainly
                    if flags & F_MORE:  # a NOTIF will still come for this token
                        held[token] = self._live[token]
                    self._resend_plain(token)
                    continue
                del zc[token]
                if flags & F_MORE:
                    held[token] = self._live[token]
                    flags &= ~F_MORE
            elif token in fillers:
                fill = fillers.pop(token)
                if result >= 0:
                    fill()
            out.append((token, result, flags))
        return out

    def close(self) -> None:
        if self._closed:
            return
        self._drain_in_flight()
        self._closed = True
        lib.dx_close(self._ring)
        self._live.clear()
        self._zc.clear()
        self._zc_held.clear()
        self._fillers.clear()
        self._buffers = []

    def _drain_in_flight(self, patience: float = 1.0) -> None:
        """Cancel everything in flight and reap it, so no buffer we free is
        still the target of a kernel write."""
        if not self._live and not self._zc_held:
            return
        if lib.dx_cancel_all(self._ring) >= 0:
            try:
                for _ in range(int(patience / 0.01)):
                    self._reap(1, 10_000_000)
                    if not self._live and not self._zc_held:
                        return
            except ReactorError:  # closed from a thread that may not drive the ring
                pass
        _ABANDONED.append((self._live, self._zc_held))  # never free what the kernel may use

    @property
    def pending(self) -> int:
        return len(self._live)


class _UringFileBatch(FileBatch):
    """``read_files`` results: file ``i``'s bytes sit at ``i * bufsize`` in a
    C buffer owned by the batch (freed with it; the reactor keeps the batch
    alive until every file's final completion)."""

    __slots__ = ("_c", "_tokens", "_index")

    def __init__(self, c: Any, tokens: Sequence[int]) -> None:
        self._c = c
        self._tokens = tokens
        self._index: dict[int, int] | None = None

    def data(self, index: int, count: int) -> bytes:
        return _unpack(lib.dx_batch_data(self._c, index), count)

    def cancel(self, ring: Any, token: int) -> int:
        if self._index is None:  # built on the first cancel only
            self._index = {t: i for i, t in enumerate(self._tokens)}
        return lib.dx_batch_cancel(ring, self._c, self._index[token])


#: Buffers of operations that did not finish before their reactor closed;
#: kept alive for the life of the process rather than risk a kernel write
#: into freed memory.
_ABANDONED: list[tuple[dict[int, Any], dict[int, Any]]] = []


#: ``struct statx`` fields in ``os.stat_result`` order (before the times),
#: then the times, then the rest; with their ``struct`` codes.
_STATX_HEAD = (("stx_mode", "H"), ("stx_ino", "Q"), ("stx_dev_major", "I"),
               ("stx_dev_minor", "I"), ("stx_nlink", "I"), ("stx_uid", "I"), ("stx_gid", "I"),
               ("stx_size", "Q"))
_STATX_TIMES = ("stx_atime", "stx_mtime", "stx_ctime")
_STATX_TAIL = (("stx_blksize", "I"), ("stx_blocks", "Q"), ("stx_rdev_major", "I"),
               ("stx_rdev_minor", "I"))


def _statx_reader() -> tuple[struct.Struct, Callable[[tuple], tuple]]:
    """One ``struct`` that unpacks every field ``os.stat_result`` needs from
    the raw ``struct statx`` bytes, built from cffi's offsets (so no layout
    is assumed), and the order that puts the values in field-list order.

    Why: reading 19 fields one cffi attribute at a time cost ~12 us per
    stat, more than the system call; one ``unpack_from`` costs ~1 us."""
    fields = [((name,), code) for name, code in _STATX_HEAD]
    fields += [((name, sub), code) for name in _STATX_TIMES
               for sub, code in (("tv_sec", "q"), ("tv_nsec", "I"))]
    fields += [((name,), code) for name, code in _STATX_TAIL]
    located = sorted((ffi.offsetof("struct statx", *path), index, code)
                     for index, (path, code) in enumerate(fields))
    layout, position = "=", 0
    for offset, _, code in located:
        layout += "x" * (offset - position) + code
        position = offset + struct.calcsize("=" + code)
    order = [index for _, index, _ in located]
    return struct.Struct(layout), operator.itemgetter(*[order.index(i) for i in range(len(fields))])


def _stat_result(buf: Any) -> os.stat_result:
    """An ``os.stat_result`` from a filled ``struct statx`` (same fields,
    float and nanosecond times computed as ``os.stat`` computes them)."""
    raw = _STATX.unpack_from(ffi.buffer(buf))
    (mode, ino, dev_major, dev_minor, nlink, uid, gid, size, a_sec, a_ns, m_sec, m_ns,
     c_sec, c_ns, blksize, blocks, rdev_major, rdev_minor) = _STATX_ORDER(raw)
    return os.stat_result((
        mode, ino, os.makedev(dev_major, dev_minor), nlink, uid, gid, size, a_sec, m_sec, c_sec,
        a_sec + a_ns * 1e-9, m_sec + m_ns * 1e-9, c_sec + c_ns * 1e-9,
        a_sec * 1_000_000_000 + a_ns, m_sec * 1_000_000_000 + m_ns,
        c_sec * 1_000_000_000 + c_ns, blksize, blocks, os.makedev(rdev_major, rdev_minor)))


if ffi is not None:
    _STATX, _STATX_ORDER = _statx_reader()


def _c_path(path: bytes) -> Any:
    """A NUL-terminated copy of ``path`` for the kernel (ValueError on an
    embedded NUL, as ``os`` functions raise)."""
    data = bytes(path)
    if b"\0" in data:
        raise ValueError("embedded null byte")
    return ffi.new("char[]", data)


def available() -> tuple[bool, str]:
    """Whether an io_uring reactor can start here, and why (not)."""
    if lib is None:
        return False, f"io_uring extension not built ({_IMPORT_ERROR})"
    try:
        reactor = IoUringReactor(entries=8, recv_buffers=8, recv_buffer_size=4096)
    except ReactorError as exc:
        return False, str(exc)
    reactor.close()
    return True, f"io_uring works on Linux {os.uname().release}"
