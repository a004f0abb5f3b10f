# Lanes: how the compiled core's socket transports reach the kernel.
#
# One lane per loop, picked by the reactor's backend:
#
# * UringLane: the core drives the io_uring ring itself.  The reactor
#   (dxpy/reactor/uring.py) stays the owner of the ring and hands the core
#   the ring's address and its C helpers' addresses
#   (``IoUringReactor.core_interface``).  The core's own operations carry
#   user_data = CORE_TAG | transport address | kind, so a completion finds
#   its transport without a table; each holds a reference to its transport
#   until its final completion (no F_MORE) has been dispatched, so a
#   transport outlives everything the kernel still does for it.
# * EpollLane: readiness, done in C.  The core waits on an epoll set of its
#   own holding its transports' sockets (epoll data = the transport) and the
#   reactor's epoll fd (data NULL: the reactor's own fds are ready); a ready
#   transport's recv()/send() syscalls are made here, and each is reported
#   to the transport as the completion it would have been on io_uring.
# * ReactorLane: any other reactor, through its Python interface and the
#   loop's token registry (also the base class: the shared defaults).
#
# Every lane reports to ``SocketTransport._completed(kind, result, flags)``
# with io_uring's conventions (result >= 0 or -errno; F_MORE while a
# receive stays armed), so the transport is written once.

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
ctypedef int (*poll_add_t)(void *ring, uint64_t token, int fd, unsigned mask,
                           int multishot) noexcept nogil

#: user_data bit of the core's own operations (bit 63 tags read_files chains;
#: user-space addresses and Python tokens never reach bit 62).
cdef uint64_t CORE_TAG = 1ULL << 62
cdef uint64_t KIND_MASK = 7
cdef uint64_t ADDR_MASK = ~(CORE_TAG | KIND_MASK)

cdef enum:
    CQE_F_BUFFER = 1  # IORING_CQE_F_BUFFER: the data is in a provided buffer
    POLLIN_MASK = 1

cdef enum:
    KIND_RECV = 1   # a (multishot) receive
    KIND_SEND = 2   # one send of the transport's in-flight payload
    KIND_POLL = 3   # a ReadyOp's one-shot poll
    KIND_READABLE = 4  # a transport's one-shot poll for large receives (UringLane)

#: Bytes one receive of the core may deliver (the reactor's provided buffers are
#: this large by default): the epoll lane's scratch buffer, a large receive's cap.
cdef Py_ssize_t RECEIVE_MAX = 256 * 1024


# Received bytes are recycled: a receive's bytes object that nobody kept
# once ``data_received`` returned (its reference count is back to ours
# alone) is the spare, and the next receive of the same size is copied into
# it instead of a new object.  Nothing else can see the object, so this is
# the same as a fresh one (its cached hash is reset); CPython's own
# ``_PyBytes_Resize`` changes a bytes object under the same one-owner rule.
# Above 512 bytes a bytes object is a glibc malloc/free pair, ~350
# instructions per 1 KiB echo in a callgrind profile (docs/performance.md).
cdef bytes _spare_bytes = None


cdef inline bytes _received_bytes(const char *data, Py_ssize_t size):
    """Bytes holding ``data[:size]``: the spare when it has that size."""
    global _spare_bytes
    cdef bytes spare = _spare_bytes
    if spare is not None and PyBytes_GET_SIZE(spare) == size:
        _spare_bytes = None
        memcpy(PyBytes_AS_STRING(spare), data, size)
        (<PyBytesObject *>spare).ob_shash = -1
        return spare
    return PyBytes_FromStringAndSize(data, size)


cdef inline void _recycle_bytes(bytes data) noexcept:
    """Keep ``data`` as the spare if the caller's reference is its only one."""
    global _spare_bytes
    if Py_REFCNT(data) == 1 and PyBytes_GET_SIZE(data) > 1:
        _spare_bytes = data

cdef extern from "Python.h":
    PyObject *_new_bytes "PyBytes_FromStringAndSize" (const char *v, Py_ssize_t n)
cdef extern from "<sys/ioctl.h>" nogil:
    int ioctl(int fd, unsigned long request, ...)
    unsigned long FIONREAD
cdef int EPOLL_EVENTS = 1024
#: A receive at least this large (a 64 KiB message arrives as 65,483 + 53
#: bytes on loopback) switches the transport to large receives: one recv()
#: sized by FIONREAD straight into the bytes delivered, so the kernel's copy
#: is the only one.  Small receives copy out of a buffer instead (io_uring:
#: a provided buffer of the multishot receive, one of 64 x 256 KiB and cold
#: in the cache by its turn; epoll: the lane's scratch buffer), which is
#: cheaper than a syscall more for small messages.  (A fresh 256 KiB object
#: per receive, resized after, cost more in page faults than the copy:
#: hence the FIONREAD sizing.)
cdef Py_ssize_t LARGE_RECEIVE = 32 * 1024
#: ... and this many smaller receives in a row switch it back.
cdef int SMALL_RUN = 8


cdef object _recv_sized(int fd, Py_ssize_t cap, ssize_t *got):
    """One recv() into a new ``bytes`` as large as what is queued (FIONREAD,
    at most ``cap``): nothing to resize or copy.  ``got`` is recv()'s result;
    the bytes, or None when it is <= 0 (errno set)."""
    cdef int queued = 0
    cdef PyObject *raw
    if ioctl(fd, FIONREAD, &queued) < 0 or queued <= 0:
        queued = 1  # EOF, an error, or a race: recv() tells which
    raw = _new_bytes(NULL, queued if queued < cap else cap)
    if raw == NULL:
        raise MemoryError()
    data = <bytes>raw
    Py_DECREF(data)  # ``data`` holds the one reference
    got[0] = recv(fd, PyBytes_AS_STRING(data), PyBytes_GET_SIZE(data), 0)
    if got[0] <= 0:
        return None
    if got[0] < PyBytes_GET_SIZE(data):  # (only when data left the queue meanwhile)
        return data[:got[0]]
    return data


cdef inline void _note_receive_size(SocketTransport t, ssize_t got) noexcept:
    """The receive-mode rule of both lanes (see LARGE_RECEIVE)."""
    if got >= LARGE_RECEIVE:
        t._rx_large = True
        t._rx_small = 0
    elif t._rx_large:
        t._rx_small += 1
        if t._rx_small >= SMALL_RUN:
            t._rx_large = False
            t._rx_small = 0


cdef class CoreOp:
    """What a lane reports completions to: a socket transport, or a ReadyOp."""

    cdef int _completed(self, int kind, int result, unsigned flags) except -1:
        return 0


class _ReadyFuture(_Future):
    """The future of one ReadyOp: cancelling it cancels the kernel's wait
    at once (the op would otherwise keep the socket's file referenced)."""

    _op = None

    def cancel(self, msg=None):
        if not _Future.cancel(self, msg):
            return False
        op, self._op = self._op, None
        if op is not None:
            (<ReadyOp>op).cancel()
        return True


cdef class ReadyOp(CoreOp):
    """One ``_wait_ready``: a one-shot poll queued on the ring from C."""

    cdef UringLane lane
    cdef object fut

    cdef int cancel(self) except -1:
        if self.fut is not None and not self.lane.draining:
            self.lane.cancel_tagged(self, KIND_POLL)
        return 0

    cdef int _completed(self, int kind, int result, unsigned flags) except -1:
        fut, self.fut = self.fut, None
        if fut is None or self.lane.draining:
            return 0
        fut._op = None
        if fut.done():
            return 0
        if result < 0 and result != -_ECANCELED:
            fut.set_exception(error_for(result, "poll"))
        elif result >= 0:
            fut.set_result(result)
        return 0


cdef class WakeupOp(CoreOp):
    """The loop's wakeup socket on the ring, served from C: a wakeup
    (``call_soon_threadsafe``, a signal's byte) costs no Python call; the
    bytes that name signals go to ``loop._handle_signal``."""

    cdef UringLane lane
    cdef int fd

    cdef int arm(self) except -1:
        # not ``started``: the lane itself holds this op (``UringLane.wakeup``)
        # for as long as the ring lives, so the loop may close without its
        # final completion (from another thread than the one that ran it)
        cdef int ret = self.lane.recv_multishot(self.lane.ring, self.lane.tag(self, KIND_RECV),
                                                self.fd)
        if ret < 0:
            raise error_for(ret, "io_uring: cannot queue the wakeup receive")
        return 0

    cdef int _completed(self, int kind, int result, unsigned flags) except -1:
        cdef unsigned bid = flags >> 16
        cdef unsigned char *data
        cdef list signals = None
        cdef int i
        if result > 0 and flags & CQE_F_BUFFER:
            data = <unsigned char *>self.lane.buffer(self.lane.ring, bid)
            for i in range(result):
                if data[i]:
                    if signals is None:
                        signals = []
                    signals.append(data[i])
            self.lane.recycle(self.lane.ring, bid)
        if not flags & F_MORE and not self.lane.loop._closed and not self.lane.draining \
                and result != -_EBADF:
            self.arm()
        if signals is not None:
            for signum in signals:
                self.lane.loop._handle_signal(signum)
        return 0


cdef class ReactorLane:
    """Any reactor, through its Python interface (see the top of this file)."""

    #: Whether small writes are queued for the next submission (io_uring:
    #: every connection's sends share one system call) rather than tried at once.
    cdef bint batches
    cdef object reactor
    cdef LoopCore loop

    def __cinit__(self, LoopCore loop, reactor):
        self.loop = loop
        self.reactor = reactor

    cdef int arm_recv(self, SocketTransport t) except -1:
        t._read_token = self.loop._start_op(t._on_chunk)
        self.reactor.recv_multishot(t._read_token, t._fd)
        return 0

    cdef int cancel(self, SocketTransport t, int kind) except -1:
        self.loop._cancel_op(t._read_token if kind == KIND_RECV else t._write_token)
        return 0

    cdef int send(self, SocketTransport t) except -1:
        t._write_token = self.loop._start_op(t._on_written)
        payload = memoryview(t._writing)[t._writing_off:] if t._writing_off else t._writing
        self.reactor.send(t._write_token, t._fd, payload)
        return 0

    cdef bytes take(self, int result, unsigned flags):
        """The bytes of a receive completion (frees the lane's buffer)."""
        return self.reactor.take(result, flags)

    cdef int readable(self, SocketTransport t, int result) except -1:
        """A KIND_READABLE completion (UringLane only)."""
        return 0

    cdef int received_chunk(self, SocketTransport t, int result, unsigned flags) except -1:
        """``t`` took ``result`` bytes from a receive completion."""
        return 0

    cdef int released(self, SocketTransport t) except -1:
        """``t`` is about to close its fd."""
        return 0

    cdef object wait_ready(self, int fd, unsigned mask):
        """``LoopCore._wait_ready`` (the reactor's poll, through Python)."""
        return self.loop._wait_ready_op(fd, mask)

    cdef bint arm_wakeup(self, int fd) except -1:
        """Serve the wakeup socket ``fd`` in the lane; False: the loop's
        Python path does (``Loop._arm_wakeup``)."""
        return False

    cdef int poll(self, double timeout) except -1:
        """One iteration's I/O: wait up to ``timeout`` s (< 0: no limit), dispatch."""
        self.loop._process_events_c(self.loop._selector.select(None if timeout < 0 else timeout))
        return 0

    cdef int drain(self) except -1:
        """The loop is closing: end what the lane keeps alive."""
        return 0


cdef class UringLane(ReactorLane):
    """The io_uring ring, driven from C (see the top of this file)."""

    cdef void *ring
    cdef reap_t reap
    cdef send_t send_op
    cdef recv_multishot_t recv_multishot
    cdef cancel_t cancel_op
    cdef recycle_t recycle
    cdef buffer_t buffer
    cdef needs_enter_t needs_enter
    cdef poll_add_t poll_add
    cdef dx_cqe *cqes
    cdef unsigned ncqes
    #: CQEs of the last reap not dispatched yet (a callback raised
    #: KeyboardInterrupt/SystemExit mid-batch): dispatched first next time.
    cdef unsigned pos, count
    #: Set while the loop closes: other operations' ends are only booked.
    cdef bint draining
    #: The core's operations in flight (each holds a transport reference).
    cdef Py_ssize_t inflight
    #: The bytes readable() just received (``take`` hands them over).
    cdef bytes received
    #: The loop's wakeup receive (not counted in ``inflight``).
    cdef WakeupOp wakeup
    #: Sends were queued since the last submission (see ``poll``).
    cdef bint sends_queued
    #: The reactor's completions made without the kernel: the same list for
    #: its lifetime, tested here without an attribute lookup per iteration.
    cdef list synthetic

    def __cinit__(self, LoopCore loop, reactor):
        ring, ncqes, fns = reactor.core_interface()
        self.batches = True
        self.synthetic = reactor._synthetic
        self.ring = <void *><uintptr_t>ring
        self.reap = <reap_t><uintptr_t>fns["dx_reap"]
        self.send_op = <send_t><uintptr_t>fns["dx_send"]
        self.recv_multishot = <recv_multishot_t><uintptr_t>fns["dx_recv_multishot"]
        self.cancel_op = <cancel_t><uintptr_t>fns["dx_cancel"]
        self.recycle = <recycle_t><uintptr_t>fns["dx_recycle"]
        self.buffer = <buffer_t><uintptr_t>fns["dx_buffer"]
        self.needs_enter = <needs_enter_t><uintptr_t>fns["dx_needs_enter"]
        self.poll_add = <poll_add_t><uintptr_t>fns["dx_poll_add"]
        self.ncqes = ncqes
        self.cqes = <dx_cqe *>malloc(ncqes * sizeof(dx_cqe))
        if self.cqes == NULL:
            raise MemoryError()

    def __dealloc__(self):
        free(self.cqes)

    cdef inline uint64_t tag(self, CoreOp t, int kind):
        return CORE_TAG | <uint64_t><uintptr_t><PyObject *>t | <uint64_t>kind

    cdef inline int started(self, CoreOp t, int ret) except -1:
        """Book an operation the C helper queued (``ret`` is its result)."""
        if ret < 0:
            raise error_for(ret, "io_uring: cannot queue operation")
        Py_INCREF(t)  # released when its final completion is dispatched
        self.inflight += 1
        return 0

    cdef int arm_recv(self, SocketTransport t) except -1:
        t._rx_polling = t._rx_large
        if t._rx_large:
            return self.started(t, self.poll_add(self.ring, self.tag(t, KIND_READABLE),
                                                 t._fd, POLLIN_MASK, 0))
        return self.started(t, self.recv_multishot(self.ring, self.tag(t, KIND_RECV), t._fd))

    cdef int cancel(self, SocketTransport t, int kind) except -1:
        if kind == KIND_RECV and t._rx_polling:  # the receive armed is a poll
            kind = KIND_READABLE
        return self.cancel_tagged(t, kind)

    cdef int readable(self, SocketTransport t, int result) except -1:
        """Large receives: the poll ended; the recv() is made here and reported
        to the transport as the receive's completion (cf. EpollLane.ready)."""
        cdef ssize_t got
        if result < 0:
            return t._received(result, 0)
        self.received = _recv_sized(t._fd, RECEIVE_MAX, &got)
        if got < 0:
            return t._received(-errno, 0)
        _note_receive_size(t, got)
        return t._received(got, 0)

    cdef int received_chunk(self, SocketTransport t, int result, unsigned flags) except -1:
        """A multishot receive's chunk was taken: a large one moves ``t`` to
        readiness receives (the multishot is cancelled; its final completion
        re-arms the receive in the new mode)."""
        if result >= LARGE_RECEIVE and not t._rx_large:
            _note_receive_size(t, result)
            if flags & F_MORE:
                self.cancel_tagged(t, KIND_RECV)
        return 0

    cdef int cancel_tagged(self, CoreOp t, int kind) except -1:
        cdef int ret = self.cancel_op(self.ring, self.tag(t, kind))
        if ret < 0:
            raise error_for(ret, "io_uring: cannot queue cancel")
        return 0

    cdef int send(self, SocketTransport t) except -1:
        cdef Py_ssize_t off = t._writing_off
        self.sends_queued = True
        return self.started(t, self.send_op(self.ring, self.tag(t, KIND_SEND), t._fd,
                                            PyBytes_AS_STRING(t._writing) + off,
                                            PyBytes_GET_SIZE(t._writing) - off, 0))

    cdef bint arm_wakeup(self, int fd) except -1:
        cdef WakeupOp op = WakeupOp.__new__(WakeupOp)
        op.lane = self
        op.fd = fd
        op.arm()
        self.wakeup = op
        return True

    cdef object wait_ready(self, int fd, unsigned mask):
        cdef ReadyOp op = ReadyOp.__new__(ReadyOp)
        fut = _ReadyFuture(loop=self.loop)
        self.started(op, self.poll_add(self.ring, self.tag(op, KIND_POLL), fd, mask, 0))
        op.lane = self
        op.fut = fut
        fut._op = op
        return fut

    cdef bytes take(self, int result, unsigned flags):
        cdef unsigned bid = flags >> 16
        if not flags & CQE_F_BUFFER:  # readable()'s own recv()
            data, self.received = self.received, None
            return data
        try:
            return _received_bytes(self.buffer(self.ring, bid), result)
        finally:
            self.recycle(self.ring, bid)

    cdef int poll(self, double timeout) except -1:
        cdef int n
        cdef int64_t ns
        if self.pos < self.count:
            return self.dispatch()
        if self.synthetic:
            timeout = 0.0
        n = 0
        if timeout == 0.0 or self.sends_queued:
            # a send to a socket with room completes inside the submitting
            # system call: take such completions with the GIL held (a release
            # and re-take costs ~370 instructions) and block only if none came
            self.sends_queued = False
            n = self.reap(self.ring, self.cqes, self.ncqes, 0, 0) if self.needs_enter(self.ring) else 0
        if n == 0 and timeout != 0.0:
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
        return self.dispatch()

    cdef int dispatch(self) except -1:
        """Dispatch the reaped CQEs from ``pos``; the reactor's own
        operations' completions are collected and handed to it."""
        cdef dx_cqe *cqe
        cdef list foreign = None
        cdef CoreOp t
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
            t = <CoreOp><PyObject *><uintptr_t>(ud & ADDR_MASK)
            try:
                t._completed(<int>(ud & KIND_MASK), cqe.res, cqe.flags)
            except (SystemExit, KeyboardInterrupt):
                raise
            except BaseException as exc:
                self.loop.call_exception_handler({
                    "message": f"Exception in I/O completion of {t!r}",
                    "exception": exc, "transport": t})
            finally:
                if not cqe.flags & F_MORE and t is not self.wakeup:
                    self.inflight -= 1
                    Py_DECREF(t)  # the operation's own reference
        if self.synthetic:
            foreign = self.reactor.take_synthetic() + (foreign or [])
        if foreign:
            foreign = self.reactor.finish(foreign)
            if not self.draining:
                self.loop._process_events_c(foreign)
        return 0

    cdef int drain(self) except -1:
        """Cancel the core's operations and dispatch their ends (up to ~1 s);
        what the kernel still holds after that stays referenced."""
        cdef int rounds = 0
        if not self.inflight:
            return 0
        self.draining = True
        self.reactor.cancel_all()
        while self.inflight and rounds < 100:
            rounds += 1
            self.poll(0.01)
        return 0


cdef class EpollLane(ReactorLane):
    """Readiness in C on an epoll set of the core's own (see the top of this file)."""

    cdef int epfd
    cdef epoll_event *events
    cdef char *scratch
    #: Transports registered in the set (the set keeps them alive).
    cdef set registered
    #: Unregistered during this dispatch: kept alive until it ends (a later
    #: event of the same batch may still name them).
    cdef list retired
    #: Cancelled operations' final completions, delivered at the next poll.
    cdef list finals
    #: The bytes a large receive just read (``take`` hands them over).
    cdef bytes received
    #: The reactor's queued operations, finished ones and timers: the same
    #: list objects for its lifetime, tested here without attribute lookups.
    cdef list r_queued, r_done, r_timers

    def __cinit__(self, LoopCore loop, reactor):
        cdef epoll_event ev
        self.epfd = -1
        self.batches = False
        self.r_queued = reactor._queued
        self.r_done = reactor._done
        self.r_timers = reactor._timers
        self.registered = set()
        self.retired = []
        self.finals = []
        self.events = <epoll_event *>malloc(EPOLL_EVENTS * sizeof(epoll_event))
        self.scratch = <char *>malloc(RECEIVE_MAX)
        if self.events == NULL or self.scratch == NULL:
            raise MemoryError()
        self.epfd = epoll_create1(EPOLL_CLOEXEC)
        if self.epfd < 0:
            raise OSError(errno, os.strerror(errno))
        ev.events = EPOLLIN
        ev.data.ptr = NULL  # the reactor's own epoll set is ready
        if epoll_ctl(self.epfd, EPOLL_CTL_ADD, reactor.core_interface(), &ev) < 0:
            raise OSError(errno, os.strerror(errno))

    def __dealloc__(self):
        free(self.events)
        free(self.scratch)
        if self.epfd >= 0:
            close(self.epfd)

    cdef int update(self, SocketTransport t) except -1:
        """Register the directions ``t`` wants (level-triggered)."""
        cdef epoll_event ev
        cdef unsigned want = ((EPOLLIN | EPOLLRDHUP) if t._ep_recv else 0) | (EPOLLOUT if t._ep_send else 0)
        cdef int op
        if want == t._ep_mask:
            return 0
        if not want:
            op = EPOLL_CTL_DEL
        elif t._ep_mask:
            op = EPOLL_CTL_MOD
        else:
            op = EPOLL_CTL_ADD
        ev.events = want
        ev.data.ptr = <void *>t
        if epoll_ctl(self.epfd, op, t._fd, &ev) < 0 and op != EPOLL_CTL_DEL:
            raise OSError(errno, f"epoll_ctl on fd {t._fd}: {os.strerror(errno)}")
        if op == EPOLL_CTL_ADD:
            self.registered.add(t)
        elif op == EPOLL_CTL_DEL:
            self.retired.append(t)
            self.registered.discard(t)
        t._ep_mask = want
        return 0

    cdef int arm_recv(self, SocketTransport t) except -1:
        t._ep_recv = True
        return self.update(t)

    cdef int cancel(self, SocketTransport t, int kind) except -1:
        if kind == KIND_RECV:
            t._ep_recv = False
        else:
            t._ep_send = False
        self.update(t)
        self.finals.append((t, kind))
        return 0

    cdef int send(self, SocketTransport t) except -1:
        t._ep_send = True
        return self.update(t)

    cdef bytes take(self, int result, unsigned flags):
        if self.received is not None:  # read straight into its own bytes
            data, self.received = self.received, None
            return data
        return _received_bytes(self.scratch, result)

    cdef int released(self, SocketTransport t) except -1:
        t._ep_recv = t._ep_send = False
        return self.update(t)

    cdef int poll(self, double timeout) except -1:
        cdef int n, i, ms
        cdef bint reactor_ready = False
        cdef SocketTransport t
        reactor = self.reactor
        # the reactor's own work (operations of fds outside the core's set,
        # timers) is asked for only when it has any: two Python calls per
        # iteration are a tenth of a one-connection echo
        limit = None if timeout < 0 else timeout
        idle = not (self.r_queued or self.r_done or self.r_timers)
        wait = limit if idle else reactor.prepare_wait(limit)
        if self.finals:
            wait = 0.0
        ms = -1 if wait is None else <int>ceil(<double>wait * 1000.0)
        with nogil:
            n = epoll_wait(self.epfd, self.events, EPOLL_EVENTS, ms)
        if PyErr_CheckSignals() < 0:
            return -1  # (level-triggered: the events are reported again)
        if n < 0:
            if errno != EINTR:
                raise OSError(errno, f"epoll_wait: {os.strerror(errno)}")
            n = 0
        try:
            self.deliver_finals()
            for i in range(n):
                if self.events[i].data.ptr == NULL:
                    reactor_ready = True
                    continue
                t = <SocketTransport><PyObject *>self.events[i].data.ptr
                if t._ep_mask:  # (not unregistered earlier in this batch)
                    self.ready(t, self.events[i].events)
            done = reactor.collect(reactor_ready) \
                if reactor_ready or self.r_done or self.r_timers else None
        finally:
            if self.retired:
                self.retired.clear()
        if done:
            self.loop._process_events_c(done)
        return 0

    cdef int deliver_finals(self) except -1:
        cdef SocketTransport t
        if not self.finals:
            return 0
        finals, self.finals = self.finals, []
        for t, kind in finals:
            t._completed(kind, -_ECANCELED, 0)
        return 0

    cdef int ready(self, SocketTransport t, unsigned events) except -1:
        """Do the syscalls ``t`` waits for and report them as completions."""
        cdef ssize_t got
        cdef int err
        try:
            if t._ep_recv and events & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP):
                if t._rx_large:
                    self.received = _recv_sized(t._fd, RECEIVE_MAX, &got)
                else:
                    got = recv(t._fd, self.scratch, RECEIVE_MAX, 0)
                err = errno
                if got > 0:
                    _note_receive_size(t, got)
                if got >= 0 or (err != EAGAIN and err != EINTR):
                    if got <= 0:  # EOF or an error ends the receive
                        t._ep_recv = False
                    t._completed(KIND_RECV, got if got >= 0 else -err, F_MORE if got > 0 else 0)
            if t._ep_send and t._ep_mask and events & (EPOLLOUT | EPOLLERR | EPOLLHUP):
                got = c_send(t._fd, PyBytes_AS_STRING(t._writing) + t._writing_off,
                             PyBytes_GET_SIZE(t._writing) - t._writing_off, MSG_NOSIGNAL)
                err = errno
                if got >= 0 or (err != EAGAIN and err != EINTR):
                    t._ep_send = False  # the send ends; the transport may queue the next
                    t._completed(KIND_SEND, got if got >= 0 else -err, 0)
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            self.loop.call_exception_handler({
                "message": f"Exception in I/O readiness of {t!r}",
                "exception": exc, "transport": t})
        finally:
            if t._ep_mask:
                self.update(t)
        return 0

    cdef int drain(self) except -1:
        for t in list(self.registered):
            self.released(t)
        self.retired.clear()
        self.finals.clear()
        if self.epfd >= 0:  # the loop is closing: give the epoll fd back now
            close(self.epfd)
            self.epfd = -1
        return 0
