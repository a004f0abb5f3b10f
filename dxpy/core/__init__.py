"""The loop core: dxpy's per-event path, in two implementations with one semantics.

The per-event path is what a loop does for every callback and every message:
handles, the ready queue and the timer heap, one loop iteration, completion
dispatch, and the socket transport's data path.

* ``compiled`` (``compiled.pyx`` + ``handles.pxi``, ``lane.pxi``,
  ``stream.pxi``; built by Cython at install, as uvloop is): the default
  wherever it was built.
* ``python`` (``python.py``, with asyncio's own ``Handle`` and ``_run_once``
  and ``dxpy/transports/stream.py``): the reference, and the fallback where
  the extension could not be built.

``DXPY_CORE=python|compiled`` picks one for loops created without an explicit
``core=``; forcing ``compiled`` where it was not built is an error that says
why.  ``dxpy info`` names the active core.
"""

from __future__ import annotations

import importlib.util
import os

CORES = ("compiled", "python")

if importlib.util.find_spec(f"{__name__}.compiled") is None:
    _compiled = None  # not built: Cython or a C compiler was missing at install
    _WHY_NOT = ("the compiled loop core was not built (no dxpy.core.compiled extension: "
                "Cython or a C compiler was missing at install)")
else:
    try:
        from . import compiled as _compiled
    except ImportError as _exc:  # built for another Python, or a missing symbol
        _compiled = None
        _WHY_NOT = f"the compiled loop core does not load ({_exc})"
    else:
        _WHY_NOT = ""


def compiled_status() -> tuple[bool, str]:
    """Whether the compiled core is importable here, and if not, why."""
    return _compiled is not None, _WHY_NOT or "built (Cython extension dxpy.core.compiled)"


def resolve(core: str | None = None) -> str:
    """The core a new loop gets: ``core``, else ``$DXPY_CORE``, else the best built."""
    name = core if core is not None else os.environ.get("DXPY_CORE", "").strip().lower()
    if not name:
        return "compiled" if _compiled is not None else "python"
    if name not in CORES:
        raise ValueError(f"unknown loop core {name!r} (DXPY_CORE): expected one of "
                         f"{', '.join(CORES)}")
    if name == "compiled" and _compiled is None:
        raise RuntimeError(f"DXPY_CORE=compiled, but {_WHY_NOT}; reinstall dxpy with Cython "
                           "and a C compiler available, or use DXPY_CORE=python")
    return name


def core_mixin(name: str) -> type:
    """The class that puts core ``name`` in front of ``dxpy.Loop``'s MRO."""
    if name == "compiled":
        return _compiled.LoopCore
    from .python import PythonCore
    return PythonCore


__all__ = ["CORES", "compiled_status", "core_mixin", "resolve"]
