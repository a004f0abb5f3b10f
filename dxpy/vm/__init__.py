"""The dxpy VM: DPB bytecode format, loader, compiler and interpreter.

``format`` defines the file layout and writes it, ``loader`` maps and reads
it, ``opcodes`` is the instruction set and ``constants`` the constant-pool
codec.  ``compiler`` turns source into a ``DpbModule`` (a stated subset of
Python; the rest is refused with ``DpbCompileError``) and ``interpreter``
runs a loaded file.  See docs/dpb-format.md and docs/architecture.md.
"""

from dxpy.vm.compiler import compile_file, compile_source
from dxpy.vm.constants import CodeRef
from dxpy.vm.errors import DpbCompileError, DpbError
from dxpy.vm.format import CodeFlags, CodeObject, DpbModule, to_bytes
from dxpy.vm.functions import is_vm_function
from dxpy.vm.interpreter import run_module
from dxpy.vm.loader import DpbFile, load, loads
from dxpy.vm.opcodes import Opcode, encode_instructions, iter_instructions

__all__ = [
    "CodeFlags", "CodeObject", "CodeRef", "DpbCompileError", "DpbError", "DpbFile", "DpbModule",
    "Opcode", "compile_file", "compile_source", "encode_instructions",
    "is_vm_function", "iter_instructions", "load", "loads", "run_module", "to_bytes",
]
