# UringLane: the compiled core drives the io_uring ring itself.
#
# The reactor (dxpy/reactor/uring.py) stays the owner of the ring; it hands
# the core the ring's address and its C helpers' addresses
# (``IoUringReactor.core_interface``).  The core's own operations carry
# user_data = CORE_TAG | transport address | kind: a completion finds its
# transport without a table.  Each such operation holds a reference to its
# transport until its final completion (no F_MORE) has been dispatched, so a
# transport outlives everything the kernel still does for it.

ctypedef struct dx_cqe:
    uint64_t token
    int32_t res
    uint32_t flags

ctypedef int (*reap_t)(void *ring, dx_cqe *out, unsigned max, int wait, int64_t timeout_ns) noexcept nogil
ctypedef int (*send_t)(void *ring, uint64_t token, int fd, const void *buf, size_t n,
                       int flags) noexcept nogil
ctypedef int (*recv_multishot_t)(void *ring, uint64_t token, int fd) noexcept nogil
ctypedef int (*cancel_t)(void *ring, uint64_t token) noexcept nogil
ctypedef void (*recycle_t)(void *ring, unsigned bid) noexcept nogil
ctypedef char *(*buffer_t)(void *ring, unsigned bid) noexcept nogil
ctypedef int (*needs_enter_t)(void *ring) noexcept nogil

#: user_data bit of the core's own operations (bit 63 tags read_files chains;
#: user-space addresses and Python tokens never reach bit 62).
cdef uint64_t CORE_TAG = 1ULL << 62
cdef uint64_t KIND_MASK = 7
cdef uint64_t ADDR_MASK = ~(CORE_TAG | KIND_MASK)

cdef enum:
    KIND_RECV = 1   # multishot receive into provided buffers
    KIND_SEND = 2   # one send of the transport's in-flight payload


cdef class UringLane:
    """The ring as the compiled core uses it (see the top of this file)."""

    cdef void *ring
    cdef reap_t reap
    cdef send_t send
    cdef recv_multishot_t recv_multishot
    cdef cancel_t cancel
    cdef recycle_t recycle
    cdef buffer_t buffer
    cdef needs_enter_t needs_enter
    cdef dx_cqe *cqes
    cdef unsigned ncqes
    #: CQEs of the last reap not dispatched yet (a callback raised
    #: KeyboardInterrupt/SystemExit mid-batch): dispatched first next time.
    cdef unsigned pos, count
    cdef object reactor
    #: Set while the loop closes: other operations' ends are only booked.
    cdef bint draining
    #: The core's operations in flight (each holds a transport reference).
    cdef public Py_ssize_t inflight

    def __cinit__(self, reactor):
        ring, ncqes, fns = reactor.core_interface()
        self.reactor = reactor
        self.ring = <void *><uintptr_t>ring
        self.reap = <reap_t><uintptr_t>fns["dx_reap"]
        self.send = <send_t><uintptr_t>fns["dx_send"]
        self.recv_multishot = <recv_multishot_t><uintptr_t>fns["dx_recv_multishot"]
        self.cancel = <cancel_t><uintptr_t>fns["dx_cancel"]
        self.recycle = <recycle_t><uintptr_t>fns["dx_recycle"]
        self.buffer = <buffer_t><uintptr_t>fns["dx_buffer"]
        self.needs_enter = <needs_enter_t><uintptr_t>fns["dx_needs_enter"]
        self.ncqes = ncqes
        self.cqes = <dx_cqe *>malloc(ncqes * sizeof(dx_cqe))
        if self.cqes == NULL:
            raise MemoryError()

    def __dealloc__(self):
        free(self.cqes)

    cdef inline uint64_t tag(self, SocketTransport transport, int kind):
        return CORE_TAG | <uint64_t><uintptr_t><PyObject *>transport | <uint64_t>kind

    cdef int started(self, SocketTransport transport, int ret) except -1:
        """Book an operation the C helper queued (``ret`` is its result)."""
        if ret < 0:
            raise error_for(ret, "io_uring: cannot queue operation")
        Py_INCREF(transport)
        self.inflight += 1
        return 0

    cdef int poll(self, LoopCore loop, double timeout) except -1:
        """One iteration's I/O: submit what is queued, wait up to ``timeout``
        seconds (< 0: no limit) and dispatch every completion."""
        cdef int n, wait
        cdef int64_t ns
        if self.pos < self.count:
            return self.dispatch(loop)
        synthetic = self.reactor._synthetic
        if synthetic:
            timeout = 0.0
        if timeout == 0.0:
            if not self.needs_enter(self.ring):
                n = 0
            else:
                n = self.reap(self.ring, self.cqes, self.ncqes, 0, 0)
        else:
            ns = -1 if timeout < 0 else <int64_t>(timeout * 1e9)
            with nogil:
                n = self.reap(self.ring, self.cqes, self.ncqes, 1, ns)
            if PyErr_CheckSignals() < 0:  # a signal handler raised (Ctrl-C)
                if n > 0:  # dispatched at the next iteration
                    self.pos, self.count = 0, n
                return -1
        if n < 0:
            self.reactor.raise_reap_error(n)
        self.pos, self.count = 0, n
        return self.dispatch(loop)

    cdef int dispatch(self, LoopCore loop) except -1:
        """Dispatch the reaped CQEs from ``pos``; the reactor's own
        operations' completions are collected and handed to it."""
        cdef dx_cqe *cqe
        cdef list foreign = None
        cdef SocketTransport transport
        cdef uint64_t ud
        while self.pos < self.count:
            cqe = &self.cqes[self.pos]
            self.pos += 1
            ud = cqe.token
            if not ud & CORE_TAG:
                if foreign is None:
                    foreign = []
                foreign.append((ud, cqe.res, cqe.flags))
                continue
            transport = <SocketTransport><PyObject *><uintptr_t>(ud & ADDR_MASK)
            try:
                transport._completed(<int>(ud & KIND_MASK), cqe.res, cqe.flags)
            except (SystemExit, KeyboardInterrupt):
                raise
            except BaseException as exc:
                loop.call_exception_handler({
                    "message": f"Exception in I/O completion of {transport!r}",
                    "exception": exc, "transport": transport})
            finally:
                if not cqe.flags & F_MORE:
                    self.inflight -= 1
                    Py_DECREF(transport)  # the operation's own reference
        synthetic = self.reactor._synthetic
        if synthetic:
            foreign = self.reactor.take_synthetic() + (foreign or [])
        if foreign:
            foreign = self.reactor.finish(foreign)
            if not self.draining:
                loop._process_events_c(foreign)
        return 0

    cdef int drain(self, LoopCore loop) except -1:
        """Cancel the core's operations and dispatch their ends (up to ~1 s);
        after that, references the kernel may still need are kept."""
        cdef int rounds = 0
        if not self.inflight:
            return 0
        self.draining = True
        self.reactor.cancel_all()
        while self.inflight and rounds < 100:
            rounds += 1
            self.poll(loop, 0.01)
        return 0
