"""dxpy: an asyncio-native Python runtime on a platform-native reactor.

Public API (everything else is internal)::

    import dxpy
    dxpy.run(main())                 # like asyncio.run, on the dxpy loop
    dxpy.install()                   # dxpy becomes asyncio's policy
    asyncio.set_event_loop_policy(dxpy.Policy())
    loop = dxpy.new_event_loop()     # reactor="uring" | "epoll" | None
    async with dxpy.aio.open(path) as f: ...   # async files (io_uring ops)
    @dxpy.jit                        # compile a numeric function (dxpy/jit/)

Why every public name is a lazy attribute: ``import dxpy`` is on the start-up
path of every ``dxpy run``, and the loop pulls in asyncio, ssl and the
reactor (~50 ms), ``dxpy.aio`` cffi, ``dxpy.jit`` NumPy and llvmlite.  A
program pays for each only when it first touches the name.  To add a public
name, add it to ``_LAZY`` (name -> (module, attribute or None for the module
itself)) and to ``__all__``; ``tests/test_startup.py`` checks every entry.
"""

from __future__ import annotations

__version__ = "0.1.0"

#: public name -> (submodule relative to dxpy, attribute in it; None = the submodule)
_LAZY: dict[str, tuple[str, str | None]] = {
    "Loop": (".loop", "Loop"),
    "Policy": (".policy", "Policy"),
    "install": (".policy", "install"),
    "new_event_loop": (".policy", "new_event_loop"),
    "run": (".policy", "run"),
    "ReactorError": (".reactor.base", "ReactorError"),
    "aio": (".aio", None),
    "jit": (".jit", None),
}


def __getattr__(name: str) -> object:
    """Import a public name's module on first use and keep the value as a real
    attribute (later lookups never come back here)."""
    try:
        module_name, attribute = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'dxpy' has no attribute {name!r}") from None
    import importlib

    module = importlib.import_module(module_name, __name__)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = ["Loop", "Policy", "ReactorError", "__version__", "aio", "install", "jit",
           "new_event_loop", "run"]
