"""Human-readable listings of DPB code, and the ``dis``/``compile`` commands.

A listing shows each code object (preorder, as stored) with its signature
facts and symbol tables, then one line per instruction: source line (where
it changes), ``>>`` on jump targets, word index, opcode, raw argument and
what the argument means (constant value, name, local, jump target, flags).
Everything is resolved through the ``DpbFile``, so ``dis`` of a ``.dpb`` file
exercises exactly what the interpreter will read.

``dis --annotated`` first runs the program in the interpreter (its stdout
is sent to stderr, so stdout carries only the listing), then adds what the
interpreter recorded (``dxpy.vm.profile``): per code object its calls,
back-edges and argument types; per instruction its type feedback
(``; types int,int mono 1000x``), inline cache (``; IC mono hit 99.9%``) or
branch counts (``; taken 12/100``).
"""

from __future__ import annotations

import builtins
import contextlib
import os
import sys
import tempfile
import traceback
import types
from typing import Callable

from dxpy.vm.compiler import compile_file
from dxpy.vm.constants import CodeRef
from dxpy.vm.format import CodeFlags, DpbModule, to_bytes
from dxpy.vm.loader import SOURCE_TAG, DpbFile, load, loads
from dxpy.vm.interpreter import run_module
from dxpy.vm.opcodes import ArgKind, Instruction, Opcode, iter_instructions
from dxpy.vm.profile import FunctionProfile, GlobalCache

MAKE_FUNCTION_PARTS = ((1, "defaults"), (2, "kwdefaults"), (4, "annotations"), (8, "closure"))
CONVERSIONS = ("", "!s", "!r", "!a")
REPR_LIMIT = 60


def disassemble(file: DpbFile, profiles: dict[int, FunctionProfile] | None = None) -> str:
    """The listing of every code object in ``file``, annotated with ``profiles`` (by code index) if given."""
    if profiles is None:
        return "\n\n".join(_code_listing(file, index) for index in range(file.code_count)) + "\n"
    return "\n\n".join(_code_listing(file, index, *_annotations(file, index, profiles.get(index)))
                       for index in range(file.code_count)) + "\n"


def run_annotated(file: DpbFile, path: str) -> str:
    """Run ``file`` (compiled from ``path``) as ``__main__``, then list it with what was recorded.

    The program's stdout goes to stderr.  An exception (or ``sys.exit``)
    ending the program is reported on stderr and the listing still shows
    what ran until then.
    """
    profiles: dict[int, FunctionProfile] = {}
    module = types.ModuleType("__main__")
    module.__dict__.update({"__file__": path, "__builtins__": builtins, "__cached__": None})
    saved = sys.modules.get("__main__")
    sys.modules["__main__"] = module
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))  # its own modules import, as under `run`
    try:
        with contextlib.redirect_stdout(sys.stderr):
            run_module(file, module.__dict__, path, profiles=profiles)
    except SystemExit as exc:
        print(f"dxpy: the program exited ({exc.code!r}); listing what ran", file=sys.stderr)
    except Exception as exc:  # noqa: BLE001 - the program's own failure, reported, then the listing
        traceback.print_exception(exc)
        print("dxpy: the program raised; listing what ran until then", file=sys.stderr)
    finally:
        del sys.path[0]
        if saved is not None:
            sys.modules["__main__"] = saved
    return disassemble(file, profiles)


def _annotations(file: DpbFile, index: int,
                 profile: FunctionProfile | None) -> tuple[list[str], Callable[[Instruction], str]]:
    """Header lines and a per-instruction note for code object ``index``'s profile."""
    if profile is None:
        return ["  profile: never ran"], lambda instruction: ""
    header = [f"  profile: calls {profile.calls}, back-edges {profile.backedges}"
              + ("" if profile.recording else ", recording stopped (stable)")]
    if profile.arg_types:
        names = [file.name(i) for i in file.code_object(index).localnames]
        header.append("  arg types: " + ", ".join(site.describe(f"{name}:")
                                                  for name, site in zip(names, profile.arg_types)))

    def note(instruction: Instruction) -> str:
        pc, parts = instruction.index, []
        if pc in profile.sites:
            parts.append(profile.sites[pc].describe())
        cache = profile.caches.get(pc)
        if cache is not None:
            parts.append(cache.describe() if isinstance(cache, GlobalCache)
                         else f"IC {cache.state} hit {100 * cache.hit_rate:.1f}%")
        if pc in profile.branches:
            counts = profile.branches[pc]
            parts.append(f"taken {counts.taken}/{counts.taken + counts.not_taken}")
        return "  ; " + "; ".join(parts) if parts else ""
    return header, note


def _code_listing(file: DpbFile, index: int, header: list[str] | None = None,
                  note: Callable[[Instruction], str] | None = None) -> str:
    code = file.code_object(index)
    flags = "|".join(flag.name for flag in CodeFlags if code.flags & flag) or "0"
    names = {"locals": code.localnames, "cells": code.cellnames, "frees": code.freenames}
    lines = [f"code {index}: {file.name(code.qualname)} (line {code.firstline}, "
             f"args {code.argcount}, posonly {code.posonly}, kwonly {code.kwonly}, "
             f"nlocals {code.nlocals}, flags {flags})"]
    lines += [f"  {label}: {', '.join(file.name(i) for i in table)}"
              for label, table in names.items() if table]
    if code.nested:
        lines.append(f"  nested: {', '.join(map(str, code.nested))}")
    lines += header or []
    instructions = list(iter_instructions(code.instructions))
    targets = {i.arg for i in instructions if i.opcode.arg_kind is ArgKind.JUMP}
    entries = iter(code.linetable)
    pending = next(entries, None)
    for instruction in instructions:
        shown = ""
        while pending is not None and pending[0] <= instruction.index:  # the line changes here
            shown = str(pending[1])
            pending = next(entries, None)
        marker = ">>" if instruction.index in targets else ""
        meaning = _meaning(file, index, instruction)
        lines.append(f"{shown:>6} {marker:>2} {instruction.index:>5} {instruction.opcode.name:<22}"
                     f"{instruction.arg:>6}" + (f"  ({meaning})" if meaning else "")
                     + (note(instruction) if note is not None else ""))
    return "\n".join(lines)


def _meaning(file: DpbFile, index: int, instruction: Instruction) -> str:
    """What an argument refers to, in words."""
    code = file.code_object(index)
    kind, arg = instruction.opcode.arg_kind, instruction.arg
    if kind is ArgKind.CONST:
        value = file.constant(code.consts[arg])
        if isinstance(value, CodeRef):
            return f"code {value.index}: {file.name(file.code_object(value.index).qualname)}"
        text = repr(value)
        return text if len(text) <= REPR_LIMIT else text[:REPR_LIMIT - 3] + "..."
    if kind is ArgKind.NAME:
        return file.name(arg)
    if kind is ArgKind.LOCAL:
        return file.name(code.localnames[arg]) if arg < len(code.localnames) else f"<temporary {arg}>"
    if kind is ArgKind.DEREF:
        return file.name((code.cellnames + code.freenames)[arg])
    if kind is ArgKind.JUMP:
        return f"to {arg}"
    if instruction.opcode is Opcode.MAKE_FUNCTION:
        return ", ".join(label for bit, label in MAKE_FUNCTION_PARTS if arg & bit) or "plain"
    if instruction.opcode is Opcode.FORMAT_VALUE:
        return CONVERSIONS[arg & 3] + (" with spec" if arg & 4 else "")
    return ""


def open_program(path: str) -> DpbFile:
    """A ``.dpb`` file as mapped, or a source file compiled in memory."""
    if path.endswith(".dpb"):
        return load(path)
    return loads(to_bytes(compile_file(path)), path=path)


def compile_to_file(source: str, output: str | None = None) -> str:
    """Compile ``source`` to ``output`` (default: beside it, ``.dpb``); returns the path.

    Written to a temporary file in the same directory and renamed into
    place, so a reader never maps a half-written file (see the spec).  The
    constant pool ends with an unreferenced ``("dxpy-source", path)``: the
    source file that tracebacks name when the file runs (as a ``.pyc``'s
    ``co_filename`` does).
    """
    target = output or os.path.splitext(source)[0] + ".dpb"
    module = compile_file(source)
    marker = (SOURCE_TAG, os.path.abspath(source))  # for tracebacks of `dxpy run file.dpb`
    data = to_bytes(DpbModule(module.code, (*module.constants, marker), module.names))
    directory = os.path.dirname(os.path.abspath(target))
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".dpb-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, target)
    except BaseException:
        os.unlink(temporary)
        raise
    return target
