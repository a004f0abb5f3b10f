"""The persistent cache of ``@dxpy.jit`` machine code (``@dxpy.jit(cache=True)``).

The seam with the JIT is one function, ``cached_compile(dispatcher, sig,
compile_signature)``, which ``Dispatcher.compile`` calls instead of
``compile_signature`` when caching is on.  A hit links the stored object with
``dxpy.cache.objload`` (an ELF loader in ``ctypes``: LLVM is neither imported nor
run, the first call of a cached kernel costs well under a millisecond), or
with the engine's RuntimeDyld where that loader declines the object (another
CPU architecture, a relocation it does not know); the statuses the entry can
return go to ``dxpy.jit.engine.record_statuses`` either way.  A miss compiles through ``compile_signature(..., object_sink=...)``, which
emits the module as a relocatable object, loads *that* and hands it here to
be stored, so the cached code is byte for byte the code that ran.

**The key** is BLAKE3 over: the function's source file bytes and its
marshalled code object (any edit to the file invalidates), a fingerprint of
every global, closure cell and default the code can name (constants by
value, modules by name and version, other ``@jit`` functions and plain
functions recursively by the same fingerprint; anything else makes the
function uncacheable), the argument-type signature, the CPU (its model and
flag lines in ``/proc/cpuinfo``), llvmlite's version and its library files,
dxpy's version and the JIT's own source files (size and mtime; see
``toolchain``).  The entry symbol is named after the key, so
objects loaded into one process never clash (equal names mean equal code).

**Files**: ``<cache dir>/jit/<key>.dxj`` = ``"DXJ1" | u32 crc32 | u32 meta
length | meta | object``, written to a temporary file and renamed.  The
meta (entry symbols, their statuses, result type...) is a pickle read by an
unpickler that only builds ``dxpy.jit.types`` classes and builtin
containers.  A damaged or foreign file is dropped with one warning and the
function is compiled again.  Loading touches the file's mtime (unless it is
younger than a minute); after each
store, entries beyond ``DXPY_CACHE_MAX`` bytes are removed, least recently
used first.
"""

from __future__ import annotations

import io
import marshal
import os
import pickle
import struct
import time
import types
import zlib
from dataclasses import dataclass
from typing import Any, Callable

from blake3 import blake3  # here, not at the first call: its import is half the budget

from . import config, objload

FORMAT = 1
MAGIC = b"DXJ1"
_HEAD = struct.Struct("<4sII")
_SUFFIX = ".dxj"
#: an entry used again within this long is not touched again (a metadata write saved
#: on the first call; eviction order is exact to this much)
LRU_RESOLUTION_NS = 60 * 10 ** 9
_MISSING = object()
_file_hashes: dict[str, bytes | None] = {}
_toolchain: bytes | None = None
_features: str | None = None
_identity: str | None | bool = False  # False: not known yet


def jit_dir() -> str:
    return os.path.join(config.cache_dir(), "jit")


# -- host CPU features ------------------------------------------------------------
def host_cpu_features() -> str:
    """LLVM's host feature string, which llvmlite takes ~10 ms to compute; kept in the
    cache directory per (LLVM version, CPU name, the kernel's CPU flags line)."""
    global _features
    if _features is None:
        _features = _cached_features()
    return _features


def _cached_features() -> str:
    import llvmlite.binding as llvm

    identity = _cpu_identity()
    if identity is None or not config.enabled():
        return llvm.get_host_cpu_features().flatten()
    ident = f"{llvm.llvm_version_info}|{llvm.get_host_cpu_name()}|{identity}"
    path = os.path.join(jit_dir(), f"host-{blake3(ident.encode()).hexdigest()[:24]}")
    try:
        with open(path, "rb") as f:
            stored = f.read().decode("utf-8")
        if stored and all(part[:1] in ("+", "-") for part in stored.split(",")):
            return stored
    except (OSError, UnicodeDecodeError):
        pass
    features = llvm.get_host_cpu_features().flatten()
    _write_atomic(path, features.encode("ascii"))
    return features


def _cpu_identity() -> str | None:
    """A digest of the first CPU's model and flag lines in /proc/cpuinfo (None where
    there is no such file), remembered per boot in the cache directory.

    Why per boot: reading /proc/cpuinfo makes the kernel sample each CPU's clock
    (0.1 ms, and several ms when a busy machine must wake a vCPU for it: seen
    here), more than the rest of a cached first call; and the CPU cannot change
    without a reboot (a live-migrated VM keeps the CPUID it booted with)."""
    global _identity
    if _identity is False:
        _identity = _identity_this_boot()
    return _identity  # type: ignore[return-value]


def _identity_this_boot() -> str | None:
    boot = (_read_text("/proc/sys/kernel/random/boot_id") or "").strip()
    path = None
    if boot and config.enabled() and all(c in "0123456789abcdef-" for c in boot):
        path = os.path.join(jit_dir(), f"cpu-{boot}")
        stored = _read_text(path)
        if stored and len(stored) == 64 and all(c in "0123456789abcdef" for c in stored):
            return stored
    lines = _cpuinfo_lines()
    if lines is None:
        return None
    identity = blake3(lines.encode()).hexdigest()
    if path is not None and _write_atomic(path, identity.encode("ascii")):
        for name in os.listdir(jit_dir()):  # earlier boots' files
            if name.startswith("cpu-") and name != os.path.basename(path):
                _remove(os.path.join(jit_dir(), name))
    return identity


def _cpuinfo_lines() -> str | None:
    """The first CPU's model and flag lines from /proc/cpuinfo (None elsewhere)."""
    first = (_read_text("/proc/cpuinfo") or "").split("\n\n", 1)[0]
    keep = ("model name", "flags", "Features", "CPU implementer", "CPU part", "vendor_id")
    lines = [line for line in first.splitlines() if line.split(":")[0].strip() in keep]
    return "\n".join(lines) or None


def _read_text(path: str) -> str | None:
    found = _read(path)
    return None if found is None else found[0].decode("utf-8", "replace")


def _read(path: str) -> tuple[bytes, int] | None:
    """The file's bytes and mtime (ns), or None; ``os.read`` on the descriptor, not
    ``open()``: this runs on a cached kernel's first call, where io's buffered file
    object costs several times more than the read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        mtime = os.fstat(fd).st_mtime_ns
        chunks = []
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
        return b"".join(chunks), mtime
    except OSError:
        return None
    finally:
        os.close(fd)


# -- keys -------------------------------------------------------------------------
def prepare_key(func: Any) -> None:
    """Take the parts of ``func``'s key that no call changes, when the decorator runs:
    the toolchain fingerprint (once per process) and the hash of the source file,
    which then is the source the function was loaded from (numba's ``cache=True``
    also stats its source at decoration).  ``cache_key`` at the first call does only
    the rest; a failure here is left for that call to meet and report."""
    if not config.enabled():
        return
    try:
        toolchain()
        code = getattr(func, "__code__", None)
        if code is not None:
            _file_hash(code.co_filename)
    except OSError:
        return


def cache_key(dispatcher: Any, sig: tuple[Any, ...]) -> bytes | None:
    """The key of ``dispatcher``'s code for ``sig``, or None if it cannot be cached."""
    fingerprint = _function_fingerprint(dispatcher.py_func, set())
    if fingerprint is None:
        return None
    return blake3(marshal.dumps((FORMAT, toolchain(), repr(sig), fingerprint))).digest()


def toolchain() -> bytes:
    """What compiled code depends on beyond the function: CPU, LLVM, dxpy and its JIT.

    Why not ask LLVM (its version, host CPU name and features): that means importing
    ``llvmlite.binding`` (20-150 ms), which a warm cache otherwise never needs.  The
    same facts are pinned without it: llvmlite's version and its shared library's
    size and mtime stand for the LLVM build (llvmlite's Python side for its version),
    the kernel's CPU model and flag lines for what LLVM would detect on them (where
    ``/proc/cpuinfo`` is missing, LLVM is asked after all)."""
    global _toolchain
    if _toolchain is None:
        import llvmlite

        from .. import __version__
        from ..jit import __file__ as jit_init

        cpu = _cpu_identity() or _llvm_host()
        llvm_dir = os.path.join(os.path.dirname(llvmlite.__file__), "binding")
        _toolchain = marshal.dumps((__version__, llvmlite.__version__, cpu,
                                    _stamps(llvm_dir, _LIBRARIES),
                                    _stamps(os.path.dirname(jit_init), (".py", ".c"))))
    return _toolchain


_LIBRARIES = (".so", ".dylib", ".dll")


def _stamps(directory: str, suffixes: tuple[str, ...]) -> list[tuple[str, int, int]]:
    """(name, size, mtime) of the files in ``directory`` ending in one of ``suffixes``:
    what a reinstall or an edit changes."""
    found = []
    for entry in os.scandir(directory):
        if entry.name.endswith(suffixes):
            st = entry.stat()
            found.append((entry.name, st.st_size, st.st_mtime_ns))
    return sorted(found)


def _llvm_host() -> str:
    import llvmlite.binding as llvm

    return f"{llvm.get_host_cpu_name()}|{host_cpu_features()}"


def _function_fingerprint(func: Any, seen: set[int]) -> tuple | None:
    code = getattr(func, "__code__", None)
    if code is None:
        return None
    if id(func) in seen:
        return ("recursive", code.co_qualname)
    seen.add(id(func))
    source = _file_hash(code.co_filename)
    if source is None:
        return None
    namespace = func.__globals__
    builtins = namespace.get("__builtins__", {})
    builtins = vars(builtins) if isinstance(builtins, types.ModuleType) else builtins
    named = [(name, namespace.get(name, builtins.get(name, _MISSING)))
             for name in sorted(_names(code))]
    named += [(name, _cell(cell)) for name, cell in zip(code.co_freevars, func.__closure__ or ())]
    named += [("defaults", func.__defaults__),
              ("kwdefaults", tuple(sorted((func.__kwdefaults__ or {}).items())))]
    values = [(name, _value_fingerprint(value, seen)) for name, value in named]
    if any(fingerprint is None for _, fingerprint in values):
        return None
    try:
        code_bytes = marshal.dumps(code)
    except ValueError:  # object constants (a DPB function's entry or forwarder code): no key
        return None
    return (source, code_bytes, tuple(values))


def _names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names(const)
    return names


def _cell(cell: Any) -> Any:
    try:
        return cell.cell_contents
    except ValueError:
        return _MISSING


def _value_fingerprint(value: Any, seen: set[int]) -> tuple | None:
    """What a global means for compiled code; None: nothing safe to key on."""
    if value is _MISSING:
        return ("missing",)
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes)):
        return ("const", type(value).__name__, repr(value))
    if isinstance(value, tuple):
        items = [_value_fingerprint(v, seen) for v in value]
        return None if None in items else ("tuple", tuple(items))
    if isinstance(value, types.ModuleType):
        return ("module", value.__name__, str(getattr(value, "__version__", "")))
    if getattr(value, "_dxpy_jit_dispatcher", False) is True:
        inner = _function_fingerprint(value.py_func, seen)
        return None if inner is None else ("jit", inner)
    if isinstance(value, types.FunctionType):
        inner = _function_fingerprint(value, seen)
        return None if inner is None else ("function", inner)
    if isinstance(value, (types.BuiltinFunctionType, type)) or type(value).__name__ == "ufunc":
        return ("callable", getattr(value, "__module__", None) or "",
                getattr(value, "__qualname__", getattr(value, "__name__", repr(value))))
    return None


def _file_hash(path: str) -> bytes | None:
    if path not in _file_hashes:
        try:
            with open(path, "rb") as f:
                _file_hashes[path] = blake3(f.read()).digest()
        except OSError:
            _file_hashes[path] = None
    return _file_hashes[path]


# -- entries ----------------------------------------------------------------------
@dataclass
class CachedTyping:
    """The part of the inferred ``TypedFunction`` a compiled version uses at call time."""

    return_type: Any
    argnames: list[str]
    stored_params: frozenset[str]
    arrays_to_callees: bool


class _TypesOnly(pickle.Unpickler):
    """Unpickles the meta of an entry: JIT types and builtin containers only."""

    def find_class(self, module: str, name: str) -> Any:
        if module == "dxpy.jit.types" or (module == "builtins" and name in
                                           ("frozenset", "set", "tuple", "list", "dict")):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a JIT cache entry")


def _entry_path(key: bytes) -> str:
    return os.path.join(jit_dir(), key.hex() + _SUFFIX)


def load(key: bytes) -> tuple[dict[str, Any], bytes] | None:
    """(meta, object) stored under ``key``, or None (absent, or damaged: warned, removed)."""
    path = _entry_path(key)
    found = _read(path)
    if found is None:
        return None
    raw, mtime_ns = found
    try:
        magic, crc, meta_length = _HEAD.unpack_from(raw)
        body = raw[_HEAD.size:]
        if magic != MAGIC or zlib.crc32(body) != crc or meta_length > len(body):
            raise ValueError("checksum or header mismatch")
        meta = _TypesOnly(io.BytesIO(body[:meta_length])).load()
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise ValueError("not a dxpy JIT cache entry of this format")
    except (struct.error, ValueError, pickle.UnpicklingError, EOFError, TypeError) as exc:
        config.warn_once(f"jit:{path}", f"{path} is damaged ({exc}); dropped, recompiling")
        _remove(path)
        return None
    if time.time_ns() - mtime_ns > LRU_RESOLUTION_NS:  # least recently used = oldest mtime
        try:
            os.utime(path)
        except OSError:
            pass
    return meta, body[meta_length:]


def save(key: bytes, result: Any, obj: bytes, statuses: dict[str, Any]) -> None:
    """Store ``result``'s object code; then keep the directory under the size cap."""
    typed = result.typed
    symbols = [result.symbol] + ([result.symbol + ".packed"]
                                 if result.packed_address is not None else [])
    meta = {"format": FORMAT, "symbols": symbols, "statuses": statuses,
            "stores_arrays": result.stores_arrays, "return_type": typed.return_type,
            "argnames": list(typed.argnames), "stored_params": frozenset(typed.stored_params),
            "arrays_to_callees": bool(typed.arrays_to_callees)}
    blob = pickle.dumps(meta, protocol=pickle.HIGHEST_PROTOCOL)
    body = blob + obj
    if _write_atomic(_entry_path(key), _HEAD.pack(MAGIC, zlib.crc32(body), len(blob)) + body):
        evict(config.max_bytes())


def evict(max_bytes: int) -> list[str]:
    """Remove least recently used entries until the rest fit in ``max_bytes``."""
    directory = jit_dir()
    try:
        names = [n for n in os.listdir(directory) if n.endswith(_SUFFIX)]
    except OSError:
        return []
    entries = []
    for name in names:
        try:
            st = os.stat(os.path.join(directory, name))
        except OSError:
            continue
        entries.append((st.st_mtime_ns, st.st_size, name))
    entries.sort(reverse=True)  # newest first
    removed, total = [], 0
    for _, size, name in entries:
        total += size
        if total > max_bytes:
            _remove(os.path.join(directory, name))
            removed.append(name)
    return removed


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _write_atomic(path: str, data: bytes) -> bool:
    """Write-then-rename; False (and one warning) where the directory refuses."""
    directory = os.path.dirname(path)
    if not config.ensure_dir(directory):
        return False
    temp = f"{path}.{os.getpid()}.tmp"
    try:
        with open(temp, "wb") as f:
            f.write(data)
        os.replace(temp, path)
    except OSError as exc:
        _remove(temp)
        config.write_failed(path, exc)
        return False
    return True


# -- the seam -------------------------------------------------------------------------
def cached_compile(dispatcher: Any, sig: tuple[Any, ...],
                   compile_signature: Callable[..., Any]) -> Any:
    """``compile_signature(dispatcher, sig)``, served from / stored in the cache."""
    from ..jit.pipeline import CompileResult

    key = cache_key(dispatcher, sig) if config.enabled() else None
    if key is None:
        return compile_signature(dispatcher, sig)
    t0 = time.perf_counter()
    found = load(key)
    if found is not None:
        meta, obj = found
        addresses = _link(obj, meta["symbols"], meta["statuses"])
        typed = CachedTyping(meta["return_type"], meta["argnames"], meta["stored_params"],
                             meta["arrays_to_callees"])
        return CompileResult(typed, addresses[0], meta["symbols"][0],
                             addresses[1] if len(addresses) > 1 else None,
                             meta["stores_arrays"], {"cache load": time.perf_counter() - t0})
    captured: dict[str, Any] = {}
    result = compile_signature(
        dispatcher, sig, entry_symbol=f"{dispatcher.py_func.__name__}_{key.hex()[:20]}",
        object_sink=lambda obj, statuses: captured.update(obj=obj, statuses=statuses))
    if captured:
        save(key, result, captured["obj"], captured["statuses"])
    return result


def _link(obj: bytes, symbols: list[str], statuses: dict[str, Any]) -> list[int]:
    """Addresses of ``symbols`` in the stored object: linked by ``objload`` (no LLVM),
    or by the engine's RuntimeDyld where ``objload`` does not handle the object."""
    from ..jit import engine

    try:
        addresses = objload.link(obj, symbols)
    except objload.UnsupportedObject:
        return engine.get_engine().load_object(obj, symbols, statuses)
    engine.record_statuses(statuses)
    return addresses
