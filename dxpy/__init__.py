"""dxpy: an asyncio-native Python runtime on a platform-native reactor.

Public API (everything else is internal)::

    import dxpy
    dxpy.run(main())                 # like asyncio.run, on the dxpy loop
    dxpy.install()                   # dxpy becomes asyncio's policy
    asyncio.set_event_loop_policy(dxpy.Policy())
    loop = dxpy.new_event_loop()     # reactor="uring" | "epoll" | None
    async with dxpy.aio.open(path) as f: ...   # async files (io_uring ops)
    @dxpy.jit                        # compile a numeric function (dxpy/jit/)
"""

from . import aio
from .loop import Loop
from .policy import Policy, install, new_event_loop, run
from .reactor import ReactorError

__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    """``dxpy.jit`` is imported on first use: it pulls in NumPy and llvmlite (~90 ms),
    which programs that never compile anything should not pay for at startup."""
    if name == "jit":
        import importlib
        return importlib.import_module(".jit", __name__)
    raise AttributeError(f"module 'dxpy' has no attribute {name!r}")


__all__ = ["Loop", "Policy", "ReactorError", "__version__", "aio", "install", "jit",
           "new_event_loop", "run"]
