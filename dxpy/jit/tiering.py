"""Automatic tiering of DPB functions: interpreter -> tier 1 -> tier 2, and OSR.

    tier 0  the DPB interpreter, profiling (``dxpy/vm/profile.py``)
    tier 1  baseline: the function's source compiled by CPython (``source.py``),
            after ``call_threshold`` calls (1 under ``dxpy run --vm``) or a hot loop
    tier 2  LLVM machine code specialised for the argument types seen, through
            the ``Dispatcher`` (guards, per-signature versions, deopt), after
            ``tier2_threshold`` calls (1000)

``dxpy run --vm`` installs a :class:`JitTiering` (``install_from_env``) unless
``DXPY_JIT=off``.  ``DXPY_JIT=eager`` compiles at the first call, tier 2
directly and synchronously (deterministic, for tests); ``DXPY_JIT_THRESHOLD``,
``DXPY_JIT_TIER2_THRESHOLD`` and ``DXPY_JIT_OSR_THRESHOLD`` set the three
thresholds.

Why tier 2 compiles in the background: LLVM at O3 takes 20-200 ms per
function, which would stall the event loop.  The job runs as a task on the
per-core service loops (``dxpy.parallel.service_pool()``) when a dxpy loop
runs on the calling thread (else on one module-level worker thread),
serialised by one lock so there is a single compiling thread at a time;
calls keep running on tier 1 meanwhile and the dispatcher is swapped into
the function (``dxpy.vm.functions.install``) when the job completes.  ``JitTiering.drain()`` waits for
pending jobs (tests, benchmarks).

Why deopts are exact: a tier-2 version's fallback is the tier-1 function,
i.e. CPython running the same source from the same arguments (the
dispatcher's existing deopt), so a compiled call that overflows int64 or
divides by zero gives CPython's big int or exception.  A signature that
deopts on most calls is blacklisted by the dispatcher; when every compiled
signature of a function is, the function goes back to tier 1 for good
(recompiling "more generically", e.g. ints as floats, would change results).
Deopts are counted in ``profile.deopts``.
"""

from __future__ import annotations

import ast
import asyncio
import concurrent.futures
import contextlib
import inspect
import itertools
import operator
import os
import sys
import threading
import time
import types
import weakref
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping

from typing import TYPE_CHECKING

from .source import (FunctionSource, SourceIndex, TierError, build_function, compile_code,
                     is_generator, make_function, plain_copy, with_tick)

if TYPE_CHECKING:  # imported when first needed: they pull in NumPy and llvmlite
    from .dispatcher import Dispatcher
    from .tiered import TieredDispatcher

DEFAULT_CALL_THRESHOLD = 100
RUN_CALL_THRESHOLD = 1
"""Tier 1 for ``dxpy run --vm`` (``from_env``): a function with source goes to CPython's bytecode
at its first call (the call itself runs there).  Measured with pyperformance
(docs/performance.md, "dxpy run --vm vs CPython"): at 100 calls, functions a benchmark calls
a few times each (nqueens' ``n_queens``, chaos's methods before their 100th call) stay in
the interpreter, 100-250x slower, and the geomean was 0.27x."""
DEFAULT_TIER2_THRESHOLD = 1000
DEFAULT_LOOP_THRESHOLD = 1000

_worker = threading.local()
_compile_lock = threading.Lock()
_pool: concurrent.futures.ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


# -- configuration ----------------------------------------------------------------------

@dataclass(frozen=True)
class TieringConfig:
    """Thresholds and mode; ``eager`` compiles tier 2 at the first call, synchronously."""

    call_threshold: int = DEFAULT_CALL_THRESHOLD
    tier2_threshold: int = DEFAULT_TIER2_THRESHOLD
    loop_threshold: int = DEFAULT_LOOP_THRESHOLD
    eager: bool = False

    def __post_init__(self) -> None:
        for name in ("call_threshold", "tier2_threshold", "loop_threshold"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"TieringConfig.{name} must be a positive int, got {value!r}")
        if self.tier2_threshold < self.call_threshold:
            raise ValueError(f"tier2_threshold ({self.tier2_threshold}) is below call_threshold "
                             f"({self.call_threshold})")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> "TieringConfig | None":
        """The configuration ``DXPY_JIT*`` asks for; None for ``DXPY_JIT=off``."""
        mode = environ.get("DXPY_JIT", "").strip().lower()
        if mode in ("off", "0"):
            return None
        if mode not in ("", "on", "1", "eager"):
            raise ValueError(f"DXPY_JIT must be off, on or eager, got {mode!r}")
        eager = mode == "eager"
        call = _env_int(environ, "DXPY_JIT_THRESHOLD", 1 if eager else RUN_CALL_THRESHOLD)
        tier2 = _env_int(environ, "DXPY_JIT_TIER2_THRESHOLD",
                         max(call, 1 if eager else DEFAULT_TIER2_THRESHOLD))
        loop = _env_int(environ, "DXPY_JIT_OSR_THRESHOLD", DEFAULT_LOOP_THRESHOLD)
        return cls(call, tier2, loop, eager)


def _env_int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a positive integer, got {raw!r}") from None
    if value < 1:
        raise ValueError(f"{name} must be a positive integer, got {raw!r}")
    return value


# -- background compilation ---------------------------------------------------------------

def on_compile_worker() -> bool:
    """Whether this thread is running a compile job right now (then compile, don't queue)."""
    return getattr(_worker, "active", False)


def _module_pool() -> concurrent.futures.ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="dxpy-jit")
        return _pool


def _running_dxpy_loop() -> asyncio.AbstractEventLoop | None:
    """The dxpy loop running on this thread, if any (its executor then does the work)."""
    loop_module = sys.modules.get("dxpy.loop")
    if loop_module is None:
        return None
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return None
    return loop if isinstance(loop, loop_module.Loop) else None


def submit(job: Callable[[], Any]) -> concurrent.futures.Future[Any]:
    """Run ``job`` on the compile worker; the future completes with its result."""
    future: concurrent.futures.Future[Any] = concurrent.futures.Future()

    def run() -> None:
        with _compile_lock:
            _worker.active = True
            try:
                future.set_result(job())
            except BaseException as exc:  # noqa: BLE001 - handed to whoever waits
                future.set_exception(exc)
            finally:
                _worker.active = False

    if _running_dxpy_loop() is not None:  # a task on the per-core service loops
        from ..parallel import service_pool
        try:
            service_pool().call(run)
            return future
        except RuntimeError:  # the service pool cannot start: the program is ending
            pass
    _module_pool().submit(run)
    return future


# -- per-function state -----------------------------------------------------------------

@dataclass
class OsrRecord:
    """One loop entered in compiled code."""

    line: int
    kind: str
    tier: int
    compile_seconds: float
    depth: int = 1  # 2: the hot loop was nested in another loop, which was resumed too


@dataclass
class CodeRecord:
    """What tiering knows and did for one code object (all closures made from it).

    Kept per code, not per function object, so a closure factory does not
    grow this table (or recompile tier 1) for every closure it returns.
    """

    qualname: str
    profile: Any
    source: FunctionSource | None = None
    code: types.CodeType | None = None  # tier 1, compiled once
    tick_code: types.CodeType | None = None  # tier 1 counting its calls (``with_tick``)
    tier: int = 0
    reason: str = ""
    deopts: int = 0
    compile_seconds: float = 0.0
    signatures: dict[str, bool] = field(default_factory=dict)  # tier-2 versions: active?
    osr: list[OsrRecord] = field(default_factory=list)
    osr_declined: list[str] = field(default_factory=list)
    direct: Any = None  # the dispatcher ``@dxpy.jit`` returned, when it was applied
    states: weakref.WeakSet = field(default_factory=weakref.WeakSet)  # FunctionStates of this code


class FunctionState:
    """One ``VMFunction`` object's tiers.

    Held only weakly by the tiering (``JitTiering._states``): the function's
    ``compiled`` callable (counter, dispatcher) keeps it alive, so closures
    that die take their state with them.  Nothing is stored on the function
    itself: its ``__dict__`` is the program's (``functools.wraps`` copies it).
    """

    __slots__ = ("owner", "record", "func", "tier1", "dispatcher", "entry", "tier1_ticks",
                 "promoted", "__weakref__")

    def __init__(self, owner: "JitTiering", record: CodeRecord, func: Any,
                 tier1: types.FunctionType | None) -> None:
        self.owner = owner  # the tiering that made it (the counter reports back to it)
        self.record = record
        self.func = func
        self.tier1 = tier1
        self.dispatcher: TieredDispatcher | None = None
        self.entry: Callable[..., Any] | None = None
        # The counting tier 1's tick (``_counting_tier1``): C iterators whose state says how
        # often tier 1 ran, so counting costs no Python call.
        self.tier1_ticks: tuple[int, Any, Any] | None = None
        self.promoted = False
        record.states.add(self)

    def calls(self) -> int:
        """Calls of this function outside the interpreter: tier 1's ticks, tier 2's dispatcher."""
        calls = 0
        if self.tier1_ticks is not None:
            before, head, tail = self.tier1_ticks
            calls += before - operator.length_hint(head) + self.promoted + int(repr(tail)[6:-1])
        if self.dispatcher is not None:
            calls += self.dispatcher.stats()["calls"]
        return calls

    @property
    def source(self) -> FunctionSource | None:
        return self.record.source

    @property
    def profile(self) -> Any:
        return self.record.profile

    def set_tier(self, tier: int, compiled: Callable[..., Any] | None = None) -> None:
        self.record.tier = tier
        if compiled is not None:
            from dxpy.vm.functions import install
            install(self.func, compiled)
        if self.profile is not None:
            self.profile.tier = tier


def _promotion(state: FunctionState) -> Iterator[None]:
    """The tier-1 tick's middle part: at the threshold call, promote (once).

    Runs inside the tick the tier-1 function calls first thing, so the frame
    below this generator's is that function's, and its arguments are its
    first locals.  Nothing may escape into the program's call: a generator
    that raised is finished, and the tick's ``repeat(None)`` tail (see
    ``_counting_tier1``) keeps every later call working even then.
    """
    state.promoted = True
    try:
        caller = sys._getframe(1)
        code = caller.f_code
        args = tuple(caller.f_locals[name] for name in code.co_varnames[:code.co_argcount])
        state.owner.promote_tier2(state, args)
    except Exception as exc:  # noqa: BLE001 - raised into the program's call otherwise
        state.record.reason = f"internal error promoting to tier 2: {exc!r}"
    yield None


_SCALARS = (int, float, bool)


def _untypable_arguments(args: tuple[Any, ...]) -> str:
    """Why tier 2 cannot take the threshold call's arguments ("" when it may try), decided
    here in the program's thread without importing the compiler.

    Tier 2 types ints, floats, bools and NumPy values only (``types.typeof``); for object
    code (a method's ``self``, a list) the background job would only import NumPy and
    llvmlite (~0.5 s of CPU, measured on pyperformance's hexiom and deltablue) to refuse,
    while the program runs beside it.  NumPy values go on to ``typeof``'s exact check.
    """
    return _untypable(map(type, args), "at the tier-2 threshold call")


def _untypable_profiled(profile: Any) -> str:
    """Why tier 2 cannot take the argument types the interpreter saw ("" when it may try).

    Read when tier 1 is installed (the hot call's arguments are recorded by then): a
    function already called with an object goes to tier 1 without the call counter, whose
    per-call cost (a C call at the top of every tier-1 call until the tier-2 threshold)
    was 10% of pyperformance's deltablue (0.90x CPython, 0.99x without it).
    """
    sites = getattr(profile, "arg_types", ())
    return _untypable((cls for site in sites for cls in site.types), "at its first calls")


def _untypable(classes: Iterator[type], when: str) -> str:
    for cls in classes:
        if cls not in _SCALARS and cls.__module__ != "numpy":
            return f"argument type {cls.__qualname__} outside the JIT's {when}: stays at tier 1"
    return ""


def _parameter_names(code: types.CodeType) -> tuple[str, ...]:
    count = (code.co_argcount + code.co_kwonlyargcount + bool(code.co_flags & inspect.CO_VARARGS)
             + bool(code.co_flags & inspect.CO_VARKEYWORDS))
    return code.co_varnames[:count]


def _check_same_parameters(func: Any, tier1: types.FunctionType) -> None:
    """TierError when the ``def`` found is not the one the VM compiled (file edited since)."""
    vm_params = _parameter_names(_vm_code(func).entry)
    code = tier1.__code__
    if vm_params != _parameter_names(code):
        raise TierError(f"the source's parameters {_parameter_names(code)} are not the "
                        f"running function's {tuple(vm_params)}: file changed since it was loaded?")


def _closure_cells(func: Any) -> dict[str, types.CellType]:
    """The VM function's closure cells by free-variable name (empty when unreadable)."""
    code = getattr(func, "__code__", None)
    closure = getattr(func, "__closure__", None)
    if code is not None and closure is not None:
        return dict(zip(code.co_freevars, closure))
    return {}


def _vm_code(func: Any) -> Any:
    """The VM's prepared code of DPB function ``func`` (its file, line, profile)."""
    from dxpy.vm.functions import prepared_of
    prepared = prepared_of(func)
    if prepared is None:
        raise TypeError(f"{func!r} is not a function defined in DPB code")
    return prepared


def is_vm_function(func: Any) -> bool:
    """Whether ``func`` was defined in DPB code (``@dxpy.jit`` then tiers it, see ``jit_vm_function``)."""
    functions = sys.modules.get("dxpy.vm.functions")
    return functions is not None and functions.is_vm_function(func)


# -- the Tiering object -----------------------------------------------------------------

class JitTiering:
    """The JIT's side of the VM's ``Tiering`` protocol (see ``dxpy/vm/profile.py``)."""

    def __init__(self, config: TieringConfig | None = None) -> None:
        self.config = config or TieringConfig()
        self.call_threshold = self.config.call_threshold
        self.loop_threshold = self.config.loop_threshold
        self._sources = SourceIndex()
        self._records: dict[int, CodeRecord] = {}
        self._states: weakref.WeakValueDictionary[int, FunctionState] = (
            weakref.WeakValueDictionary())
        self._lock = threading.RLock()
        self._pending: set[concurrent.futures.Future[Any]] = set()
        self._pending_lock = threading.Lock()

    # -- state ------------------------------------------------------------------------
    def state_of(self, func: Any) -> FunctionState:
        """``func``'s tiering state: its tier-1 function, dispatcher and entry point."""
        state = self._states.get(id(func))
        if state is None or state.func is not func:
            with self._lock:
                record = self._record_of(func)
                state = FunctionState(self, record, func, None)
                if record.code is not None:
                    try:
                        state.tier1 = make_function(record.code, func.__globals__,
                                                    _closure_cells(func), func.__qualname__,
                                                    func.__defaults__, func.__kwdefaults__)
                        _check_same_parameters(func, state.tier1)
                    except TierError as exc:
                        state.tier1 = None
                        record.reason = str(exc)
                self._states[id(func)] = state
        return state

    def _record_of(self, func: Any) -> CodeRecord:
        """The code's record: its source found and its tier-1 code compiled, once."""
        prepared = _vm_code(func)
        profile = prepared.profile
        key = id(profile)
        record = self._records.get(key)
        if record is None:
            record = self._records[key] = CodeRecord(func.__qualname__, profile)
            t0 = time.perf_counter()
            try:
                record.source = self._sources.find(prepared.filename, prepared.code.firstline,
                                                   func.__qualname__)
                record.code = compile_code(record.source, record.source.node, func.__qualname__)
            except TierError as exc:
                record.reason = str(exc)
            except Exception as exc:  # noqa: BLE001 - a tiering bug must not break the program
                record.reason = f"internal error finding or compiling the source: {exc!r}"
            record.compile_seconds += time.perf_counter() - t0
        return record

    def _tier2_refusal(self, state: FunctionState) -> str:
        """Why ``state``'s function cannot go to tier 2 ("" when it may try)."""
        assert state.source is not None
        node = state.source.node
        if isinstance(node, ast.AsyncFunctionDef):
            return "async function: stays at tier 1"
        if is_generator(node):
            return "generator: stays at tier 1"
        profile = state.profile
        if profile is not None and any(site.state == "mega" for site in profile.arg_types):
            return "megamorphic argument types: stays at tier 1"
        return ""

    def dispatcher_of(self, state: FunctionState, background: bool) -> "TieredDispatcher":
        from .tiered import TieredDispatcher

        with self._lock:
            if state.dispatcher is None:
                assert state.tier1 is not None and state.source is not None
                state.dispatcher = TieredDispatcher(self, state, state.tier1,
                                                    plain_copy(state.source.node), background)
            return state.dispatcher

    def callee_dispatcher(self, func: Any) -> TieredDispatcher | None:
        """A VM function as a compile-time callee of tier-2 code (None: not compilable)."""
        state = self.state_of(func)
        if state.tier1 is None or self._tier2_refusal(state):
            return None
        return self.dispatcher_of(state, background=not self.config.eager)

    # -- Tiering protocol -------------------------------------------------------------
    def on_hot_function(self, func: Any) -> Callable[..., Any] | None:
        """Tier 1 now (tier 2 directly when eager); None keeps the interpreter."""
        state = self.state_of(func)
        if state.entry is not None:
            return state.entry
        if state.tier1 is None:
            return None
        refusal = self._tier2_refusal(state) or _untypable_profiled(state.profile)
        state.record.reason = refusal
        if self.config.eager and not refusal:
            state.entry = self.dispatcher_of(state, background=False)
        elif refusal:
            state.entry = state.tier1
        else:
            # This call is number ``calls``; the entry's k-th call is number calls + k - 1.
            calls = getattr(state.profile, "calls", self.config.call_threshold)
            state.entry = self._counting_tier1(state, max(1, self.config.tier2_threshold - calls + 1))
        state.set_tier(1)
        return state.entry

    def _counting_tier1(self, state: FunctionState, left: int) -> types.FunctionType:
        """Tier 1 whose ``left``-th call promotes the function to tier 2 (see ``with_tick``)."""
        record, func = state.record, state.func
        assert record.source is not None
        if record.tick_code is None:
            record.tick_code = compile_code(record.source, record.source.node, func.__qualname__,
                                            tick=True)
        head, tail = itertools.repeat(None, left - 1), itertools.count()
        state.tier1_ticks = (left - 1, head, tail)
        tick = itertools.chain(head, _promotion(state), tail).__next__
        return make_function(with_tick(record.tick_code, tick), func.__globals__,
                             _closure_cells(func), func.__qualname__, func.__defaults__,
                             func.__kwdefaults__)

    def promote_tier2(self, state: FunctionState, args: tuple[Any, ...]) -> None:
        """Called by tier 1's counter at the tier-2 threshold: compile in the background.

        Nothing here imports the compiler: a thread importing a module another
        thread is importing waits for it, and this is the program's thread.
        """
        refusal = self._tier2_refusal(state) or _untypable_arguments(args)
        if refusal:
            state.record.reason = refusal
            state.entry = state.tier1
            state.set_tier(1, state.tier1)
            return
        future = self.track(submit(lambda: self._compile_first(state, args)))
        future.add_done_callback(lambda done: self._swap_in(state, done))

    def _compile_first(self, state: FunctionState,
                       args: tuple[Any, ...]) -> tuple["TieredDispatcher", Any]:
        """On the worker: the dispatcher and its version for the threshold call's types."""
        from .types import typeof

        sig = tuple(map(typeof, args))
        if None in sig:
            raise TierError("argument types outside the JIT's at the tier-2 threshold call: "
                            "stays at tier 1")
        dispatcher = self.dispatcher_of(state, background=True)
        return dispatcher, dispatcher.compile(sig)  # type: ignore[arg-type]

    def _swap_in(self, state: FunctionState, done: concurrent.futures.Future[Any]) -> None:
        """Install the tier-2 dispatcher once its first version exists (else stay tier 1)."""
        error = done.exception()
        if error is None:
            dispatcher, version = done.result()
            if version is not None:
                state.entry = dispatcher
                state.set_tier(2, dispatcher)
                return
            refusals = [s["reason"] for s in dispatcher.stats()["signatures"] if s["reason"]]
            state.record.reason = f"tier 2 refused: {refusals[-1] if refusals else '?'}"
        else:
            state.record.reason = (str(error) if isinstance(error, TierError)
                                   else f"tier 2 failed: {error!r}")
        state.entry = state.tier1
        state.set_tier(1, state.tier1)

    def after_deopt(self, state: FunctionState, dispatcher: TieredDispatcher) -> None:
        """Every compiled signature blacklisted: back to tier 1 (the generic version)."""
        if dispatcher is state.dispatcher and state.record.tier == 2 and dispatcher.all_blacklisted():
            state.record.reason = f"deopted {state.record.deopts} times: back to tier 1"
            state.entry = state.tier1
            state.set_tier(1, state.tier1)

    def on_hot_loop(self, func: Any, line: int, names: list[str], values: list[Any],
                    iterator: Any | None, iterators: list[Any] | None = None) -> tuple[bool, Any]:
        """OSR: run the rest of the function from this loop iteration in compiled code.

        ``iterators`` (the enclosing ``for`` loops', outermost first) is what
        lets a loop nested in other loops be entered: they are resumed too.
        """
        state = self.state_of(func)
        if state.source is None or state.tier1 is None:
            return False, None
        if state.entry is None:  # a hot loop promotes the later calls to tier 1
            from dxpy.vm.functions import install
            install(func, self.on_hot_function(func))
        from .osr import plan_entry

        t0 = time.perf_counter()
        try:
            plan = plan_entry(state.source, func.__globals__, line, names, values, iterator,
                              iterators)
            entry = build_function(state.source, plan.node, func.__globals__,
                                   _closure_cells(func), func.__qualname__)
        except TierError as exc:
            state.record.osr_declined.append(f"line {line}: {exc}")
            return False, None
        except Exception as exc:  # noqa: BLE001 - a tiering bug must not break the program
            state.record.osr_declined.append(f"line {line}: internal error: {exc!r}")
            return False, None
        runner, tier = entry, 1
        state.record.compile_seconds += time.perf_counter() - t0  # (tier 2 counts its own)
        if plan.tier2_ok:
            compiled = self._osr_tier2(state, entry, plan.node, plan.args)
            if compiled is not None:
                runner, tier = compiled, 2
        seconds = time.perf_counter() - t0
        state.record.osr.append(OsrRecord(line, plan.kind, tier, seconds, plan.depth))
        return True, runner(*plan.args)

    def _osr_tier2(self, state: FunctionState, entry: types.FunctionType, node: Any,
                   args: list[Any]) -> "Dispatcher | None":
        """The entry function compiled now for the current value types (the frame waits)."""
        from .tiered import TieredDispatcher
        from .types import typeof

        sig = tuple(map(typeof, args))
        if None in sig:
            return None
        dispatcher = TieredDispatcher(self, state, entry, node, background=False)
        return dispatcher if dispatcher.compile(sig) is not None else None  # type: ignore[arg-type]

    # -- waiting and reporting ----------------------------------------------------------
    def track(self, future: concurrent.futures.Future[Any]) -> concurrent.futures.Future[Any]:
        with self._pending_lock:
            self._pending.add(future)
        future.add_done_callback(self._untrack)
        return future

    def _untrack(self, future: concurrent.futures.Future[Any]) -> None:
        with self._pending_lock:
            self._pending.discard(future)

    def drain(self, timeout: float | None = 60.0) -> int:
        """Wait until no compilation is pending; returns how many were waited for."""
        deadline = None if timeout is None else time.monotonic() + timeout
        waited = 0
        while True:
            with self._pending_lock:
                pending = list(self._pending)
            if not pending:
                return waited
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            done, not_done = concurrent.futures.wait(pending, left)
            waited += len(done)
            if not_done and deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"{len(not_done)} JIT compilations still pending after "
                                   f"{timeout}s")

    def stats(self) -> list[dict[str, Any]]:
        """Per code object tiering touched: tier, signatures, calls, deopts, compile time."""
        with self._lock:
            records = list(self._records.values())
        return [{
            "function": r.qualname, "tier": r.tier,
            "signatures": [sig for sig, active in r.signatures.items() if active],
            "calls": _calls(r), "deopts": r.deopts, "compile_ms": 1000 * r.compile_seconds,
            "reason": r.reason, "osr": [vars(o).copy() for o in r.osr],
            "osr_declined": list(r.osr_declined)} for r in records]


def _calls(record: CodeRecord) -> int | None:
    """Calls by any route: in the interpreter (profile), tier 1 and 2 (the functions' states),
    straight to ``@jit``'s result.  Calls of tier 1 while tier 2 compiles in the background
    are counted from the moment tier 2 is installed only."""
    outside = sum(state.calls() for state in list(record.states)
                  if record.direct is None or state.dispatcher is not record.direct)
    counts = [getattr(record.profile, "calls", 0) + outside,
              record.direct.calls if record.direct is not None else None]
    known = [c for c in counts if c is not None]
    return max(known) if known else None


# -- installation -----------------------------------------------------------------------

_installed: JitTiering | None = None


def jit_vm_function(func: Any, eager: bool, threshold: int | None) -> Any:
    """``@dxpy.jit`` on a DPB function: tier 2 on its first call (or after ``threshold``).

    The result replaces the function's name as a Dispatcher would, with the
    tier-1 function as its fallback.  With ``DXPY_JIT=off``, or when tier 1
    cannot be built (the reason shows in ``--jit-stats``), ``func`` itself is
    returned and keeps running in the interpreter.
    """
    config = TieringConfig.from_env()
    if config is None:
        return func
    from .tiered import TieredDispatcher

    tiering = _installed or _default_tiering()
    state = tiering.state_of(func)
    if state.tier1 is None or state.source is None:
        return func
    if state.dispatcher is None:
        state.dispatcher = TieredDispatcher(
            tiering, state, state.tier1, plain_copy(state.source.node), background=False,
            eager=eager or config.eager,
            threshold=threshold if threshold is not None else config.call_threshold)
    state.record.direct = state.entry = state.dispatcher
    state.set_tier(1)
    return state.dispatcher


_default: JitTiering | None = None


def _default_tiering() -> JitTiering:
    """Where ``@dxpy.jit`` on DPB code keeps its state when no tiering is installed."""
    global _default
    if _default is None:
        _default = JitTiering(TieringConfig())
    return _default


def install(config: TieringConfig | None = None) -> JitTiering:
    """Install a tiering into the VM (replacing any installed one)."""
    global _installed
    from dxpy.vm.profile import set_tiering

    tiering = JitTiering(config)
    set_tiering(tiering)
    _installed = tiering
    return tiering


def install_from_env(environ: Mapping[str, str] = os.environ) -> JitTiering | None:
    """What ``dxpy run --vm`` does: tiering per ``DXPY_JIT*``; None when ``DXPY_JIT=off``."""
    config = TieringConfig.from_env(environ)
    return None if config is None else install(config)


def uninstall() -> None:
    """Remove the tiering from the VM (functions already compiled keep their code)."""
    global _installed
    from dxpy.vm.profile import get_tiering, set_tiering

    if _installed is not None and get_tiering() is _installed:
        set_tiering(None)
    _installed = None


def installed() -> JitTiering | None:
    """The tiering ``install`` put in place (or the last ``for_run`` used), if any."""
    return _installed


@contextlib.contextmanager
def for_run(environ: Mapping[str, str] = os.environ) -> Iterator[JitTiering | None]:
    """Tiering per ``DXPY_JIT*`` for the duration of a ``dxpy run --vm`` script.

    A bad setting ends the run before the script starts: message, exit status 2.

    Afterwards the hooks are removed but ``installed()`` still returns the
    tiering, so ``--jit-stats`` can report on it.  Compilations in flight
    are waited for first: the process would wait for its worker thread at
    exit anyway, and a worker importing the compiler while the runner takes
    its import hook off ``sys.meta_path`` can miss modules (the list changes
    under the import system's iteration).
    """
    global _installed
    try:
        tiering = install_from_env(environ)
    except ValueError as exc:  # a bad DXPY_JIT* setting: say which, as the CLI's errors do
        print(f"dxpy: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    try:
        yield tiering
    finally:
        if tiering is not None:
            with contextlib.suppress(TimeoutError):
                tiering.drain()
            uninstall()
            _installed = tiering
