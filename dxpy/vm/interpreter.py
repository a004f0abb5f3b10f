"""Executing DPB code with real Python objects (the compiler's current subset).

Functions defined in DPB code are ``VMFunction`` objects: ordinary Python
callables (and descriptors, so they work as methods), which lets VM code and
CPython code call each other freely: ``sorted(key=vm_lambda)``,
``map(vm_function, ...)``, classes built by the VM subclassing CPython ones.

Each code object is prepared once per file (``_Prepared``): instructions
decoded with jump targets turned into instruction indices, constants and
names resolved.  The dispatch loop is a plain ``if`` chain over the opcode:
this is the slow, simple reference the JIT will be measured against.

Exceptions follow CPython 3.11's model: ``SETUP_FINALLY`` pushes a block
``(handler, stack depth)``; an exception raised while a block is active
truncates the value stack to that depth, pushes the exception and jumps to
the handler; ``PUSH_EXC_INFO``/``POP_EXCEPT`` set the handled exception
(see ``excstate`` for why that is done with ``PyErr_SetHandledException``
rather than by nesting Python ``except`` blocks).  Frame state lives in a
``_Frame`` so a generator's frame can stop at ``YIELD_VALUE`` and resume
later (``generators``: generator functions return real generators,
coroutine functions native coroutines).  Exceptions leaving a VM frame
carry traceback entries naming the DPB source file and line (``excstate``).

Profiles (``dxpy.vm.profile``): each code object has a ``FunctionProfile``
(call and back-edge counts, argument types, per-site type feedback, branch
counts, inline caches) recorded by the dispatch loop with the common case
inlined; ``VMFunction`` calls the JIT's ``Tiering`` hooks when a function or
a loop gets hot.

Known gaps: each VM call costs two Python frames (``VMFunction.__call__``
and ``_execute``), so ``RecursionError`` comes at about half CPython's
depth.
"""

from __future__ import annotations

import asyncio
import bisect
import builtins
import inspect
import operator
import sys
import types
from typing import Any

from dxpy.vm import excstate, opsupport
from dxpy.vm.opsupport import raise_op, unpack_exactly, unpack_star
from dxpy.vm import profile as _profile
from dxpy.vm.profile import BranchCounts, FunctionProfile, GlobalCache, PairSiteTypes, SiteTypes
from dxpy.vm.constants import CodeRef
from dxpy.vm.format import CodeFlags, CodeObject
from dxpy.vm.loader import DpbFile
from dxpy.vm.names import (builtins_of, deref_op, import_from, import_star, load_global,
                           load_global_cached, name_op)
from dxpy.vm.generators import make_async_generator, make_coroutine, make_generator
from dxpy.vm.opcodes import ARG_KIND_BY_VALUE, ArgKind, Opcode as Op, decode_words

_UNSET: Any = object()
_ASYNCIO_COROUTINE_MARK: Any = getattr(asyncio.coroutines, "_is_coroutine", None)

BINARY = {Op.BINARY_ADD: operator.add, Op.BINARY_SUBTRACT: operator.sub, Op.BINARY_MULTIPLY: operator.mul,
          Op.BINARY_TRUE_DIVIDE: operator.truediv, Op.BINARY_FLOOR_DIVIDE: operator.floordiv,
          Op.BINARY_MODULO: operator.mod, Op.BINARY_POWER: operator.pow,
          Op.BINARY_MATRIX_MULTIPLY: operator.matmul, Op.BINARY_LSHIFT: operator.lshift,
          Op.BINARY_RSHIFT: operator.rshift, Op.BINARY_AND: operator.and_, Op.BINARY_OR: operator.or_,
          Op.BINARY_XOR: operator.xor, Op.INPLACE_ADD: operator.iadd, Op.INPLACE_SUBTRACT: operator.isub,
          Op.INPLACE_MULTIPLY: operator.imul, Op.INPLACE_TRUE_DIVIDE: operator.itruediv,
          Op.INPLACE_FLOOR_DIVIDE: operator.ifloordiv, Op.INPLACE_MODULO: operator.imod,
          Op.INPLACE_POWER: operator.ipow, Op.INPLACE_MATRIX_MULTIPLY: operator.imatmul,
          Op.INPLACE_LSHIFT: operator.ilshift, Op.INPLACE_RSHIFT: operator.irshift,
          Op.INPLACE_AND: operator.iand, Op.INPLACE_OR: operator.ior, Op.INPLACE_XOR: operator.ixor,
          Op.COMPARE_LT: operator.lt, Op.COMPARE_LE: operator.le, Op.COMPARE_EQ: operator.eq,
          Op.COMPARE_NE: operator.ne, Op.COMPARE_GT: operator.gt, Op.COMPARE_GE: operator.ge,
          Op.IS_OP: operator.is_, Op.IS_NOT_OP: operator.is_not,
          Op.CONTAINS_OP: lambda a, b: a in b, Op.NOT_CONTAINS_OP: lambda a, b: a not in b}
"""Two-operand opcodes: pop TOS1, TOS; push f(TOS1, TOS)."""
UNARY = {Op.UNARY_NEGATIVE: operator.neg, Op.UNARY_POSITIVE: operator.pos,
         Op.UNARY_INVERT: operator.invert, Op.UNARY_NOT: operator.not_}
CONVERSIONS = (None, str, repr, ascii)


class _Prepared:
    """A code object ready to run: indices resolved, jumps in instruction units."""

    def __init__(self, file: DpbFile, index: int, filename: str) -> None:
        code = file.code_object(index)
        self.code = code
        self._file, self._index = file, index
        self.filename = filename
        self.name = file.name(code.name)
        self.qualname = file.name(code.qualname)
        self.localnames = [file.name(i) for i in code.localnames]
        self.derefnames = [file.name(i) for i in code.cellnames + code.freenames]
        self.ncells = len(code.cellnames)
        self.consts = [file.constant(i) for i in code.consts]
        decoded = decode_words(code.instructions)
        position = {start: n for n, (start, _, _) in enumerate(decoded)}
        self.starts = [start for start, _, _ in decoded]
        self.ops = [value for _, value, _ in decoded]
        self.args = [position[arg] if ARG_KIND_BY_VALUE[value] == ArgKind.JUMP else arg
                     for _, value, arg in decoded]
        self.names = file.name
        params = code.argcount + code.kwonly + bin(code.flags & 3).count("1")
        # A captured parameter is bound into its slot, then moved into its cell.
        self.cell_params = [(n, self.localnames.index(name))
                            for n, name in enumerate(self.derefnames[:self.ncells])
                            if name in self.localnames[:params]]
        self.profile = FunctionProfile(self.qualname, code.argcount)
        self._profile_tables()

    def _profile_tables(self) -> None:
        """Per-instruction tables the dispatch loop indexes with its ``pc`` (one past the instruction).

        ``feedback``/``branches``/``global_caches`` hold the profile's site
        objects (``None`` where an instruction records nothing); the profile's
        dicts key the same objects by word index.  ``attr_names`` holds the
        resolved name of each attribute instruction, so LOAD_ATTR does not
        look it up in the name table every time.
        """
        count = len(self.ops)
        self.feedback: list[SiteTypes | None] = [None] * (count + 1)
        self.branches: list[BranchCounts | None] = [None] * (count + 1)
        self.global_caches: list[GlobalCache | None] = [None] * (count + 1)
        self.attr_names: list[str | None] = [None] * (count + 1)
        profile = self.profile
        for index, (op, arg) in enumerate(zip(self.ops, self.args)):
            word = self.starts[index]
            if op in _TYPE_SITES:
                site = self.feedback[index + 1] = profile.sites[word] = (
                    PairSiteTypes(profile) if op in _BINARY_BY_INT else SiteTypes(profile))
                if op == _LOAD_ATTR:
                    profile.caches[word] = site
            if op in _ATTR_OPS:
                self.attr_names[index + 1] = self.names(arg)
            elif op in _BRANCH_OPS:
                self.branches[index + 1] = profile.branches[word] = BranchCounts()
            elif op == _LOAD_GLOBAL:
                self.global_caches[index + 1] = profile.caches[word] = GlobalCache(self.names(arg))

    def line_of(self, pc: int) -> int | None:
        """Source line of instruction ``pc`` (an instruction index), from the line table."""
        word = self.starts[pc]
        line = None
        for start, entry_line in self.code.linetable:
            if start > word:
                break
            line = entry_line
        return line

    def position_of(self, pc: int) -> excstate.Location | None:
        """Full source position of instruction ``pc`` (CPython's ``co_positions()`` entry), for tracebacks."""
        line = self.line_of(pc)
        if line is None:
            return None
        runs = self._file.positions(self._index)
        run = bisect.bisect_right(runs, self.starts[pc], key=lambda r: r[0]) - 1
        if run < 0:
            return (line, line, None, None)
        _, span, column, end_column = runs[run]
        return (line, line + span, column, end_column)


class _Program:
    """Per-file cache of prepared code objects."""

    def __init__(self, file: DpbFile, filename: str) -> None:
        self.file = file
        self.filename = filename
        self._prepared: dict[int, _Prepared] = {}

    def prepared(self, index: int) -> _Prepared:
        if index not in self._prepared:
            self._prepared[index] = _Prepared(self.file, index, self.filename)
        return self._prepared[index]

    def profiles(self) -> dict[int, FunctionProfile]:
        """The profile of each code object prepared so far (the ones that ran), by code index."""
        return {index: prepared.profile for index, prepared in self._prepared.items()}


class _Frame:
    """One activation's mutable state, kept in an object so a generator can suspend it."""

    __slots__ = ("program", "code", "globals", "namespace", "locals", "cells", "stack", "blocks", "pc",
                 "suspended", "pending", "reraise_context", "function", "backedges")

    def __init__(self, program: _Program, code: _Prepared, globals_: dict[str, Any],
                 namespace: dict[str, Any] | None, locals_: list[Any], cells: list[Any]) -> None:
        self.program = program
        self.code = code
        self.globals = globals_
        self.namespace = namespace
        self.locals = locals_
        self.cells = cells
        self.stack: list[Any] = []
        self.blocks: list[tuple[int, int]] = []
        self.pc = 0
        self.suspended = False
        self.pending: BaseException | None = None
        self.reraise_context: BaseException | None = None
        self.function: VMFunction | None = None  # set for frames that may hand a hot loop to the JIT
        self.backedges = 0  # this frame's back-edges, counted only while a Tiering is installed


def run_module(file: DpbFile, namespace: dict[str, Any] | None = None,
               filename: str | None = None, *,
               profiles: dict[int, FunctionProfile] | None = None) -> dict[str, Any]:
    """Execute the module body (code object 0) in ``namespace``; returns it.

    ``filename`` is the source file tracebacks name (default: the DPB file's
    path).  An exception leaving the module has the interpreter's own frames
    removed from its traceback, so it prints as CPython would print it.
    ``profiles``, if given, receives the profile of every code object that
    ran, by code index, however the module ends (``dxpy dis --annotated``).
    """
    namespace = {"__name__": "__main__", "__builtins__": builtins} if namespace is None else namespace
    namespace.setdefault("__builtins__", builtins)
    program = _Program(file, filename or file.path)
    program.prepared(0).profile.calls += 1
    try:
        _execute(_Frame(program, program.prepared(0), namespace, namespace, [], []))
    except BaseException as exc:
        excstate.clean_traceback(exc)
        raise
    finally:
        if profiles is not None:
            profiles.update(program.profiles())
    return namespace


class VMFunction:
    """A function whose body is DPB code, callable from anywhere.

    The interpreter's own state lives in slots, not in ``__dict__``:
    ``functools.wraps`` copies the wrapped function's ``__dict__`` onto the
    wrapper, which must not hand the wrapper the wrapped function's code.

    For the JIT (``dxpy.vm.profile``): ``profile`` is the code object's
    profile, ``compiled`` the callable a ``Tiering`` returned (then every
    call goes to it), ``interpret()`` always runs the interpreter (a compiled
    callable's deopt path), ``filename``/``firstline`` locate the source.
    """

    __slots__ = ("_program", "_prepared", "_globals", "_closure", "_slots", "_signature", "_kind",
                 "_tiering_asked", "compiled", "profile", "__defaults__", "__kwdefaults__", "__dict__",
                 "__weakref__")

    def __init__(self, program: _Program, index: int, globals_: dict[str, Any], defaults: tuple,
                 kwdefaults: dict | None, annotations: dict | None, closure: tuple) -> None:
        self._program = program
        self._prepared = program.prepared(index)
        self._globals = globals_
        self._closure = closure
        code = self._prepared.code
        self.__name__ = self._prepared.name
        self.__qualname__ = self._prepared.qualname
        self.__module__ = globals_.get("__name__")
        self.__doc__ = self._prepared.consts[0] if code.flags & CodeFlags.HAS_DOCSTRING else None
        self.__defaults__ = defaults or None
        self.__kwdefaults__ = kwdefaults
        self.__annotations__ = annotations or {}
        self._signature = _signature(self._prepared, defaults, kwdefaults or {})
        self._slots = _parameter_slots(code)
        self._kind = next((make for flag, make in _FRAME_WRAPPERS if code.flags & flag), None)
        self._tiering_asked = False
        self.compiled: Any = None
        self.profile = self._prepared.profile
        if code.flags & CodeFlags.COROUTINE:
            self._is_coroutine = _ASYNCIO_COROUTINE_MARK  # asyncio.iscoroutinefunction() is true

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Count the call; run the compiled version if the JIT gave one, else interpret.

        Binding and execution are written out here rather than delegated to
        ``interpret``: a third Python frame per VM call would lower the
        recursion limit of VM code further.
        """
        profile = self.profile
        profile.calls += 1
        if self.compiled is not None:
            return self.compiled(*args, **kwargs)
        tiering = _profile._tiering
        if (tiering is not None and not self._tiering_asked and profile.calls >= tiering.call_threshold
                and self._ask_tiering(tiering)):
            return self.compiled(*args, **kwargs)
        frame = self._frame(args, kwargs)
        if self._kind is not None:
            return self._kind(frame, _execute, self.__name__, self.__qualname__)
        return _execute(frame)

    def __reduce__(self) -> str:
        """Pickled (and copied) by reference to its qualified name, as CPython does for functions."""
        return self.__qualname__

    @property
    def __closure__(self) -> tuple | None:
        """The free variables' cells (in the code object's free-name order), as CPython exposes them."""
        return self._closure or None

    def interpret(self, *args: Any, **kwargs: Any) -> Any:
        """Run the interpreter whatever ``compiled`` holds (not counted as a second call)."""
        frame = self._frame(args, kwargs)
        if self._kind is not None:
            return self._kind(frame, _execute, self.__name__, self.__qualname__)
        return _execute(frame)

    def _ask_tiering(self, tiering: _profile.Tiering) -> bool:
        """``calls`` reached the threshold: ask the JIT (once) for a replacement; True if it gave one."""
        self._tiering_asked = True
        compiled = tiering.on_hot_function(self)
        if compiled is not None and not callable(compiled):
            raise TypeError(f"Tiering.on_hot_function({self.__qualname__}) returned a "
                            f"{type(compiled).__name__}, not a callable or None")
        self.compiled = compiled
        return compiled is not None

    def _frame(self, args: tuple, kwargs: dict[str, Any]) -> _Frame:
        """A new frame with the arguments bound (CPython's messages for bad ones)."""
        try:
            bound = self._signature.bind(*args, **kwargs)
        except TypeError:
            raise opsupport.binding_error(self.__qualname__, self._signature, args, kwargs) from None
        bound.apply_defaults()
        prepared = self._prepared
        locals_ = [_UNSET] * prepared.code.nlocals
        for slot, value in zip(self._slots, bound.arguments.values()):
            locals_[slot] = value
        if _profile._enabled and self.profile.recording:
            for site, value in zip(self.profile.arg_types, locals_):  # the positional parameters
                if type(value) is site.recent:
                    site.hits += 1
                else:
                    site.record(type(value))
        cells = [types.CellType() for _ in range(prepared.ncells)]
        for cell, slot in prepared.cell_params:
            cells[cell].cell_contents = locals_[slot]
        frame = _Frame(self._program, prepared, self._globals, None, locals_, cells + list(self._closure))
        if self._kind is None:
            frame.function = self
        return frame

    @property
    def __signature__(self) -> inspect.Signature:
        return self._signature

    @property
    def __globals__(self) -> dict[str, Any]:
        return self._globals

    @property
    def filename(self) -> str:
        """The source file the code was compiled from."""
        return self._program.filename

    @property
    def firstline(self) -> int:
        """The line of the ``def`` (or of its first decorator), as CPython's ``co_firstlineno``."""
        return self._prepared.code.firstline

    def run_class_body(self, namespace: dict[str, Any]) -> None:
        """Execute this (class-body) code with ``namespace`` as its locals."""
        cells = [types.CellType() for _ in range(self._prepared.ncells)]  # __class__, for super()
        self.profile.calls += 1
        _execute(_Frame(self._program, self._prepared, self._globals, namespace, [], cells + list(self._closure)))

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        return self if instance is None else types.MethodType(self, instance)

    def __repr__(self) -> str:
        return f"<function {self.__qualname__} at {id(self):#x}>"


_FRAME_WRAPPERS = ((CodeFlags.GENERATOR, make_generator), (CodeFlags.COROUTINE, make_coroutine),
                   (CodeFlags.ASYNC_GENERATOR, make_async_generator))
"""Code flags whose calls return a generator-like object driving the frame, and its maker."""


def _parameter_slots(code: CodeObject) -> list[int]:
    """Local slot of each parameter in signature order.

    inspect orders ``*args`` before keyword-only parameters while DPB slots
    put it after them, and inspect renames a comprehension's ``.0``; so
    slots come from positions, never from names.
    """
    positional = list(range(code.argcount))
    keyword_only = list(range(code.argcount, code.argcount + code.kwonly))
    after = code.argcount + code.kwonly
    star = [after] if code.flags & CodeFlags.VARARGS else []
    double_star = [after + len(star)] if code.flags & CodeFlags.VARKEYWORDS else []
    return positional + star + keyword_only + double_star


def _signature(prepared: _Prepared, defaults: tuple, kwdefaults: dict) -> inspect.Signature:
    """The Python signature implied by the code object, for argument binding."""
    code = prepared.code
    names = prepared.localnames
    params = []
    first_default = code.argcount - len(defaults)
    for i in range(code.argcount):
        kind = (inspect.Parameter.POSITIONAL_ONLY if i < code.posonly
                else inspect.Parameter.POSITIONAL_OR_KEYWORD)
        default = defaults[i - first_default] if i >= first_default else inspect.Parameter.empty
        params.append(inspect.Parameter(names[i], kind, default=default))
    position = code.argcount + code.kwonly
    if code.flags & CodeFlags.VARARGS:
        params.append(inspect.Parameter(names[position], inspect.Parameter.VAR_POSITIONAL))
        position += 1
    for name in names[code.argcount:code.argcount + code.kwonly]:
        params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY,
                                        default=kwdefaults.get(name, inspect.Parameter.empty)))
    if code.flags & CodeFlags.VARKEYWORDS:
        params.append(inspect.Parameter(names[position], inspect.Parameter.VAR_KEYWORD))
    return inspect.Signature(params)


def _build_class(func: Any, name: str, /, *bases: Any, **keywords: Any) -> type:
    """``__build_class__`` for class bodies compiled to DPB; others go to CPython's."""
    if not isinstance(func, VMFunction):
        return builtins.__build_class__(func, name, *bases, **keywords)
    resolved = types.resolve_bases(bases)
    meta, namespace, keywords = types.prepare_class(name, resolved, keywords)
    func.run_class_body(namespace)
    # type.__new__ makes these implicit class/static methods only for Python
    # functions (PyFunction_Check); a VMFunction needs the same treatment.
    for special, wrap in (("__init_subclass__", classmethod), ("__class_getitem__", classmethod),
                          ("__new__", staticmethod)):
        if isinstance(namespace.get(special), VMFunction):
            namespace[special] = wrap(namespace[special])
    if resolved is not bases:
        namespace["__orig_bases__"] = bases
    return meta(name, resolved, namespace, **keywords)


# The hot loop compares plain ints: an IntEnum attribute per comparison cost ~2x.
_LOAD_FAST = int(Op.LOAD_FAST)
_LOAD_CONST = int(Op.LOAD_CONST)
_STORE_FAST = int(Op.STORE_FAST)
_LOAD_GLOBAL = int(Op.LOAD_GLOBAL)
_LOAD_ATTR = int(Op.LOAD_ATTR)
_CALL = int(Op.CALL)
_POP_JUMP_IF_FALSE = int(Op.POP_JUMP_IF_FALSE)
_POP_JUMP_IF_TRUE = int(Op.POP_JUMP_IF_TRUE)
_JUMP = int(Op.JUMP)
_FOR_ITER = int(Op.FOR_ITER)
_RETURN_VALUE = int(Op.RETURN_VALUE)
_YIELD_VALUE = int(Op.YIELD_VALUE)
_RERAISES = frozenset({int(Op.RERAISE), int(Op.END_ASYNC_FOR)})
_RAISE = int(Op.RAISE)
_BINARY_BY_INT = {int(op): fn for op, fn in BINARY.items()}
_ATTR_OPS = frozenset({_LOAD_ATTR, int(Op.STORE_ATTR)})
_TYPE_SITES = frozenset(_BINARY_BY_INT) | _ATTR_OPS | {_CALL, int(Op.CALL_KW)}
"""Instructions that record type feedback: operand pairs, receivers, callees."""
_BRANCH_OPS = frozenset({_POP_JUMP_IF_FALSE, _POP_JUMP_IF_TRUE, int(Op.JUMP_IF_FALSE_OR_POP),
                         int(Op.JUMP_IF_TRUE_OR_POP)})


def _execute(f: _Frame) -> Any:
    """The dispatch loop: run frame ``f`` until it returns or (generators) yields.

    On ``YIELD_VALUE`` the frame is left with ``suspended`` set and the
    yielded value is returned; ``f.pending`` is an exception to raise at the
    resume point (``generator.throw``).
    """
    frame, program = f.code, f.program
    stack = f.stack
    push, pop = stack.append, stack.pop
    ops, args, consts, name = frame.ops, frame.args, frame.consts, frame.names
    globals_, namespace, locals_, cells = f.globals, f.namespace, f.locals, f.cells
    builtins_ = builtins_of(globals_)
    binary = _BINARY_BY_INT
    profile, attr_names = frame.profile, frame.attr_names
    # Recording is decided per frame entry: None tables mean "do not record".
    recording = _profile._enabled and profile.recording and profile.still_recording()
    feedback, branches = (frame.feedback, frame.branches) if recording else (None, None)
    global_caches = frame.global_caches if _profile._caches_enabled else None
    tiering = _profile._tiering if f.function is not None else None
    pc = f.pc
    f.suspended = False
    if f.pending is not None:
        thrown, f.pending = f.pending, None
        context = thrown.__context__
        try:
            raise thrown
        except BaseException as caught:
            caught.__context__ = context  # throw() does not chain, as in CPython
            pc = _unwind(f, caught, pc)
    while True:
        try:
            while True:
                op = ops[pc]
                arg = args[pc]
                pc += 1
                if op == _LOAD_FAST:
                    value = locals_[arg]
                    if value is _UNSET:
                        raise UnboundLocalError(f"cannot access local variable {frame.localnames[arg]!r} "
                                                "where it is not associated with a value")
                    push(value)
                elif op == _LOAD_CONST:
                    push(consts[arg])
                elif op == _STORE_FAST:
                    locals_[arg] = pop()
                elif op in binary:
                    right = pop()
                    left = stack[-1]
                    if feedback is not None:  # the hit case of SiteTypes.record, inlined (see there)
                        site = feedback[pc]
                        if type(left) is site.left and type(right) is site.right:
                            site.hits += 1
                        else:
                            site.record((type(left), type(right)))
                    stack[-1] = binary[op](left, right)
                elif op == _LOAD_GLOBAL:
                    if global_caches is None:
                        push(load_global(name(arg), globals_, builtins_))
                    else:  # the hit cases of load_global_cached, inlined: no Python call
                        cache = global_caches[pc]
                        where, key = cache.where, cache.key
                        if where is globals_ and key in globals_:
                            cache.hits += 1
                            push(globals_[key])
                        elif where is builtins_ and key not in globals_ and key in builtins_:
                            cache.hits += 1
                            push(builtins_[key])
                        else:
                            push(load_global_cached(cache, globals_, builtins_))
                elif op == _LOAD_ATTR:
                    if feedback is not None:
                        site = feedback[pc]
                        if type(stack[-1]) is site.recent:
                            site.hits += 1
                        else:
                            site.record(type(stack[-1]))
                    stack[-1] = getattr(stack[-1], attr_names[pc])
                elif op == _CALL:
                    call_args = stack[len(stack) - arg:]
                    del stack[len(stack) - arg:]
                    if feedback is not None:
                        site = feedback[pc]
                        if type(stack[-1]) is site.recent:
                            site.hits += 1
                        else:
                            site.record(type(stack[-1]))
                    stack[-1] = stack[-1](*call_args)
                elif op == _POP_JUMP_IF_FALSE:
                    if not pop():
                        if branches is not None:
                            branches[pc].taken += 1
                        if arg < pc:  # a comprehension's filter goes back to its loop header
                            profile.backedges += 1
                            if tiering is not None:
                                done, result = _frame_back_edge(f, tiering, arg)
                                if done:
                                    return result
                        pc = arg
                    elif branches is not None:
                        branches[pc].not_taken += 1
                elif op == _POP_JUMP_IF_TRUE:
                    if pop():
                        if branches is not None:
                            branches[pc].taken += 1
                        pc = arg
                    elif branches is not None:
                        branches[pc].not_taken += 1
                elif op == _JUMP:
                    if arg < pc:  # a back-edge
                        profile.backedges += 1
                        if feedback is not None and not profile.still_recording():  # stable now
                            feedback = branches = None
                        if tiering is not None:
                            done, result = _frame_back_edge(f, tiering, arg)
                            if done:
                                return result
                    pc = arg
                elif op == _FOR_ITER:
                    try:
                        push(next(stack[-1]))
                    except StopIteration:
                        pop()
                        pc = arg
                elif op == _RETURN_VALUE:
                    return pop()
                elif op == _YIELD_VALUE:
                    f.pc = pc
                    f.suspended = True
                    return pop()
                else:
                    f.pc = pc
                    pc = _slow_op(f, op, arg, pc, builtins_)
        except BaseException as caught:
            if ops[pc - 1] in _RERAISES:
                caught.__context__ = f.reraise_context  # re-raising never chains (CPython's does not)
            pc = _unwind(f, caught, pc)


def _frame_back_edge(f: _Frame, tiering: _profile.Tiering, header: int) -> tuple[bool, Any]:
    """Count a back-edge of frame ``f`` (a Tiering is installed); at the threshold, offer the loop."""
    f.backedges += 1
    if f.backedges != tiering.loop_threshold:
        return False, None
    return _hot_loop(f, tiering, header)


def _hot_loop(f: _Frame, tiering: _profile.Tiering, header: int) -> tuple[bool, Any]:
    """Offer the JIT the rest of frame ``f`` from the loop whose header is instruction ``header``."""
    code = f.code
    names: list[str] = []
    values: list[Any] = []
    for variable, value in zip(code.localnames, f.locals):
        if value is not _UNSET:
            names.append(variable)
            values.append(value)
    for variable, cell in zip(code.derefnames, f.cells):
        try:
            values.append(cell.cell_contents)
        except ValueError:  # an empty cell is an unbound variable
            continue
        names.append(variable)
    iterator = f.stack[-1] if code.ops[header] == _FOR_ITER else None
    if _profile.hot_loop_wants_iterators():  # the enclosing loops' iterators too (see Tiering)
        answer = tiering.on_hot_loop(f.function, code.line_of(header), names, values, iterator,
                                     iterators=list(f.stack))
    else:
        answer = tiering.on_hot_loop(f.function, code.line_of(header), names, values, iterator)
    if not (isinstance(answer, tuple) and len(answer) == 2):
        raise TypeError(f"Tiering.on_hot_loop({code.qualname}) must return (done, result), "
                        f"got {answer!r}")
    return bool(answer[0]), answer[1]


def _unwind(f: _Frame, exc: BaseException, pc: int) -> int:
    """Route ``exc`` (raised by instruction ``pc - 1``) to the innermost handler, or re-raise it.

    Called inside the dispatch loop's ``except`` clause, where ``exc`` is the
    handled exception: re-raising it there leaves its ``__context__`` alone.
    """
    code = f.code
    op = code.ops[pc - 1]
    bare_raise = op == _RAISE and code.args[pc - 1] == 0  # CPython's bare ``raise`` adds no entry either
    excstate.vm_traceback(exc, code.filename, code.name, code.position_of(pc - 1),
                          op not in _RERAISES and not bare_raise)
    if not f.blocks:
        raise exc
    handler, depth = f.blocks.pop()
    del f.stack[depth:]
    f.stack.append(exc)
    return handler


def _slow_op(f: _Frame, op: int, arg: int, pc: int, builtins_: dict[str, Any]) -> int:
    """Every other opcode; returns the next pc.  Split out to keep the hot loop short."""
    program, frame, stack, globals_ = f.program, f.code, f.stack, f.globals
    namespace, locals_, cells = f.namespace, f.locals, f.cells
    push, pop, name = stack.append, stack.pop, frame.names
    if op in opsupport.EXCEPTION_OPS:
        return opsupport.exception_op(f, op, arg, pc)
    if op in UNARY:
        stack[-1] = UNARY[op](stack[-1])
    elif op == Op.POP_TOP:
        pop()
    elif op == Op.COPY:
        push(stack[-arg])
    elif op == Op.SWAP:
        stack[-1], stack[-arg] = stack[-arg], stack[-1]
    elif op == Op.NOP:
        pass
    elif op in (Op.JUMP_IF_FALSE_OR_POP, Op.JUMP_IF_TRUE_OR_POP):
        taken = bool(stack[-1]) == (op == Op.JUMP_IF_TRUE_OR_POP)
        if _profile._enabled and frame.profile.recording:
            counts = frame.branches[pc]
            if taken:
                counts.taken += 1
            else:
                counts.not_taken += 1
        if taken:
            return arg
        pop()
    elif op == Op.GET_ITER:
        stack[-1] = iter(stack[-1])
    elif op in (Op.LOAD_NAME, Op.STORE_NAME, Op.DELETE_NAME):
        name_op(op, name(arg), stack, namespace, globals_, builtins_)
    elif op in (Op.STORE_GLOBAL, Op.DELETE_GLOBAL):
        if op == Op.STORE_GLOBAL:
            globals_[name(arg)] = pop()
        elif name(arg) in globals_:
            del globals_[name(arg)]
        else:
            raise NameError(f"name {name(arg)!r} is not defined", name=name(arg))
    elif op == Op.DELETE_FAST:
        if locals_[arg] is _UNSET:
            raise UnboundLocalError(f"cannot access local variable {frame.localnames[arg]!r} "
                                    "where it is not associated with a value")
        locals_[arg] = _UNSET
    elif op in (Op.LOAD_DEREF, Op.LOAD_CLASSDEREF, Op.STORE_DEREF, Op.DELETE_DEREF, Op.LOAD_CLOSURE):
        deref_op(frame, op, arg, stack, cells, namespace)
    elif op == Op.STORE_ATTR:
        target = pop()
        if _profile._enabled and frame.profile.recording:
            frame.feedback[pc].record(type(target))
        setattr(target, frame.attr_names[pc], pop())
    elif op == Op.DELETE_ATTR:
        delattr(pop(), name(arg))
    elif op == Op.LOAD_SUBSCR:
        key = pop()
        stack[-1] = stack[-1][key]
    elif op == Op.STORE_SUBSCR:
        key, container, value = pop(), pop(), pop()
        container[key] = value
    elif op == Op.DELETE_SUBSCR:
        key = pop()
        del pop()[key]
    elif op == Op.UNPACK_SEQUENCE:
        stack.extend(reversed(unpack_exactly(pop(), arg)))
    elif op == Op.UNPACK_EX:
        unpack_star(stack, arg & 0xFF, arg >> 8)
    elif op in (Op.BUILD_TUPLE, Op.BUILD_LIST, Op.BUILD_SET, Op.BUILD_STRING, Op.BUILD_SLICE):
        items = stack[len(stack) - arg:]
        del stack[len(stack) - arg:]
        build = {Op.BUILD_TUPLE: tuple, Op.BUILD_LIST: list, Op.BUILD_SET: set,
                 Op.BUILD_STRING: "".join, Op.BUILD_SLICE: lambda parts: slice(*parts)}[op]
        push(build(items))
    elif op == Op.BUILD_MAP:
        items = stack[len(stack) - 2 * arg:]
        del stack[len(stack) - 2 * arg:]
        push(dict(zip(items[0::2], items[1::2])))
    elif op == Op.FORMAT_VALUE:
        spec = pop() if arg & 4 else ""
        convert = CONVERSIONS[arg & 3]
        value = pop()
        push(format(convert(value) if convert else value, spec))
    elif op == Op.CALL_KW:
        keywords = pop()
        values = stack[len(stack) - arg:]
        del stack[len(stack) - arg:]
        positional = values[:arg - len(keywords)]
        if _profile._enabled and frame.profile.recording:
            frame.feedback[pc].record(type(stack[-1]))
        stack[-1] = stack[-1](*positional, **dict(zip(keywords, values[arg - len(keywords):])))
    elif op == Op.LIST_APPEND:
        item = pop()
        stack[-arg].append(item)
    elif op == Op.SET_ADD:
        item = pop()
        stack[-arg].add(item)
    elif op == Op.MAP_ADD:
        value, key = pop(), pop()
        stack[-arg][key] = value
    elif op == Op.MAKE_FUNCTION:
        push(_make_function(program, arg, stack, globals_))
    elif op == Op.LOAD_BUILD_CLASS:
        push(_build_class)
    elif op == Op.IMPORT_NAME:
        fromlist, level = pop(), pop()
        importer = builtins_.get("__import__", builtins.__import__)
        push(importer(name(arg), globals_, namespace, fromlist, level))
    elif op == Op.IMPORT_FROM:
        push(import_from(stack[-1], name(arg)))
    elif op == Op.IMPORT_STAR:
        import_star(pop(), namespace if namespace is not None else globals_)
    elif op == Op.LOAD_ASSERTION_ERROR:
        push(AssertionError)
    elif op == Op.RAISE:
        raise_op(stack, arg)
    elif op == Op.GET_YIELD_FROM_ITER:
        if not isinstance(stack[-1], types.GeneratorType):
            stack[-1] = iter(stack[-1])
    elif op == Op.SEND:
        return opsupport.send(stack, arg, pc)
    elif op in opsupport.UNPACKING_OPS:
        opsupport.unpacking_op(op, arg, stack)
    elif op in opsupport.MATCH_OPS:
        opsupport.match_op(op, arg, stack)
    elif op == Op.CALL_FRAME_BUILTIN:
        opsupport.frame_builtin_call(f, stack, _UNSET)
    elif op == Op.GET_AWAITABLE:
        stack[-1] = opsupport.awaitable(stack[-1])
    else:
        raise SystemError(f"{frame.qualname}: opcode {Op(op).name} is not implemented by this interpreter")
    return pc


def _make_function(program: _Program, flags: int, stack: list[Any], globals_: dict[str, Any]) -> VMFunction:
    """MAKE_FUNCTION: code reference on top, then the parts its flags announce."""
    ref: CodeRef = stack.pop()
    closure = tuple(stack.pop()) if flags & 8 else ()
    annotations = stack.pop() if flags & 4 else None
    kwdefaults = stack.pop() if flags & 2 else None
    defaults = tuple(stack.pop()) if flags & 1 else ()
    return VMFunction(program, ref.index, globals_, defaults, kwdefaults, annotations, closure)


