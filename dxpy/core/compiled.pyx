# cython: language_level=3, boundscheck=False, initializedcheck=False
"""The compiled loop core: dxpy's per-event path as a CPython extension.

What a loop does for every callback and every message, in C (compare
uvloop's ``loop.pyx`` and ``cbhandles.pyx``):

* ``Handle``/``TimerHandle`` (``handles.pxi``): asyncio's handles, created
  without a Python-level ``__init__``; callbacks entered with
  ``PyContext_Enter``.
* ``LoopCore`` (here): ``call_soon``/``call_at``/``call_later``, the timer
  heap, ``run_forever``'s loop and ``_run_once``, ``time()``,
  ``create_future``/``create_task``, the operation registry and completion
  dispatch.  ``dxpy.loop.CompiledLoop`` puts it in front of ``dxpy.Loop``
  (and asyncio's ``BaseEventLoop``) in the MRO, so everything else stays
  the shared Python code.
* Lanes (``lanes.pxi``): how the core's transports reach the kernel.
  ``UringLane`` reaps the io_uring ring itself into a C array (one
  ``dx_reap`` per iteration, through the reactor C helpers' addresses);
  completions of the core's own operations go straight to their transport
  (user_data = ``CORE_TAG`` | the transport's address | the operation kind:
  no token table, no Python tuple), the rest through the reactor's
  book-keeping and the token registry; before a zero-timeout iteration it
  asks ``dx_needs_enter``, so a loop busy with callbacks makes no system
  call.  ``EpollLane`` does readiness and the recv/send syscalls in C on an
  epoll set of its own; ``ReactorLane`` serves any other reactor.
* ``SocketTransport`` (``stream.pxi``): the socket transport's data path
  (receive -> ``data_received`` / ``get_buffer`` + ``buffer_updated``,
  ``write`` -> a send in the next submission on io_uring or at once on
  epoll, flow control, pause/resume, close/abort), written once against
  the lane interface.

The pure-Python core (``dxpy/core/python.py`` with asyncio's own handles and
``_run_once`` and ``dxpy/transports/stream.py``) is the reference: the same
tests run against both (``DXPY_CORE=python|compiled``).
"""

cimport cython
from cpython.buffer cimport PyBUF_SIMPLE, PyBUF_WRITABLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.exc cimport PyErr_CheckSignals
from cpython.object cimport PyObject
from cpython.ref cimport Py_DECREF, Py_INCREF
from libc.errno cimport EAGAIN, EINTR, errno
from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t, uintptr_t
from libc.stdlib cimport free, malloc
from libc.math cimport ceil
from libc.string cimport memcpy
from posix.unistd cimport close
from posix.time cimport CLOCK_MONOTONIC, clock_gettime, timespec


cdef extern from "Python.h":
    ctypedef struct PyBytesObject:
        Py_hash_t ob_shash
    Py_ssize_t Py_REFCNT(object o)
    int PyContext_Enter(object context) except -1
    int PyContext_Exit(object context) except -1
    object PyContext_CopyCurrent()


cdef extern from "<errno.h>":
    int EWOULDBLOCK


cdef extern from "<sys/socket.h>" nogil:
    ssize_t c_send "send" (int fd, const void *buf, size_t n, int flags)
    ssize_t recv(int fd, void *buf, size_t n, int flags)
    int MSG_NOSIGNAL, MSG_DONTWAIT


cdef extern from "<sys/epoll.h>" nogil:
    ctypedef union epoll_data_t:
        void *ptr
        int fd
        uint64_t u64
    struct epoll_event:
        uint32_t events
        epoll_data_t data
    int epoll_create1(int flags)
    int epoll_ctl(int epfd, int op, int fd, epoll_event *event)
    int epoll_wait(int epfd, epoll_event *events, int maxevents, int timeout)
    int EPOLL_CLOEXEC, EPOLL_CTL_ADD, EPOLL_CTL_MOD, EPOLL_CTL_DEL
    int EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP, EPOLLRDHUP


import collections
import errno as _errno
import heapq
import os
import socket
import sys
import threading
import warnings
from asyncio import base_events, constants, events, format_helpers, futures
from asyncio import protocols, tasks, transports, trsock

from ..reactor import error_for

cdef object _heappush = heapq.heappush
cdef object _heappop = heapq.heappop
cdef object _heapify = heapq.heapify
cdef object _Future = futures.Future
cdef object _Task = tasks.Task
cdef object _logger = base_events.logger
cdef object _format_handle = base_events._format_handle
cdef object _deque = collections.deque
cdef double _MAX_SELECT_TIMEOUT = base_events.MAXIMUM_SELECT_TIMEOUT
cdef Py_ssize_t _MIN_SCHEDULED = base_events._MIN_SCHEDULED_TIMER_HANDLES
cdef double _MIN_CANCELLED_FRACTION = base_events._MIN_CANCELLED_TIMER_HANDLES_FRACTION

cdef enum:
    F_MORE = 2


cdef inline double _monotonic() noexcept:
    """``time.monotonic()`` (the same clock) without a Python call."""
    cdef timespec ts
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return <double>ts.tv_sec + <double>ts.tv_nsec * 1e-9


cdef class ReactorLane
cdef class CoreOp
cdef class SocketTransport(CoreOp)

include "handles.pxi"


cdef class LoopCore:
    """The per-event half of ``dxpy.loop.CompiledLoop`` (see module doc).

    Attributes asyncio's ``BaseEventLoop`` sets in ``__init__`` and reads in
    its Python methods (``_ready``, ``_scheduled``, ``_stopping``, ...) are
    C fields here; ``BaseEventLoop``'s code reaches them as attributes.
    """

    cdef object _ready_q
    cdef object _ready_append
    cdef object _ready_popleft
    cdef public list _scheduled
    cdef public bint _stopping
    cdef public bint _closed
    cdef public bint _debug
    cdef public Py_ssize_t _timer_cancelled_count
    cdef public double _clock_resolution
    cdef public double slow_callback_duration
    cdef public object _current_handle
    cdef public object _thread_id
    cdef public object _task_factory
    cdef public object _selector
    cdef public dict _callbacks
    cdef public object _reactor
    #: Incremented at the start of every iteration (flow control reads it).
    cdef public unsigned long long _iteration
    cdef uint64_t _last_token
    #: How the core's transports reach the kernel (lanes.pxi).
    cdef ReactorLane _lane

    #: Which core this loop runs (``dxpy info`` and the tests read it).
    core_name = "compiled"

    def __cinit__(self, *args, **kwargs):
        self._callbacks = {}
        self._scheduled = []
        self._set_ready(_deque())

    cdef inline _set_ready(self, ready):
        self._ready_q = ready
        self._ready_append = ready.append
        self._ready_popleft = ready.popleft

    @property
    def _ready(self):
        return self._ready_q

    @_ready.setter
    def _ready(self, value):
        self._set_ready(value)

    def _attach_core(self):
        """Called by ``Loop.__init__`` once the reactor exists: the lane for
        its backend (lanes.pxi)."""
        backend = self._reactor.backend
        has_interface = getattr(self._reactor, "core_interface", None) is not None
        if backend == "uring" and has_interface:
            self._lane = UringLane(self, self._reactor)
        elif backend == "epoll" and has_interface:
            self._lane = EpollLane(self, self._reactor)
        else:
            self._lane = ReactorLane(self, self._reactor)

    # ---- clock and scheduling ---------------------------------------------
    def time(self):
        """The loop's clock (``time.monotonic()``'s)."""
        return _monotonic()

    cdef inline int _check_open(self) except -1:
        if self._closed:
            raise RuntimeError("Event loop is closed")
        return 0

    def get_debug(self):
        return self._debug

    def is_closed(self):
        return self._closed

    def is_running(self):
        return self._thread_id is not None

    def call_soon(self, callback, *args, context=None):
        """Schedule ``callback(*args)`` for the next iteration (FIFO)."""
        self._check_open()
        if self._debug:
            self._check_thread()
            self._check_callback(callback, "call_soon")
        return self._soon(callback, args, context)

    def _call_soon(self, callback, args, context):
        return self._soon(callback, args, context)

    def call_soon_threadsafe(self, callback, *args, context=None):
        """``call_soon`` from any thread: queue, then wake the loop up."""
        self._check_open()
        if self._debug:
            self._check_callback(callback, "call_soon_threadsafe")
        handle = self._soon(callback, args, context)
        self._write_to_self()
        return handle

    def _write_to_self(self):
        """Wake the loop: one byte into its wakeup socket (the send in C)."""
        csock = self._csock
        if csock is None:
            return
        cdef int fd = csock.fileno()
        cdef ssize_t sent
        # (The GIL stays held: released here, the woken loop thread takes it
        # and this thread has to wait for it back: two more context switches
        # per wakeup; measured in run_in_executor round trips.)
        sent = c_send(fd, b"\0", 1, MSG_NOSIGNAL | MSG_DONTWAIT)
        if sent < 0 and self._debug:
            _logger.debug("Fail to write a null byte into the self-pipe socket: %s",
                          os.strerror(errno))

    cdef inline Handle _soon(self, callback, tuple args, context):
        cdef Handle handle = _new_handle(callback, args, self, context)
        self._ready_append(handle)
        return handle

    def call_later(self, delay, callback, *args, context=None):
        """Schedule ``callback(*args)`` ``delay`` seconds from now."""
        if delay is None:
            raise TypeError("delay must not be None")
        when = _monotonic() + delay
        return self._at(when, when, callback, args, context, "call_later")

    def call_at(self, when, callback, *args, context=None):
        """Schedule ``callback(*args)`` at ``when`` (the ``time()`` clock)."""
        if when is None:
            raise TypeError("when cannot be None")
        return self._at(when, when, callback, args, context, "call_at")

    cdef TimerHandle _at(self, double when_c, when, callback, tuple args, context, str method):
        self._check_open()
        if self._debug:
            self._check_thread()
            self._check_callback(callback, method)
        cdef TimerHandle timer = _new_timer(when_c, when, callback, args, self, context)
        _heappush(self._scheduled, timer)
        timer._scheduled = True
        return timer

    def _timer_handle_cancelled(self, handle):
        if handle._scheduled:
            self._timer_cancelled_count += 1

    def _add_callback(self, handle):
        if not handle._cancelled:
            self._ready_append(handle)

    def create_future(self):
        """A new ``asyncio.Future`` on this loop."""
        return _Future(loop=self)

    def create_task(self, coro, *, name=None, context=None):
        """Schedule ``coro`` as a Task (or through the task factory)."""
        self._check_open()
        if self._task_factory is None:
            task = _Task(coro, loop=self, name=name, context=context)
            if task._source_traceback:
                del task._source_traceback[-1]
            return task
        if context is None:
            task = self._task_factory(self, coro)
        else:
            task = self._task_factory(self, coro, context=context)
        tasks._set_task_name(task, name)
        return task

    # ---- running ------------------------------------------------------------
    def run_forever(self):
        """Run until ``stop()`` is called (asyncio's, with the loop in C)."""
        self._check_open()
        self._check_running()
        self._set_coroutine_origin_tracking(self._debug)
        old_agen_hooks = sys.get_asyncgen_hooks()
        try:
            self._thread_id = threading.get_ident()
            sys.set_asyncgen_hooks(firstiter=self._asyncgen_firstiter_hook,
                                   finalizer=self._asyncgen_finalizer_hook)
            events._set_running_loop(self)
            while True:
                self._run_once_c()
                if self._stopping:
                    break
        finally:
            self._stopping = False
            self._thread_id = None
            events._set_running_loop(None)
            self._set_coroutine_origin_tracking(False)
            sys.set_asyncgen_hooks(*old_agen_hooks)

    def _run_once(self):
        self._run_once_c()

    cdef int _run_once_c(self) except -1:
        cdef list scheduled = self._scheduled
        cdef Py_ssize_t count = len(scheduled)
        cdef TimerHandle timer
        cdef double timeout = -1.0, end_time
        cdef Py_ssize_t ntodo, i
        if (count > _MIN_SCHEDULED
                and <double>self._timer_cancelled_count / count > _MIN_CANCELLED_FRACTION):
            scheduled = self._purge_cancelled(scheduled)
        else:
            while scheduled and (<Handle>scheduled[0])._cancelled:
                self._timer_cancelled_count -= 1
                timer = _heappop(scheduled)
                timer._scheduled = False
        if self._ready_q or self._stopping:
            timeout = 0.0
        elif scheduled:
            timeout = (<TimerHandle>scheduled[0])._when_c - _monotonic()
            timeout = min(max(0.0, timeout), _MAX_SELECT_TIMEOUT)
        self._iteration += 1
        self._lane.poll(timeout)
        end_time = _monotonic() + self._clock_resolution
        while scheduled:
            timer = scheduled[0]
            if timer._when_c >= end_time:
                break
            timer = _heappop(scheduled)
            timer._scheduled = False
            self._ready_append(timer)
        ntodo = len(self._ready_q)
        popleft = self._ready_popleft
        for i in range(ntodo):
            handle = popleft()
            if type(handle) is Handle or type(handle) is TimerHandle:
                if (<Handle>handle)._cancelled:
                    continue
                if self._debug:
                    self._run_timed(handle)
                else:
                    (<Handle>handle)._run_c()
            else:  # someone queued a handle of another kind (asyncio's own)
                if handle._cancelled:
                    continue
                if self._debug:
                    self._run_timed(handle)
                else:
                    handle._run()
        return 0

    cdef list _purge_cancelled(self, list scheduled):
        cdef list kept = []
        for timer in scheduled:
            if timer._cancelled:
                timer._scheduled = False
            else:
                kept.append(timer)
        _heapify(kept)
        self._scheduled = kept
        self._timer_cancelled_count = 0
        return kept

    cdef _run_timed(self, handle):
        """Debug mode: note the running handle and log slow callbacks."""
        try:
            self._current_handle = handle
            t0 = _monotonic()
            handle._run()
            dt = _monotonic() - t0
            if dt >= self.slow_callback_duration:
                _logger.warning("Executing %s took %.3f seconds", _format_handle(handle), dt)
        finally:
            self._current_handle = None

    # ---- the operation registry -------------------------------------------
    def _start_op(self, callback):
        """Reserve a token whose completions go to ``callback(result, flags)``."""
        self._last_token += 1
        token = self._last_token
        self._callbacks[token] = callback
        return token

    def _cancel_op(self, token):
        """Ask the reactor to cancel ``token``; its callback still sees the end."""
        if token in self._callbacks and not self._closed:
            self._reactor.cancel(token)

    def _process_events(self, event_list):
        self._process_events_c(event_list)

    cdef int _process_events_c(self, event_list) except -1:
        cdef dict callbacks = self._callbacks
        cdef int flags
        for token, result, flags in event_list:
            if flags & F_MORE:
                callback = callbacks.get(token)
            else:
                callback = callbacks.pop(token, None)
            if callback is None:
                continue
            try:
                callback(result, flags)
            except (SystemExit, KeyboardInterrupt):
                raise
            except BaseException as exc:
                self.call_exception_handler({
                    "message": f"Exception in I/O completion callback {callback!r}",
                    "exception": exc,
                })
        return 0

    def _drain_core_ops(self):
        """Before the reactor closes: cancel the core's own operations and
        reap their final completions, so every transport they keep alive is
        released (what the kernel still holds after that stays alive)."""
        if self._lane is not None:
            self._lane.drain()

    def _arm_core_wakeup(self, int fd):
        """Whether the lane serves the wakeup socket itself (see WakeupOp)."""
        return self._lane.arm_wakeup(fd)

    def _wait_ready(self, int fd, unsigned mask):
        """A future done with the poll mask once ``fd`` is ready for ``mask``
        (the ``sock_*`` coroutines' wait, as asyncio's add_reader/add_writer);
        cancelling it cancels the wait."""
        return self._lane.wait_ready(fd, mask)

    def _make_socket_transport(self, sock, protocol, waiter=None, *, extra=None, server=None):
        return SocketTransport(self, sock, protocol, waiter, extra, server)


include "lanes.pxi"
include "stream.pxi"
