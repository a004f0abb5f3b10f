"""Assembling one code object's instructions: labels, prefixes, line and position tables.

The compiler emits ``(opcode, arg, line)`` with jump arguments given as
``Label`` objects.  Jump arguments in DPB are absolute word indices, and an
instruction whose argument needs EXTENDED_ARG prefixes occupies more words,
which moves every later label; so sizes are recomputed until they stop
changing (they only grow, so this terminates, normally after one pass).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dxpy.vm.format import Position
from dxpy.vm.opcodes import ARG_BITS, Opcode, encode_instructions

Columns = tuple[int, "int | None", "int | None"]
"""Where an instruction's expression ends and its columns: (end line, column, end column)."""


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
    columns: Columns | None = None
    words: int = 1

    def value(self) -> int:
        """The argument as encoded: a label's current word index, else the int."""
        return self.arg.position if isinstance(self.arg, Label) else self.arg


@dataclass
class Assembler:
    """Collects instructions and labels, then produces bytes and a line table."""

    items: list[_Instruction | Label] = field(default_factory=list)

    def emit(self, opcode: Opcode, arg: int | Label, line: int, columns: Columns | None = None) -> None:
        """Append an instruction; ``columns`` None means "this line, no column information"."""
        self.items.append(_Instruction(opcode, arg, line, columns))

    def mark(self, label: Label) -> None:
        self.items.append(label)

    def assemble(self) -> tuple[bytes, tuple[tuple[int, int], ...], tuple[Position, ...]]:
        """Instruction bytes, ``(word index, line)`` pairs at each change of line, and
        position runs (``CodeObject.positions``) at each change of the rest of the position."""
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
        positions: list[Position] = []
        previous: tuple[Columns | None, int] | None = None
        for instruction, start in zip(instructions, starts):
            # Runs of instructions share the emitter's tuple: skip recomputing for them.
            if previous is None or instruction.columns is not previous[0] or instruction.line != previous[1]:
                previous = (instruction.columns, instruction.line)
                rest = _position_rest(instruction)
                if not positions or positions[-1][1:] != rest:
                    positions.append((start, *rest))
        code = encode_instructions([(i.opcode, i.value()) for i in instructions])
        return code, tuple(linetable), tuple(positions)

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


def _position_rest(instruction: _Instruction) -> tuple[int, int | None, int | None]:
    """(end line - line, column, end column) of an instruction; a span never goes backwards."""
    if instruction.columns is None:
        return (0, None, None)
    end_line, column, end_column = instruction.columns
    return (max(0, end_line - instruction.line), column, end_column)


def _words(arg: int) -> int:
    """Words an instruction with this argument occupies, prefixes included."""
    return 1 + max(0, (arg.bit_length() - 1) // ARG_BITS)
