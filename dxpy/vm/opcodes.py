"""DPB instruction set: the opcode table and the 4-byte instruction word.

Every instruction is one little-endian 32-bit word: ``opcode | arg << 8``,
i.e. byte 0 is the opcode and bytes 1-3 the argument (u24).  Fixed width
means the interpreter indexes instructions directly (jump targets are word
indices) and the loader can check every opcode of a file with one C-level
byte scan.  An argument wider than 24 bits is carried by ``EXTENDED_ARG``
prefixes, each contributing the next-higher 24 bits.

Opcodes are grouped by range (issue #3); the grouping is part of the format
so tools (dis, the JIT's profile) can classify an instruction from its byte:

====================  ==========
range                 family
====================  ==========
0x00-0x1F             load / store (and stack shuffles, imports)
0x20-0x3F             binary, in-place and unary operators
0x40-0x4F             comparisons and pattern-matching tests
0x50-0x6F             control flow (jumps, iteration, return, yield)
0x70-0x7F             calls
0x80-0x8F             object creation
0x90-0x9F             exceptions and ``with``
0xA0-0xAF             async
====================  ==========

The stack semantics in each docstring are normative for the interpreter;
"TOS" is the top of the value stack, "TOS1" the item below it.
"""

from __future__ import annotations

import enum
import struct
from typing import Iterator, NamedTuple, Sequence

INSTRUCTION_SIZE = 4
ARG_BITS = 24
ARG_MASK = (1 << ARG_BITS) - 1


class ArgKind(enum.IntEnum):
    """What an instruction's argument indexes; the writer range-checks it.

    Small ints so validators can index a list of limits by kind (enum
    hashing would dominate the per-instruction cost).
    """

    NONE = 0     # argument must be 0
    CONST = 1    # index into the code object's ``consts``
    NAME = 2     # index into the module's name table
    LOCAL = 3    # local slot, < nlocals
    DEREF = 4    # index into cellnames + freenames
    JUMP = 5     # absolute target: word index of an instruction start
    COUNT = 6    # an item count or depth, any u32
    FLAGS = 7    # opcode-specific bit field, any u32


class Opcode(enum.IntEnum):
    """The DPB opcodes; each member's docstring states its stack effect."""

    arg_kind: ArgKind

    def __new__(cls, value: int, arg_kind: ArgKind, doc: str) -> "Opcode":
        member = int.__new__(cls, value)
        member._value_ = value
        member.arg_kind = arg_kind
        member.__doc__ = doc
        return member

    # -- load / store 0x00-0x1F ------------------------------------------
    LOAD_CONST = 0x00, ArgKind.CONST, "Push consts[arg] (resolved through the module pool)."
    LOAD_FAST = 0x01, ArgKind.LOCAL, "Push local slot arg; UnboundLocalError if unset."
    STORE_FAST = 0x02, ArgKind.LOCAL, "Pop TOS into local slot arg."
    DELETE_FAST = 0x03, ArgKind.LOCAL, "Unset local slot arg; UnboundLocalError if unset."
    LOAD_GLOBAL = 0x04, ArgKind.NAME, "Push global names[arg], falling back to builtins."
    STORE_GLOBAL = 0x05, ArgKind.NAME, "Pop TOS into global names[arg]."
    DELETE_GLOBAL = 0x06, ArgKind.NAME, "Delete global names[arg]; NameError if absent."
    LOAD_NAME = 0x07, ArgKind.NAME, "Push names[arg] from locals, then globals, then builtins (module/class bodies)."
    STORE_NAME = 0x08, ArgKind.NAME, "Pop TOS into the locals mapping under names[arg]."
    DELETE_NAME = 0x09, ArgKind.NAME, "Delete names[arg] from the locals mapping."
    LOAD_DEREF = 0x0A, ArgKind.DEREF, "Push the contents of cell arg (cells, then free vars)."
    STORE_DEREF = 0x0B, ArgKind.DEREF, "Pop TOS into cell arg."
    DELETE_DEREF = 0x0C, ArgKind.DEREF, "Empty cell arg; NameError if already empty."
    LOAD_CLOSURE = 0x0D, ArgKind.DEREF, "Push cell arg itself (to build a closure tuple)."
    LOAD_CLASSDEREF = 0x0E, ArgKind.DEREF, "Class body: push locals[name of cell arg] if present, else the cell's contents."
    LOAD_ATTR = 0x0F, ArgKind.NAME, "Replace TOS with getattr(TOS, names[arg])."
    STORE_ATTR = 0x10, ArgKind.NAME, "setattr(TOS, names[arg], TOS1); pop both."
    DELETE_ATTR = 0x11, ArgKind.NAME, "delattr(TOS, names[arg]); pop TOS."
    LOAD_METHOD = 0x12, ArgKind.NAME, "Replace TOS with (method, self) or (NULL, attribute) for CALL_METHOD."
    LOAD_SUBSCR = 0x13, ArgKind.NONE, "Replace TOS1, TOS with TOS1[TOS]."
    STORE_SUBSCR = 0x14, ArgKind.NONE, "TOS1[TOS] = TOS2; pop all three."
    DELETE_SUBSCR = 0x15, ArgKind.NONE, "del TOS1[TOS]; pop both."
    POP_TOP = 0x16, ArgKind.NONE, "Discard TOS."
    COPY = 0x17, ArgKind.COUNT, "Push a copy of the arg-th item from the top (1 is TOS)."
    SWAP = 0x18, ArgKind.COUNT, "Swap TOS with the arg-th item from the top (arg >= 2)."
    UNPACK_SEQUENCE = 0x19, ArgKind.COUNT, "Pop an iterable, push its exactly arg items, last first."
    UNPACK_EX = 0x1A, ArgKind.COUNT, "Star-unpack TOS: bits 0-7 = targets before the star, bits 8-23 = after it; pushes them first-on-top with the starred list between."
    IMPORT_NAME = 0x1B, ArgKind.NAME, "Pop fromlist and level, push __import__(names[arg], ..., fromlist, level)."
    IMPORT_FROM = 0x1C, ArgKind.NAME, "Push getattr(TOS, names[arg]), importing the submodule if needed; TOS stays."
    IMPORT_STAR = 0x1D, ArgKind.NONE, "Pop a module and bind its public names in the locals mapping."

    # -- binary, in-place and unary operators 0x20-0x3F ------------------
    BINARY_ADD = 0x20, ArgKind.NONE, "Replace TOS1, TOS with TOS1 + TOS."
    BINARY_SUBTRACT = 0x21, ArgKind.NONE, "Replace TOS1, TOS with TOS1 - TOS."
    BINARY_MULTIPLY = 0x22, ArgKind.NONE, "Replace TOS1, TOS with TOS1 * TOS."
    BINARY_TRUE_DIVIDE = 0x23, ArgKind.NONE, "Replace TOS1, TOS with TOS1 / TOS."
    BINARY_FLOOR_DIVIDE = 0x24, ArgKind.NONE, "Replace TOS1, TOS with TOS1 // TOS."
    BINARY_MODULO = 0x25, ArgKind.NONE, "Replace TOS1, TOS with TOS1 % TOS."
    BINARY_POWER = 0x26, ArgKind.NONE, "Replace TOS1, TOS with TOS1 ** TOS."
    BINARY_MATRIX_MULTIPLY = 0x27, ArgKind.NONE, "Replace TOS1, TOS with TOS1 @ TOS."
    BINARY_LSHIFT = 0x28, ArgKind.NONE, "Replace TOS1, TOS with TOS1 << TOS."
    BINARY_RSHIFT = 0x29, ArgKind.NONE, "Replace TOS1, TOS with TOS1 >> TOS."
    BINARY_AND = 0x2A, ArgKind.NONE, "Replace TOS1, TOS with TOS1 & TOS."
    BINARY_OR = 0x2B, ArgKind.NONE, "Replace TOS1, TOS with TOS1 | TOS."
    BINARY_XOR = 0x2C, ArgKind.NONE, "Replace TOS1, TOS with TOS1 ^ TOS."
    UNARY_NEGATIVE = 0x2D, ArgKind.NONE, "Replace TOS with -TOS."
    UNARY_POSITIVE = 0x2E, ArgKind.NONE, "Replace TOS with +TOS."
    UNARY_INVERT = 0x2F, ArgKind.NONE, "Replace TOS with ~TOS."
    INPLACE_ADD = 0x30, ArgKind.NONE, "Replace TOS1, TOS with (TOS1 += TOS)."
    INPLACE_SUBTRACT = 0x31, ArgKind.NONE, "Replace TOS1, TOS with (TOS1 -= TOS)."
    INPLACE_MULTIPLY = 0x32, ArgKind.NONE, "Replace TOS1, TOS with (TOS1 *= TOS)."
    INPLACE_TRUE_DIVIDE = 0x33, ArgKind.NONE, "Replace TOS1, TOS with (TOS1 /= TOS)."
    INPLACE_FLOOR_DIVIDE = 0x34, ArgKind.NONE, "Replace TOS1, TOS with (TOS1 //= TOS)."
    INPLACE_MODULO = 0x35, ArgKind.NONE, "Replace TOS1, TOS with (TOS1 %= TOS)."
    INPLACE_POWER = 0x36, ArgKind.NONE, "Replace TOS1, TOS with (TOS1 **= TOS)."
    INPLACE_MATRIX_MULTIPLY = 0x37, ArgKind.NONE, "Replace TOS1, TOS with (TOS1 @= TOS)."
    INPLACE_LSHIFT = 0x38, ArgKind.NONE, "Replace TOS1, TOS with (TOS1 <<= TOS)."
    INPLACE_RSHIFT = 0x39, ArgKind.NONE, "Replace TOS1, TOS with (TOS1 >>= TOS)."
    INPLACE_AND = 0x3A, ArgKind.NONE, "Replace TOS1, TOS with (TOS1 &= TOS)."
    INPLACE_OR = 0x3B, ArgKind.NONE, "Replace TOS1, TOS with (TOS1 |= TOS)."
    INPLACE_XOR = 0x3C, ArgKind.NONE, "Replace TOS1, TOS with (TOS1 ^= TOS)."
    FORMAT_VALUE = 0x3D, ArgKind.FLAGS, "f-string field: bits 0-1 conversion (0 none, 1 str, 2 repr, 3 ascii); bit 2 set = pop a format spec first. Replace TOS with format(TOS, spec)."

    # -- comparisons and pattern tests 0x40-0x4F -------------------------
    COMPARE_LT = 0x40, ArgKind.NONE, "Replace TOS1, TOS with TOS1 < TOS."
    COMPARE_LE = 0x41, ArgKind.NONE, "Replace TOS1, TOS with TOS1 <= TOS."
    COMPARE_EQ = 0x42, ArgKind.NONE, "Replace TOS1, TOS with TOS1 == TOS."
    COMPARE_NE = 0x43, ArgKind.NONE, "Replace TOS1, TOS with TOS1 != TOS."
    COMPARE_GT = 0x44, ArgKind.NONE, "Replace TOS1, TOS with TOS1 > TOS."
    COMPARE_GE = 0x45, ArgKind.NONE, "Replace TOS1, TOS with TOS1 >= TOS."
    IS_OP = 0x46, ArgKind.NONE, "Replace TOS1, TOS with TOS1 is TOS."
    IS_NOT_OP = 0x47, ArgKind.NONE, "Replace TOS1, TOS with TOS1 is not TOS."
    CONTAINS_OP = 0x48, ArgKind.NONE, "Replace TOS1, TOS with TOS1 in TOS."
    NOT_CONTAINS_OP = 0x49, ArgKind.NONE, "Replace TOS1, TOS with TOS1 not in TOS."
    UNARY_NOT = 0x4A, ArgKind.NONE, "Replace TOS with not TOS."
    MATCH_MAPPING = 0x4B, ArgKind.NONE, "Push whether TOS is a collections.abc.Mapping (TOS stays)."
    MATCH_SEQUENCE = 0x4C, ArgKind.NONE, "Push whether TOS is a match-able sequence (TOS stays)."
    MATCH_KEYS = 0x4D, ArgKind.NONE, "TOS is a key tuple, TOS1 a mapping: push the values tuple, or None if a key is missing."
    MATCH_CLASS = 0x4E, ArgKind.COUNT, "TOS keyword-name tuple, TOS1 class, TOS2 subject, arg positional patterns: replace all three with the attribute tuple, or None."
    GET_LEN = 0x4F, ArgKind.NONE, "Push len(TOS) (TOS stays)."

    # -- control flow 0x50-0x6F ------------------------------------------
    NOP = 0x50, ArgKind.NONE, "Do nothing (keeps a line-table anchor)."
    EXTENDED_ARG = 0x51, ArgKind.COUNT, "Prefix: its arg supplies the next-higher 24 bits of the following instruction's arg."
    JUMP = 0x52, ArgKind.JUMP, "Continue at instruction arg."
    POP_JUMP_IF_FALSE = 0x53, ArgKind.JUMP, "Pop TOS; jump to arg if it is false."
    POP_JUMP_IF_TRUE = 0x54, ArgKind.JUMP, "Pop TOS; jump to arg if it is true."
    JUMP_IF_FALSE_OR_POP = 0x55, ArgKind.JUMP, "If TOS is false jump to arg keeping it, else pop it."
    JUMP_IF_TRUE_OR_POP = 0x56, ArgKind.JUMP, "If TOS is true jump to arg keeping it, else pop it."
    POP_JUMP_IF_NONE = 0x57, ArgKind.JUMP, "Pop TOS; jump to arg if it is None."
    POP_JUMP_IF_NOT_NONE = 0x58, ArgKind.JUMP, "Pop TOS; jump to arg if it is not None."
    GET_ITER = 0x59, ArgKind.NONE, "Replace TOS with iter(TOS)."
    FOR_ITER = 0x5A, ArgKind.JUMP, "Push next(TOS); when exhausted pop the iterator and jump to arg."
    RETURN_VALUE = 0x5B, ArgKind.NONE, "Return TOS to the caller."
    YIELD_VALUE = 0x5C, ArgKind.NONE, "Suspend the generator yielding TOS; on resume TOS is the sent value."
    GET_YIELD_FROM_ITER = 0x5D, ArgKind.NONE, "Replace TOS with the iterator `yield from` delegates to."
    SEND = 0x5E, ArgKind.JUMP, "Send TOS into the sub-iterator TOS1; on StopIteration replace both with its value and jump to arg."

    # -- calls 0x70-0x7F -------------------------------------------------
    CALL = 0x70, ArgKind.COUNT, "Pop arg positional arguments and the callable below them; push the result."
    CALL_KW = 0x71, ArgKind.COUNT, "TOS is a tuple of keyword names for the last of arg arguments; call as CALL."
    CALL_EX = 0x72, ArgKind.FLAGS, "Call TOS1-or-TOS2 with *args tuple; bit 0 set = a **kwargs dict is on top."
    CALL_METHOD = 0x73, ArgKind.COUNT, "Call the pair pushed by LOAD_METHOD with arg positional arguments."
    CALL_FRAME_BUILTIN = 0x74, ArgKind.NONE, "Call TOS with no arguments; if it is builtins globals, locals, vars, dir or super, or sys._getframe, answer for the executing VM frame."

    # -- object creation 0x80-0x8F ---------------------------------------
    BUILD_TUPLE = 0x80, ArgKind.COUNT, "Replace the top arg items with a tuple of them."
    BUILD_LIST = 0x81, ArgKind.COUNT, "Replace the top arg items with a list of them."
    BUILD_SET = 0x82, ArgKind.COUNT, "Replace the top arg items with a set of them."
    BUILD_MAP = 0x83, ArgKind.COUNT, "Replace the top 2*arg items (key, value, ...) with a dict."
    BUILD_STRING = 0x84, ArgKind.COUNT, "Replace the top arg strings with their concatenation."
    BUILD_SLICE = 0x85, ArgKind.COUNT, "Replace the top arg (2 or 3) items with slice(...)."
    LIST_TO_TUPLE = 0x86, ArgKind.NONE, "Replace the list on TOS with a tuple of it."
    LIST_APPEND = 0x87, ArgKind.COUNT, "Pop TOS and append it to the list arg items down."
    SET_ADD = 0x88, ArgKind.COUNT, "Pop TOS and add it to the set arg items down."
    MAP_ADD = 0x89, ArgKind.COUNT, "Pop value TOS and key TOS1 into the dict arg items down."
    LIST_EXTEND = 0x8A, ArgKind.COUNT, "Pop an iterable and extend the list arg items down."
    SET_UPDATE = 0x8B, ArgKind.COUNT, "Pop an iterable and update the set arg items down."
    DICT_UPDATE = 0x8C, ArgKind.COUNT, "Pop a mapping and update the dict arg items down."
    DICT_MERGE = 0x8D, ArgKind.COUNT, "As DICT_UPDATE, but a repeated key raises TypeError (call **kwargs)."
    MAKE_FUNCTION = 0x8E, ArgKind.FLAGS, "Pop a code-reference constant, then per bit: 8 closure tuple, 4 annotations, 2 kw-defaults dict, 1 defaults tuple; push the function."
    LOAD_BUILD_CLASS = 0x8F, ArgKind.NONE, "Push builtins.__build_class__."

    # -- exceptions and with 0x90-0x9F -----------------------------------
    SETUP_FINALLY = 0x90, ArgKind.JUMP, "Push a handler block: an exception raised before POP_BLOCK jumps to arg."
    POP_BLOCK = 0x91, ArgKind.NONE, "Pop the innermost handler block."
    POP_EXCEPT = 0x92, ArgKind.NONE, "Leave an except clause: restore the previous exception state."
    RERAISE = 0x93, ArgKind.NONE, "Re-raise the exception on TOS with its original traceback."
    RAISE = 0x94, ArgKind.COUNT, "arg 0: re-raise the handled exception (no traceback entry, as CPython); 1: raise TOS; 2: raise TOS1 from TOS."
    CHECK_EXC_MATCH = 0x95, ArgKind.NONE, "Push whether the exception TOS1 matches the type(s) TOS; pop TOS."
    CHECK_EG_MATCH = 0x96, ArgKind.NONE, "except*: split the exception TOS1 by the type(s) TOS: replace them with rest and match, or with TOS1 and None; a match becomes the handled exception."
    PUSH_EXC_INFO = 0x97, ArgKind.NONE, "Handler entry: make TOS the current exception, saving the previous."
    LOAD_ASSERTION_ERROR = 0x98, ArgKind.NONE, "Push AssertionError."
    BEFORE_WITH = 0x99, ArgKind.NONE, "Replace TOS with its bound __exit__ and the result of __enter__()."
    WITH_EXCEPT_START = 0x9A, ArgKind.NONE, "Call the saved __exit__ with the current exception's (type, value, traceback)."
    PREP_RERAISE_STAR = 0x9B, ArgKind.NONE, "except*: TOS the list of raised exceptions and the unmatched rest, TOS1 the original; replace both with the exception to re-raise, or None."

    # -- async 0xA0-0xAF -------------------------------------------------
    GET_AWAITABLE = 0xA0, ArgKind.COUNT, "Replace TOS with its awaitable iterator (arg 0 await, 1 after __aenter__, 2 after __aexit__)."
    GET_AITER = 0xA1, ArgKind.NONE, "Replace TOS with TOS.__aiter__()."
    GET_ANEXT = 0xA2, ArgKind.NONE, "Push the awaitable of TOS.__anext__() (TOS stays)."
    END_ASYNC_FOR = 0xA3, ArgKind.NONE, "Handler of async for: swallow StopAsyncIteration and pop the iterator, else re-raise."
    BEFORE_ASYNC_WITH = 0xA4, ArgKind.NONE, "Replace TOS with its bound __aexit__ and the awaitable of __aenter__()."
    ASYNC_GEN_WRAP = 0xA5, ArgKind.NONE, "Wrap TOS so an async generator's yield is told apart from an await."


OPCODE_BYTES = bytes(sorted(int(op) for op in Opcode))
"""Every defined opcode value, for a C-speed validity scan (bytes.translate)."""

ARG_KIND_BY_VALUE: tuple[int, ...] = tuple(
    int(Opcode(value).arg_kind) if value in OPCODE_BYTES else -1 for value in range(256))
"""ArgKind of each opcode byte, -1 if undefined: a list index, no enum lookups per instruction."""

_WORD = struct.Struct("<I")


class Instruction(NamedTuple):
    """One decoded instruction; ``index`` is the word index of its first prefix."""

    index: int
    opcode: Opcode
    arg: int


def encode_instructions(pairs: Sequence[tuple[int, int]]) -> bytes:
    """Encode ``(opcode, arg)`` pairs, adding the fewest EXTENDED_ARG prefixes.

    Jump arguments are word indices, so a compiler that needs prefixes must
    account for them when it computes targets; this function does not move
    anything.
    """
    words: list[bytes] = []
    for opcode, arg in pairs:
        if arg < 0:
            raise ValueError(f"negative argument {arg} for opcode {opcode:#04x}")
        high = arg >> ARG_BITS
        prefixes: list[int] = []
        while high:
            prefixes.append(high & ARG_MASK)
            high >>= ARG_BITS
        for part in reversed(prefixes):
            words.append(_WORD.pack(Opcode.EXTENDED_ARG | part << 8))
        words.append(_WORD.pack(opcode | (arg & ARG_MASK) << 8))
    return b"".join(words)


def decode_words(code: bytes | memoryview) -> list[tuple[int, int, int]]:
    """Decode to ``(index, opcode byte, arg)`` triples, folding EXTENDED_ARG prefixes.

    Plain ints in one list rather than a generator of enum members: this is
    the loop that validates every code object the loader decodes, and it
    runs about four times faster this way.  Raises ValueError on an
    undefined opcode, a length that is not a whole number of words, a
    prefix that adds nothing (non-minimal encoding) or a dangling prefix;
    callers turn it into a DpbError that names the file.
    """
    if len(code) % INSTRUCTION_SIZE:
        raise ValueError(f"code length {len(code)} is not a multiple of {INSTRUCTION_SIZE}")
    kinds, prefix = ARG_KIND_BY_VALUE, int(Opcode.EXTENDED_ARG)
    decoded: list[tuple[int, int, int]] = []
    extended = 0
    start = 0
    for index, word in enumerate(struct.unpack(f"<{len(code) // INSTRUCTION_SIZE}I", code)):
        value = word & 0xFF
        arg = extended << ARG_BITS | word >> 8
        if value == prefix:
            if not arg:
                raise ValueError(f"needless EXTENDED_ARG 0 prefix at instruction {index}")
            extended = arg
            continue
        if kinds[value] < 0:
            raise ValueError(f"undefined opcode {value:#04x} at instruction {index}")
        decoded.append((start, value, arg))
        extended = 0
        start = index + 1
    if start * INSTRUCTION_SIZE != len(code):
        raise ValueError("code ends with an EXTENDED_ARG prefix")
    return decoded


def iter_instructions(code: bytes | memoryview) -> Iterator[Instruction]:
    """Decode instructions for reading (dis, the interpreter); see ``decode_words``."""
    for index, value, arg in decode_words(code):
        yield Instruction(index, Opcode(value), arg)
