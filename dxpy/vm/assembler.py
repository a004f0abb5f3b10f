"""Assembling one code object's instructions: labels, prefixes, line table.

The compiler emits ``(opcode, arg, line)`` with jump arguments given as
``Label`` objects.  Jump arguments in DPB are absolute word indices, and an
instruction whose argument needs EXTENDED_ARG prefixes occupies more words,
which moves every later label; so sizes are recomputed until they stop
changing (they only grow, so this terminates, normally after one pass).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dxpy.vm.opcodes import ARG_BITS, Opcode, encode_instructions


class Label:
    """A jump target, placed with ``Assembler.mark``."""

    __slots__ = ("position",)

    def __init__(self) -> None:
        self.position = -1


@dataclass
class _Instruction:
    opcode: Opcode
    arg: int | Label
    line: int
    words: int = 1

    def value(self) -> int:
        """The argument as encoded: a label's current word index, else the int."""
        return self.arg.position if isinstance(self.arg, Label) else self.arg


@dataclass
class Assembler:
    """Collects instructions and labels, then produces bytes and a line table."""

    items: list[_Instruction | Label] = field(default_factory=list)

    def emit(self, opcode: Opcode, arg: int | Label, line: int) -> None:
        self.items.append(_Instruction(opcode, arg, line))

    def mark(self, label: Label) -> None:
        self.items.append(label)

    def assemble(self) -> tuple[bytes, tuple[tuple[int, int], ...]]:
        """Instruction bytes and ``(word index, line)`` pairs at each change of line."""
        instructions = [item for item in self.items if isinstance(item, _Instruction)]
        changed = True
        while changed:
            starts = self._place()
            changed = False
            for instruction in instructions:
                words = _words(instruction.value())
                changed |= words != instruction.words
                instruction.words = words
        linetable: list[tuple[int, int]] = []
        for instruction, start in zip(instructions, starts):
            if not linetable or linetable[-1][1] != instruction.line:
                linetable.append((start, instruction.line))
        code = encode_instructions([(i.opcode, i.value()) for i in instructions])
        return code, tuple(linetable)

    def _place(self) -> list[int]:
        """Set every label's position; return each instruction's start word."""
        starts = []
        word = 0
        for item in self.items:
            if isinstance(item, Label):
                item.position = word
            else:
                starts.append(word)
                word += item.words
        return starts


def _words(arg: int) -> int:
    """Words an instruction with this argument occupies, prefixes included."""
    return 1 + max(0, (arg.bit_length() - 1) // ARG_BITS)
