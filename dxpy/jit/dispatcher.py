"""The dispatcher: one compiled version per argument signature, guarded, with deopt.

Why the guards live here: the argument types are the speculation every
compiled version rests on, and checking them before entering machine code
means compiled code never sees a value it was not built for.  A call whose
arguments have no JIT type (big ints, lists, keyword arguments, ...) or
whose signature failed to compile runs the original Python function.  A
compiled call that reports "deopt" (int overflow, a zero divisor, an index
out of bounds, a math domain error...) is re-run in CPython from the start,
which is exact because the compiled code had no visible effects -- except
array stores, so arrays a storing function may write are snapshotted first
and restored before the re-run.  A signature that deopts on most calls is
blacklisted (it just runs in Python).

Tiers: with ``eager=True`` (what ``@dxpy.jit`` means) a signature compiles
on its first call; otherwise the function runs in CPython, counted, until
``threshold`` calls, then compiles.  ``DXPY_JIT=off`` disables compilation
everywhere, ``DXPY_JIT=eager`` makes every dispatcher eager, and
``DXPY_JIT_THRESHOLD`` sets the default threshold.
"""

from __future__ import annotations

import ast
import ctypes
import functools
import operator
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .engine import get_engine
from .lower import entry_ctypes, entry_flattener, index_error
from .ops import STATUS_DEOPT, STATUS_INDEX_ERROR, STATUS_OK
from .pipeline import CompileResult, compile_signature, parse
from .types import (INT64_MAX, INT64_MIN, Array, JitType, JitTypeError, NoneType, Scalar, Tuple,
                    typeof)

DEFAULT_THRESHOLD = 100
#: the Python type of an argument with each scalar JIT type (the fast-path key).
_PYTYPES = {Scalar("int"): int, Scalar("float"): float, Scalar("bool"): bool,
            Scalar("int", True): np.int64, Scalar("float", True): np.float64}
BLACKLIST_MIN_DEOPTS = 50

_registry: list["Dispatcher"] = []
_registry_lock = threading.Lock()


def _mode() -> str:
    return os.environ.get("DXPY_JIT", "").strip().lower()


@dataclass
class SignatureStats:
    """What happened to one signature: compiled or not, why, and how it behaved."""

    signature: str
    compiled: bool
    reason: str = ""
    compile_seconds: float = 0.0
    passes: dict[str, float] = field(default_factory=dict)
    calls: int = 0
    deopts: int = 0
    blacklisted: bool = False


class _Version:
    """One compiled signature: the ctypes entry point plus argument/result converters."""

    def __init__(self, result: CompileResult, argtypes: tuple[JitType, ...],
                 stats: SignatureStats) -> None:
        self.result = result
        self.sig = argtypes
        self.stats = stats
        self.stores_arrays = result.stores_arrays
        typed = result.typed
        # Arrays a deopt must restore: those stored into here, or all of them when
        # arrays are handed to compiled callees (their stores are not tracked).
        self.array_positions = [
            i for i, t in enumerate(argtypes) if isinstance(t, Array)
            and (typed.arrays_to_callees or typed.argnames[i] in typed.stored_params)]
        self.int_positions = [i for i, t in enumerate(argtypes) if t == Scalar("int")]
        # No snapshot when LLVM proved every deopt away (only IndexError, raised as is, left).
        self.may_deopt = get_engine().may_return(result.symbol, STATUS_DEOPT)
        ctypes_args = entry_ctypes(argtypes)  # the entry point's ABI lives in lower
        rt = result.typed.return_type
        self.Result = _result_struct(rt)
        proto = ctypes.CFUNCTYPE(ctypes.c_int32, *ctypes_args, ctypes.POINTER(self.Result))
        self.cfunc = proto(result.address)
        self.box = _boxer(rt)
        self.flatten = entry_flattener(argtypes)


def _scalars(rt: JitType) -> list[Scalar]:
    if isinstance(rt, Tuple):
        return list(rt.items)
    return [rt] if isinstance(rt, Scalar) else []


def _result_struct(rt: JitType) -> type[ctypes.Structure]:
    """The result slots as a typed struct (value, NumPy tag) per scalar: no reinterpreting."""
    fields: list[tuple[str, Any]] = []
    for i, t in enumerate(_scalars(rt) or [Scalar("int")]):
        fields += [(f"v{i}", ctypes.c_double if t.kind == "float" else ctypes.c_int64),
                   (f"t{i}", ctypes.c_int64)]
    return type("Result", (ctypes.Structure,), {"_fields_": fields})


def _scalar_boxer(t: Scalar, i: int) -> Callable[[Any], Any]:
    """Reads scalar ``i`` of a result as the type CPython would have produced."""
    value, tag = operator.attrgetter(f"v{i}"), operator.attrgetter(f"t{i}")
    numpy_type = {"float": np.float64, "int": np.int64, "bool": np.bool_}[t.kind]
    python_type: Callable[[Any], Any] = bool if t.kind == "bool" else (lambda x: x)
    if t.np is True:
        return lambda r: numpy_type(value(r))
    if t.np is False:
        return value if t.kind != "bool" else (lambda r: value(r) != 0)
    return lambda r: numpy_type(value(r)) if tag(r) else python_type(value(r))


def _boxer(rt: JitType) -> Callable[[Any], Any]:
    """Turns the result struct back into the Python object CPython would return."""
    if isinstance(rt, NoneType):
        return lambda r: None
    boxers = [_scalar_boxer(t, i) for i, t in enumerate(_scalars(rt))]
    if isinstance(rt, Tuple):
        return lambda r: tuple(box(r) for box in boxers)
    return boxers[0]


class Dispatcher:
    """A function under the JIT: call it like the original."""

    _dxpy_jit_dispatcher = True

    def __init__(self, py_func: Callable[..., Any], eager: bool = True,
                 threshold: int | None = None, register: bool = True) -> None:
        functools.update_wrapper(self, py_func)
        self.py_func = py_func
        mode = _mode()
        self.enabled = mode != "off"
        self.eager = eager or mode == "eager"
        self.threshold = threshold if threshold is not None else int(
            os.environ.get("DXPY_JIT_THRESHOLD", DEFAULT_THRESHOLD))
        self.calls = 0
        self._ast: ast.FunctionDef | None = None
        self._versions: dict[tuple[JitType, ...], _Version | None] = {}
        self._stats: dict[tuple[JitType, ...], SignatureStats] = {}
        self._by_pytype: dict[tuple[type, ...], _Version] = {}
        self._lock = threading.Lock()
        if register:  # tiering's dispatchers report through their own stats instead
            with _registry_lock:
                _registry.append(self)

    def func_ast(self) -> ast.FunctionDef:
        """The parsed source, cached (pass ``parse``)."""
        if self._ast is None:
            self._ast = parse(self.py_func)
        return self._ast

    def namespace(self) -> dict[str, Any]:
        """Globals plus closure variables: what names in the body refer to right now."""
        ns = dict(self.py_func.__globals__)
        code = self.py_func.__code__
        for name, cell in zip(code.co_freevars, self.py_func.__closure__ or ()):
            try:
                ns[name] = cell.cell_contents
            except ValueError:  # not yet assigned
                ns.pop(name, None)
        return ns

    def __repr__(self) -> str:
        return f"<dxpy.jit {self.py_func.__qualname__}>"

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        return self if obj is None else functools.partial(self, obj)

    # -- calling ------------------------------------------------------------------
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        version = self._by_pytype.get(tuple(map(type, args)))
        if version is not None and not kwargs:
            # Scalar-only signature: the Python types decide the JIT types; the one
            # remaining guard is that Python ints fit in int64 (ctypes would truncate).
            for i in version.int_positions:
                if not INT64_MIN <= args[i] <= INT64_MAX:
                    return self.py_func(*args)
            version.stats.calls += 1
            res = version.Result()
            if version.cfunc(*args, res) == 0:
                return version.box(res)
            return self._deopt(version.sig, args, None)
        if kwargs or not self.enabled:
            return self.py_func(*args, **kwargs)
        sig = tuple(map(typeof, args))
        version = self._versions.get(sig, False)
        if version is False:
            if None in sig or not (self.eager or self.calls > self.threshold):
                return self.py_func(*args)
            version = self.compile(sig)  # type: ignore[arg-type]
        if version is None:
            return self.py_func(*args)
        return self._run(version, sig, args)  # type: ignore[arg-type]

    def _run(self, version: _Version, sig: tuple[JitType, ...], args: tuple[Any, ...]) -> Any:
        version.stats.calls += 1
        snapshots = None
        if version.stores_arrays:
            arrays = [args[i] for i in version.array_positions]
            if not all(a.flags.writeable for a in arrays):
                return self.py_func(*args)  # CPython raises the read-only error
            if version.may_deopt:
                snapshots = [(a, a.copy()) for a in arrays]
        res = version.Result()
        status = version.cfunc(*version.flatten(args), res)
        if status == STATUS_OK:
            return version.box(res)
        if status == STATUS_INDEX_ERROR:  # CPython raises it at that point, arrays as left
            raise index_error(res)
        return self._deopt(sig, args, snapshots)

    def _deopt(self, sig: tuple[JitType, ...], args: tuple[Any, ...],
               snapshots: list[tuple[Any, Any]] | None) -> Any:
        """Re-run in CPython with the arrays as they were: the exact CPython outcome."""
        if snapshots:
            for array, saved in snapshots:
                np.copyto(array, saved)
        st = self._stats[sig]
        st.deopts += 1
        if st.deopts >= BLACKLIST_MIN_DEOPTS and st.deopts * 2 > st.calls:
            st.blacklisted = True
            self._versions[sig] = None
            self._by_pytype = {k: v for k, v in self._by_pytype.items() if v.sig != sig}
        return self.py_func(*args)

    # -- compiling ----------------------------------------------------------------
    def compile(self, sig: tuple[JitType, ...]) -> _Version | None:
        """Compile (once) for ``sig``; None means this signature runs in Python."""
        with self._lock:
            if sig in self._versions:
                return self._versions[sig]
            name = "(" + ", ".join(map(str, sig)) + ")"
            t0 = time.perf_counter()
            try:
                result = compile_signature(self, sig)
            except (JitTypeError, SyntaxError) as exc:
                self._stats[sig] = SignatureStats(name, False, str(exc),
                                                  time.perf_counter() - t0)
                self._versions[sig] = None
                return None
            stats = SignatureStats(name, True, "", result.total, dict(result.timings))
            self._stats[sig] = stats
            version = _Version(result, sig, stats)
            self._versions[sig] = version
            if all(isinstance(t, Scalar) for t in sig):
                self._by_pytype[tuple(_PYTYPES[t] for t in sig)] = version  # type: ignore
            return version

    def compile_for(self, *example_args: Any) -> bool:
        """Compile for the signature of ``example_args`` now; True if it compiled."""
        sig = tuple(map(typeof, example_args))
        return None not in sig and self.compile(sig) is not None  # type: ignore[arg-type]

    def inspect_ir(self, *example_args: Any) -> str:
        """The optimised LLVM IR for the signature of ``example_args`` (for reading)."""
        sig = tuple(map(typeof, example_args))
        return compile_signature(self, sig, keep_ir=True).ir_text  # type: ignore[arg-type]

    def stats(self) -> dict[str, Any]:
        """Calls, and per signature: compiled or why not, compile time, calls, deopts."""
        return {"function": self.py_func.__qualname__, "calls": self.calls,
                "signatures": [vars(s).copy() for s in self._stats.values()]}


def all_stats() -> list[dict[str, Any]]:
    """Stats of every dispatcher created in this process."""
    with _registry_lock:
        return [d.stats() for d in _registry]
