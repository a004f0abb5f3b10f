"""DPB format: round trip, header, canonical encoding, corruption, zero copy.

The generated modules exercise every constant tag (nested containers, big
ints, NaNs compared by bits, lone surrogates), instruction streams with every
argument kind and EXTENDED_ARG prefixes, trees of nested code objects, and
position tables (columns for tracebacks).
"""

from __future__ import annotations

import math
import mmap
import os
import re
import struct
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import blake3
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from dxpy.vm import (
    CodeFlags, CodeObject, CodeRef, DpbError, DpbModule, Opcode, encode_instructions,
    iter_instructions, load, loads, to_bytes,
)
from dxpy.vm.constants import MAX_DEPTH, decode_constant, encode_constant
from dxpy.vm.format import ALIGNMENT, FORMAT_VERSION, HEADER, HEADER_SIZE, MAGIC, section_spans
from dxpy.vm.opcodes import ArgKind

REPO = Path(__file__).resolve().parent.parent
SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# -- strategies --------------------------------------------------------------

nan_bits = st.builds(lambda sign, mantissa: struct.unpack("<d", struct.pack(
    "<Q", sign << 63 | 0x7FF << 52 | mantissa))[0], st.integers(0, 1), st.integers(1, 2**52 - 1))
floats = st.one_of(st.floats(allow_nan=True, allow_infinity=True), nan_bits,
                   st.sampled_from([0.0, -0.0]))
texts = st.text(st.one_of(st.characters(), st.sampled_from("\ud800\udbff\udc00\udfff\x00")),
                max_size=20)


def constants_strategy(code_count: int) -> st.SearchStrategy[object]:
    """Every constant tag, containers nested a few levels deep."""
    leaves = st.one_of(
        st.none(), st.booleans(), st.just(Ellipsis),
        st.integers(), st.integers(-2**300, 2**300), st.sampled_from([-128, 127, 128, -129, 2**63, -2**63]),
        floats, st.builds(complex, floats, floats), texts, st.binary(max_size=20),
        st.integers(0, code_count - 1).map(CodeRef),
    )
    return st.recursive(
        leaves,
        lambda inner: st.one_of(st.lists(inner, max_size=4).map(tuple),
                                st.frozensets(inner, max_size=4)),
        max_leaves=12,
    )


def _arg_for(draw: st.DrawFn, kind: ArgKind, limits: dict[ArgKind, int]) -> int | None:
    """An in-range argument for ``kind``, or None if the code object has no such slot."""
    if kind in (ArgKind.COUNT, ArgKind.FLAGS):
        return draw(st.one_of(st.integers(0, 300), st.integers(0, 2**32 - 1)))
    if kind is ArgKind.NONE:
        return 0
    limit = limits[kind]
    return None if limit == 0 else draw(st.integers(0, limit - 1))


PLAIN_OPCODES = [op for op in Opcode if op is not Opcode.EXTENDED_ARG]


@st.composite
def instruction_streams(draw: st.DrawFn, limits: dict[ArgKind, int]) -> bytes:
    """Random valid instructions; jump targets are remapped from pair to word indices."""
    pairs: list[tuple[Opcode, int]] = []
    for opcode in draw(st.lists(st.sampled_from(PLAIN_OPCODES), max_size=30)):
        arg = _arg_for(draw, opcode.arg_kind, limits) if opcode.arg_kind is not ArgKind.JUMP else 0
        if arg is not None:
            pairs.append((opcode, arg))
    starts = []
    word = 0
    for opcode, arg in pairs:
        starts.append(word)
        word += len(encode_instructions([(opcode, arg)])) // 4
    resolved = [(op, starts[draw(st.integers(0, len(pairs) - 1))] if op.arg_kind is ArgKind.JUMP else arg)
                for op, arg in pairs]
    return encode_instructions(resolved)


@st.composite
def code_objects(draw: st.DrawFn, index: int, counts: tuple[int, int, int]) -> CodeObject:
    code_count, constant_count, name_count = counts
    name_index = st.integers(0, name_count - 1)
    flags = draw(st.sampled_from([0, CodeFlags.VARARGS, CodeFlags.VARKEYWORDS,
                                  CodeFlags.VARARGS | CodeFlags.VARKEYWORDS]))
    flags |= draw(st.sampled_from([0, CodeFlags.GENERATOR, CodeFlags.COROUTINE, CodeFlags.ASYNC_GENERATOR]))
    argcount, kwonly = draw(st.integers(0, 3)), draw(st.integers(0, 2))
    nargs = argcount + kwonly + bin(flags & 3).count("1")
    localnames = tuple(draw(st.lists(name_index, min_size=nargs, max_size=nargs + 3)))
    cellnames = tuple(draw(st.lists(name_index, max_size=2)))
    freenames = tuple(draw(st.lists(name_index, max_size=2)))
    consts = tuple(draw(st.lists(st.integers(0, constant_count - 1), max_size=4))) if constant_count else ()
    if consts and draw(st.booleans()):
        flags |= CodeFlags.HAS_DOCSTRING
    nlocals = len(localnames) + draw(st.integers(0, 2))
    limits = {ArgKind.CONST: len(consts), ArgKind.NAME: name_count, ArgKind.LOCAL: nlocals,
              ArgKind.DEREF: len(cellnames) + len(freenames)}
    instructions = draw(instruction_streams(limits))
    words = len(instructions) // 4
    starts = sorted(draw(st.sets(st.integers(0, words - 1), max_size=6))) if words else []
    linetable = tuple((w, draw(st.integers(0, 2**32 - 1))) for w in starts)
    positions = draw(position_runs(words))
    later = range(index + 1, code_count)
    nested = tuple(sorted(draw(st.sets(st.sampled_from(later), max_size=3)))) if later else ()
    return CodeObject(
        name=draw(name_index), qualname=draw(name_index), argcount=argcount,
        posonly=draw(st.integers(0, argcount)), kwonly=kwonly, flags=int(flags), nlocals=nlocals,
        localnames=localnames, cellnames=cellnames, freenames=freenames,
        firstline=draw(st.integers(0, 2**32 - 1)), instructions=instructions,
        linetable=linetable, consts=consts, nested=nested, positions=positions)


@st.composite
def position_runs(draw: st.DrawFn, words: int) -> tuple:
    """Valid position runs: increasing words, each run changing (span, column, end column)."""
    if not words:
        return ()
    column = st.one_of(st.none(), st.integers(0, 200), st.just(2**32 - 2))
    runs: list = []
    for word in sorted(draw(st.sets(st.integers(0, words - 1), max_size=6))):
        rest = (draw(st.sampled_from([0, 1, 2**32 - 1])), draw(column), draw(column))
        if not runs or runs[-1][1:] != rest:
            runs.append((word, *rest))
    return tuple(runs)


@st.composite
def modules(draw: st.DrawFn) -> DpbModule:
    code_count = draw(st.integers(1, 4))
    names = tuple(draw(st.lists(texts, min_size=1, max_size=8, unique=True)))
    constants = tuple(draw(st.lists(constants_strategy(code_count), max_size=8)))
    for value in constants:
        try:
            encode_constant(value, code_count)
        except ValueError:
            assume(False)  # a frozenset of NaN objects with equal bits: not storable
    counts = (code_count, len(constants), len(names))
    codes = tuple(draw(code_objects(i, counts)) for i in range(code_count))
    return DpbModule(codes, constants, names)


def simple_module() -> DpbModule:
    body = encode_instructions([(Opcode.LOAD_CONST, 0), (Opcode.RETURN_VALUE, 0)])
    return DpbModule((CodeObject(name=0, qualname=0, instructions=body, consts=(0,),
                                 linetable=((0, 1),)),), (("hello", 2**70),), ("<module>",))


def resign(data: bytes | bytearray) -> bytes:
    """Recompute the digest, as a faulty (not a damaging) writer would."""
    data = bytearray(data)
    data[32:64] = blake3.blake3(bytes(data[:32]) + bytes(data[64:])).digest()
    return bytes(data)


def key(value: object) -> object:
    """Identity of a constant by type and bits, so NaN compares equal to itself."""
    if isinstance(value, float):
        return ("float", struct.pack("<d", value))
    if isinstance(value, complex):
        return ("complex", struct.pack("<dd", value.real, value.imag))
    if isinstance(value, tuple):
        return ("tuple", tuple(key(item) for item in value))
    if isinstance(value, frozenset):
        return ("frozenset", tuple(sorted(repr(key(item)) for item in value)))
    return (type(value).__name__, value)


# -- round trip --------------------------------------------------------------

@SETTINGS
@given(modules())
def test_round_trip_is_byte_identical(module: DpbModule) -> None:
    data = to_bytes(module)
    assert to_bytes(module) == data
    loaded = loads(data)
    back = loaded.to_module()
    assert to_bytes(back) == data
    assert back.code == module.code
    assert back.names == module.names
    assert [key(c) for c in back.constants] == [key(c) for c in module.constants]


@SETTINGS
@given(modules())
def test_header_layout(module: DpbModule) -> None:
    data = to_bytes(module)
    magic, version, flags, *sizes_and_hash = HEADER.unpack_from(data)
    sizes, digest = sizes_and_hash[:6], sizes_and_hash[6]
    assert (magic, version, flags) == (MAGIC, FORMAT_VERSION, 0)
    spans, total = section_spans(sizes)
    assert total == len(data) and len(data) % ALIGNMENT == 0
    assert all(offset % ALIGNMENT == 0 for offset, _ in spans)
    assert spans[0][0] == HEADER_SIZE and sizes[4] == 0
    assert digest == blake3.blake3(data[:32] + data[64:]).digest()
    assert loads(data).code == b"".join(c.instructions for c in module.code)


def test_frozenset_order_independent_of_hash_seed() -> None:
    script = ("from dxpy.vm import *; import sys;"
              "m = DpbModule((CodeObject(0, 0),), (frozenset({'a', 'bb', 'ccc', b'x', 1.5, (1, 'z')}),), ('m',));"
              "sys.stdout.write(to_bytes(m).hex())")
    outputs = {subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2", "3")}
    assert len(outputs) == 1


@pytest.mark.parametrize("value", [
    0, 1, -1, 127, 128, -128, -129, 255, 256, -32768, 2**64, -2**64, 10**100,
    -0.0, math.inf, float("nan"), struct.unpack("<d", bytes.fromhex("0100000000f0ff7f"))[0],
    complex(-0.0, float("nan")), "", "\ud800x\udfff", "日本", b"\x00\xff",
    (), ((),), frozenset(), frozenset({frozenset({1}), (2, 3)}), ..., None, True, False,
])
def test_constant_codec_keeps_bits(value: object) -> None:
    encoded = encode_constant(value, 1)
    decoded = decode_constant(memoryview(encoded), 1)
    assert type(decoded) is type(value) and key(decoded) == key(value)
    assert encode_constant(decoded, 1) == encoded


def test_constant_nesting_limit() -> None:
    value: object = ()
    for _ in range(MAX_DEPTH):
        value = (value,)
    module = DpbModule((CodeObject(0, 0),), (value,), ("m",))
    with pytest.raises(DpbError, match="nested deeper"):
        to_bytes(module)
    ok = DpbModule((CodeObject(0, 0),), (value[0],), ("m",))  # type: ignore[index]
    assert loads(to_bytes(ok)).constant(0) == value[0]  # type: ignore[index]


def test_extended_arg_encoding() -> None:
    for arg in (0, 2**24 - 1, 2**24, 2**32 - 1, 2**50):
        code = encode_instructions([(Opcode.CALL, arg), (Opcode.NOP, 0)])
        assert [(i.opcode, i.arg) for i in iter_instructions(code)] == [(Opcode.CALL, arg), (Opcode.NOP, 0)]
        prefixes = max(0, (arg.bit_length() - 1) // 24)
        assert len(code) == 4 * (2 + prefixes)
    with pytest.raises(ValueError, match="ends with an EXTENDED_ARG"):
        list(iter_instructions(encode_instructions([(Opcode.EXTENDED_ARG, 1)])))
    with pytest.raises(ValueError, match="needless EXTENDED_ARG"):
        list(iter_instructions(encode_instructions([(Opcode.EXTENDED_ARG, 0), (Opcode.CALL, 1)])))


# -- loading from disk: zero copy, laziness, lifetime ------------------------

def test_load_maps_without_copying(tmp_path: Path) -> None:
    path = tmp_path / "m.dpb"
    path.write_bytes(to_bytes(simple_module()))
    with load(path) as dpb:
        assert isinstance(dpb.code.obj, mmap.mmap) and dpb.code.readonly
        instructions = dpb.code_object(0).instructions
        assert isinstance(instructions, memoryview) and instructions.obj is dpb.code.obj
        assert to_bytes(dpb.to_module()) == path.read_bytes()
        del instructions
    with pytest.raises(ValueError, match="released"):
        bytes(dpb.code_object(0).instructions)  # closed like a file: views are released


def test_constants_are_decoded_lazily_and_cached() -> None:
    """A broken constant (from a faulty writer) is only noticed when it is used."""
    module = DpbModule(simple_module().code, (("hello", 2**70), "tail"), ("<module>",))
    data = bytearray(to_bytes(module))
    tag_of_tail = data.rindex(b"\x06\x04\x00\x00\x00tail")
    data[tag_of_tail] = 0x7E
    dpb = loads(resign(data))
    first = dpb.constant(0)
    assert first == ("hello", 2**70) and dpb.constant(0) is first
    with pytest.raises(DpbError, match="constant 1: unknown constant tag 0x7e"):
        dpb.constant(1)
    with pytest.raises(DpbError, match="constant index 2 out of range"):
        dpb.constant(2)


def test_positions_are_decoded_lazily_and_rejected_when_not_canonical() -> None:
    """Only ``positions(i)`` (a traceback) reads a position table, and any non-canonical one fails."""
    runs = ((0, 0, 299, 9), (1, 2, 299, None))
    module = DpbModule((replace(simple_module().code[0], positions=runs),),
                       simple_module().constants, simple_module().names)
    data = to_bytes(module)
    head = bytes([0, 0, 0xAC, 0x02, 10])  # word 0, span 0, 299 + 1 == 0x12C in two LEB128 bytes, 9 + 1
    encoded = head + bytes([1, 2, 0xAC, 0x02, 0])  # word 0 + 1, span 2, column 299, no end column
    assert encoded in data
    dpb = loads(data)
    assert dpb.code_object(0).positions == ()
    assert dpb.positions(0) == runs and dpb.positions(0) is dpb.positions(0)
    assert to_bytes(dpb.to_module()) == data
    at = data.index(encoded)
    for tail, reason in [([1, 2, 0x80, 0x00, 0], "not a minimal u32"),
                         ([0, 2, 0xAC, 0x02, 0], "position index 0 out of order"),
                         ([1, 0, 0xAC, 0x02, 10], "repeats the previous one"),
                         ([1, 2, 0xAC, 0x02, 0x80], "truncated"),
                         ([1, 2, 0x2C, 0x02, 0], "9 varints is not whole runs")]:
        bad = loads(resign(data[:at] + head + bytes(tail) + data[at + len(encoded):]))
        assert bad.code_object(0).positions == ()  # running the code never decodes them
        with pytest.raises(DpbError, match=reason):
            bad.positions(0)


def test_close_refuses_while_derived_views_live(tmp_path: Path) -> None:
    path = tmp_path / "m.dpb"
    path.write_bytes(to_bytes(simple_module()))
    dpb = load(path)
    derived = memoryview(dpb.code)[0:4]
    with pytest.raises(DpbError, match="still in use"):
        dpb.close()
    derived.release()


@pytest.mark.parametrize("content, reason", [
    (b"", "empty"),
    (b"DPB\x01", "truncated"),
    (b"\x7fELF" + bytes(60), "not a DPB file"),
])
def test_load_rejects_bad_files(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "bad.dpb"
    path.write_bytes(content)
    with pytest.raises(DpbError, match=reason) as info:
        load(path)
    assert info.value.path == str(path) and str(path) in str(info.value)


def test_load_missing_file_and_directory(tmp_path: Path) -> None:
    for path in (tmp_path / "missing.dpb", tmp_path):
        with pytest.raises(DpbError, match="cannot read") as info:
            load(path)
        assert info.value.path == str(path)


def test_wrong_version_and_flags_are_named() -> None:
    data = bytearray(to_bytes(simple_module()))
    data[4:6] = struct.pack("<H", 1)  # version 1 files may hold opcodes this reader decodes differently
    with pytest.raises(DpbError, match="unsupported DPB format version 1"):
        loads(resign(data))
    data = bytearray(to_bytes(simple_module()))
    data[6:8] = struct.pack("<H", 1)
    with pytest.raises(DpbError, match="unknown header flags"):
        loads(resign(data))


# -- corruption --------------------------------------------------------------

@SETTINGS
@given(modules(), st.data())
def test_any_damage_raises_dpb_error(module: DpbModule, data: st.DataObject) -> None:
    """The digest covers every byte but itself, so every single flip is caught."""
    good = to_bytes(module)
    damaged = bytearray(good)
    position = data.draw(st.integers(0, len(good) - 1))
    damaged[position] ^= data.draw(st.integers(1, 255))
    mutations = [bytes(damaged),
                 good[:data.draw(st.integers(0, len(good) - 1))],
                 good + data.draw(st.binary(min_size=1, max_size=16))]
    for bad in mutations:
        with pytest.raises(DpbError) as info:
            loads(bad, path="victim.dpb")
        assert info.value.path == "victim.dpb"


@SETTINGS
@given(modules(), st.data())
def test_resigned_damage_is_rejected_or_canonical(module: DpbModule, data: st.DataObject) -> None:
    """A faulty writer's file (valid digest, wrong content) never escapes as another error.

    Whatever loads and decodes must be the canonical encoding of what it
    decodes to, which is what makes load -> to_bytes exact for every file.
    """
    damaged = bytearray(to_bytes(module))
    for _ in range(data.draw(st.integers(1, 3))):
        position = data.draw(st.one_of(st.integers(4, 31), st.integers(HEADER_SIZE, len(damaged) - 1)))
        damaged[position] = data.draw(st.integers(0, 255))
    bad = resign(damaged)
    try:
        back = loads(bad).to_module()
    except DpbError:
        return
    try:
        assert to_bytes(back) == bad
    except DpbError as exc:
        assert "duplicates" in exc.reason  # readers need not check the name table is interned


def test_faulty_writer_structures_are_reported(tmp_path: Path) -> None:
    good = to_bytes(simple_module())
    spans, _ = section_spans(HEADER.unpack_from(good)[3:9])
    (code_at, _), (constants_at, constants_size), (names_at, _) = spans[:3]
    assert (constants_at + constants_size) % ALIGNMENT, "the test needs padding after the constants"
    cases = {
        "undefined opcode 0xff": (code_at, b"\xff"),
        "a code object ends with EXTENDED_ARG": (code_at + 4, bytes([Opcode.EXTENDED_ARG])),
        "count .* does not fit": (names_at, b"\xff\xff\xff\x00"),
        "non-zero padding": (constants_at + constants_size, b"\x01"),
        "constants section offsets do not tile": (constants_at + 4, b"\x00"),
    }
    for reason, patch in cases.items():
        bad = bytearray(good)
        bad[patch[0]:patch[0] + len(patch[1])] = patch[1]
        with pytest.raises(DpbError, match=reason):
            loads(resign(bad))
        path = tmp_path / "faulty.dpb"
        path.write_bytes(resign(bad))
        with pytest.raises(DpbError, match=reason):
            load(path)  # fails after sections were sliced: the map must still be let go


# -- writer refuses invalid modules ------------------------------------------

def _module(**changes: object) -> DpbModule:
    base = simple_module()
    return DpbModule((replace(base.code[0], **changes),), base.constants, base.names)


@pytest.mark.parametrize("module, reason", [
    (DpbModule(()), "at least one code object"),
    (_module(name=5), "name index 5"),
    (_module(consts=(3,)), "constant index 3"),
    (_module(nested=(0,)), "nested code index 0"),
    (_module(instructions=b"\xff\x00\x00\x00"), "undefined opcode"),
    (_module(instructions=b"\x00\x00\x00"), "multiple of 4"),
    (_module(instructions=encode_instructions([(Opcode.LOAD_FAST, 0)])), "LOAD_FAST argument 0 out of range"),
    (_module(instructions=encode_instructions([(Opcode.POP_TOP, 1)])), "POP_TOP argument 1"),
    (_module(instructions=encode_instructions([(Opcode.CALL, 2**24), (Opcode.JUMP, 1)])), "not the start"),
    (_module(linetable=((1, 1), (1, 2))), "line-table index 1"),
    (_module(linetable=((2, 1),)), "line-table index 2"),
    (_module(positions=((1, 0, 0, 1), (0, 0, 0, 2))), "position index 0 out of order"),
    (_module(positions=((2, 0, 0, 1),)), "position index 2 out of order or past the code"),
    (_module(positions=((0, 0, 3, 5), (1, 0, 3, 5))), "repeats the previous one"),
    (_module(positions=((0, -1, 3, 5),)), "outside u32"),
    (_module(positions=((0, 0, 2**32 - 1, 5),)), "outside u32"),
    (_module(positions=((0, 0, 3),)), "not 4 values"),
    (_module(flags=0x400), "unknown flags"),
    (_module(flags=int(CodeFlags.GENERATOR | CodeFlags.COROUTINE)), "more than one"),
    (_module(argcount=1), "disagree"),
    (DpbModule((CodeObject(0, 0, flags=int(CodeFlags.HAS_DOCSTRING)),), (), ("m",)), "no consts"),
    (_module(argcount=1, posonly=2, localnames=(0,), nlocals=1), "posonly 2 > argcount 1"),
    (DpbModule((CodeObject(0, 0),), ([1],), ("m",)), "cannot store a list"),
    (DpbModule((CodeObject(0, 0),), (CodeRef(1),), ("m",)), r"CodeRef\(1\) out of range"),
    (DpbModule((CodeObject(0, 0),), (), ("m", "m")), "duplicates"),
    (DpbModule((CodeObject(0, 0),), (frozenset({float("nan"), float("nan")}),), ("m",)), "same encoding"),
])
def test_writer_rejects_invalid_modules(module: DpbModule, reason: str) -> None:
    with pytest.raises(DpbError, match=reason) as info:
        to_bytes(module)
    assert info.value.path == "<to_bytes>"


# -- the opcode table and its specification ----------------------------------

FAMILIES = [(0x00, 0x1F), (0x20, 0x3F), (0x40, 0x4F), (0x50, 0x6F), (0x70, 0x7F),
            (0x80, 0x8F), (0x90, 0x9F), (0xA0, 0xAF)]


def test_opcodes_documented_and_in_their_ranges() -> None:
    assert all(any(low <= op <= high for low, high in FAMILIES) for op in Opcode)
    assert all(op.__doc__ and op.__doc__ != Opcode.__doc__ for op in Opcode)
    spec = (REPO / "docs" / "dpb-format.md").read_text()
    listed = dict(re.findall(r"^\| `(0x[0-9A-F]{2})` \| `([A-Z_]+)` \|", spec, re.MULTILINE))
    assert listed == {f"0x{op.value:02X}": op.name for op in Opcode}
