"""The LLVM side: one host-CPU target machine, the O3 pipeline, one MCJIT engine.

Why one engine for the process: MCJIT keeps every finalized module's code
alive as long as the engine lives, and compiled functions must outlive the
module objects that produced them.  Modules are independent (each compiled
entry point carries its own copies of the callees it needs), so adding one
never re-links another.  A lock makes compilation safe from any thread (the
loop's executor, in the tiered future).
"""

from __future__ import annotations

import re
import threading
from typing import Callable

from ..cache.jit import host_cpu_features

TYPE_CHECKING = False
if TYPE_CHECKING:  # imported where used: code linked from the cache never needs LLVM
    import llvmlite.binding as llvm

#: symbol -> the statuses its code can return (None: unsure), for every entry emitted by
#: the engine or linked from the code cache without it (``dxpy.cache.objload``).
_STATUSES: dict[str, frozenset[int] | None] = {}


def record_statuses(statuses: dict[str, frozenset[int] | None]) -> None:
    """Remember what entry points can return (``may_return`` answers from this)."""
    _STATUSES.update(statuses)


def may_return(symbol: str, status: int) -> bool:
    """Whether emitted function ``symbol`` can return ``status``, as far as its optimised
    IR shows (True when unsure).  Why ask: once LLVM has proved every deopt away,
    the dispatcher can skip what only a deopt needs (array snapshots)."""
    statuses = _STATUSES.get(symbol)
    return statuses is None or status in statuses


class Engine:
    """Optimises LLVM IR text for the host CPU and returns machine-code addresses."""

    def __init__(self, opt_level: int = 3) -> None:
        import llvmlite.binding as llvm

        llvm.initialize_native_target()
        llvm.initialize_native_asmprinter()
        target = llvm.Target.from_default_triple()
        self.target_machine = target.create_target_machine(
            cpu=llvm.get_host_cpu_name(), features=host_cpu_features(),
            opt=opt_level, jit=True)
        self.opt_level = opt_level
        self.triple = llvm.get_process_triple()
        self.data_layout = str(self.target_machine.target_data)
        backing = llvm.parse_assembly("")
        backing.triple = self.triple
        self._mcjit = llvm.create_mcjit_compiler(backing, self.target_machine)
        self._lock = threading.Lock()
        self._modules: list[llvm.ModuleRef] = []
        self._objects: list[llvm.ObjectFileRef] = []

    def optimise(self, ir_text: str) -> llvm.ModuleRef:
        """Parse, verify and run LLVM's O3 module pipeline (loop + SLP vectorisation)."""
        import llvmlite.binding as llvm

        module = llvm.parse_assembly(ir_text)
        module.triple = self.triple
        module.data_layout = self.data_layout
        module.verify()
        pto = llvm.PipelineTuningOptions(speed_level=self.opt_level)
        pto.loop_vectorization = True
        pto.slp_vectorization = True
        pto.loop_unrolling = True
        builder = llvm.create_pass_builder(self.target_machine, pto)
        builder.getModulePassManager().run(module, builder)
        return module

    def emit(self, module: llvm.ModuleRef, symbols: list[str]) -> list[int]:
        """Generate machine code for ``module`` and return the addresses of ``symbols``
        (the one place an optimised module becomes callable code)."""
        statuses = {s: returned_constants(str(module.get_function(s))) for s in symbols}
        with self._lock:
            record_statuses(statuses)
            self._mcjit.add_module(module)
            self._mcjit.finalize_object()
            self._modules.append(module)
            return [self._mcjit.get_function_address(symbol) for symbol in symbols]

    def emit_via_object(self, module: llvm.ModuleRef, symbols: list[str],
                        sink: Callable[[bytes, dict[str, frozenset[int] | None]], None]
                        ) -> list[int]:
        """``emit``, but through a relocatable object handed to ``sink`` first (the
        persistent code cache stores it; ``load_object`` runs it again later)."""
        statuses = {s: returned_constants(str(module.get_function(s))) for s in symbols}
        with self._lock:
            obj = self.target_machine.emit_object(module)
        sink(obj, statuses)
        return self.load_object(obj, symbols, statuses)

    def load_object(self, obj: bytes, symbols: list[str],
                    statuses: dict[str, frozenset[int] | None]) -> list[int]:
        """Link an object made by ``emit_via_object`` (RuntimeDyld relocates it; no
        LLVM compilation) and return the addresses of ``symbols``."""
        import llvmlite.binding as llvm

        ref = llvm.ObjectFileRef.from_data(obj)
        with self._lock:
            record_statuses(statuses)
            self._mcjit.add_object_file(ref)
            self._mcjit.finalize_object()
            self._objects.append(ref)
            return [self._mcjit.get_function_address(symbol) for symbol in symbols]


def returned_constants(fn_text: str) -> frozenset[int] | None:
    """The integer constants the function printed in ``fn_text`` can return, following
    the status through phis, selects, zext and field 0 of ``{i8 status, ...}``
    aggregates (the body's result); None when a returned value is not traced to
    constants.  Why text: walking instructions through the binding cost 5-15 ms a
    function (a ctypes call per instruction); printing once and reading is ~1 ms."""
    defs = {m.group(1): (m.group(2), m.group(3)) for m in _DEF.finditer(fn_text)}
    pending = [m.group(1) for m in _RET.finditer(fn_text)]
    if not pending:
        return None  # not the shape this reads: unsure
    found: set[int] = set()
    seen: set[str] = set()
    while pending:
        value = pending.pop().strip()
        if not value.startswith("%"):
            constant = _status_literal(value)
            if constant is None:
                return None
            found.add(constant)
            continue
        if value in seen:
            continue
        seen.add(value)
        if value not in defs:
            return None
        sources = _status_sources(*defs[value])
        if sources is None:
            return None
        pending.extend(sources)
    return frozenset(found)


def _status_sources(op: str, rest: str) -> list[str] | None:
    """The operands a status defined by ``op`` comes from (None: not followed)."""
    if op == "phi":
        start = rest.index("[")
        return [_split(piece.strip()[1:-1])[0] for piece in _split(rest[start:])]
    parts = _split(rest)
    if op == "select" and len(parts) == 3:
        return [_untyped(parts[1]), _untyped(parts[2])]
    if op == "zext":  # zext [nneg] i8 %s to i32: the last word before "to"
        return [rest.rsplit(" to ", 1)[0].split()[-1]]
    if op == "extractvalue" and len(parts) == 2 and parts[1] == "0":
        return [_untyped(parts[0])]
    if op == "insertvalue" and len(parts) == 3:
        return [_untyped(parts[1] if parts[2] == "0" else parts[0])]
    return None


def _split(text: str) -> list[str]:
    """``text`` split at commas outside brackets, pieces stripped."""
    pieces, depth, begin = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "[{<(":
            depth += 1
        elif ch in "]}>)":
            depth -= 1
        elif ch == "," and depth == 0:
            pieces.append(text[begin:i].strip())
            begin = i + 1
    pieces.append(text[begin:].strip())
    return pieces


def _untyped(typed_value: str) -> str:
    """``i8 %x`` -> ``%x``; ``{ i8, double } { i8 1, ... }`` -> ``{ i8 1, ... }``."""
    text = typed_value.strip()
    if text[:1] in "{<":
        close = "}" if text[0] == "{" else ">"
        depth = 0
        for i, ch in enumerate(text):
            depth += ch == text[0]
            depth -= ch == close
            if depth == 0:
                return text[i + 1:].strip()
    return text.split(" ", 1)[1].strip()


def _status_literal(value: str) -> int | None:
    """An integer literal, or field 0 of a ``{ i8 status, ... }`` literal."""
    if value == "zeroinitializer":
        return 0
    match = _INT.fullmatch(value) or _STRUCT_STATUS.match(value)
    return int(match.group(1)) if match else None


_NAME = r'%[-\w.$]+|%"[^"]*"'
_DEF = re.compile(rf"^\s+({_NAME}) = (\w+) (.*)$", re.MULTILINE)
_RET = re.compile(r"^\s+ret i32 (.*?)\s*$", re.MULTILINE)
_INT = re.compile(r"(-?\d+)")
_STRUCT_STATUS = re.compile(r"\{ i8 (-?\d+),")


_ENGINE: Engine | None = None
_ENGINE_LOCK = threading.Lock()


def get_engine() -> Engine:
    """The process-wide engine, created on first compilation (importing dxpy stays cheap)."""
    global _ENGINE
    with _ENGINE_LOCK:
        if _ENGINE is None:
            _ENGINE = Engine()
        return _ENGINE
