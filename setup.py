"""Build hook: compile the optional io_uring cffi extension.

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
            self._warn(exc)

    @staticmethod
    def _warn(exc: Exception) -> None:
        print(f"dxpy: io_uring extension not built ({exc}); the epoll backend will be used")


def _extensions() -> list:
    # Load the build script by path: importing the dxpy package itself at
    # build time would pull in the whole runtime.
    path = Path(__file__).parent / "dxpy" / "reactor" / "_uring_build.py"
    try:
        spec = importlib.util.spec_from_file_location("_dxpy_uring_build", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        ffibuilder = module.ffibuilder
    except Exception as exc:  # noqa: BLE001 - cffi missing at build time
        print(f"dxpy: cannot prepare io_uring extension: {exc}")
        return []
    return [ffibuilder.distutils_extension()]


setup(ext_modules=_extensions(), cmdclass={"build_ext": OptionalBuildExt})
