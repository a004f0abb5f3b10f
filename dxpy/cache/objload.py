"""Link a cached JIT object (ELF64 x86-64 relocatable) into this process without LLVM.

Why not RuntimeDyld, which the compile path uses: on a warm cache it is the
one reason to load ``llvmlite.binding`` at all (~20-150 ms to import, an
MCJIT engine to create, ~10 ms for the first ``finalize_object`` of a
process), where the objects the JIT emits need very little: a few sections
(``.ltext``, ``.rodata.cst*``, sometimes data), relocations of a handful of
kinds (LLVM's JIT code model is the large one, so mostly absolute 64-bit
ones) and, at most, libm/libc symbols.  ``link`` does exactly that in
~0.2 ms with ``ctypes``: it plans every section and relocation first
(bounds-checked against the object), maps one anonymous region, builds the
region's bytes (sections, relocations patched) in a bytearray, copies them in
with one memmove, then makes code read+execute and constants read-only
(never writable and executable at once).

Anything outside what it understands -- another machine or ELF class, a
relocation kind not listed in ``_APPLY``, an undefined symbol the process
cannot resolve, a common symbol, constructors to run -- raises
``UnsupportedObject`` *before* anything is mapped, and the caller links with
RuntimeDyld instead, so this path is never less correct than that one.
Unwind tables (``.eh_frame``) are not loaded: dxpy's compiled code neither
throws nor is unwound through (RuntimeDyld's registration serves debuggers).
The region is never unmapped: compiled functions live as long as the process,
as they do in the MCJIT engine.
"""

from __future__ import annotations

import ctypes
import mmap
import os
import struct
from typing import Callable, NamedTuple

_EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
_SHDR = struct.Struct("<IIQQQQIIQQ")
_SYM = struct.Struct("<IBBHQQ")
_RELA = struct.Struct("<QQq")
_EM_X86_64 = 62
_ET_REL = 1
_SHT_SYMTAB, _SHT_RELA, _SHT_NOBITS, _SHT_REL = 2, 4, 8, 9
#: section types that must not be ignored: code we would have to run at load time
_SHT_REFUSED = {14: "init_array", 15: "fini_array", 16: "preinit_array"}
_SHT_X86_64_UNWIND = 0x70000001
_SHF_WRITE, _SHF_ALLOC, _SHF_EXECINSTR = 0x1, 0x2, 0x4
_SHN_UNDEF, _SHN_LORESERVE, _SHN_ABS, _SHN_COMMON = 0, 0xFF00, 0xFFF1, 0xFFF2
_STT_SECTION = 3
_STB_LOCAL = 0
_PAGE = mmap.PAGESIZE
#: ``jmp *0(%rip)`` followed by the 8-byte target: reaches any address from a call site
_STUB_CODE = b"\xff\x25\x00\x00\x00\x00"
_STUB_SIZE = 16

# x86-64 relocation kinds: number -> (width in bytes, PC-relative, signed range check)
_R_64, _R_PC32, _R_GOTPCREL, _R_PLT32, _R_32, _R_32S, _R_PC64 = 1, 2, 9, 4, 10, 11, 24
_R_GOTPCRELX, _R_REX_GOTPCRELX = 41, 42
_GOT_KINDS = (_R_GOTPCREL, _R_GOTPCRELX, _R_REX_GOTPCRELX)
_APPLY = {_R_64: 8, _R_PC64: 8, _R_PC32: 4, _R_PLT32: 4, _R_32: 4, _R_32S: 4,
          _R_GOTPCREL: 4, _R_GOTPCRELX: 4, _R_REX_GOTPCRELX: 4}


class UnsupportedObject(Exception):
    """The object needs something ``link`` does not do (link it with RuntimeDyld)."""


class _Section(NamedTuple):
    index: int
    data: bytes | None  # None: zero-filled (.bss)
    size: int
    align: int
    group: int  # 0 code (r-x), 1 constants (r--), 2 data (rw-)


class _Symbol(NamedTuple):
    name: str
    shndx: int
    value: int
    local: bool
    kind: int


class _Reloc(NamedTuple):
    section: int  # index of the section patched
    offset: int
    kind: int
    symbol: int
    addend: int


def host_supported() -> bool:
    """Whether this process can run x86-64 code linked here (Linux x86-64 only)."""
    return os.uname().machine in ("x86_64", "amd64") and hasattr(mmap, "MAP_ANONYMOUS")


def link(obj: bytes, symbols: list[str]) -> list[int]:
    """Load ``obj`` into executable memory and return the addresses of ``symbols``
    (raises ``UnsupportedObject`` with the reason when it cannot, leaving nothing mapped)."""
    if not host_supported():
        raise UnsupportedObject(f"no object loader for {os.uname().machine}")
    try:
        sections, syms, relocs = _parse(obj)
    except (struct.error, IndexError, ValueError, UnicodeDecodeError) as exc:
        raise UnsupportedObject(f"malformed ELF object ({exc})") from None
    exports = _exports(syms, symbols)
    externals = _resolve_externals(syms, relocs)
    plan = _layout(sections, syms, relocs)
    base = _map(plan.size)
    try:
        address = _addresser(syms, {i: base + off for i, off in plan.sections.items()},
                             externals)
        image = _image(sections, relocs, plan, base, address)
        ctypes.memmove(base, image, len(image))
        for start, stop, prot in plan.protections:
            if _c_library().mprotect(base + start, stop - start, prot) != 0:
                raise UnsupportedObject(f"mprotect: {os.strerror(ctypes.get_errno())}")
    except BaseException:
        _c_library().munmap(base, plan.size)
        raise
    return [address(index) for index in exports]


def _image(sections: list[_Section], relocs: list[_Reloc], plan: _Plan, base: int,
           address: Callable[[int], int]) -> bytes:
    """The region's bytes as they must be at ``base``: sections, GOT slots, jump stubs,
    every relocation applied (built in a bytearray, then copied in with one memmove)."""
    image = bytearray(plan.size)
    for section in sections:
        if section.data:
            offset = plan.sections[section.index]
            image[offset:offset + len(section.data)] = section.data
    for symbol, slot in plan.got.items():
        struct.pack_into("<Q", image, slot, address(symbol))
    for symbol, slot in plan.stubs.items():
        image[slot:slot + len(_STUB_CODE)] = _STUB_CODE
        struct.pack_into("<Q", image, slot + len(_STUB_CODE), address(symbol))
    for reloc in relocs:
        _apply(reloc, image, plan.sections[reloc.section] + reloc.offset, base, address, plan)
    return bytes(image)


def _parse(obj: bytes) -> tuple[list[_Section], list[_Symbol], list[_Reloc]]:
    """The object's loadable sections, symbols and relocations (nothing mapped yet)."""
    ident, etype, machine, _, _, _, shoff, _, _, _, _, shentsize, shnum, shstrndx = \
        _EHDR.unpack_from(obj)
    if ident[:4] != b"\x7fELF" or ident[4] != 2 or ident[5] != 1:
        raise UnsupportedObject("not a little-endian ELF64 object")
    if etype != _ET_REL or machine != _EM_X86_64:
        raise UnsupportedObject(f"ELF type {etype}, machine {machine}: not an x86-64 "
                                f"relocatable object")
    if shentsize != _SHDR.size or shnum == 0:
        raise UnsupportedObject("unexpected section header size")
    headers = [_SHDR.unpack_from(obj, shoff + i * _SHDR.size) for i in range(shnum)]
    names = _strtab(obj, headers[shstrndx])
    sections, symtab, relas = [], None, []
    for index, (name_at, kind, flags, _, offset, size, link_, info, align, _) in \
            enumerate(headers):
        name = _cstring(names, name_at)
        if kind in _SHT_REFUSED:
            raise UnsupportedObject(f"section {name} ({_SHT_REFUSED[kind]}) needs running")
        if kind == _SHT_REL:
            raise UnsupportedObject(f"REL section {name} (x86-64 objects use RELA)")
        if kind == _SHT_SYMTAB:
            symtab = (offset, size, headers[link_])
        elif kind == _SHT_RELA:
            relas.append((info, offset, size))
        elif flags & _SHF_ALLOC and size and kind != _SHT_X86_64_UNWIND \
                and name != ".eh_frame":
            data = None if kind == _SHT_NOBITS else obj[offset:offset + size]
            if data is not None and len(data) != size:
                raise UnsupportedObject(f"section {name} runs past the end of the object")
            group = 0 if flags & _SHF_EXECINSTR else 2 if flags & _SHF_WRITE else 1
            sections.append(_Section(index, data, size, max(align, 1), group))
    if symtab is None:
        raise UnsupportedObject("no symbol table")
    syms = _symbols(obj, *symtab)
    loaded = {s.index: s.size for s in sections}
    relocs = [r for target, offset, size in relas if target in loaded
              for r in _relocations(obj, target, offset, size)]
    for r in relocs:
        if r.kind not in _APPLY:
            raise UnsupportedObject(f"relocation kind {r.kind} is not handled here")
        if r.symbol >= len(syms) or r.offset + _APPLY[r.kind] > loaded[r.section]:
            raise UnsupportedObject("relocation outside its section or symbol table")
        target = syms[r.symbol]
        if target.shndx == _SHN_COMMON:
            raise UnsupportedObject(f"common symbol {target.name}")
        if target.shndx not in (_SHN_UNDEF, _SHN_ABS) and target.shndx not in loaded:
            raise UnsupportedObject(f"relocation against an unloaded section ({target.name})")
    return sections, syms, relocs


def _strtab(obj: bytes, header: tuple) -> bytes:
    offset, size = header[4], header[5]
    table = obj[offset:offset + size]
    if len(table) != size:
        raise UnsupportedObject("string table runs past the end of the object")
    return table


def _cstring(table: bytes, at: int) -> str:
    end = table.index(b"\0", at)
    return table[at:end].decode("utf-8")


def _symbols(obj: bytes, offset: int, size: int, strings: tuple) -> list[_Symbol]:
    table = _strtab(obj, strings)
    out = []
    for at in range(offset, offset + size - _SYM.size + 1, _SYM.size):
        name_at, info, _, shndx, value, _ = _SYM.unpack_from(obj, at)
        out.append(_Symbol(_cstring(table, name_at), shndx, value, info >> 4 == _STB_LOCAL,
                           info & 0xF))
    return out


def _relocations(obj: bytes, target: int, offset: int, size: int) -> list[_Reloc]:
    out = []
    for at in range(offset, offset + size - _RELA.size + 1, _RELA.size):
        r_offset, r_info, addend = _RELA.unpack_from(obj, at)
        out.append(_Reloc(target, r_offset, r_info & 0xFFFFFFFF, r_info >> 32, addend))
    return out


def _resolve_externals(syms: list[_Symbol], relocs: list[_Reloc]) -> dict[int, int]:
    """Process addresses (``dlsym``) of the undefined symbols the relocations name."""
    wanted = {r.symbol for r in relocs if r.symbol and syms[r.symbol].shndx == _SHN_UNDEF}
    if not wanted:
        return {}
    process = _c_library()  # dlopen(NULL): the process and every library it has loaded
    out = {}
    for index in wanted:
        name = syms[index].name
        try:
            out[index] = ctypes.cast(getattr(process, name), ctypes.c_void_p).value or 0
        except AttributeError:
            raise UnsupportedObject(f"symbol {name!r} is not in this process") from None
        if not out[index]:
            raise UnsupportedObject(f"symbol {name!r} resolves to NULL")
    return out


class _Plan(NamedTuple):
    sections: dict[int, int]  # section index -> offset in the region
    got: dict[int, int]  # symbol index -> offset of its GOT slot
    stubs: dict[int, int]  # symbol index -> offset of its jump stub
    protections: list[tuple[int, int, int]]  # (start, stop, prot) page ranges
    size: int


def _layout(sections: list[_Section], syms: list[_Symbol], relocs: list[_Reloc]) -> _Plan:
    """Where everything goes: code and jump stubs (one per external a 32-bit call may not
    reach) on r-x pages, constants and GOT slots on r-- pages, data on rw- pages."""
    offsets: dict[int, int] = {}
    got_symbols = sorted({r.symbol for r in relocs if r.kind in _GOT_KINDS})
    stub_symbols = sorted({r.symbol for r in relocs
                           if r.kind == _R_PLT32 and syms[r.symbol].shndx == _SHN_UNDEF})
    stubs: dict[int, int] = {}
    got: dict[int, int] = {}
    protections = []
    end = 0
    for group, prot in ((0, mmap.PROT_READ | mmap.PROT_EXEC), (1, mmap.PROT_READ),
                        (2, mmap.PROT_READ | mmap.PROT_WRITE)):
        start = end
        for section in (s for s in sections if s.group == group):
            end = -(-end // section.align) * section.align
            offsets[section.index] = end
            end += section.size
        extra = stub_symbols if group == 0 else got_symbols if group == 1 else []
        slot_size = _STUB_SIZE if group == 0 else 8
        end = -(-end // slot_size) * slot_size
        for symbol in extra:
            (stubs if group == 0 else got)[symbol] = end
            end += slot_size
        end = -(-end // _PAGE) * _PAGE
        if end > start:
            protections.append((start, end, prot))
    return _Plan(offsets, got, stubs, protections, max(end, _PAGE))


_libc: ctypes.CDLL | None = None


def _c_library() -> ctypes.CDLL:
    global _libc
    if _libc is None:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.mmap.restype = ctypes.c_void_p
        libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                              ctypes.c_int, ctypes.c_long]
        libc.mprotect.restype = ctypes.c_int
        libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        libc.munmap.restype = ctypes.c_int
        libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
        _libc = libc
    return _libc


def _map(size: int) -> int:
    libc = _c_library()
    address = libc.mmap(None, size, mmap.PROT_READ | mmap.PROT_WRITE,
                        mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, -1, 0)
    if address in (None, ctypes.c_void_p(-1).value):
        raise UnsupportedObject(f"mmap failed: {os.strerror(ctypes.get_errno())}")
    return address


def _addresser(syms: list[_Symbol], bases: dict[int, int], externals: dict[int, int]
               ) -> Callable[[int], int]:
    """symbol index -> its run-time address."""
    def address(index: int) -> int:
        if index in externals:
            return externals[index]
        sym = syms[index]
        if sym.shndx == _SHN_ABS:
            return sym.value
        return bases[sym.shndx] + (0 if sym.kind == _STT_SECTION else sym.value)
    return address


def _apply(reloc: _Reloc, image: bytearray, at: int, base: int,
           address: Callable[[int], int], plan: _Plan) -> None:
    """Patch one relocation at offset ``at`` of the region that will sit at ``base``
    (x86-64 psABI: S + A, S + A - P, G + GOT + A - P)."""
    place = base + at
    kind, target = reloc.kind, address(reloc.symbol)
    if kind in (_R_64, _R_PC64):
        value = target + reloc.addend - (place if kind == _R_PC64 else 0)
        struct.pack_into("<Q", image, at, value % 2 ** 64)
        return
    if kind in _GOT_KINDS:
        value = base + plan.got[reloc.symbol] + reloc.addend - place
    elif kind in (_R_PC32, _R_PLT32):
        value = target + reloc.addend - place
        if not -2 ** 31 <= value < 2 ** 31 and reloc.symbol in plan.stubs:
            value = base + plan.stubs[reloc.symbol] + reloc.addend - place
    else:  # R_X86_64_32 (zero-extended) / R_X86_64_32S (sign-extended): absolute
        value = target + reloc.addend
    low, high = (0, 2 ** 32) if kind == _R_32 else (-2 ** 31, 2 ** 31)
    if not low <= value < high:
        raise UnsupportedObject(f"relocation kind {kind} against {reloc.symbol}: "
                                f"value out of 32-bit range")
    struct.pack_into("<I", image, at, value % 2 ** 32)


def _exports(syms: list[_Symbol], names: list[str]) -> list[int]:
    """Indices of the global symbols ``names`` the object defines."""
    found = {s.name: i for i, s in enumerate(syms)
             if not s.local and s.shndx not in (_SHN_UNDEF, _SHN_COMMON)}
    missing = [n for n in names if n not in found]
    if missing:
        raise UnsupportedObject(f"object defines no {missing}")
    return [found[n] for n in names]
