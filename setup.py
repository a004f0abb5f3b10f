"""Build hook: compile the optional cffi extensions (io_uring, SIMD kernels).

The extension is optional by design: if liburing or its headers are missing,
the build prints why and the package still installs; `dxpy info` then reports
the epoll backend and the reason io_uring is unavailable.
"""
import importlib.util
from pathlib import Path

from setuptools import setup
from setuptools.command.build_ext import build_ext


class OptionalBuildExt(build_ext):
    """Build extensions, but never fail the install because of one."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # noqa: BLE001 - any compiler/linker failure
            self._warn(exc)

    def build_extension(self, ext) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:  # noqa: BLE001
            self._warn(exc, ext.name)

    @staticmethod
    def _warn(exc: Exception, name: str | None = None) -> None:
        if name is None:
            print(f"dxpy: optional extensions incomplete ({exc}); the package falls back where one is missing")
            return
        print(f"dxpy: extension {name} not built ({exc}); {_FALLBACKS[name]}")


_FALLBACKS = {
    "dxpy.reactor._uring": "the epoll backend will be used",
    "dxpy.core.compiled": "the pure-Python loop core will be used",
    "dxpy.simd._native": "dxpy.simd uses its NumPy and scalar engines",
    "dxpy.simd._front": "dxpy.simd's string functions are the pure-Python ones",
    "dxpy.simd._listfront": "SimdList's methods are the pure-Python ones",
    "dxpy.jit._dispatch": "the JIT calls compiled code through cffi",
    "dxpy.ipc._atomics": "Entangled values use their OFD-lock protocol",
    "dxpy.aio._lookup": "dxpy.aio.os batches every call (no dentry-cache answers on the loop's thread)",
    "dxpy.aio._pagecache": "dxpy.aio's page-cache reads use os.preadv (the same results, ~5 us more per read)",
}


_BUILD_SCRIPTS = (("io_uring", "dxpy/reactor/_uring_build.py"),
                  ("SIMD", "dxpy/simd/_native_build.py"),
                  ("dentry-cache lookup", "dxpy/aio/_lookup_build.py"))
"""Optional cffi extensions: (what it is, its build script)."""


def _extensions() -> list:
    cffi = [ext for what, script in _BUILD_SCRIPTS if (ext := _extension(what, script)) is not None]
    return cffi + _cython_extensions()


def _cython_extensions() -> list:
    """The compiled loop core (Cython, as uvloop is); without Cython the
    pure-Python core runs (``dxpy info`` says which)."""
    try:
        from Cython.Build import cythonize
    except ImportError as exc:
        print(f"dxpy: compiled loop core not built ({exc}); the pure-Python core will be used")
        return []
    return cythonize(["dxpy/core/compiled.pyx"], quiet=True,
                     compiler_directives={"language_level": "3"})


def _extension(what: str, script: str):
    # Load the build script by path: importing the dxpy package itself at
    # build time would pull in the whole runtime.
    path = Path(__file__).parent / script
    try:
        spec = importlib.util.spec_from_file_location(f"_dxpy_build_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module.ffibuilder.distutils_extension()
    except Exception as exc:  # noqa: BLE001 - cffi missing at build time
        print(f"dxpy: cannot prepare {what} extension: {exc}")
        return None


def _jit_dispatcher() -> list:
    """The JIT's C dispatcher: plain C API, no headers beyond Python's."""
    from setuptools import Extension
    return [Extension("dxpy.jit._dispatch", ["dxpy/jit/_dispatch.c"])]


def _ipc_atomics() -> list:
    """Entangled's 16-byte compare-and-swap: plain C API, no headers beyond Python's."""
    from setuptools import Extension
    return [Extension("dxpy.ipc._atomics", ["dxpy/ipc/atomics.c"])]


def _simd_front() -> list:
    """dxpy.simd's entry points for small calls: plain C API (dxpy/simd/front.py, list_front.py)."""
    from setuptools import Extension
    return [Extension("dxpy.simd._front", ["dxpy/simd/_front.c"]),
            Extension("dxpy.simd._listfront", ["dxpy/simd/_listfront.c"])]


def _aio_pagecache() -> list:
    """dxpy.aio's page-cache read into a new bytes object: plain C API (dxpy/aio/_large.py)."""
    from setuptools import Extension
    return [Extension("dxpy.aio._pagecache", ["dxpy/aio/_pagecache.c"])]


setup(ext_modules=_extensions() + _jit_dispatcher() + _ipc_atomics() + _simd_front()
      + _aio_pagecache(),
      cmdclass={"build_ext": OptionalBuildExt})
