# Handle and TimerHandle: asyncio.events.Handle/TimerHandle in C.
#
# Same attributes (the loop, asyncio's helpers and tests read _cancelled,
# _callback, _args, _when, _scheduled, _source_traceback), same repr, same
# contextvars behaviour (the callback runs inside the handle's context,
# entered with PyContext_Enter rather than Context.run), same exception
# report.  Neither class subclasses asyncio's (uvloop's do not either):
# code that needs a handle duck-types it.

@cython.freelist(256)
cdef class Handle:
    """A callback scheduled with ``call_soon`` (asyncio's ``Handle`` in C)."""

    cdef public object _callback
    cdef public object _args
    cdef public bint _cancelled
    cdef public object _loop
    cdef public object _source_traceback
    cdef public object _repr
    cdef public object _context
    cdef object __weakref__

    def __init__(self, callback, args, loop, context=None):
        _init_handle(self, callback, args, loop, context)
        if loop.get_debug():  # (compiled code has no frame: 0 is the caller's)
            self._source_traceback = format_helpers.extract_stack(sys._getframe(0))

    def _repr_info(self):
        info = [type(self).__name__]
        if self._cancelled:
            info.append("cancelled")
        if self._callback is not None:
            info.append(format_helpers._format_callback_source(self._callback, self._args))
        if self._source_traceback:
            frame = self._source_traceback[-1]
            info.append(f"created at {frame[0]}:{frame[1]}")
        return info

    def __repr__(self):
        if self._repr is not None:
            return self._repr
        return "<{}>".format(" ".join(self._repr_info()))

    def cancel(self):
        if not self._cancelled:
            self._cancelled = True
            if self._loop.get_debug():
                # keep callback and arguments for "Executing <Handle ...> took 2.5 s"
                self._repr = repr(self)
            self._callback = None
            self._args = None

    def cancelled(self):
        return self._cancelled

    def _run(self):
        self._run_c()

    cdef int _run_c(self) except -1:
        cdef object context = self._context
        cdef bint entered = False
        try:
            PyContext_Enter(context)
            entered = True
            if self._args:
                self._callback(*self._args)
            else:
                self._callback()
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            self._report(exc)
        finally:
            if entered:
                PyContext_Exit(context)
        return 0

    cdef _report(self, exc):
        cb = format_helpers._format_callback_source(self._callback, self._args)
        context = {"message": f"Exception in callback {cb}", "exception": exc, "handle": self}
        if self._source_traceback:
            context["source_traceback"] = self._source_traceback
        self._loop.call_exception_handler(context)


cdef inline void _init_handle(Handle handle, callback, args, loop, context):
    handle._callback = callback
    handle._args = args
    handle._loop = loop
    handle._context = PyContext_CopyCurrent() if context is None else context


cdef inline Handle _new_handle(callback, tuple args, LoopCore loop, context):
    """A Handle without a Python-level __init__ call (the per-callback path)."""
    cdef Handle handle = Handle.__new__(Handle)
    _init_handle(handle, callback, args, loop, context)
    if loop._debug:
        handle._source_traceback = format_helpers.extract_stack(sys._getframe(0))
    return handle


cdef class TimerHandle(Handle):
    """A callback scheduled with ``call_at``/``call_later``."""

    cdef object _when_obj  # exactly what the caller passed (repr shows it)
    cdef double _when_c    # the same as a C double, for the timer heap
    cdef public bint _scheduled

    def __init__(self, when, callback, args, loop, context=None):
        Handle.__init__(self, callback, args, loop, context)
        self._when = when

    @property
    def _when(self):
        return self._when_obj

    @_when.setter
    def _when(self, value):
        self._when_c = value
        self._when_obj = value

    def _repr_info(self):
        info = Handle._repr_info(self)
        info.insert(2 if self._cancelled else 1, f"when={self._when_obj}")
        return info

    def __hash__(self):
        return hash(self._when_obj)

    def __lt__(self, other):
        if isinstance(other, TimerHandle):
            return self._when_c < (<TimerHandle>other)._when_c
        return NotImplemented

    def __le__(self, other):
        if isinstance(other, TimerHandle):
            return self._when_c < (<TimerHandle>other)._when_c or self == other
        return NotImplemented

    def __gt__(self, other):
        if isinstance(other, TimerHandle):
            return self._when_c > (<TimerHandle>other)._when_c
        return NotImplemented

    def __ge__(self, other):
        if isinstance(other, TimerHandle):
            return self._when_c > (<TimerHandle>other)._when_c or self == other
        return NotImplemented

    def __eq__(self, other):
        if isinstance(other, TimerHandle):
            return (self._when_obj == other._when and self._callback == other._callback
                    and self._args == other._args and self._cancelled == other._cancelled)
        return NotImplemented

    def __ne__(self, other):
        equal = self.__eq__(other)
        return NotImplemented if equal is NotImplemented else not equal

    def cancel(self):
        if not self._cancelled:
            self._loop._timer_handle_cancelled(self)
        Handle.cancel(self)

    def when(self):
        """The absolute time (``loop.time()`` clock) the callback is due."""
        return self._when_obj


cdef inline TimerHandle _new_timer(double when_c, when, callback, tuple args, LoopCore loop,
                                   context):
    cdef TimerHandle timer = TimerHandle.__new__(TimerHandle)
    _init_handle(timer, callback, args, loop, context)
    if loop._debug:
        timer._source_traceback = format_helpers.extract_stack(sys._getframe(0))
    timer._when_c = when_c
    timer._when_obj = when
    return timer
