"""Executing DPB code with real Python objects (the compiler's current subset).

Functions defined in DPB code are real ``types.FunctionType`` objects whose
code enters this interpreter (``dxpy.vm.functions``), so VM code and CPython
code call each other freely (``sorted(key=vm_lambda)``, ``map(vm_function,
...)``, classes built by the VM subclassing CPython ones) and introspection
(``inspect``, ``doctest``, ``pickle``, ``functools.wraps``) sees functions.

Each code object is prepared once per file (``frames.PreparedCode``):
instructions decoded with jump targets turned into instruction indices,
constants and names resolved.  The dispatch loop is a plain ``if`` chain
over the opcode: the simple reference the JIT's tiers are measured against.

Exceptions follow CPython 3.11's model: ``SETUP_FINALLY`` pushes a block
``(handler, stack depth)``; an exception raised while a block is active
truncates the value stack to that depth, pushes the exception and jumps to
the handler; ``PUSH_EXC_INFO``/``POP_EXCEPT`` set the handled exception
(see ``excstate`` for why that is done with ``PyErr_SetHandledException``
rather than by nesting Python ``except`` blocks).  Frame state lives in a
``Frame`` so a generator's frame can stop at ``YIELD_VALUE`` and resume
later (``generators``).  Exceptions leaving a VM frame carry traceback
entries naming the DPB source file and line (``excstate``).

Profiles (``dxpy.vm.profile``): each code object has a ``FunctionProfile``
(call and back-edge counts, argument types, per-site type feedback, branch
counts, inline caches) recorded by the dispatch loop with the common case
inlined; ``functions.enter`` calls the JIT's ``Tiering`` hooks when a
function gets hot, ``_hot_loop`` when a loop does.

A VM call costs two Python frames (the function's entry code and the
dispatch loop), so ``dxpy run --vm`` scales the recursion limit (``runner``).
"""

from __future__ import annotations

import __future__
import builtins
import operator
import sys
import types
from typing import Any, Callable

from dxpy.vm import excstate, functions, opsupport, tracing
from dxpy.vm import profile as _profile
from dxpy.vm.frames import (BINARY, BINARY_BY_INT as _BINARY_BY_INT, CALL as _CALL, CALL_KW as _CALL_KW,
                            LOAD_ATTR as _LOAD_ATTR, LOAD_CONST as _LOAD_CONST, LOAD_FAST as _LOAD_FAST,
                            LOAD_GLOBAL as _LOAD_GLOBAL, POP_JUMP_IF_FALSE as _POP_JUMP_IF_FALSE,
                            POP_JUMP_IF_TRUE as _POP_JUMP_IF_TRUE, STORE_FAST as _STORE_FAST,
                            UNSET as _UNSET, Frame, Program)
from dxpy.vm.functions import Returned
from dxpy.vm.opsupport import frame_namespaces, raise_op, unpack_exactly, unpack_star
from dxpy.vm.profile import FunctionProfile
from dxpy.vm.constants import CodeRef
from dxpy.vm.loader import DpbFile
from dxpy.vm.names import (builtins_of, deref_op, import_from, import_star, load_global,
                           load_global_cached, name_op)
from dxpy.simd import vm_builtins as _simd
from dxpy.vm.opcodes import Opcode as Op

_SIMD_BUILTIN = _simd.BUILTIN

UNARY = {Op.UNARY_NEGATIVE: operator.neg, Op.UNARY_POSITIVE: operator.pos,
         Op.UNARY_INVERT: operator.invert, Op.UNARY_NOT: operator.not_}
CONVERSIONS = (None, str, repr, ascii)
_BUILDERS = {Op.BUILD_TUPLE: tuple, Op.BUILD_LIST: list, Op.BUILD_SET: set,
             Op.BUILD_STRING: "".join, Op.BUILD_SLICE: lambda parts: slice(*parts)}

_JUMP = int(Op.JUMP)
_FOR_ITER = int(Op.FOR_ITER)
_RETURN_VALUE = int(Op.RETURN_VALUE)
_YIELD_VALUE = int(Op.YIELD_VALUE)
_RERAISES = frozenset({int(Op.RERAISE), int(Op.END_ASYNC_FOR)})
_RAISE = int(Op.RAISE)
_TRACE_MARKER = tracing.MARKER
_FUTURE_FLAGS = sum(getattr(__future__, name).compiler_flag for name in __future__.all_feature_names)


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
    namespace.setdefault("__builtins__", builtins.__dict__)  # as exec() sets it for an import
    program = Program(file, filename or file.path, namespace, dispatch_loop_for(namespace))
    program.prepared(0).profile.calls += 1
    try:
        program.execute(Frame(program, program.prepared(0), namespace, namespace, [], []))
    except BaseException as exc:
        excstate.clean_traceback(exc)
        raise
    finally:
        if profiles is not None:
            profiles.update(program.profiles())
    return namespace


def dispatch_loop_for(globals_: dict[str, Any]) -> Callable[[Frame], Any]:
    """The dispatch loop as a function whose ``__globals__`` is ``globals_`` (see
    ``_make_dispatch_loop``): its frames look like frames of that module.  Its code has
    no ``__future__`` flags: ``exec``/``eval``/``compile`` called from VM code inherit
    the calling frame's, and this file's ``annotations`` import is not the program's."""
    return types.FunctionType(_LOOP_CODE, globals_, "_execute", None, _execute.__closure__)


def _build_class(func: Any, name: str, /, *bases: Any, **keywords: Any) -> type:
    """``__build_class__`` for class bodies compiled to DPB; others go to CPython's."""
    prepared = functions.prepared_of(func)
    if prepared is None:
        return builtins.__build_class__(func, name, *bases, **keywords)
    resolved = types.resolve_bases(bases)
    meta, namespace, keywords = types.prepare_class(name, resolved, keywords)
    if not hasattr(type(namespace), "__getitem__"):
        raise TypeError(f"{getattr(meta, '__name__', '<metaclass>')}.__prepare__() must return a "
                        f"mapping, not {type(namespace).__name__}")
    cells = [types.CellType() for _ in range(prepared.ncells)]  # __class__, for super()
    cells += functions.closure_cells(prepared, func.__closure__)
    prepared.profile.calls += 1
    program = prepared.program
    program.execute(Frame(program, prepared, program.globals, namespace, [], cells))
    if resolved is not bases:
        namespace["__orig_bases__"] = bases
    cls = meta(name, resolved, namespace, **keywords)
    if "__class__" in prepared.derefnames[:prepared.ncells] and isinstance(cls, type):
        _check_class_cell(cells[prepared.derefnames.index("__class__")], name, cls)
    return cls


def _check_class_cell(cell: types.CellType, name: str, cls: type) -> None:
    """What CPython's ``__build_class__`` checks: ``type.__new__`` got ``__classcell__``."""
    try:
        owner = cell.cell_contents
    except ValueError:
        raise RuntimeError(f"__class__ not set defining {name!r} as {cls!r}. Was __classcell__ "
                           "propagated to type.__new__?") from None
    if owner is not cls:
        raise TypeError(f"__class__ set to {owner!r} defining {name!r} as {cls!r}")


def _frame_back_edge(f: Frame, tiering: _profile.Tiering, header: int) -> tuple[bool, Any]:
    """Count a back-edge of frame ``f`` (a Tiering is installed); at the threshold, offer the loop."""
    f.backedges += 1
    if f.backedges != tiering.loop_threshold:
        return False, None
    return _hot_loop(f, tiering, header)


def _hot_loop(f: Frame, tiering: _profile.Tiering, header: int) -> tuple[bool, Any]:
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
    function = functions.frame_function(f)
    if function is None:
        return False, None
    if _profile.hot_loop_wants_iterators():  # the enclosing loops' iterators too (see Tiering)
        answer = tiering.on_hot_loop(function, code.line_of(header), names, values, iterator,
                                     iterators=list(f.stack))
    else:
        answer = tiering.on_hot_loop(function, code.line_of(header), names, values, iterator)
    if not (isinstance(answer, tuple) and len(answer) == 2):
        raise TypeError(f"Tiering.on_hot_loop({code.qualname}) must return (done, result), "
                        f"got {answer!r}")
    return bool(answer[0]), answer[1]


def _unwind(f: Frame, exc: BaseException, pc: int) -> int:
    """Route ``exc`` (raised by instruction ``pc - 1``) to the innermost handler, or re-raise it.

    Called inside the dispatch loop's ``except`` clause, where ``exc`` is the
    handled exception: re-raising it there leaves its ``__context__`` alone.
    """
    code = f.code
    op = code.ops[pc - 1]
    bare_raise = op == _RAISE and code.args[pc - 1] == 0  # CPython's bare ``raise`` adds no entry either
    excstate.vm_traceback(exc, f, pc - 1, op not in _RERAISES and not bare_raise)
    if not f.blocks:
        raise exc
    handler, depth = f.blocks.pop()
    del f.stack[depth:]
    f.stack.append(exc)
    return handler


def _slow_op(f: Frame, op: int, arg: int, pc: int, builtins_: dict[str, Any]) -> int:
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
        push(_BUILDERS[op](items))
    elif op == Op.BUILD_MAP:
        items = stack[len(stack) - 2 * arg:]
        del stack[len(stack) - 2 * arg:]
        push(dict(zip(items[0::2], items[1::2])))
    elif op == Op.FORMAT_VALUE:
        spec = pop() if arg & 4 else ""
        convert = CONVERSIONS[arg & 3]
        value = pop()
        push(format(convert(value) if convert else value, spec))
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
        push(_make_function(program, arg, stack))
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
        stack[-1] = opsupport.yield_from_iter(f, stack[-1])
    elif op == Op.SEND:
        return opsupport.send(stack, arg, pc)
    elif op in opsupport.UNPACKING_OPS:
        opsupport.unpacking_op(op, arg, stack)
    elif op in opsupport.MATCH_OPS:
        opsupport.match_op(op, arg, stack)
    elif op == Op.CALL_FRAME_BUILTIN:
        opsupport.frame_builtin_call(f, stack, _UNSET)
    elif op == Op.GET_AWAITABLE:
        stack[-1] = opsupport.awaitable(stack[-1], arg)
    elif op == _TRACE_MARKER:
        return tracing.on_marker(f, pc)
    else:
        raise SystemError(f"{frame.qualname}: opcode {Op(op).name} is not implemented by this interpreter")
    return pc


def _make_function(program: Program, flags: int, stack: list[Any]) -> types.FunctionType:
    """MAKE_FUNCTION: code reference on top, then the parts its flags announce."""
    ref: CodeRef = stack.pop()
    closure = tuple(stack.pop()) if flags & 8 else ()
    annotations = stack.pop() if flags & 4 else None
    kwdefaults = stack.pop() if flags & 2 else None
    defaults = tuple(stack.pop()) if flags & 1 else ()
    return functions.make_function(program.prepared(ref.index), defaults, kwdefaults, annotations,
                                   closure)


def _resolve(name: str) -> Any:
    """A module global of this file, else a builtin: the dispatch loop's parameters."""
    return globals()[name] if name in globals() else getattr(builtins, name)


def _make_dispatch_loop(_profile, builtins_of, load_global, load_global_cached, _frame_back_edge,
                        _unwind, _slow_op, _UNSET, Returned, _LOAD_FAST, _LOAD_CONST, _STORE_FAST,
                        _LOAD_GLOBAL, _LOAD_ATTR, _CALL, _CALL_KW, _POP_JUMP_IF_FALSE,
                        _POP_JUMP_IF_TRUE, _JUMP, _FOR_ITER, _RETURN_VALUE, _YIELD_VALUE,
                        _RERAISES, _BINARY_BY_INT, frame_namespaces, exec, eval, type, next,
                        getattr, len, dict, zip, BaseException, StopIteration, UnboundLocalError,
                        _SIMD_BUILTIN, _simd) -> Callable[[Frame], Any]:
    """The dispatch loop, every name it uses a cell of this scope (the parameters).

    So its code reads no global at all, and ``dispatch_loop_for`` can give
    each program a copy whose *globals* are the program's: CPython code that
    looks at its caller's frame (``sys._getframe(n).f_globals``: ``warnings``,
    ``enum``/``typing``/``collections`` functional APIs naming ``__module__``,
    ``doctest`` finding its module) sees the VM code's module, not this one.
    """
    def _execute(f: Frame) -> Any:
        """The dispatch loop: run frame ``f`` until it returns or (generators) yields.

        On ``YIELD_VALUE`` the frame is left with ``suspended`` set and the
        yielded value is returned; ``f.pending`` is an exception to raise at the
        resume point (``generator.throw``).
        """
        frame, program = f.code, f.program
        stack = f.stack
        push, pop = stack.append, stack.pop
        ops, args, consts, name = f.ops, frame.args, frame.consts, frame.names
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
            if type(thrown) is Returned:  # functions.enter ran the call already (tier-up)
                return thrown.value
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
                        value = None  # the loop's own variables must not keep the program's objects
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
                        left = right = None
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
                        callee = stack[-1]
                        if type(callee) is _SIMD_BUILTIN and _simd.routed(callee):  # sum/min/max, bytes.count/find
                            stack[-1] = _simd.call(callee, call_args)
                        elif callee is exec or callee is eval:  # default: the caller's namespaces
                            stack[-1] = callee(*frame_namespaces(f, call_args, _UNSET))
                        else:
                            stack[-1] = callee(*call_args)
                        call_args = callee = None
                    elif op == _CALL_KW:  # here, not in _slow_op: callees looking at their caller's
                        keywords = pop()  # frame (warnings, enum, typing) see this one's globals
                        values = stack[len(stack) - arg:]
                        del stack[len(stack) - arg:]
                        if feedback is not None:
                            feedback[pc].record(type(stack[-1]))
                        positional = values[:arg - len(keywords)]
                        stack[-1] = stack[-1](*positional, **dict(zip(keywords, values[arg - len(keywords):])))
                        values = positional = None
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
    return _execute


_execute = _make_dispatch_loop(*map(_resolve, _make_dispatch_loop.__code__.co_varnames[
    :_make_dispatch_loop.__code__.co_argcount]))
_LOOP_CODE = _execute.__code__.replace(co_flags=_execute.__code__.co_flags & ~_FUTURE_FLAGS)
