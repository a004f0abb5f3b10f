"""Functions defined in DPB code are real ``types.FunctionType`` objects.

Why: ``inspect``, ``doctest``, ``functools.wraps``, ``pickle``, ``copy``,
``types.MethodType``, ``type.__new__`` (implicit ``classmethod`` for
``__init_subclass__``), ``dataclasses`` and every C function that tests
``PyFunction_Check`` accept only real functions, and CPython then does the
argument binding itself, with its own error messages.  Their ``__code__`` is
an *entry* code object built per DPB code object: same name, qualified name,
file, first line, parameters (``co_varnames``, counts, ``*args``/``**kwargs``
flags), free variables (``co_freevars``, in CPython's sorted order) and
generator/coroutine flags as CPython would compile, whose body hands the
bound arguments and the closure's *cells* to the interpreter::

    def f(a, b=?, *args, c, **kw):           # defaults live on the function
        a = [a, b, args, c, kw, *UNBOUND]    # the VM frame's locals, in the first slot
        del b, args, c, kw                   # (the list holds them now)
        try:
            return EXECUTE(ENTER(CODE, a, (x, y)))
        except BaseException:
            STRIP()                          # interpreter frames off the traceback
            raise

(``EXECUTE``, ``ENTER``... are constants of the code object, not names; ``x``
and ``y`` are loaded as cells, so an empty one is not an error at entry.)
A generator's entry is ``return (yield from DRIVE(ENTER(...), EXECUTE))``, a
coroutine's ``return await ...``, an async generator's a delegation loop, so
``inspect.isgeneratorfunction`` and friends see CPython's flags and the
objects they return are CPython's own.

Tier 1 then costs nothing per call: the JIT's replacement is installed by
rebinding ``func.__code__`` (``install``) -- the CPython code compiled from
the same source takes over the same function object, wherever it is
referenced (bound methods, decorators' closures, registries), with no
Python-level wrapper.  A replacement that is not a function with the same
closure (a tier-2 dispatcher) gets a *forwarder* code object of the same
shape calling it.
"""

from __future__ import annotations

import dis
import sys
import types
import warnings
import weakref
from typing import Any, Callable

from dxpy.vm import excstate, tracing
from dxpy.vm import profile as _profile
from dxpy.vm.format import CodeFlags
from dxpy.vm.frames import UNSET, Frame, PreparedCode

_prepared_of: weakref.WeakKeyDictionary[types.FunctionType, PreparedCode] = weakref.WeakKeyDictionary()
_compiled: weakref.WeakKeyDictionary[types.FunctionType, Any] = weakref.WeakKeyDictionary()

_gettrace = sys.gettrace
_SCOPE = "__dxpy_entry_scope__"
_LOAD_DEREF = 137   # CPython 3.11 opcodes: the entry loads its free variables' cells,
_LOAD_CLOSURE = 136  # not their values (same argument: an index into the frame's cells)
_RESUME = dis.opmap["RESUME"]


# ---- queries -----------------------------------------------------------------------------
def prepared_of(func: Any) -> PreparedCode | None:
    """The DPB code ``func`` was made from, or None for any other object."""
    try:
        return _prepared_of.get(func)
    except TypeError:  # not weak-referenceable: not ours
        return None


def is_vm_function(func: Any) -> bool:
    """Whether ``func`` is a function defined in DPB code (whatever tier runs it now)."""
    return prepared_of(func) is not None


def compiled_of(func: types.FunctionType) -> Any:
    """What the JIT installed for ``func`` (``install``), or None while it is interpreted."""
    return _compiled.get(func)


# ---- making functions --------------------------------------------------------------------
def make_function(prepared: PreparedCode, defaults: tuple, kwdefaults: dict | None,
                  annotations: dict | None, closure: tuple) -> types.FunctionType:
    """MAKE_FUNCTION: a real function for ``prepared`` (``closure`` in the DPB's free order)."""
    if prepared.entry is None:
        prepared.entry = entry_code(prepared)
    cells = tuple(closure[prepared.free_order.index(i)] for i in range(len(closure))) or None
    func = types.FunctionType(prepared.entry, prepared.program.globals, prepared.name,
                              defaults or None, cells)
    if kwdefaults:
        func.__kwdefaults__ = kwdefaults
    if annotations:
        func.__annotations__ = annotations
    func.__doc__ = prepared.docstring
    _prepared_of[func] = prepared
    prepared.functions.add(func)
    if prepared.hot:
        tiering = _profile._tiering
        if tiering is not None:
            _ask(func, tiering)
    return func


def enter(prepared: PreparedCode, locals_: list[Any], free: tuple) -> Frame:
    """Called by an entry code object: count the call, maybe tier up, build the VM frame.

    ``free`` holds the closure's cells in ``co_freevars`` order.  The call
    that reaches the threshold still runs in the interpreter; the tiering's
    replacement (installed in every function of this code) takes the next.
    """
    profile = prepared.profile
    profile.calls += 1
    # Argument types first: the tiering reads them when this call makes the code hot.
    if _profile._enabled and profile.recording:
        for site, value in zip(profile.arg_types, locals_):  # the positional parameters
            if type(value) is site.recent:
                site.hits += 1
            else:
                site.record(type(value))
    if not prepared.hot:
        tiering = _profile._tiering
        if tiering is not None and profile.calls >= tiering.call_threshold:
            tier_up(prepared, tiering)
            func = None if prepared.kind & CodeFlags.ASYNC_GENERATOR else _function_with(prepared, free)
            if func is not None and func in _compiled:  # this call already runs the new code
                profile.calls -= 1  # (counted where it runs now)
                return _finished(prepared, func(*_positional(prepared, locals_), **_keywords(prepared, locals_)))
    cells = [types.CellType() for _ in range(prepared.ncells)]
    for cell, slot in prepared.cell_params:
        cells[cell].cell_contents = locals_[slot]
    if free:
        cells += [free[i] for i in prepared.free_order]
    program = prepared.program
    frame = Frame(program, prepared, program.globals, None, locals_, cells)
    if not prepared.kind:
        frame.function = prepared
    if _gettrace() is not None:  # a debugger or coverage tool: line events (``tracing``)
        tracing.attach(frame, sys._getframe(1))
    return frame


def _finished(prepared: PreparedCode, result: Any) -> Frame:
    """A frame whose execution returns ``result`` at once (see ``Returned``); for a generator
    or coroutine function, ``result`` is tier 1's generator or coroutine, which the frame's
    driver delegates to (``generators.Delegated``)."""
    frame = Frame(prepared.program, prepared, prepared.program.globals, None, [], [])
    if prepared.kind:
        from dxpy.vm.generators import Delegated
        frame.pending = Delegated(result)
    else:
        frame.pending = Returned(result)
    return frame


class Returned(BaseException):
    """Not raised: the ``pending`` of a frame that is already finished (``_finished``); the
    dispatch loop returns its value instead of running the frame."""

    def __init__(self, value: Any) -> None:
        super().__init__()
        self.value = value


def _positional(prepared: PreparedCode, locals_: list[Any]) -> list[Any]:
    """The bound positional arguments of a frame's locals, ``*args`` included."""
    code = prepared.code
    star = locals_[code.argcount + code.kwonly] if code.flags & CodeFlags.VARARGS else ()
    return [*locals_[:code.argcount], *star]


def _keywords(prepared: PreparedCode, locals_: list[Any]) -> dict[str, Any]:
    """The bound keyword-only arguments of a frame's locals, ``**kwargs`` included."""
    code = prepared.code
    end = code.argcount + code.kwonly
    keywords = dict(zip(prepared.localnames[code.argcount:end], locals_[code.argcount:end]))
    if code.flags & CodeFlags.VARKEYWORDS:
        keywords.update(locals_[end + bool(code.flags & CodeFlags.VARARGS)])
    return keywords


def closure_cells(prepared: PreparedCode, closure: tuple | None) -> list[types.CellType]:
    """A function's ``__closure__`` (``co_freevars`` order) in the interpreter's free order."""
    return [closure[i] for i in prepared.free_order] if closure else []


# ---- tiering -----------------------------------------------------------------------------
def tier_up(prepared: PreparedCode, tiering: _profile.Tiering) -> None:
    """``prepared`` got hot: ask the tiering about each of its live functions (once each)."""
    prepared.hot = True
    for func in list(prepared.functions):
        _ask(func, tiering)


def _ask(func: types.FunctionType, tiering: _profile.Tiering) -> None:
    compiled = tiering.on_hot_function(func)
    if compiled is None:
        return
    if not callable(compiled):
        raise TypeError(f"Tiering.on_hot_function({func.__qualname__}) returned a "
                        f"{type(compiled).__name__}, not a callable or None")
    install(func, compiled)


def install(func: types.FunctionType, compiled: Any) -> None:
    """Make ``compiled`` what calling ``func`` runs (None: the interpreter again).

    A function over the same globals, closure cells and defaults (tier 1)
    lends ``func`` its code object; anything else is called by a forwarder.
    """
    prepared = _prepared_of[func]
    if compiled is None:
        _compiled.pop(func, None)
        func.__code__ = prepared.entry
        return
    _compiled[func] = compiled
    if (type(compiled) is types.FunctionType and compiled.__globals__ is func.__globals__
            and compiled.__code__.co_freevars == func.__code__.co_freevars
            and _same_cells(compiled.__closure__, func.__closure__)
            and compiled.__defaults__ == func.__defaults__
            and compiled.__kwdefaults__ == func.__kwdefaults__):
        func.__code__ = compiled.__code__
    else:
        func.__code__ = forwarder_code(prepared, compiled)


def _same_cells(left: tuple | None, right: tuple | None) -> bool:
    return len(left or ()) == len(right or ()) and all(a is b for a, b in zip(left or (), right or ()))


def interpret(func: types.FunctionType, *args: Any, **kwargs: Any) -> Any:
    """Run ``func`` in the interpreter whatever its ``__code__`` is now (tests, deopt checks)."""
    prepared = _prepared_of[func]
    twin = types.FunctionType(prepared.entry, func.__globals__, func.__name__, func.__defaults__,
                              func.__closure__)
    twin.__kwdefaults__ = func.__kwdefaults__
    prepared.profile.calls -= 1  # not a second call of the function
    return twin(*args, **kwargs)


def frame_function(frame: Frame) -> types.FunctionType | None:
    """The function object whose call made ``frame`` (for the tiering's loop hook)."""
    prepared = frame.code
    free = frame.cells[prepared.ncells:]
    for func in list(prepared.functions):
        if _same_cells(tuple(closure_cells(prepared, func.__closure__)), tuple(free)):
            return func
    return None


def _function_with(prepared: PreparedCode, free: tuple) -> types.FunctionType | None:
    """The function of ``prepared`` whose closure is ``free`` (``co_freevars`` order)."""
    for func in list(prepared.functions):
        if _same_cells(func.__closure__, free or None):
            return func
    return None


# ---- entry and forwarder code objects -----------------------------------------------------
_MARKS = {"execute": "\0dxpy:execute", "enter": "\0dxpy:enter", "code": "\0dxpy:code",
          "unbound": "\0dxpy:unbound", "strip": "\0dxpy:strip", "drive": "\0dxpy:drive",
          "awaitable": "\0dxpy:awaitable", "drive_async": "\0dxpy:drive-async",
          "target": "\0dxpy:target"}
"""String constants in the generated source that ``_build`` replaces with the objects."""


def entry_code(prepared: PreparedCode) -> types.CodeType:
    """The CPython code object of ``prepared``'s functions (see the module docstring)."""
    from dxpy.vm.generators import AwaitableDriver, drive, drive_async  # generators -> frames

    params, names = _parameters(prepared)
    extra = prepared.code.nlocals - len(names)
    unbound = [f"*{_MARKS['unbound']!r}"] if extra else []
    # The arguments go into the VM frame's list and leave the entry's frame: rebinding a
    # parameter in VM code must free what it held, as in CPython.
    # The list goes in the first parameter's slot: no local the function does not have.
    holder = params[0] if params else f"[{', '.join(unbound)}]"
    bind = ([f"{holder} = [{', '.join(params + unbound)}]"] if params else []) \
        + ([f"del {', '.join(params[1:])}"] if params[1:] else [])
    frame = f"{_MARKS['enter']!r}({_MARKS['code']!r}, {holder}, ({''.join(n + ', ' for n in prepared.freevars)}))"
    flags = prepared.code.flags
    if flags & CodeFlags.GENERATOR:
        body = [f"return (yield from {_MARKS['drive']!r}({frame}, {_MARKS['execute']!r}))"]
    elif flags & CodeFlags.COROUTINE:
        body = [f"return await {_MARKS['awaitable']!r}({_MARKS['drive']!r}({frame}, {_MARKS['execute']!r}))"]
    elif flags & CodeFlags.ASYNC_GENERATOR:
        body = _async_delegation(f"{_MARKS['drive_async']!r}({frame}, {_MARKS['execute']!r})")
    else:
        body = [f"return {_MARKS['execute']!r}({frame})"]
    body = [*bind, "try:", *("    " + line for line in body), "except BaseException:",
            f"    {_MARKS['strip']!r}()", "    raise"]
    objects = {"execute": prepared.program.execute, "enter": enter, "code": prepared,
               "unbound": (UNSET,) * extra, "strip": _strip_current, "drive": drive,
               "awaitable": AwaitableDriver, "drive_async": drive_async}
    asynchronous = bool(flags & (CodeFlags.COROUTINE | CodeFlags.ASYNC_GENERATOR))
    return _build(prepared, params, names, body, objects, asynchronous, cells=True)


def forwarder_code(prepared: PreparedCode, target: Callable[..., Any]) -> types.CodeType:
    """A code object of ``prepared``'s shape that calls ``target`` with the same arguments."""
    params, names = _parameters(prepared)
    code = prepared.code
    positional = params[:code.argcount]
    rest = params[code.argcount:]
    kwonly = [f"{name}={param}" for name, param in
              zip(names[code.argcount:code.argcount + code.kwonly], rest[:code.kwonly])]
    star = [f"*{rest[code.kwonly]}"] if code.flags & CodeFlags.VARARGS else []
    double = [f"**{rest[-1]}"] if code.flags & CodeFlags.VARKEYWORDS else []
    call = f"{_MARKS['target']!r}({', '.join(positional + star + kwonly + double)})"
    body = [f"return {call}"]
    if prepared.freevars:  # declared (so ``__code__`` may be assigned), never read
        body.insert(0, f"if 0: ({''.join(n + ', ' for n in prepared.freevars)})")
    return _build(prepared, params, names, body, {"target": target}, False, cells=False)


def _parameters(prepared: PreparedCode) -> tuple[list[str], list[str]]:
    """Placeholder parameter names (any DPB name works, ``.0`` too) and the real ones."""
    code = prepared.code
    count = code.argcount + code.kwonly + bool(code.flags & CodeFlags.VARARGS) \
        + bool(code.flags & CodeFlags.VARKEYWORDS)
    return [f"__dxpy_p{i}" for i in range(count)], prepared.localnames[:count]


def _signature_source(prepared: PreparedCode, params: list[str]) -> str:
    code = prepared.code
    positional = params[:code.argcount]
    if code.posonly:
        positional.insert(code.posonly, "/")
    rest = params[code.argcount:]
    kwonly, after = rest[:code.kwonly], rest[code.kwonly:]
    star = [f"*{after.pop(0)}"] if code.flags & CodeFlags.VARARGS else (["*"] if kwonly else [])
    double = [f"**{after.pop(0)}"] if code.flags & CodeFlags.VARKEYWORDS else []
    return ", ".join(positional + star + kwonly + double)


def _async_delegation(make: str) -> list[str]:
    """An async generator body forwarding ``asend``/``athrow``/``aclose`` to the VM's."""
    return [f"__dxpy_d = {make}",
            "try:",
            "    __dxpy_v = await __dxpy_d.__anext__()",
            "    while True:",
            "        try:",
            "            __dxpy_s = yield __dxpy_v",
            "        except GeneratorExit:",
            "            await __dxpy_d.aclose()",
            "            raise",
            "        except BaseException as __dxpy_e:",
            "            __dxpy_v = await __dxpy_d.athrow(__dxpy_e)",
            "        else:",
            "            __dxpy_v = await __dxpy_d.asend(__dxpy_s)",
            "except StopAsyncIteration:",
            "    return"]


def _build(prepared: PreparedCode, params: list[str], names: list[str], body: list[str],
           objects: dict[str, Any], asynchronous: bool, cells: bool) -> types.CodeType:
    """Compile the generated function, then give it ``prepared``'s names, file and line."""
    binders = [f"    {name} = None" for name in prepared.freevars]
    source = "\n".join([f"def {_SCOPE}():", *binders,
                        f"    {'async ' if asynchronous else ''}def __dxpy_f({_signature_source(prepared, params)}):",
                        *("        " + line for line in body), "    return __dxpy_f", ""])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)  # "'str' object is not callable"
        scope = compile(source, "<dxpy entry>", "exec", dont_inherit=True).co_consts[0]
    code = next(c for c in scope.co_consts if isinstance(c, types.CodeType))
    replacements = {_MARKS[key]: value for key, value in objects.items()}
    consts = tuple(replacements.get(c, c) if type(c) is str else c for c in code.co_consts)
    consts += (excstate.ENTRY_MARK,)  # tracebacks: an entry frame is the interpreter's
    varnames = tuple(names) + code.co_varnames[len(names):]
    raw = _cells_not_values(code.co_code) if cells and prepared.freevars else code.co_code
    return code.replace(co_consts=consts, co_varnames=varnames, co_code=raw, co_name=prepared.name,
                        co_filename=prepared.filename,
                        co_qualname=prepared.qualname, co_firstlineno=max(1, prepared.code.firstline),
                        co_linetable=_entry_lines(prepared, raw))


def _entry_lines(prepared: PreparedCode, raw: bytes) -> bytes:
    """The entry's location table: up to its ``RESUME`` at the ``def`` line (CPython's
    ``call`` event, a throw into an unstarted generator), the rest at the body's first line
    (the one ``line`` event CPython sends for the entry is the function's first line)."""
    first = max(1, prepared.code.firstline)
    resume = next((i // 2 for i in range(0, len(raw), 2) if raw[i] == _RESUME), 0)
    body = (prepared.line_of(0) if prepared.ops else None) or first
    head = excstate.location_table((first, first, None, None), resume + 1)
    rest = len(raw) // 2 - resume - 1
    return head + excstate.location_table((body, body, None, None), rest, first) if rest else head


def _cells_not_values(raw: bytes) -> bytes:
    """``raw`` with every LOAD_DEREF turned into LOAD_CLOSURE (the entry passes cells on)."""
    out = bytearray(raw)
    for index in range(0, len(out), 2):
        if out[index] == _LOAD_DEREF:
            out[index] = _LOAD_CLOSURE
    return bytes(out)


def _strip_current() -> None:
    """An exception leaving an entry frame: the interpreter's frames and the entry's own go."""
    exc = sys.exception()
    if exc is not None:
        exc.__traceback__ = excstate.strip_internal(exc.__traceback__)
