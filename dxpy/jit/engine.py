"""The LLVM side: one host-CPU target machine, the O3 pipeline, one MCJIT engine.

Why one engine for the process: MCJIT keeps every finalized module's code
alive as long as the engine lives, and compiled functions must outlive the
module objects that produced them.  Modules are independent (each compiled
entry point carries its own copies of the callees it needs), so adding one
never re-links another.  A lock makes compilation safe from any thread (the
loop's executor, in the tiered future).
"""

from __future__ import annotations

import threading

import llvmlite.binding as llvm


class Engine:
    """Optimises LLVM IR text for the host CPU and returns machine-code addresses."""

    def __init__(self, opt_level: int = 3) -> None:
        llvm.initialize_native_target()
        llvm.initialize_native_asmprinter()
        target = llvm.Target.from_default_triple()
        self.target_machine = target.create_target_machine(
            cpu=llvm.get_host_cpu_name(), features=llvm.get_host_cpu_features().flatten(),
            opt=opt_level, jit=True)
        self.opt_level = opt_level
        self.triple = llvm.get_process_triple()
        self.data_layout = str(self.target_machine.target_data)
        backing = llvm.parse_assembly("")
        backing.triple = self.triple
        self._mcjit = llvm.create_mcjit_compiler(backing, self.target_machine)
        self._lock = threading.Lock()
        self._modules: list[llvm.ModuleRef] = []

    def optimise(self, ir_text: str) -> llvm.ModuleRef:
        """Parse, verify and run LLVM's O3 module pipeline (loop + SLP vectorisation)."""
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

    def emit(self, module: llvm.ModuleRef, symbol: str) -> int:
        """Generate machine code for ``module`` and return the address of ``symbol``."""
        with self._lock:
            self._mcjit.add_module(module)
            self._mcjit.finalize_object()
            self._modules.append(module)
            return self._mcjit.get_function_address(symbol)


_ENGINE: Engine | None = None
_ENGINE_LOCK = threading.Lock()


def get_engine() -> Engine:
    """The process-wide engine, created on first compilation (importing dxpy stays cheap)."""
    global _ENGINE
    with _ENGINE_LOCK:
        if _ENGINE is None:
            _ENGINE = Engine()
        return _ENGINE
