"""Compilation as a pipeline of named passes, each timed and testable alone.

    parse -> infer -> lower -> optimise -> emit

``parse`` turns the function's source into its ``ast.FunctionDef``; ``infer``
types it (and, transitively, every compiled callee) for one signature;
``lower`` emits one LLVM module holding the entry point and a private copy
of each callee specialisation; ``optimise`` runs LLVM's O3 pipeline for the
host CPU; ``emit`` produces machine code and returns its address.  Why the
callees are copied into each module: LLVM can then inline them into the
caller, which matters far more for small numeric helpers than the cost of
compiling them twice.
"""

from __future__ import annotations

import ast
import inspect
import itertools
import textwrap
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from llvmlite import ir

from .engine import get_engine
from .infer import Inferer, TypedFunction
from .abi import packable
from .lower import FunctionLowering, declare_function, packed_symbol
from .types import BOTTOM, JitType, JitTypeError

_symbols = itertools.count()
#: receives (object code, {symbol: statuses}) of a module emitted for the code cache
ObjectSink = Callable[[bytes, "dict[str, frozenset[int] | None]"], None]


def parse(func: Callable[..., Any]) -> ast.FunctionDef:
    """Pass ``parse``: the function's own ``ast`` (source from ``inspect``)."""
    try:
        source = textwrap.dedent(inspect.getsource(func))
    except (OSError, TypeError) as exc:
        raise JitTypeError(f"no source for {func.__qualname__}: {exc}") from exc
    tree = ast.parse(source)
    node = tree.body[0]
    if not isinstance(node, ast.FunctionDef):
        raise JitTypeError(f"{func.__qualname__} is not a plain function")
    return node


class InferenceCache:
    """Pass ``infer`` for a set of functions: memoised results and in-progress guesses.

    Recursion needs the guesses: while ``fib(int)`` is being inferred, the
    recursive call's return type is whatever the return statements seen so
    far say; the inferer's fixpoint loop re-walks until that settles.
    """

    def __init__(self) -> None:
        self.done: dict[tuple[int, tuple[JitType, ...]], TypedFunction] = {}
        self.active: dict[tuple[int, tuple[JitType, ...]], Inferer] = {}
        self.stack: list[tuple[int, tuple[JitType, ...]]] = []
        self.provisional: set[tuple[int, tuple[JitType, ...]]] = set()

    def infer(self, dispatcher: Any, sig: tuple[JitType, ...]) -> TypedFunction:
        key = (id(dispatcher), sig)
        if key in self.done:
            return self.done[key]
        inferer = Inferer(dispatcher.func_ast(), dispatcher.namespace(), sig,
                          self.return_type, is_dispatcher)
        self.active[key] = inferer
        self.stack.append(key)
        try:
            typed = inferer.run()
        finally:
            del self.active[key]
            self.stack.pop()
        # A result that used another function's unfinished guess (mutual recursion) is
        # not kept: it is inferred again when next asked for, once that guess is final.
        if key in self.provisional:
            self.provisional.discard(key)
        else:
            self.done[key] = typed
        return typed

    def return_type(self, dispatcher: Any, sig: tuple[JitType, ...]) -> JitType:
        key = (id(dispatcher), sig)
        if key in self.active:
            if self.stack and self.stack[-1] != key:
                self.provisional.add(self.stack[-1])
            return self.active[key].ret
        if key in self.done:
            return self.done[key].return_type
        return self.infer(dispatcher, sig).return_type


def is_dispatcher(obj: Any) -> bool:
    """Whether a global is a compiled-function dispatcher (a call target in the subset)."""
    return getattr(obj, "_dxpy_jit_dispatcher", False) is True


@dataclass
class CompileResult:
    """What the pipeline produced for one signature."""

    typed: TypedFunction
    address: int  # the typed entry (cffi's)
    symbol: str
    packed_address: int | None  # the packed entry (the C dispatcher's), if there is one
    stores_arrays: bool
    timings: dict[str, float] = field(default_factory=dict)
    ir_text: str = ""

    @property
    def status_symbol(self) -> str:
        """The entry whose own code returns the body's statuses (the packed one, if any:
        the typed entry then only forwards what it returns)."""
        return self.symbol + ".packed" if self.packed_address is not None else self.symbol

    @property
    def total(self) -> float:
        return sum(self.timings.values())


class ModuleBuilder:
    """Pass ``lower``: one LLVM module with the entry and its callee specialisations."""

    def __init__(self, cache: InferenceCache, entry_symbol: str | None = None) -> None:
        self.module = ir.Module(name=f"dxpy_jit_{next(_symbols)}")
        self.cache = cache
        self.entry_symbol = entry_symbol
        self.functions: dict[tuple[int, tuple[JitType, ...]], tuple[ir.Function,
                                                                     TypedFunction]] = {}
        self.pending: list[tuple[ir.Function, TypedFunction]] = []
        self.stores_arrays = False

    def declare(self, dispatcher: Any, sig: tuple[JitType, ...]) -> tuple[ir.Function,
                                                                         TypedFunction]:
        key = (id(dispatcher), sig)
        if key not in self.functions:
            typed = self.cache.infer(dispatcher, sig)
            if typed.return_type == BOTTOM:
                raise JitTypeError(f"cannot infer the return type of {typed.name}")
            symbol = (self.entry_symbol if self.entry_symbol and not self.functions
                      else f"{typed.name}_{next(_symbols)}")
            fn = declare_function(self.module, typed, symbol)
            if self.functions:
                fn.linkage = "internal"
            self.functions[key] = (fn, typed)
            self.pending.append((fn, typed))
            self.stores_arrays |= typed.stores_arrays
        return self.functions[key]

    def build(self, dispatcher: Any, sig: tuple[JitType, ...]) -> tuple[ir.Function,
                                                                       TypedFunction]:
        entry = self.declare(dispatcher, sig)
        while self.pending:
            fn, typed = self.pending.pop()
            FunctionLowering(typed, fn, self.declare).lower()
        return entry


def compile_signature(dispatcher: Any, sig: tuple[JitType, ...], keep_ir: bool = False,
                      entry_symbol: str | None = None,
                      object_sink: ObjectSink | None = None) -> CompileResult:
    """Run every pass for ``dispatcher`` at ``sig``; JitTypeError means "stay in Python".

    For the persistent code cache (``dxpy.cache.jit``): ``entry_symbol`` names the
    entry (unique per cache key, so objects loaded in one process never clash) and
    ``object_sink`` receives the object code and entry statuses; the code is then
    emitted as a relocatable object and loaded from it, so what is cached is exactly
    what runs."""
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    dispatcher.func_ast()
    timings["parse"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    cache = InferenceCache()
    typed = cache.infer(dispatcher, sig)
    timings["infer"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    builder = ModuleBuilder(cache, entry_symbol)
    fn, typed = builder.build(dispatcher, sig)
    ir_text = str(builder.module)
    timings["lower"] = time.perf_counter() - t0

    engine = get_engine()
    t0 = time.perf_counter()
    module = engine.optimise(ir_text)
    timings["optimise"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    symbols = [fn.name] + ([packed_symbol(fn.name)] if packable(sig) else [])
    addresses = (engine.emit(module, symbols) if object_sink is None
                 else engine.emit_via_object(module, symbols, object_sink))
    timings["emit"] = time.perf_counter() - t0
    return CompileResult(typed, addresses[0], fn.name, addresses[1] if len(addresses) > 1
                         else None, builder.stores_arrays, timings,
                         str(module) if keep_ir else "")
