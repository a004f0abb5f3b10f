"""Name resolution for the DPB interpreter: globals and builtins (with the
LOAD_GLOBAL inline cache), the NAME ops of module and class bodies, cell and
free variables, and ``from ... import``.

Split out of ``interpreter.py`` because none of it is the dispatch loop: the
loop inlines the cache-hit case of ``load_global_cached`` and calls these for
everything else, with CPython's exact errors (NameError with ``name=``,
UnboundLocalError, ImportError naming the module's file).
"""

from __future__ import annotations

import builtins
import sys
from typing import TYPE_CHECKING, Any

from dxpy.vm.opcodes import Opcode as Op
from dxpy.vm.profile import GlobalCache

if TYPE_CHECKING:  # pragma: no cover
    from dxpy.vm.frames import PreparedCode as _Prepared


def builtins_of(globals_: dict[str, Any]) -> dict[str, Any]:
    table = globals_.get("__builtins__", builtins)
    return table if isinstance(table, dict) else vars(table)


def import_from(module: Any, name: str) -> Any:
    try:
        return getattr(module, name)
    except AttributeError:
        full = f"{getattr(module, '__name__', '?')}.{name}"
        if full in sys.modules:
            return sys.modules[full]
        raise ImportError(f"cannot import name {name!r} from {getattr(module, '__name__', '?')!r} "
                          f"({getattr(module, '__file__', None) or 'unknown location'})",
                          name=getattr(module, "__name__", None)) from None


def import_star(module: Any, namespace: dict[str, Any]) -> None:
    public = getattr(module, "__all__", None)
    if public is None:
        public = [n for n in vars(module) if not n.startswith("_")]
    for name in public:
        namespace[name] = getattr(module, name)


def load_global(key: str, globals_: dict[str, Any], builtins_: dict[str, Any]) -> Any:
    if key in globals_:
        return globals_[key]
    if key in builtins_:
        return builtins_[key]
    raise NameError(f"name {key!r} is not defined", name=key)


def load_global_cached(cache: GlobalCache, globals_: dict[str, Any], builtins_: dict[str, Any]) -> Any:
    """LOAD_GLOBAL through the site's inline cache (see ``GlobalCache``): exactly ``load_global``."""
    where, key = cache.where, cache.key
    if where is globals_:
        if key in globals_:
            cache.hits += 1
            return globals_[key]
    elif where is builtins_ and key not in globals_ and key in builtins_:
        cache.hits += 1
        return builtins_[key]
    if key in globals_:
        cache.remember(globals_, globals_, "globals")
        return globals_[key]
    if key in builtins_:
        cache.remember(globals_, builtins_, "builtins")
        return builtins_[key]
    cache.remember(globals_, None, "unresolved")
    raise NameError(f"name {key!r} is not defined", name=key)


def name_op(op: int, key: str, stack: list[Any], namespace: dict[str, Any] | None,
             globals_: dict[str, Any], builtins_: dict[str, Any]) -> None:
    """LOAD/STORE/DELETE_NAME against the locals mapping, then globals and builtins."""
    scope = namespace if namespace is not None else globals_
    if op == Op.STORE_NAME:
        scope[key] = stack.pop()
    elif op == Op.DELETE_NAME:
        if key not in scope:
            raise NameError(f"name {key!r} is not defined", name=key)
        del scope[key]
    elif key in scope:
        stack.append(scope[key])
    else:
        stack.append(load_global(key, globals_, builtins_))


def deref_op(frame: _Prepared, op: int, arg: int, stack: list[Any], cells: list[Any],
              namespace: dict[str, Any] | None) -> None:
    cell = cells[arg]
    if op == Op.LOAD_CLOSURE:
        stack.append(cell)
    elif op == Op.STORE_DEREF:
        cell.cell_contents = stack.pop()
    elif op == Op.LOAD_CLASSDEREF and namespace is not None and frame.derefnames[arg] in namespace:
        stack.append(namespace[frame.derefnames[arg]])
    else:
        try:
            value = cell.cell_contents
        except ValueError:
            raise unbound_deref(frame, arg) from None
        if op == Op.DELETE_DEREF:
            del cell.cell_contents
        else:
            stack.append(value)


def unbound_deref(frame: _Prepared, arg: int) -> Exception:
    variable = frame.derefnames[arg]
    if arg < frame.ncells:
        return UnboundLocalError(f"cannot access local variable {variable!r} where it is not "
                                 "associated with a value")
    return NameError(f"cannot access free variable {variable!r} where it is not associated "
                     "with a value in enclosing scope", name=variable)
