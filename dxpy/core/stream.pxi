# SocketTransport: the socket transport's data path in C.
#
# The same machine as dxpy/transports/stream.py (the reference; its module
# docstring states the guarantees both keep): one receive kept armed while
# reading is not paused, at most one send in flight and the rest queued,
# asyncio's flow control, data that races a pause held and delivered on
# resume, connection_lost exactly once after every operation has ended.
#
# The lane (lanes.pxi) does the kernel side: io_uring operations queued
# from C, epoll readiness with the syscalls in C, or any other reactor's
# Python interface; it reports back through ``_completed``.
#
# Contexts (asyncio's rule): callbacks caused by I/O run in a copy of the
# context that was current when the transport was made (or when reading was
# last resumed); callbacks caused by a method call run in the caller's.

#: Writes at least this large try the send() syscall first (transports/stream.py).
cdef Py_ssize_t WRITE_FIRST_MIN = 16 * 1024
#: Optimistic write-buffer allowance when SO_SNDBUF cannot be read.
cdef Py_ssize_t DEFAULT_SNDBUF = 256 * 1024
cdef object _QUIET_ERRORS = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)
cdef object _BufferedProtocol = protocols.BufferedProtocol
cdef object _set_result_unless_cancelled = futures._set_result_unless_cancelled
cdef int _ECANCELED = _errno.ECANCELED
cdef int _ENOBUFS = _errno.ENOBUFS
cdef int _EBADF = _errno.EBADF


cdef class SocketTransport(CoreOp):
    """A TCP or Unix stream socket's transport (asyncio's ``Transport`` API)."""

    cdef public object _loop
    cdef LoopCore _core
    cdef ReactorLane _lane
    cdef public object _sock
    cdef public int _fd
    cdef public object _protocol
    cdef object _data_received
    cdef public object _server
    cdef public dict _extra
    cdef object _context
    cdef public bint _closing
    cdef public bint _paused
    cdef public bint _eof_sent
    cdef public bint _protocol_connected
    cdef public bint _buffered
    cdef public bint _lost_called
    cdef public int _conn_lost
    cdef public bint _protocol_paused
    cdef public Py_ssize_t _high_water
    cdef public Py_ssize_t _low_water
    cdef public bint _sendfile_active
    cdef bint _reading
    cdef bint _sending
    cdef bytes _writing
    cdef Py_ssize_t _writing_off
    cdef list _write_queue
    #: Bytes queued or in flight and not yet taken by the kernel.
    cdef Py_ssize_t _queued
    #: The loop iteration the send in flight was queued in (0: the kernel
    #: already refused part of it); see ``_reported``.
    cdef unsigned long long _send_epoch
    cdef Py_ssize_t _optimistic_cap
    cdef Py_ssize_t _write_first_min
    cdef object _held
    cdef bint _held_eof
    cdef bint _held_scheduled
    cdef object _flush_waiter
    #: close() waiting for the flush: the context asyncio would have run
    #: connection_lost in (its caller's: asyncio had sent the bytes at once).
    cdef object _lost_context
    #: ReactorLane: the tokens of the operations in flight.
    cdef object _read_token
    cdef object _write_token
    #: EpollLane: wanted directions, and the events registered for this fd.
    cdef bint _ep_recv
    cdef bint _ep_send
    cdef unsigned _ep_mask
    #: EpollLane: the last receive was large (read the next into its own bytes).
    cdef bint _rx_large
    #: UringLane: smaller receives in a row while ``_rx_large``; whether the
    #: receive armed last is the readiness poll (else the multishot).
    cdef int _rx_small
    cdef bint _rx_polling
    cdef object __weakref__

    _start_tls_compatible = True
    _sendfile_compatible = constants._SendfileMode.TRY_NATIVE

    def __init__(self, LoopCore loop, sock, protocol, waiter=None, extra=None, server=None):
        extra = dict(extra or {})
        extra["socket"] = trsock.TransportSocket(sock)
        for key, getter in (("sockname", sock.getsockname), ("peername", sock.getpeername)):
            if key not in extra:
                try:
                    extra[key] = getter()
                except OSError:
                    extra[key] = None
        if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.type == socket.SOCK_STREAM:
            base_events._set_nodelay(sock)
        self._extra = extra
        self._loop = loop
        self._core = loop
        self._lane = loop._lane
        self._sock = sock
        self._fd = sock.fileno()
        self._context = PyContext_CopyCurrent()
        self._write_queue = []
        self._held = _deque()
        self._set_write_buffer_limits()
        self._write_first_min = WRITE_FIRST_MIN if self._lane.batches else 0
        try:
            self._optimistic_cap = sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)
        except OSError:
            self._optimistic_cap = DEFAULT_SNDBUF
        self._set_protocol(protocol)
        self._protocol_connected = False
        self._server = server
        if server is not None:
            server._attach()
        loop._transports[self._fd] = self
        loop.call_soon(self._connection_made, context=self._context)
        if waiter is not None:
            loop.call_soon(_set_result_unless_cancelled, waiter, None, context=self._context)

    @property
    def __class__(self):
        """What ``isinstance`` sees: asyncio offers no way to register a
        virtual Transport, and a C type cannot derive from its slotted
        classes, so the class reported here is a Python subclass of
        ``asyncio.Transport`` standing for this one; ``type(t)`` is the
        real class."""
        return _AsyncioFacade

    def __repr__(self):
        state = "closing" if self._closing else "open"
        return f"<{type(self).__name__} fd={self._fd} {state} buffer={self._reported()}>"

    def __del__(self):
        if not self._lost_called and self._sock is not None:
            warnings.warn(f"unclosed transport {self!r}", ResourceWarning, source=self)
            self._sock.close()

    # ---- the asyncio Transport API ------------------------------------------
    def get_extra_info(self, name, default=None):
        return self._extra.get(name, default)

    def is_closing(self):
        return self._closing

    def get_protocol(self):
        return self._protocol

    def set_protocol(self, protocol):
        self._set_protocol(protocol)
        self._protocol_connected = True

    cdef _set_protocol(self, protocol):
        self._protocol = protocol
        self._buffered = isinstance(protocol, _BufferedProtocol)
        self._data_received = None if self._buffered else protocol.data_received

    def is_reading(self):
        return not self._paused and not self._closing

    def pause_reading(self):
        if self._closing or self._paused:
            return
        self._paused = True
        self._stop_reading()

    def resume_reading(self):
        if self._closing or not self._paused:
            return
        self._paused = False
        # asyncio re-registers its reader here, in the caller's context
        self._context = PyContext_CopyCurrent()
        self._schedule_held()

    def close(self):
        if self._closing:
            return
        self._closing = True
        self._stop_reading()
        if not self._write_queue and not self._sending:
            self._schedule_lost(None)
        else:  # connection_lost comes once flushed, in the context asyncio gives
            self._lost_context = PyContext_CopyCurrent()

    def abort(self):
        self._force_close(None)

    def write(self, data):
        self._write(data)

    def writelines(self, list_of_data):
        self._write(b"".join(list_of_data))

    def can_write_eof(self):
        return True

    def write_eof(self):
        if self._closing or self._eof_sent:
            return
        self._eof_sent = True
        if not self._sending:
            self._shutdown_write()

    def get_write_buffer_size(self):
        return self._reported()

    def get_write_buffer_limits(self):
        return (self._low_water, self._high_water)

    def set_write_buffer_limits(self, high=None, low=None):
        self._set_write_buffer_limits(high, low)
        self._maybe_pause_protocol()

    def _set_write_buffer_limits(self, high=None, low=None):
        if high is None:
            high = 64 * 1024 if low is None else 4 * low
        if low is None:
            low = high // 4
        if not high >= low >= 0:
            raise ValueError(f"high ({high!r}) must be >= low ({low!r}) must be >= 0")
        self._high_water = high
        self._low_water = low

    # ---- lifecycle ------------------------------------------------------------
    def _connection_made(self):
        if self._conn_lost:
            return
        self._protocol_connected = True
        self._protocol.connection_made(self)
        if not self._closing and not self._paused:
            self._arm_read()

    def _fatal_error(self, exc, message):
        if isinstance(exc, OSError) and (isinstance(exc, _QUIET_ERRORS)
                                         or exc.errno == _errno.EBADF):
            if self._loop.get_debug():
                self._loop.call_exception_handler({"message": message, "exception": exc,
                                                   "transport": self, "protocol": self._protocol})
        else:
            self._loop.call_exception_handler({"message": message, "exception": exc,
                                               "transport": self, "protocol": self._protocol})
        self._force_close(exc)

    def _force_close(self, exc):
        if self._conn_lost:
            return
        self._write_queue.clear()
        self._queued = 0
        self._wake_flush_waiter(exc or ConnectionError("transport closed"))
        if self._sending:
            self._cancel(KIND_SEND)
        self._stop_reading()
        self._closing = True
        self._schedule_lost(exc)

    cdef _schedule_lost(self, exc):
        """Report the end on the next iteration (or, if the loop is closed
        already, just free the fd)."""
        self._conn_lost += 1
        if self._core._closed:
            self._lost_called = True
            self._release()
            return
        self._loop.call_soon(self._call_connection_lost, exc, context=self._lost_context)

    def _call_connection_lost(self, exc):
        if self._lost_called:
            return
        self._lost_called = True
        try:
            if self._protocol_connected:
                self._protocol.connection_lost(exc)
        finally:
            self._release()

    cdef _release(self):
        """Close the fd: in-flight operations hold their own kernel reference."""
        transports = self._loop._transports
        if transports.get(self._fd) is self:
            del transports[self._fd]
        if self._sock is not None:
            self._lane.released(self)
            self._sock.close()
            self._sock = None
        self._protocol = None
        self._data_received = None
        server, self._server = self._server, None
        if server is not None:
            server._detach()

    # ---- reading --------------------------------------------------------------
    cdef int _arm_read(self) except -1:
        if self._core._closed:
            return 0
        self._lane.arm_recv(self)
        self._reading = True
        return 0

    cdef int _stop_reading(self) except -1:
        if self._reading:  # data still on its way is held, not dropped
            self._cancel(KIND_RECV)
        return 0

    cdef int _cancel(self, int kind) except -1:
        if not self._core._closed:
            self._lane.cancel(self, kind)
        return 0

    cdef int _completed(self, int kind, int result, unsigned flags) except -1:
        """A completion of one of this transport's operations (both lanes)."""
        cdef object context = self._context
        PyContext_Enter(context)
        try:
            if kind == KIND_RECV:
                self._received(result, flags)
            elif kind == KIND_READABLE:
                self._lane.readable(self, result)
            else:
                self._sent(result)
        finally:
            PyContext_Exit(context)
        return 0

    def _on_chunk(self, result, flags):
        """ReactorLane: the multishot receive's completion."""
        self._completed(KIND_RECV, result, flags)

    def _on_written(self, result, flags):
        """ReactorLane: the send's completion."""
        self._completed(KIND_SEND, result, flags)

    cdef int _received(self, int result, unsigned flags) except -1:
        if not flags & F_MORE:
            self._reading = False
        if result > 0:
            data = self._lane.take(result, flags)  # always: it frees the lane's buffer
            self._lane.received_chunk(self, result, flags)
            if self._paused or self._held:
                if not self._closing:
                    self._held.append(data)
            elif not self._closing:
                self._deliver(data)
                _recycle_bytes(data)
            if not self._reading and not self._paused and not self._closing:
                self._arm_read()  # the kernel ended the multishot (no buffers)
        elif result == -_ENOBUFS or result == -_ECANCELED or result == -EAGAIN:
            # every provided buffer was in use, a pause raced a resume (or a
            # receive mode switch), or a readiness was spurious: re-arm
            if not self._reading and not self._paused and not self._closing:
                self._arm_read()
        elif result == 0:
            if self._paused or self._held:
                self._held_eof = True
            elif not self._closing:
                self._on_eof()
        elif not self._closing:
            self._fatal_error(error_for(result, f"read from fd {self._fd}"),
                              "Fatal read error on socket transport")
        return 0

    cdef int _deliver(self, bytes data) except -1:
        cdef Py_ssize_t n
        try:
            if self._buffered:
                # one buffer per iteration, as asyncio's one recv_into per event
                n = self._feed_buffered(PyBytes_AS_STRING(data), PyBytes_GET_SIZE(data))
                if 0 <= n < PyBytes_GET_SIZE(data) and not self._closing:
                    self._held.appendleft(data[n:])
                    self._schedule_held()
            else:
                self._data_received(data)
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            self._fatal_error(exc, "Fatal error: protocol.data_received() call failed.")
        return 0

    cdef Py_ssize_t _feed_buffered(self, const char *data, Py_ssize_t size) except -2:
        """Copy into one buffer of the BufferedProtocol (get_buffer, then
        buffer_updated); the bytes taken, or -1 after a fatal error."""
        cdef Py_buffer view
        cdef Py_ssize_t n
        try:
            buf = self._protocol.get_buffer(-1)
            PyObject_GetBuffer(buf, &view, PyBUF_WRITABLE)
            try:
                if view.len == 0:
                    raise RuntimeError("get_buffer() returned an empty buffer")
                n = view.len if view.len < size else size
                memcpy(view.buf, data, n)
            finally:
                PyBuffer_Release(&view)
            self._protocol.buffer_updated(n)
            return n
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            self._fatal_error(exc, "Fatal error: protocol.buffer_updated() call failed.")
        return -1

    cdef _schedule_held(self):
        if not self._held_scheduled:
            self._held_scheduled = True
            self._loop.call_soon(self._deliver_held, context=self._context)

    def _deliver_held(self):
        self._held_scheduled = False
        if self._buffered:  # one buffer per iteration (see _deliver)
            if self._held and not self._paused and not self._closing:
                self._deliver(self._held.popleft())
                if self._held:
                    self._schedule_held()  # the rest next iteration
                    return
        while self._held and not self._paused and not self._closing:
            self._deliver(self._held.popleft())
        if self._held_eof and not self._held and not self._paused and not self._closing:
            self._held_eof = False
            self._on_eof()
        elif not self._paused and not self._closing and not self._reading:
            self._arm_read()

    cdef _on_eof(self):
        if self._loop.get_debug():
            _logger.debug("%r received EOF", self)
        if self._buffered and not hasattr(self._protocol, "eof_received"):
            self.close()
            return
        try:
            keep_open = self._protocol.eof_received()
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            self._fatal_error(exc, "Fatal error: protocol.eof_received() call failed.")
            return
        if not keep_open:
            self.close()

    # ---- writing --------------------------------------------------------------
    cdef inline Py_ssize_t _reported(self):
        """The write-buffer size asyncio would report.  A send queued in this
        very iteration has not been offered to the kernel yet (it goes out
        with every other connection's in the next ``io_uring_enter``); where
        asyncio sends at once the kernel would have taken up to its
        send-buffer size, so only bytes beyond that count (pause_writing is
        not called where asyncio would not call it).  Once the kernel refused
        bytes, or a send outlived its iteration, everything not yet sent
        counts.  (The same rule as transports/stream.py's.)"""
        if self._send_epoch == self._core._iteration:
            return self._queued - self._optimistic_cap if self._queued > self._optimistic_cap else 0
        return self._queued

    cdef int _write(self, data) except -1:
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data argument must be a bytes-like object, "
                            f"not {type(data).__name__!r}")
        if self._eof_sent:
            raise RuntimeError("Cannot call write() after write_eof()")
        if self._sendfile_active:
            raise RuntimeError("unable to write; sendfile is in progress")
        cdef Py_ssize_t n = len(data)
        if not n:
            return 0
        if self._conn_lost:
            if self._conn_lost >= constants.LOG_THRESHOLD_FOR_CONNLOST_WRITES:
                _logger.warning("socket.send() raised exception.")
            self._conn_lost += 1
            return 0
        if self._sending or n < self._write_first_min:
            if type(data) is not bytes:
                data = bytes(data)  # the caller may reuse its buffer
            self._queued += n
            if self._sending:
                self._write_queue.append(data)
            else:
                self._send_epoch = self._core._iteration
                self._start_send(data)
        else:
            self._write_first(data)
        if self._queued > self._high_water:
            self._maybe_pause_protocol()
        return 0

    cdef int _write_first(self, data) except -1:
        """Nothing in flight and a large payload: try the syscall at once and
        queue only what the kernel did not take (as uvloop and asyncio)."""
        cdef Py_buffer view
        cdef ssize_t sent
        cdef int err
        PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)
        try:
            # (the GIL stays held: a non-blocking send never waits, and
            # releasing it costs a mutex round trip per write)
            sent = c_send(self._fd, view.buf, view.len, MSG_NOSIGNAL)
            if sent < 0:
                err = errno
                if err != EAGAIN and err != EWOULDBLOCK and err != EINTR:
                    exc = OSError(err, os.strerror(err))
                    self._fatal_error(exc, "Fatal write error on transport")
                    return 0
                sent = 0
            if sent < view.len:
                self._queued += view.len - sent
                self._send_epoch = 0  # the kernel refused these bytes
                self._start_send(PyBytes_FromStringAndSize(<char *>view.buf + sent,
                                                           view.len - sent))
        finally:
            PyBuffer_Release(&view)
        return 0

    cdef int _start_send(self, bytes data) except -1:
        self._writing = data
        self._writing_off = 0
        return self._submit_send()

    cdef int _submit_send(self) except -1:
        """Hand the unsent part of ``_writing`` to the lane (one send in flight)."""
        self._lane.send(self)
        self._sending = True
        return 0

    cdef int _sent(self, int result) except -1:
        cdef bint prompt
        self._sending = False
        if result < 0:
            self._writing = None
            if result != -_ECANCELED and not self._conn_lost:
                self._fatal_error(error_for(result, f"write to fd {self._fd}"),
                                  "Fatal write error on socket transport")
            return 0
        if self._conn_lost:  # force-closed while the send was in flight
            self._writing = None
            return 0
        # the kernel took it within an iteration of its queuing: not congested
        prompt = self._send_epoch != 0 and self._send_epoch + 1 >= self._core._iteration
        self._queued -= result
        self._writing_off += result
        if self._writing_off < PyBytes_GET_SIZE(self._writing):
            self._send_epoch = 0
            return self._submit_send()
        sent, self._writing = self._writing, None
        _recycle_bytes(sent)  # (an echo's reply is the received bytes: reused now)
        if self._write_queue:
            queue = self._write_queue
            chunk = queue[0] if len(queue) == 1 else b"".join(queue)
            queue.clear()
            self._send_epoch = self._core._iteration if prompt else 0
            self._start_send(chunk)
        if self._protocol_paused:
            self._maybe_resume_protocol()
        if not self._sending and (self._flush_waiter is not None or self._closing
                                  or self._eof_sent):
            self._flushed()
        return 0

    cdef _maybe_pause_protocol(self):
        if self._reported() <= self._high_water or self._protocol_paused:
            return
        self._protocol_paused = True
        try:
            self._protocol.pause_writing()
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            self._loop.call_exception_handler({
                "message": "protocol.pause_writing() failed", "exception": exc,
                "transport": self, "protocol": self._protocol})

    cdef _maybe_resume_protocol(self):
        if not self._protocol_paused or self._reported() > self._low_water:
            return
        self._protocol_paused = False
        try:
            self._protocol.resume_writing()
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            self._loop.call_exception_handler({
                "message": "protocol.resume_writing() failed", "exception": exc,
                "transport": self, "protocol": self._protocol})

    def _wait_flushed(self):
        """An awaitable done once every queued byte went to the kernel."""
        waiter = self._loop.create_future()
        if self._sending:
            self._flush_waiter = waiter
        else:
            waiter.set_result(None)
        return waiter

    cdef _wake_flush_waiter(self, exc):
        waiter, self._flush_waiter = self._flush_waiter, None
        if waiter is not None and not waiter.done():
            if exc is None:
                waiter.set_result(None)
            else:
                waiter.set_exception(exc)

    cdef _flushed(self):
        """The write queue just became empty: finish a pending close or EOF."""
        self._wake_flush_waiter(None)
        if self._closing and not self._conn_lost:
            self._schedule_lost(None)
        elif self._eof_sent:
            self._shutdown_write()

    cdef _shutdown_write(self):
        try:
            self._sock.shutdown(socket.SHUT_WR)
        except OSError as exc:
            self._fatal_error(exc, "Fatal error on shutdown")



class _AsyncioFacade(transports.Transport):
    """``SocketTransport`` as ``isinstance`` sees it (see ``__class__`` there):
    never instantiated."""

    __slots__ = ()

    def __new__(cls, *args, **kwargs):
        raise TypeError("the compiled SocketTransport is made by the loop, not by its facade")


_AsyncioFacade.__name__ = _AsyncioFacade.__qualname__ = "SocketTransport"
