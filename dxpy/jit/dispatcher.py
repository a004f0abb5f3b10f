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
import functools
import operator
import os
import threading
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

import _cffi_backend
import numpy as np

from ..cache.jit import cached_compile, prepare_key
from .engine import may_return
from .abi import entry_cdecl, entry_flattener, index_error
from .cdispatch import BASE, make_entry
from .ops import STATUS_DEOPT, STATUS_INDEX_ERROR, STATUS_OK
from .pipeline import CompileResult, compile_signature, parse
from .types import (DEFAULT_DTYPE, DTYPES, Array, JitFallbackWarning, JitType, JitTypeError,
                    NoneType, Scalar, Tuple, typeof)

DEFAULT_THRESHOLD = 100
#: the Python type of an argument with each scalar JIT type (the fast-path key).
_PYTYPES: dict[Scalar, type] = {Scalar("int"): int, Scalar("float"): float,
                                Scalar("bool"): bool, Scalar("complex"): complex}
_PYTYPES.update({Scalar(d.kind, True, name): np.dtype(name).type for name, d in DTYPES.items()})
#: calls machine code (ABI mode: no C compiler).  Why not ctypes: a cffi call through a
#: function pointer costs about half a ctypes one (0.26 vs 0.48 us for two ints).  Why
#: cffi's backend and not ``cffi.FFI``: its types are built here from their parts
#: (``_ctype``, ``_result_pointer``), where ``FFI.cdef``/``cast`` parse C text with
#: pycparser, 10-20 ms on first use: a kernel's whole first call from the code cache.
_FFI = _cffi_backend
_FFI_LOCK = threading.Lock()
BLACKLIST_MIN_DEOPTS = 50
#: a snapshot buffer larger than this is not kept for the next call (memory it would pin)
SNAPSHOT_KEEP_BYTES = 64 << 20

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
    """One compiled signature: the cffi entry point, its guard and result converters."""

    def __init__(self, result: CompileResult, argtypes: tuple[JitType, ...],
                 stats: SignatureStats, nogil: bool = False) -> None:
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
        # No snapshot when LLVM proved every deopt away (only IndexError, raised as is, left).
        self.may_deopt = may_return(result.status_symbol, STATUS_DEOPT)
        rt = result.typed.return_type
        result_pointer = _result_pointer(rt)
        self.new_result = functools.partial(_FFI.newp, result_pointer, None)
        # Result buffers reused across calls: the entry releases the GIL, so two threads
        # may be inside one version at once, and list.pop/append are atomic.
        self.buffers: list[Any] = []
        params = tuple(map(_ctype, entry_cdecl(argtypes))) + (result_pointer,)
        self.entry = _FFI.cast(_FFI.new_function_type(params, _ctype("int32_t"), 0),
                               result.address)
        self.box = _boxer(rt)
        self.pytypes = tuple(np.ndarray if isinstance(t, Array) else _PYTYPES[t]  # type: ignore
                             for t in argtypes)
        self.prepare = _preparer(argtypes, self.array_positions if self.stores_arrays else [],
                                 entry_flattener(argtypes))
        self.snapshot = self.array_positions if self.stores_arrays and self.may_deopt else None
        # Per array position, snapshot buffers between calls (a list per thread at most).
        self.spares: dict[int, list[Any]] = {}
        self.centry = make_entry(self, argtypes, self.array_positions if self.stores_arrays
                                 else [], nogil)

    def take_snapshots(self, args: tuple[Any, ...]) -> list[tuple[Any, Any]]:
        """Copies of the arrays a deopt must restore, into kept buffers where possible.

        Why kept: a fresh copy of a large array is fresh memory, and faulting its pages
        in cost more than the copy (sieve_u8's 2 MB flags: ~0.4 ms a call, 8% of it)."""
        out = []
        for i in self.snapshot:  # type: ignore[union-attr]
            array = args[i]
            spares = self.spares.setdefault(i, [])
            try:
                saved = spares.pop()
            except IndexError:
                saved = None
            if saved is None or saved.shape != array.shape:
                saved = np.empty(array.shape, array.dtype)
            np.copyto(saved, array)
            out.append((array, saved))
        return out

    def keep_snapshots(self, snapshots: list[tuple[Any, Any]]) -> None:
        """Give snapshot buffers back for the next call (not beyond SNAPSHOT_KEEP_BYTES)."""
        for i, (_, saved) in zip(self.snapshot, snapshots):  # type: ignore[arg-type]
            if saved.nbytes <= SNAPSHOT_KEEP_BYTES:
                self.spares[i].append(saved)

    def fold_c_calls(self) -> None:
        """Move the calls the C entry counted into the stats."""
        if self.centry is not None:
            self.stats.calls += self.centry.calls
            self.centry.calls = 0


def _preparer(argtypes: tuple[JitType, ...], stored: list[int],
              flatten: Callable[[tuple[Any, ...]], list] | None
              ) -> Callable[[tuple[Any, ...]], list | None] | None:
    """The fast path's guard and argument packing, in one pass over the arrays.

    Beyond the arguments' Python types (``pytypes``) it checks that arrays have the
    dtype, ndim and contiguity compiled for (what ``typeof`` would map to ``argtypes``;
    its generic dispatch cost ~0.3 us an array) and, at the ``stored`` positions, are
    writeable; None from it means "not this version".  Arrays become their addresses
    (or ``flatten``'s fields).  The preparer itself is None for scalars only: they
    pass as they are (a complex as ``flatten``'s two parts), and a Python int outside
    int64 needs no test, cffi refuses it with OverflowError before the call."""
    arrays = [(i, np.dtype(t.dtype), t.ndim, t.contig, i in stored)
              for i, t in enumerate(argtypes) if isinstance(t, Array)]
    if not arrays:
        return flatten

    def prepare(args: tuple[Any, ...]) -> list | None:
        out = list(args)
        for i, dtype, ndim, contiguous, stores in arrays:
            a = args[i]
            flags = a.flags
            if a.ndim != ndim or flags.c_contiguous != contiguous or (
                    stores and not flags.writeable) or not flags.aligned or (
                    a.dtype is not dtype and a.dtype != dtype):
                return None
            out[i] = id(a)
        return out if flatten is None else flatten(args)
    return prepare


def _scalars(rt: JitType) -> list[Scalar]:
    if isinstance(rt, Tuple):
        return list(rt.items)
    return [rt] if isinstance(rt, Scalar) else []


_PRIMITIVES: dict[str, Any] = {}
_STRUCTS: dict[tuple[str, ...], Any] = {}


def _ctype(name: str) -> Any:
    """cffi's type for the C primitive ``name`` (``int64_t``, ``double``...), made once."""
    ctype = _PRIMITIVES.get(name)
    if ctype is None:
        ctype = _PRIMITIVES[name] = _FFI.new_primitive_type(name)
    return ctype


def _result_pointer(rt: JitType) -> Any:
    """A pointer to the result slots, ``struct { v0; int64_t t0; ... } *``: (value, NumPy
    tag) per scalar, (real, imaginary, tag) per complex (``abi.write_result``), so
    nothing is reinterpreted; one struct per sequence of value kinds."""
    kinds = tuple(t.kind for t in _scalars(rt) or [Scalar("int")])
    with _FFI_LOCK:
        pointer = _STRUCTS.get(kinds)
        if pointer is None:
            struct = _FFI.new_struct_type(f"dxpy_result_{len(_STRUCTS)}")
            fields = []
            for i, kind in enumerate(kinds):
                value = "double" if kind in ("float", "complex") else "int64_t"
                fields.append((f"v{i}", _ctype(value), -1))
                if kind == "complex":
                    fields.append((f"im{i}", _ctype("double"), -1))
                fields.append((f"t{i}", _ctype("int64_t"), -1))
            _FFI.complete_struct_or_union(struct, fields, None, -1, -1)
            pointer = _STRUCTS[kinds] = _FFI.new_pointer_type(struct)
        return pointer


def _scalar_boxer(t: Scalar, i: int) -> Callable[[Any], Any]:
    """Reads scalar ``i`` of a result as the type CPython would have produced."""
    value, tag = operator.attrgetter(f"v{i}"), operator.attrgetter(f"t{i}")
    numpy_type = np.dtype(t.dtype or DEFAULT_DTYPE[t.kind]).type
    if t.kind == "complex":
        imag = operator.attrgetter(f"im{i}")
        if t.np is True:
            return lambda r: numpy_type(complex(value(r), imag(r)))
        if t.np is False:
            return lambda r: complex(value(r), imag(r))
        return lambda r: (numpy_type if tag(r) else complex)(complex(value(r), imag(r)))
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


class Dispatcher(BASE):  # type: ignore[misc,valid-type]
    """A function under the JIT: call it like the original.

    Calling it runs the C base's fast path (``_dispatch.c``: one entry per compiled
    version) and, for anything that entry does not admit, ``_slow_call``.
    """

    _dxpy_jit_dispatcher = True

    def __init__(self, py_func: Callable[..., Any], eager: bool = True,
                 threshold: int | None = None, register: bool = True,
                 nogil: bool = False, cache: bool = False) -> None:
        functools.update_wrapper(self, py_func)
        self.py_func = py_func
        self.nogil = nogil
        self.cache = cache  # persistent machine code (dxpy.cache.jit)
        if cache:
            prepare_key(py_func)  # the key's parts that no call changes, now
        self.warn_fallbacks = register
        self._warned: set[str] = set()
        mode = _mode()
        self.enabled = mode != "off"
        self.eager = eager or mode == "eager"
        self.threshold = threshold if threshold is not None else int(
            os.environ.get("DXPY_JIT_THRESHOLD", DEFAULT_THRESHOLD))
        self.calls = 0
        self._centries: list[Any] = []  # the C fast path's entries, newest first
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
    def _slow_call(self, args: tuple[Any, ...], kwargs: dict[str, Any] | None) -> Any:
        """A call the C fast path did not take (or every call, without it): the Python
        fast path for the last version used with these Python types, else selection."""
        kwargs = kwargs or {}
        # Fast path: the version last run for these Python types, if its preparer
        # admits the arguments (then typeof would have chosen it too).
        version = self._by_pytype.get(tuple(map(type, args)))
        flat = None
        if version is not None and not kwargs:
            flat = args if version.prepare is None else version.prepare(args)
        if flat is None:
            version = self._select(args, kwargs)
            if version is None:
                return self.py_func(*args, **kwargs)
            flat = args if version.prepare is None else version.prepare(args)
            if flat is None:  # typeof matched: a read-only array CPython refuses to store
                return self.py_func(*args)
        snapshots = None if version.snapshot is None else version.take_snapshots(args)
        try:
            return self._run(version, args, flat, snapshots)
        finally:
            if snapshots is not None:
                version.keep_snapshots(snapshots)

    def _run(self, version: _Version, args: tuple[Any, ...], flat: Any,
             snapshots: list[tuple[Any, Any]] | None) -> Any:
        """Call ``version``'s machine code; box its result, raise its IndexError, or
        re-run the call in CPython."""
        try:
            res = version.buffers.pop()
        except IndexError:
            res = version.new_result()
        try:
            status = version.entry(*flat, res)
        except OverflowError:  # a Python int outside int64: CPython's arithmetic
            return self.py_func(*args)
        version.stats.calls += 1
        if status == STATUS_OK:
            out = version.box(res)
            version.buffers.append(res)
            return out
        if status == STATUS_INDEX_ERROR:  # CPython raises it at that point, arrays as left
            slots = _FFI.cast(_FFI.new_pointer_type(_ctype("int64_t")), res)
            raise index_error(slots[0], slots[1])
        return self._deopt(version.sig, args, snapshots)

    def _c_status(self, version: _Version, args: tuple[Any, ...], status: int, err0: int,
                  err1: int) -> Any:
        """A C fast-path call that did not return OK: raise its IndexError, or re-run it
        in CPython (C entries exist only for versions that need no array snapshot)."""
        version.fold_c_calls()
        if status == STATUS_INDEX_ERROR:
            raise index_error(err0, err1)
        return self._deopt(version.sig, args, None)

    def _select(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> _Version | None:
        """The version for ``args`` by their JIT types, compiled if due (None: CPython);
        it becomes the fast path's for their Python types."""
        if kwargs or not self.enabled:
            return None
        sig = tuple(map(typeof, args))
        version = self._versions.get(sig, False)
        if version is False:
            if None in sig or not (self.eager or self.calls > self.threshold):
                return None
            version = self.compile(sig)  # type: ignore[arg-type]
        if version is not None:
            # Arrays of one Python type may have several versions (dtype, ndim,
            # layout): the fast path keeps the latest one used.
            self._by_pytype[version.pytypes] = version  # type: ignore[union-attr]
        return version  # type: ignore[return-value]

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
            self._centries = [e for e in self._centries if e.version.sig != sig]
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
                result = (cached_compile(self, sig, compile_signature) if self.cache
                          else compile_signature(self, sig))
                stats = SignatureStats(name, True, "", result.total, dict(result.timings))
                version = _Version(result, sig, stats, self.nogil)
            except (JitTypeError, SyntaxError) as exc:
                return self._refuse(sig, SignatureStats(name, False, str(exc),
                                                        time.perf_counter() - t0))
            except Exception as exc:  # noqa: BLE001 - a compiler bug costs speed, never the call
                return self._refuse(sig, SignatureStats(
                    name, False, f"internal compiler error: {type(exc).__name__}: {exc}",
                    time.perf_counter() - t0))
            self._stats[sig] = stats
            self._versions[sig] = version
            self._by_pytype[version.pytypes] = version
            if version.centry is not None:  # replaced whole: C may be iterating the old list
                self._centries = [version.centry, *self._centries]
            return version

    def _refuse(self, sig: tuple[JitType, ...], stats: SignatureStats) -> None:
        """Record that ``sig`` runs in CPython, and say why once per reason (user-marked
        functions only: tiering compiles speculatively and reports through --jit-stats)."""
        self._stats[sig] = stats
        self._versions[sig] = None
        if self.warn_fallbacks and stats.reason not in self._warned:
            self._warned.add(stats.reason)
            warnings.warn(JitFallbackWarning(
                f"dxpy.jit: {self.py_func.__qualname__}{stats.signature} runs in CPython: "
                f"{stats.reason}"), stacklevel=4)
        return None

    def compile_for(self, *example_args: Any) -> bool:
        """Compile for the signature of ``example_args`` now; True if it compiled."""
        sig = tuple(map(typeof, example_args))
        return None not in sig and self.compile(sig) is not None  # type: ignore[arg-type]

    def inspect_ir(self, *example_args: Any) -> str:
        """The optimised LLVM IR for the signature of ``example_args`` (for reading)."""
        sig = tuple(map(typeof, example_args))
        return compile_signature(self, sig, keep_ir=True).ir_text  # type: ignore[arg-type]

    def inspect_types(self) -> str:
        """Per signature seen: the types inferred for arguments, locals and the result,
        or why it runs in CPython (numba's ``inspect_types``, as text)."""
        lines = [f"{self.py_func.__qualname__}:"]
        for sig, st in self._stats.items():
            version = self._versions.get(sig)
            if version is None:
                state = "blacklisted" if st.blacklisted else f"runs in CPython: {st.reason}"
                lines.append(f"  {st.signature}: {state}")
                continue
            typed = version.result.typed
            lines.append(f"  {st.signature} -> {typed.return_type}: machine code")
            lines += [f"    {name}: {t}" for name, t in typed.locals.items()]
        return "\n".join(lines) + "\n"

    def stats(self) -> dict[str, Any]:
        """Calls, and per signature: compiled or why not, compile time, calls, deopts."""
        for version in list(self._versions.values()):
            if version is not None:
                version.fold_c_calls()
        return {"function": self.py_func.__qualname__, "calls": self.calls,
                "signatures": [vars(s).copy() for s in self._stats.values()]}


def all_stats() -> list[dict[str, Any]]:
    """Stats of every dispatcher created in this process."""
    with _registry_lock:
        return [d.stats() for d in _registry]
