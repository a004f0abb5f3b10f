"""dxpy.cache.objload: LLVM's objects linked without LLVM, or refused with a reason."""

from __future__ import annotations

import ctypes
import math
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dxpy.cache import objload

pytestmark = pytest.mark.skipif(not objload.host_supported(),
                                reason="objload links x86-64 Linux objects only")

#: constants (rodata), a writable counter (data), a libm call (an external function)
#: and libc's ``environ`` (an external variable: a GOT slot in position-independent code)
IR = """
@table = private unnamed_addr constant [4 x double] [double 1.0, double 2.0, double 3.0, double 4.0]
@counter = internal global i64 0
declare double @cos(double)
@environ = external global ptr

define double @f(i64 %i, double %x) {
  %p = getelementptr [4 x double], ptr @table, i64 0, i64 %i
  %t = load double, ptr %p
  %c = call double @cos(double %x)
  %n = load i64, ptr @counter
  %n1 = add i64 %n, 1
  store i64 %n1, ptr @counter
  %nf = sitofp i64 %n1 to double
  %r = fadd double %t, %c
  %r2 = fadd double %r, %nf
  ret double %r2
}

define i64 @g(i64 %a) {
  %b = mul i64 %a, 3
  ret i64 %b
}

define i64 @h() {
  %e = load ptr, ptr @environ
  %i = ptrtoint ptr %e to i64
  ret i64 %i
}
"""
F = ctypes.CFUNCTYPE(ctypes.c_double, ctypes.c_int64, ctypes.c_double)
G = ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_int64)
H = ctypes.CFUNCTYPE(ctypes.c_int64)
NAMES = ["f", "g", "h"]


def emit(codemodel: str, reloc: str) -> bytes:
    import llvmlite.binding as llvm

    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    machine = llvm.Target.from_default_triple().create_target_machine(
        codemodel=codemodel, reloc=reloc, opt=2)
    module = llvm.parse_assembly(IR)
    module.triple = llvm.get_process_triple()
    return machine.emit_object(module)


@pytest.fixture(scope="module")
def jit_object() -> bytes:
    """What the JIT emits: LLVM's JIT code model (large on x86-64), static relocations."""
    return emit("jitdefault", "static")


def check_linked(addresses: list[int]) -> None:
    f, g, h = F(addresses[0]), G(addresses[1]), H(addresses[2])
    assert f(2, 0.0) == 3.0 + math.cos(0.0) + 1  # constant, libm, counter == 1
    assert f(1, 1.5) == 2.0 + math.cos(1.5) + 2  # the counter's store stuck: data is rw
    assert g(14) == 42
    assert h() == ctypes.c_void_p.in_dll(ctypes.CDLL(None), "environ").value


@pytest.mark.parametrize("codemodel, reloc", [("jitdefault", "static"), ("large", "static"),
                                              ("small", "pic"), ("default", "pic")])
def test_links_what_llvm_emits(codemodel: str, reloc: str) -> None:
    # large: absolute 64-bit relocations; small PIC: PC-relative data, a call through a
    # jump stub (libm is more than 2 GiB away) or a GOT slot
    check_linked(objload.link(emit(codemodel, reloc), NAMES))


def test_small_static_code_is_refused_or_linked_correctly() -> None:
    # absolute 32-bit addresses only fit when the region lands below 2 GiB
    try:
        addresses = objload.link(emit("small", "static"), NAMES)
    except objload.UnsupportedObject as exc:
        assert "32-bit range" in str(exc)
    else:
        check_linked(addresses)


def test_each_link_is_independent(jit_object: bytes) -> None:
    first = objload.link(jit_object, NAMES)
    second = objload.link(jit_object, NAMES)
    assert first[0] != second[0]
    check_linked(second)  # its own counter, starting at zero
    check_linked(first)


def _patched(obj: bytes, offset: int, fmt: str, value: int) -> bytes:
    raw = bytearray(obj)
    struct.pack_into(fmt, raw, offset, value)
    return bytes(raw)


def _first_rela(obj: bytes) -> int:
    """File offset of the first relocation record."""
    shoff, shnum = struct.unpack_from("<Q", obj, 0x28)[0], struct.unpack_from("<H", obj, 0x3C)[0]
    for i in range(shnum):
        _, kind, _, _, offset, size, *_ = struct.unpack_from("<IIQQQQIIQQ", obj, shoff + i * 64)
        if kind == 4 and size:
            return offset
    raise AssertionError("no RELA section")


@pytest.mark.parametrize("damage, reason", [
    (lambda o: b"not an object", "malformed"),
    (lambda o: b"\x7fELF\x01" + o[5:], "ELF64"),
    (lambda o: _patched(o, 0x12, "<H", 183), "machine 183"),  # an AArch64 object
    (lambda o: _patched(o, 0x10, "<H", 3), "ELF type 3"),  # a shared object
    (lambda o: _patched(o, _first_rela(o) + 8, "<I", 37), "relocation kind 37"),
    (lambda o: o[: len(o) // 2], "malformed"),
])
def test_what_it_cannot_link_is_refused_with_the_reason(jit_object: bytes, damage,
                                                         reason: str) -> None:
    with pytest.raises(objload.UnsupportedObject, match=reason):
        objload.link(damage(jit_object), NAMES)


def test_an_unknown_external_symbol_is_refused(jit_object: bytes) -> None:
    renamed = jit_object.replace(b"cos\0", b"c0s\0")
    with pytest.raises(objload.UnsupportedObject, match="'c0s' is not in this process"):
        objload.link(renamed, ["f"])


def test_a_symbol_the_object_does_not_define_is_refused(jit_object: bytes) -> None:
    with pytest.raises(objload.UnsupportedObject, match="defines no"):
        objload.link(jit_object, ["f", "k"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_damaged_objects_link_or_are_refused_never_worse(jit_object: bytes, data) -> None:
    """Any damage (bytes flipped anywhere, or cut short) gives addresses or
    UnsupportedObject: every offset is checked before anything is written."""
    raw = bytearray(jit_object)
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(raw) - 1))
        raw[at] ^= data.draw(st.integers(1, 255))
    cut = data.draw(st.integers(64, len(raw)))
    try:
        addresses = objload.link(bytes(raw[:cut]), NAMES)
    except objload.UnsupportedObject:
        return
    assert len(addresses) == len(NAMES)  # linked (the code may be garbage: never called here)
