"""Opcode helpers of the interpreter that are not on its hot path.

Handler and ``with`` opcodes, ``yield from``/``await`` delegation,
``*``/``**`` unpacking and the pattern-matching tests of ``match``, each with
CPython's error messages.  Kept apart from
``interpreter`` so the dispatch loop's module stays small.
"""

from __future__ import annotations

import builtins
import inspect
import sys
import types
from typing import TYPE_CHECKING, Any

from dxpy.vm import excstate
from dxpy.vm.format import CodeFlags
from dxpy.vm.opcodes import Opcode as Op

if TYPE_CHECKING:
    from dxpy.vm.frames import Frame as _Frame


EXCEPTION_OPS = frozenset({Op.SETUP_FINALLY, Op.POP_BLOCK, Op.POP_EXCEPT, Op.RERAISE, Op.CHECK_EXC_MATCH,
                            Op.PUSH_EXC_INFO, Op.BEFORE_WITH, Op.WITH_EXCEPT_START, Op.BEFORE_ASYNC_WITH,
                            Op.GET_AITER, Op.GET_ANEXT, Op.END_ASYNC_FOR, Op.CHECK_EG_MATCH,
                            Op.PREP_RERAISE_STAR})



def special_method(obj: Any, name: str) -> Any:
    """``obj``'s special method ``name`` bound as CPython's ``_PyObject_LookupSpecial`` does
    (found on the type's MRO, never the instance, its descriptor's ``__get__`` called once);
    None when the type has none."""
    for klass in type(obj).__mro__:
        if name in klass.__dict__:
            attr = klass.__dict__[name]
            binder = getattr(type(attr), "__get__", None)
            return attr if binder is None else binder(attr, obj, type(obj))
    return None

def exception_op(f: "_Frame", op: int, arg: int, pc: int) -> int:
    """Block-stack, handler and ``with`` opcodes (stack effects on ``Opcode``)."""
    stack = f.stack
    if op == Op.SETUP_FINALLY:
        f.blocks.append((arg, len(stack)))
    elif op == Op.POP_BLOCK:
        f.blocks.pop()
    elif op == Op.PUSH_EXC_INFO:
        exc = stack.pop()
        stack.append(excstate.take_own_handled())
        stack.append(exc)
        excstate.set_handled(exc)
    elif op == Op.POP_EXCEPT:
        excstate.set_handled(stack.pop())
    elif op == Op.CHECK_EXC_MATCH:
        stack[-1] = _exception_matches(stack[-2], stack[-1])
    elif op == Op.RERAISE:
        exc = stack.pop()
        f.reraise_context = exc.__context__
        raise exc
    elif op == Op.BEFORE_WITH:
        manager = stack.pop()
        enter = special_method(manager, "__enter__")
        if enter is None:
            raise TypeError(f"{type(manager).__name__!r} object does not support the context "
                            f"manager protocol")
        exit_ = special_method(manager, "__exit__")
        if exit_ is None:
            raise TypeError(f"{type(manager).__name__!r} object does not support the context "
                            f"manager protocol (missed __exit__ method)")
        stack.append(exit_)
        stack.append(enter())
    elif op == Op.BEFORE_ASYNC_WITH:
        manager = stack.pop()
        enter = special_method(manager, "__aenter__")
        if enter is None:
            raise TypeError(f"{type(manager).__name__!r} object does not support the asynchronous "
                            f"context manager protocol")
        exit_ = special_method(manager, "__aexit__")
        if exit_ is None:
            raise TypeError(f"{type(manager).__name__!r} object does not support the asynchronous "
                            f"context manager protocol (missed __aexit__ method)")
        stack.append(exit_)
        stack.append(enter())
    elif op == Op.GET_AITER:
        iterable = stack[-1]
        aiter = special_method(iterable, "__aiter__")
        if aiter is None:
            raise TypeError(f"'async for' requires an object with __aiter__ method, got {type(iterable).__name__}")
        iterator = aiter()
        if getattr(type(iterator), "__anext__", None) is None:
            raise TypeError("'async for' received an object from __aiter__ that does not implement "
                            f"__anext__: {type(iterator).__name__}")
        stack[-1] = iterator
    elif op == Op.GET_ANEXT:
        iterator = stack[-1]
        anext = special_method(iterator, "__anext__")
        if anext is None:
            raise TypeError(f"'async for' requires an iterator with __anext__ method, got "
                            f"{type(iterator).__name__}")
        next_item = anext()
        if type(iterator) is types.AsyncGeneratorType:
            stack.append(next_item)
        else:
            try:
                stack.append(awaitable_iterator(next_item))
            except Exception as error:  # CPython's _PyErr_FormatFromCause
                error.__traceback__ = excstate.strip_internal(error.__traceback__)  # (holds the stack)
                raise TypeError("'async for' received an invalid object from __anext__: "
                                f"{type(next_item).__name__}") from error
    elif op == Op.CHECK_EG_MATCH:
        _check_eg_match(stack)
    elif op == Op.PREP_RERAISE_STAR:
        raised = stack.pop()
        stack[-1] = _prep_reraise_star(stack[-1], raised)
    elif op == Op.END_ASYNC_FOR:  # [aiter, exc]: StopAsyncIteration ends the loop
        exc = stack.pop()
        if not isinstance(exc, StopAsyncIteration):
            f.reraise_context = exc.__context__
            raise exc
        stack.pop()
    else:  # WITH_EXCEPT_START: [exit, prev, exc] -> [exit, prev, exc, exit(type, exc, tb)]
        exc = stack[-1]
        stack.append(stack[-3](type(exc), exc, exc.__traceback__))
    return pc


def _check_eg_match(stack: list[Any]) -> None:
    """CHECK_EG_MATCH: [exc, kinds] -> [rest, match] (match handled) or [exc, None], as CPython's."""
    kinds = stack.pop()
    if any(issubclass(kind, BaseExceptionGroup) for kind in _exception_kinds(kinds)):
        raise TypeError("catching ExceptionGroup with except* is not allowed. Use except instead.")
    exc = stack[-1]
    if isinstance(exc, kinds):
        if isinstance(exc, BaseExceptionGroup):
            match = exc
        else:  # a naked exception is wrapped in a group without a traceback, as CPython 3.11 does
            match = (ExceptionGroup if isinstance(exc, Exception) else BaseExceptionGroup)("", (exc,))
        rest = None
    elif isinstance(exc, BaseExceptionGroup):
        match, rest = exc.split(kinds)
    else:
        match, rest = None, exc
    if match is None:
        stack.append(None)
        return
    stack[-1] = rest
    stack.append(match)
    excstate.set_handled(match)


def _same_metadata(a: BaseException, b: BaseException) -> bool:
    """CPython's test for "this is (part of) the original group re-raised", not a new exception."""
    return (getattr(a, "__notes__", None) is getattr(b, "__notes__", None) and a.__traceback__ is b.__traceback__
            and a.__cause__ is b.__cause__ and a.__context__ is b.__context__)


def _leaf_ids(exc: BaseException, into: set[int]) -> set[int]:
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            _leaf_ids(inner, into)
    else:
        into.add(id(exc))
    return into


def _prep_reraise_star(orig: BaseException, excs: list[BaseException | None]) -> BaseException | None:
    """PREP_RERAISE_STAR: what leaves a try/except*, built as CPython's ``_PyExc_PrepReraiseStar``.

    Re-raised parts (same metadata as the original) are projected back onto
    the original group's tree; newly raised exceptions are grouped with
    that projection in a new ExceptionGroup("").
    """
    if not excs:
        return None
    if not isinstance(orig, BaseExceptionGroup):
        return excs[0]  # a naked exception: at most one clause ran
    raised, reraised = [], []
    for exc in excs:
        if exc is not None:
            (reraised if _same_metadata(exc, orig) else raised).append(exc)
    projection = None
    if reraised:
        ids: set[int] = set()
        for exc in reraised:
            _leaf_ids(exc, ids)
        projection = orig.split(lambda e: not isinstance(e, BaseExceptionGroup) and id(e) in ids)[0]
    if not raised:
        return projection
    if projection is not None:
        raised.append(projection)
    # BaseExceptionGroup() makes an ExceptionGroup when every member is an Exception.
    return raised[0] if len(raised) == 1 else BaseExceptionGroup("", raised)


def _exception_kinds(kinds: Any) -> tuple:
    """The classes of an ``except`` clause, with CPython's TypeError for non-exception classes."""
    every = kinds if isinstance(kinds, tuple) else (kinds,)
    for kind in every:
        if not (isinstance(kind, type) and issubclass(kind, BaseException)):
            raise TypeError("catching classes that do not inherit from BaseException is not allowed")
    return every


def _exception_matches(exc: BaseException, kinds: Any) -> bool:
    """``except kinds:`` test."""
    _exception_kinds(kinds)
    return isinstance(exc, kinds)


def send(stack: list[Any], target: int, pc: int) -> int:
    """SEND: resume the delegate TOS1 with TOS; its StopIteration value ends ``yield from``."""
    value = stack.pop()
    delegate = stack[-1]
    try:
        if isinstance(delegate, (types.GeneratorType, types.CoroutineType)):
            result = delegate.send(value)
        elif value is None:
            result = next(delegate)
        else:
            result = delegate.send(value)
    except StopIteration as stop:
        stack[-1] = stop.value
        return target
    stack.append(result)
    return pc


_AWAIT_SITES = {1: "__aenter__", 2: "__aexit__"}
"""GET_AWAITABLE's argument: which ``async with`` method returned the value (0: an ``await``)."""


def awaitable(value: Any, site: int = 0) -> Any:
    """GET_AWAITABLE: the iterator ``await value`` delegates to, with CPython's errors (a value
    with no ``__await__`` after ``__aenter__``/``__aexit__`` names that method; a coroutine
    already awaited elsewhere is a RuntimeError; a finished one fails at its first send)."""
    if site in _AWAIT_SITES and getattr(type(value), "__await__", None) is None \
            and not _is_coroutine(value):
        raise TypeError(f"'async with' received an object from {_AWAIT_SITES[site]} that does not "
                        f"implement __await__: {type(value).__name__}")
    iterator = awaitable_iterator(value)
    if type(iterator) is types.CoroutineType and iterator.cr_await is not None:
        raise RuntimeError("coroutine is being awaited already")
    return iterator


def awaitable_iterator(value: Any) -> Any:
    """CPython's ``_PyCoro_GetAwaitableIter``: a coroutine itself, else what ``__await__``
    returns, which must be an iterator and not a coroutine."""
    if _is_coroutine(value):
        return value
    method = getattr(type(value), "__await__", None)
    if method is None:
        raise TypeError(f"object {type(value).__name__} can't be used in 'await' expression")
    iterator = method(value)
    if _is_coroutine(iterator):
        raise TypeError("__await__() returned a coroutine")
    if not hasattr(type(iterator), "__next__"):
        raise TypeError(f"__await__() returned non-iterator of type '{type(iterator).__name__}'")
    return iterator


def yield_from_iter(f: "_Frame", value: Any) -> Any:
    """GET_YIELD_FROM_ITER: a generator or coroutine as is, anything else ``iter()``'s; a
    coroutine only in a coroutine or a ``types.coroutine`` generator, as in CPython."""
    if type(value) is types.CoroutineType:
        if not f.code.kind & CodeFlags.COROUTINE and not _iterable_coroutine(f):
            raise TypeError("cannot 'yield from' a coroutine object in a non-coroutine generator")
        return value
    return value if type(value) is types.GeneratorType else iter(value)


def _iterable_coroutine(f: "_Frame") -> bool:
    """Whether ``f``'s function was made a coroutine by ``types.coroutine`` (its code's flag)."""
    from dxpy.vm.functions import frame_function

    func = frame_function(f)
    return func is not None and bool(func.__code__.co_flags & inspect.CO_ITERABLE_COROUTINE)


def _is_coroutine(value: Any) -> bool:
    """A native coroutine, or a generator made by a ``types.coroutine`` function."""
    return type(value) is types.CoroutineType or (
        type(value) is types.GeneratorType and bool(value.gi_code.co_flags & inspect.CO_ITERABLE_COROUTINE))


UNPACKING_OPS = frozenset({Op.LIST_EXTEND, Op.SET_UPDATE, Op.DICT_UPDATE, Op.DICT_MERGE, Op.LIST_TO_TUPLE,
                            Op.CALL_EX})


def unpacking_op(op: int, arg: int, stack: list[Any]) -> None:
    """``*``/``**`` in displays and calls, with CPython's TypeErrors."""
    if op == Op.LIST_TO_TUPLE:
        stack[-1] = tuple(stack[-1])
    elif op == Op.CALL_EX:
        kwargs = stack.pop() if arg & 1 else {}
        positional = stack.pop()
        stack[-1] = stack[-1](*positional, **kwargs)
    elif op in (Op.LIST_EXTEND, Op.SET_UPDATE):
        items = stack.pop()
        target = stack[-arg]
        try:
            (target.extend if op == Op.LIST_EXTEND else target.update)(items)
        except TypeError:
            if hasattr(items, "__iter__") or hasattr(items, "__getitem__"):
                raise
            callee = stack[-arg - 1] if op == Op.LIST_EXTEND and len(stack) > arg else None
            where = f"{_callable_name(callee)} argument" if callable(callee) else "Value"
            raise TypeError(f"{where} after * must be an iterable, not {type(items).__name__}") from None
    else:
        mapping = stack.pop()
        target = stack[-arg]
        if not hasattr(mapping, "keys"):
            if op == Op.DICT_MERGE:
                raise TypeError(f"{_callable_name(stack[-arg - 2])} argument after ** must be a mapping, "
                                f"not {type(mapping).__name__}")
            raise TypeError(f"'{type(mapping).__name__}' object is not a mapping")
        if op == Op.DICT_MERGE:
            for key in mapping.keys():
                if key in target:
                    raise TypeError(f"{_callable_name(stack[-arg - 2])} got multiple values for keyword "
                                    f"argument '{key}'")
                target[key] = mapping[key]
        else:
            target.update(mapping)


def _callable_name(func: Any) -> str:
    """How CPython names a callable in call errors (``_PyObject_FunctionStr``): ``module.qualname()``."""
    if isinstance(func, types.MethodType):
        func = func.__func__
    qualname = getattr(func, "__qualname__", None)
    if qualname is None:
        return f"{type(func).__name__} object"
    module = getattr(func, "__module__", None)
    return f"{module}.{qualname}()" if module not in (None, "builtins") else f"{qualname}()"


def _names(names: list[str]) -> str:
    """CPython's list of argument names: 'a', 'a' and 'b', 'a', 'b', and 'c'."""
    quoted = [f"'{n}'" for n in names]
    if len(quoted) <= 2:
        return " and ".join(quoted)
    return ", ".join(quoted[:-1]) + ", and " + quoted[-1]


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def binding_error(qualname: str, signature: inspect.Signature, args: tuple, kwargs: dict) -> TypeError:
    """The TypeError CPython raises for a call that does not fit the signature, in its words.

    Only computed after ``Signature.bind`` has failed (whose messages differ
    from CPython's), so it costs nothing on successful calls.
    """
    kind = inspect.Parameter
    params = list(signature.parameters.values())
    positional = [p for p in params if p.kind in (kind.POSITIONAL_ONLY, kind.POSITIONAL_OR_KEYWORD)]
    keyword_only = [p for p in params if p.kind == kind.KEYWORD_ONLY]
    var_positional = any(p.kind == kind.VAR_POSITIONAL for p in params)
    var_keyword = any(p.kind == kind.VAR_KEYWORD for p in params)
    where = f"{qualname}()"
    posonly_as_keyword = [p.name for p in positional if p.kind == kind.POSITIONAL_ONLY and p.name in kwargs]
    if posonly_as_keyword and not var_keyword:
        return TypeError(f"{where} got some positional-only arguments passed as keyword arguments: "
                         f"{', '.join(repr(n) for n in posonly_as_keyword)}")
    if len(args) > len(positional) and not var_positional:
        required = sum(1 for p in positional if p.default is kind.empty)
        takes = (f"from {required} to {len(positional)}" if required != len(positional) else str(len(positional)))
        given_kw = sum(1 for p in keyword_only if p.name in kwargs)
        given = (f"{len(args)} positional argument{'s' if len(args) != 1 else ''} "
                 f"(and {_plural(given_kw, 'keyword-only argument')}) were given" if given_kw
                 else f"{len(args)} {'was' if len(args) == 1 else 'were'} given")
        return TypeError(f"{where} takes {takes} positional argument{'s' if takes != '1' else ''} but {given}")
    names = {p.name for p in params if p.kind != kind.POSITIONAL_ONLY}
    for key in kwargs:
        if key not in names and not var_keyword:
            return TypeError(f"{where} got an unexpected keyword argument '{key}'")
    for p in positional[:len(args)]:
        if p.name in kwargs and p.kind != kind.POSITIONAL_ONLY:
            return TypeError(f"{where} got multiple values for argument '{p.name}'")
    missing = [p.name for p in positional[len(args):] if p.default is kind.empty and p.name not in kwargs]
    if missing:
        return TypeError(f"{where} missing {len(missing)} required positional argument"
                         f"{'s' if len(missing) != 1 else ''}: {_names(missing)}")
    missing = [p.name for p in keyword_only if p.default is kind.empty and p.name not in kwargs]
    if missing:
        return TypeError(f"{where} missing {len(missing)} required keyword-only argument"
                         f"{'s' if len(missing) != 1 else ''}: {_names(missing)}")
    try:
        signature.bind(*args, **kwargs)
    except TypeError as exc:
        return TypeError(f"{where} {exc}")
    return TypeError(f"{where}: arguments do not fit the signature")


MATCH_OPS = frozenset({Op.MATCH_MAPPING, Op.MATCH_SEQUENCE, Op.MATCH_KEYS, Op.MATCH_CLASS, Op.GET_LEN})
# Types whose class pattern ``C(x)`` matches the subject itself (CPython's _Py_TPFLAGS_MATCH_SELF,
# inherited by subclasses and honoured only when the class has no __match_args__).
_MATCH_SELF = (bool, bytearray, bytes, dict, float, frozenset, int, list, set, str, tuple)
_MISSING: Any = object()
_TPFLAGS_SEQUENCE = 1 << 5
_TPFLAGS_MAPPING = 1 << 6
"""What CPython's MATCH_SEQUENCE/MATCH_MAPPING test: the type's ``Py_TPFLAGS_SEQUENCE``/``MAPPING``,
inherited along the MRO and set by ``collections.abc`` registration, so a class deriving from
both kinds is the kind of its first such base (``isinstance`` against the ABCs says both)."""


def match_op(op: int, arg: int, stack: list[Any]) -> None:
    """Pattern-matching tests (stack effects on ``Opcode``), with CPython's TypeErrors."""
    if op == Op.GET_LEN:
        stack.append(len(stack[-1]))
    elif op == Op.MATCH_SEQUENCE:
        stack.append(bool(type(stack[-1]).__flags__ & _TPFLAGS_SEQUENCE))
    elif op == Op.MATCH_MAPPING:
        stack.append(bool(type(stack[-1]).__flags__ & _TPFLAGS_MAPPING))
    elif op == Op.MATCH_KEYS:
        stack.append(_match_keys(stack[-2], stack[-1]))
    else:
        names = stack.pop()
        cls = stack.pop()
        stack[-1] = _match_class(stack[-1], cls, arg, names)


def _match_keys(subject: Any, keys: tuple) -> tuple | None:
    """The values of ``keys`` in the mapping (looked up with ``.get``, as CPython does), or None."""
    get = subject.get
    seen: list[Any] = []
    values = []
    for key in keys:
        if key in seen:
            raise ValueError(f"mapping pattern checks duplicate key ({key!r})")
        seen.append(key)
        value = get(key, _MISSING)
        if value is _MISSING:
            return None
        values.append(value)
    return tuple(values)


def _match_class(subject: Any, cls: Any, count: int, names: tuple[str, ...]) -> tuple | None:
    """``cls(p1, ..., k=p)``: the attributes the sub-patterns match against, or None."""
    if not isinstance(cls, type):
        raise TypeError("called match pattern must be a type")
    if not isinstance(subject, cls):
        return None
    seen: set[str] = set()
    attributes: list[Any] = []
    if count:
        match_args = getattr(cls, "__match_args__", _MISSING)
        match_self = match_args is _MISSING and issubclass(cls, _MATCH_SELF)
        if match_args is _MISSING:
            match_args = ()
        elif type(match_args) is not tuple:
            raise TypeError(f"{cls.__name__}.__match_args__ must be a tuple (got {type(match_args).__name__})")
        allowed = 1 if match_self else len(match_args)
        if allowed < count:
            raise TypeError(f"{cls.__name__}() accepts {allowed} positional sub-pattern"
                            f"{'' if allowed == 1 else 's'} ({count} given)")
        if match_self:
            attributes.append(subject)
            match_args = ()
    else:
        match_args = ()
    for position, name in enumerate(match_args[:count] + names):
        if position < count and type(name) is not str:
            raise TypeError(f"__match_args__ elements must be strings (got {type(name).__name__})")
        value = _match_attribute(subject, cls, name, seen)
        if value is _MISSING:
            return None  # CPython stops at the first missing attribute
        attributes.append(value)
    return tuple(attributes)


def _match_attribute(subject: Any, cls: type, name: str, seen: set[str]) -> Any:
    """One attribute of a class pattern; _MISSING (no match) when it does not exist."""
    if name in seen:
        raise TypeError(f"{cls.__name__}() got multiple sub-patterns for attribute {name!r}")
    seen.add(name)
    try:
        return getattr(subject, name)
    except AttributeError:
        return _MISSING


def frame_builtin_call(f: "_Frame", stack: list[Any], unset: Any) -> None:
    """CALL_FRAME_BUILTIN: ``globals()``, ``locals()``, ``vars()``, ``dir()``, ``super()``,
    ``sys._getframe()`` about the VM frame.

    Those builtins inspect the *Python* frame calling them, which for VM code
    is the interpreter's own; the compiler routes zero-argument calls of
    those names here so they see the program's namespaces instead.  Any
    other callable (the name was rebound) is simply called.
    """
    func = stack[-1]
    if func is builtins.globals:
        stack[-1] = f.globals
    elif func is builtins.locals or func is builtins.vars:
        stack[-1] = _frame_locals(f, unset)
    elif func is builtins.dir:
        stack[-1] = sorted(_frame_locals(f, unset))
    elif func is builtins.super:
        stack[-1] = super(*_super_arguments(f, unset))
    elif func is sys._getframe:
        stack[-1] = excstate.shadow_frame(f)
    else:
        stack[-1] = func()


def _super_arguments(f: "_Frame", unset: Any) -> tuple[type, Any]:
    """Zero-argument ``super()``'s class and object, with CPython's errors when they are missing:
    the ``__class__`` cell, and the frame's first argument (its cell's content if captured)."""
    code = f.code
    if code.code.argcount == 0:
        raise RuntimeError("super(): no arguments")
    first = f.locals[0]
    for cell, slot in code.cell_params:
        if slot == 0:
            try:
                first = f.cells[cell].cell_contents
            except ValueError:
                first = unset
    if first is unset:
        raise RuntimeError("super(): arg[0] deleted")
    frees = code.derefnames[code.ncells:]
    if "__class__" not in frees:
        raise RuntimeError("super(): __class__ cell not found")
    try:
        owner = f.cells[code.ncells + frees.index("__class__")].cell_contents
    except ValueError:
        raise RuntimeError("super(): empty __class__ cell") from None
    if not isinstance(owner, type):
        raise RuntimeError(f"super(): __class__ is not a type ({type(owner).__name__})")
    return owner, first


def frame_namespaces(f: "_Frame", args: list[Any], unset: Any) -> list[Any]:
    """``exec``/``eval`` arguments with omitted (or None) namespaces filled in from the VM frame,
    as CPython fills them in from the calling frame: its globals, and its locals."""
    if not args or (len(args) > 1 and args[1] is not None):
        return args
    namespace_locals = args[2] if len(args) > 2 and args[2] is not None else _frame_locals(f, unset)
    return [args[0], f.globals, namespace_locals, *args[3:]]


def _frame_locals(f: "_Frame", unset: Any) -> dict[str, Any]:
    """A module or class body's namespace itself; a function's bound locals, cells and free variables."""
    if f.namespace is not None:
        return f.namespace
    code = f.code
    snapshot = {name: value for name, value in zip(code.localnames, f.locals) if value is not unset}
    for name, cell in zip(code.derefnames, f.cells):
        try:
            snapshot[name] = cell.cell_contents
        except ValueError:  # an empty cell is an unbound variable
            continue
    return snapshot


# ---- unpacking and raise (UNPACK_SEQUENCE, UNPACK_EX, RAISE) ----------------------------
def unpack_exactly(value: Any, count: int) -> list[Any]:
    """Exactly ``count`` items, with CPython's messages when there are not."""
    try:
        iterator = iter(value)
    except TypeError:
        raise TypeError(f"cannot unpack non-iterable {type(value).__name__} object") from None
    items = []
    for item in iterator:
        if len(items) == count:
            raise ValueError(f"too many values to unpack (expected {count})")
        items.append(item)
    if len(items) < count:
        raise ValueError(f"not enough values to unpack (expected {count}, got {len(items)})")
    return items


def unpack_star(stack: list[Any], before: int, after: int) -> None:
    value = stack.pop()
    try:
        items = list(value)
    except TypeError:
        raise TypeError(f"cannot unpack non-iterable {type(value).__name__} object") from None
    if len(items) < before + after:
        raise ValueError(f"not enough values to unpack (expected at least {before + after}, "
                         f"got {len(items)})")
    split = len(items) - after
    stack.extend(reversed(items[split:]))
    stack.append(items[before:split])
    stack.extend(reversed(items[:before]))


def raise_op(stack: list[Any], count: int) -> None:
    if count == 0:
        current = sys.exception()
        if current is None:
            raise RuntimeError("No active exception to reraise")
        raise current
    if count == 2:
        cause = stack.pop()
        raise stack.pop() from cause
    raise stack.pop()
