"""The tier-2 dispatcher of a DPB function (see ``tiering``): a ``Dispatcher`` over tier 1.

Kept apart from ``tiering`` because it subclasses the dispatcher, which
imports NumPy and llvmlite: ``tiering`` itself stays cheap to import for
every ``dxpy run --vm``, and loads this module when a function gets hot.
"""

from __future__ import annotations

import ast
import sys
import time
import types
from typing import TYPE_CHECKING, Any

from .dispatcher import Dispatcher, SignatureStats
from .types import JitType
from .tiering import FunctionState, on_compile_worker, submit

if TYPE_CHECKING:
    from .tiering import JitTiering


class TieredDispatcher(Dispatcher):
    """A Dispatcher over a tier-1 function: background compiles, deopt accounting.

    Its ``py_func`` is the tier-1 function, so every fallback (unsupported
    signature, deopt, blacklisting) runs CPython.  Globals that are other VM
    functions are seen by type inference as their own tiered dispatchers, so
    calls between them (recursion included) compile.
    """

    def __init__(self, owner: JitTiering, state: FunctionState, py_func: types.FunctionType,
                 node: Any, background: bool, eager: bool = True, threshold: int = 0) -> None:
        super().__init__(py_func, eager=eager, threshold=threshold, register=False,
                         cache=True)  # tier-2 code persists across runs (dxpy.cache.jit)
        self.enabled = True
        self._ast = node
        self._owner = owner
        self._state = state
        self._background = background
        self._queued: set[tuple[JitType, ...]] = set()
        self._called: set[str] | None = None  # global names the body calls

    def namespace(self) -> dict[str, Any]:
        ns = super().namespace()
        if self._called is None:
            self._called = {n.func.id for n in ast.walk(self.func_ast())
                            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
        for name in self._called:
            value = ns.get(name)
            if _is_vm_function(value):
                callee = self._owner.callee_dispatcher(value)
                if callee is not None:
                    ns[name] = callee
        return ns

    def compile(self, sig: tuple[JitType, ...]) -> Any:
        """Compile ``sig``; off the worker in background mode, queue it and say "not yet"."""
        if sig in self._versions:
            return self._versions[sig]
        if self._background and not on_compile_worker():
            if sig not in self._queued:
                self._queued.add(sig)
                self._owner.track(submit(lambda: self.compile(sig)))
            return None
        t0 = time.perf_counter()
        try:
            version = super().compile(sig)
        except Exception as exc:  # noqa: BLE001 - a JIT bug must cost speed, not the program
            name = "(" + ", ".join(map(str, sig)) + ")"
            self._stats[sig] = SignatureStats(name, False, f"internal error: {exc!r}")
            self._versions[sig] = version = None
        record = self._state.record
        record.compile_seconds += time.perf_counter() - t0
        if version is not None and self is self._state.dispatcher:  # not an OSR entry's
            record.signatures[version.stats.signature] = True
            if self._state.entry is self and record.tier < 2:
                self._state.set_tier(2)  # eager mode: the first version makes it tier 2
        return version

    def _deopt(self, sig: tuple[JitType, ...], args: tuple[Any, ...],
               snapshots: list[tuple[Any, Any]] | None) -> Any:
        self._state.record.deopts += 1
        profile = self._state.profile
        if profile is not None:
            profile.deopts += 1
        try:
            return super()._deopt(sig, args, snapshots)
        finally:
            stats = self._stats[sig]
            if stats.blacklisted:
                self._state.record.signatures[stats.signature] = False
            self._owner.after_deopt(self._state, self)

    def all_blacklisted(self) -> bool:
        compiled = [s for s in self._stats.values() if s.compiled]
        return bool(compiled) and all(s.blacklisted for s in compiled)


def _is_vm_function(value: Any) -> bool:
    functions = sys.modules.get("dxpy.vm.functions")
    return functions is not None and functions.is_vm_function(value)
