"""What the interpreter observes while it runs DPB code, for the JIT and for ``dxpy dis --annotated``.

One ``FunctionProfile`` per code object of a loaded program (closures made
from the same code share it): call and back-edge counts, the types of the
positional arguments, and per instruction site:

* ``sites``: type feedback.  Binary-operator and comparison sites record the
  operand type *pair* (each entry of ``SiteTypes.types`` is a
  ``(left type, right type)`` tuple); ``LOAD_ATTR``/``STORE_ATTR`` sites the
  receiver's type; ``CALL``/``CALL_KW`` sites the callee's type.
* ``branches``: taken / not-taken counts of every conditional jump.
* ``caches``: the inline caches of ``LOAD_ATTR`` (the same object as that
  pc's entry in ``sites``) and ``LOAD_GLOBAL`` sites, with hit/miss counts.

Sites are keyed by *pc* = the word index of the instruction, as the ``dis``
listing prints it.  A site keeps at most ``MAX_TYPES`` (4) types:
``uninit`` (never executed) -> ``mono`` (1) -> ``poly`` (2-4) -> ``mega``
(a 5th type was seen; the first four stay listed).

The recording rule ("record until stable"): while a code object records,
every execution of every site is checked and counted, nothing is sampled.
A code object stops recording once it has run ``stable_ticks`` ticks (calls
plus back-edges, default 1024) since any of its sites last changed (a
new type, a site going megamorphic); from then on its types, site counts,
branch counts and attribute-cache statistics stay as they were: a profile
describes exactly the executions up to that point.  That is when a JIT has
long since decided what to do with the code, and it is what keeps
profiling cheap on long runs (measured in ``benchmarks/vm_profile_bench.py``).
``DXPY_VM_PROFILE=full`` (or ``set_stable_ticks(None)``) records forever.
The common case, a type already seen, is an identity test and a counter
increment done inline in the dispatch loop.

Profiling (type feedback, branch counts, argument types, attribute-cache
statistics) is on unless the environment says ``DXPY_VM_PROFILE=0`` (or
``set_enabled(False)``): then the interpreter does none of it.  Call and
back-edge counts are always kept (tiering depends on them), and so are the
``LOAD_GLOBAL`` caches and their statistics (they are part of the lookup).

The JIT plugs in through ``set_tiering`` with an object implementing the
``Tiering`` protocol; see its docstring for when the interpreter calls it.
"""

from __future__ import annotations

import inspect
import os
from typing import TYPE_CHECKING, Any, Callable, Protocol

if TYPE_CHECKING:
    from types import FunctionType as VMFunction  # a function defined in DPB code

MAX_TYPES = 4
"""Types a site lists before it goes megamorphic."""


class SiteTypes:
    """The types observed at one site: up to ``MAX_TYPES``, then megamorphic.

    ``hits`` counts executions whose type was already listed, ``misses`` the
    others (the first execution, each new type, every unlisted type once
    megamorphic).  The dispatch loop tests the most recently seen type itself,
    inline (``type(x) is site.recent`` then ``site.hits += 1``), and calls
    ``record`` for anything else: a method call, or even building a tuple,
    per execution would cost more than the operation being profiled.  The
    most recent type rather than the first, because a site's first type is
    often a one-off (``total = 0`` then ``total += a_float`` many times).
    """

    __slots__ = ("types", "recent", "hits", "misses", "megamorphic", "owner")

    def __init__(self, owner: FunctionProfile | None = None) -> None:
        self.owner = owner  # told about state changes, for the "record until stable" rule
        self.types: tuple[Any, ...] = ()
        self.recent: Any = None  # the latest listed key; None is never a type(), so never a hit
        self.hits = 0
        self.misses = 0
        self.megamorphic = False

    @property
    def count(self) -> int:
        """Executions observed."""
        return self.hits + self.misses

    @property
    def state(self) -> str:
        """``uninit``, ``mono``, ``poly`` or ``mega``."""
        if self.megamorphic:
            return "mega"
        if not self.types:
            return "uninit"
        return "mono" if len(self.types) == 1 else "poly"

    @property
    def hit_rate(self) -> float:
        """Fraction of executions that found their type listed (0.0 before any)."""
        total = self.hits + self.misses
        return self.hits / total if total else 0.0

    def record(self, key: Any) -> None:
        """Observe ``key`` (a type, or a pair of types at an operator site)."""
        if key in self.types:
            self.hits += 1
            self._set_recent(key)
        else:
            self.miss(key)

    def miss(self, key: Any) -> None:
        """``key`` was not listed: list it, or go megamorphic when the site is full."""
        self.misses += 1
        if len(self.types) >= MAX_TYPES:
            if not self.megamorphic:
                self.megamorphic = True
                self._changed()
            return
        self.types += (key,)
        self._set_recent(key)
        self._changed()

    def _changed(self) -> None:
        if self.owner is not None:
            self.owner.changed_at = self.owner.calls + self.owner.backedges

    def _set_recent(self, key: Any) -> None:
        self.recent = key

    def describe(self, label: str = "types") -> str:
        """``types int,int mono 1000x``-style summary (for ``dis --annotated``)."""
        names = [",".join(_type_name(t) for t in key) if isinstance(key, tuple) else _type_name(key)
                 for key in self.types]
        return f"{label} {'|'.join(names) or '-'} {self.state} {self.count}x"

    def __repr__(self) -> str:
        return f"<SiteTypes {self.describe()}>"


class PairSiteTypes(SiteTypes):
    """A binary-operator or comparison site: each key is a ``(left type, right type)`` pair.

    The most recent pair is also kept unpacked in ``left``/``right`` so the
    dispatch loop's hit test is two identity comparisons, with no tuple.
    """

    __slots__ = ("left", "right")

    def __init__(self, owner: FunctionProfile | None = None) -> None:
        super().__init__(owner)
        self.left: Any = None
        self.right: Any = None

    def _set_recent(self, key: Any) -> None:
        self.recent = key
        self.left, self.right = key


def _type_name(kind: Any) -> str:
    return getattr(kind, "__qualname__", None) or repr(kind)


class BranchCounts:
    """How often one conditional jump jumped (``taken``) or fell through (``not_taken``)."""

    __slots__ = ("taken", "not_taken")

    def __init__(self) -> None:
        self.taken = 0
        self.not_taken = 0

    def __repr__(self) -> str:
        return f"<BranchCounts taken {self.taken}/{self.taken + self.not_taken}>"


class GlobalCache:
    """Inline cache of one ``LOAD_GLOBAL`` site: which dictionary the name was found in.

    Python has no way to watch a dict for changes, so a cached *value* could
    not be trusted; what the cache remembers is where the name was found.  A
    name last found in the globals is checked and read there; a name last
    found in the builtins still needs ``key not in globals`` (a later global
    may shadow it) before the builtins are read.  Either check failing is a
    miss, which looks the name up from scratch and re-caches.  That is as
    many dict probes as an uncached lookup: what the cache buys is that the
    dispatch loop can do the hit inline, without the Python calls of the
    general lookup (measured in ``docs/architecture.md``).
    The site's "types" are the globals dicts it ran with (a code object runs
    with one globals dict, so in practice a global site is monomorphic).
    """

    __slots__ = ("key", "where", "source", "dicts", "hits", "misses")

    def __init__(self, key: str) -> None:
        self.key = key
        self.where: dict[str, Any] | None = None
        self.source = "unresolved"
        # ids of the globals dicts the site ran with (at most MAX_TYPES + 1 kept): ints in a
        # list made up front, so a first execution allocates no object the GC tracks
        # (CPython's test_descr counts ``gc.get_objects()`` around a loop).
        self.dicts: list[int] = []
        self.hits = 0
        self.misses = 0

    @property
    def state(self) -> str:
        """``uninit``, ``mono``, ``poly`` or ``mega``, as ``SiteTypes.state`` over the dicts."""
        seen = len(self.dicts)
        if seen > MAX_TYPES:
            return "mega"
        return ("uninit", "mono")[seen] if seen < 2 else "poly"

    @property
    def hit_rate(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 0.0

    def remember(self, globals_: dict[str, Any], where: dict[str, Any] | None, source: str) -> None:
        """A miss: the interpreter looked the name up from scratch and found it in ``where``.

        (The lookup itself lives in the interpreter, so a NameError is raised
        from its frames, which tracebacks hide, not from this module's.)
        """
        self.misses += 1
        key = id(globals_)
        if len(self.dicts) <= MAX_TYPES and key not in self.dicts:
            self.dicts.append(key)
        self.where, self.source = where, source

    def describe(self) -> str:
        """``IC mono hit 99.9% (builtins)``-style summary (for ``dis --annotated``)."""
        return f"IC {self.state} hit {100 * self.hit_rate:.1f}% ({self.source})"

    def __repr__(self) -> str:
        return f"<GlobalCache {self.key!r} {self.describe()}>"


class FunctionProfile:
    """Everything recorded for one code object (see the module docstring)."""

    __slots__ = ("name", "calls", "backedges", "arg_types", "sites", "branches", "caches", "deopts", "tier",
                 "changed_at", "recording")

    def __init__(self, name: str, argcount: int) -> None:
        self.name = name
        self.calls = 0
        self.backedges = 0
        self.changed_at = 0  # calls + backedges when a site last changed state
        self.recording = True  # False once stable (see the module docstring); never True again
        self.arg_types = [SiteTypes(self) for _ in range(argcount)]
        self.sites: dict[int, SiteTypes] = {}
        self.branches: dict[int, BranchCounts] = {}
        self.caches: dict[int, SiteTypes | GlobalCache] = {}
        self.deopts = 0
        self.tier = 0

    def still_recording(self) -> bool:
        """Apply the "record until stable" rule; True while this code's executions are recorded."""
        if self.recording and self.calls + self.backedges - self.changed_at >= _stable_ticks:
            self.recording = False
        return self.recording

    def __repr__(self) -> str:
        return (f"<FunctionProfile {self.name}: {self.calls} calls, {self.backedges} back-edges, "
                f"{len(self.sites)} sites, tier {self.tier}>")


class Tiering(Protocol):
    """The JIT's side of tiering; installed with ``set_tiering``.

    ``on_hot_function(func)`` is called once per function object of a code
    object, at the entry of the call that brings the code's ``profile.calls``
    to at least ``call_threshold`` (for each live function of that code), and
    then for each function made from that code later.  A callable it returns
    is installed (``dxpy.vm.functions.install``) and serves every later call:
    a function with ``func``'s globals, closure cells and defaults lends it
    its ``__code__`` (no wrapper), anything else is called by a forwarder.
    ``None`` means keep interpreting (it is not asked again for that
    function).  The call that reached the threshold finishes in the
    interpreter.

    ``on_hot_loop(func, line, names, values, iterator)`` is called at the
    backward jump that brings one frame's back-edge count to
    ``loop_threshold`` (once per frame), for frames of plain functions (not
    generators, coroutines, module or class bodies).  ``line`` is the loop
    header's line; ``names``/``values`` the bound locals, cell and free
    variables; ``iterator`` the loop's iterator when the jump closes a
    ``for`` loop, else ``None``.  Returning ``(True, result)`` ends the frame
    with ``result``; ``(False, None)`` lets the interpreter continue.

    A hook that also declares an ``iterators`` parameter (detected once, by
    ``set_tiering``) gets ``iterators=``: the frame's value stack at the jump,
    bottom first.  For a loop nested only in ``for``/``while``/``if``
    statements that is exactly the iterators of the enclosing ``for`` loops,
    outermost first, the jump's own loop's last when it is a ``for`` (so an
    inner loop can be resumed together with the loops around it); a ``try``,
    ``with`` or ``match`` in between may leave other values there, which is
    why the hook must check the count against the source.  Hooks with the
    five-parameter signature keep being called as before.
    """

    call_threshold: int
    loop_threshold: int

    def on_hot_function(self, func: "VMFunction") -> Callable[..., Any] | None: ...

    def on_hot_loop(self, func: "VMFunction", line: int, names: list[str], values: list[Any],
                    iterator: Any | None) -> tuple[bool, Any]: ...


_tiering: Tiering | None = None
_wants_iterators: bool = False  # the installed on_hot_loop takes ``iterators=`` (see Tiering)
DEFAULT_STABLE_TICKS = 1024
_NEVER = 1 << 62  # "stable_ticks" that no program reaches: record forever
_enabled: bool = os.environ.get("DXPY_VM_PROFILE", "1") != "0"
_stable_ticks: int = _NEVER if os.environ.get("DXPY_VM_PROFILE") == "full" else DEFAULT_STABLE_TICKS
_caches_enabled: bool = True


def set_tiering(tiering: Tiering | None) -> None:
    """Install the JIT's tiering hooks (``None`` removes them)."""
    global _tiering, _wants_iterators
    if tiering is not None:
        for attribute in ("call_threshold", "loop_threshold"):
            value = getattr(tiering, attribute, None)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"Tiering.{attribute} must be a positive int, got {value!r}")
    _tiering = tiering
    _wants_iterators = tiering is not None and _accepts_iterators(tiering.on_hot_loop)


def _accepts_iterators(hook: Callable[..., Any]) -> bool:
    """Whether ``hook`` can be passed ``iterators=`` (a named parameter or ``**kwargs``)."""
    try:
        parameters = inspect.signature(hook).parameters.values()
    except (TypeError, ValueError):  # no introspectable signature: keep the five-argument call
        return False
    return any(p.kind is p.VAR_KEYWORD or (p.name == "iterators" and p.kind is not p.POSITIONAL_ONLY)
               for p in parameters)


def hot_loop_wants_iterators() -> bool:
    """Whether the installed ``on_hot_loop`` takes the enclosing loops' ``iterators=``."""
    return _wants_iterators


def get_tiering() -> Tiering | None:
    """The installed tiering hooks, or ``None``."""
    return _tiering


def set_enabled(enabled: bool) -> None:
    """Turn type feedback, branch counts and cache statistics on or off (frames started later)."""
    global _enabled
    _enabled = bool(enabled)


def is_enabled() -> bool:
    return _enabled


def set_stable_ticks(ticks: int | None) -> None:
    """Set the "record until stable" window (``None``: record forever); applies to code still recording."""
    global _stable_ticks
    if ticks is not None and (not isinstance(ticks, int) or isinstance(ticks, bool) or ticks < 1):
        raise ValueError(f"stable_ticks must be a positive int or None, got {ticks!r}")
    _stable_ticks = _NEVER if ticks is None else ticks


def stable_ticks() -> int | None:
    """The current window, ``None`` meaning "record forever"."""
    return None if _stable_ticks == _NEVER else _stable_ticks


def set_caches_enabled(enabled: bool) -> None:
    """Use (default) or bypass the ``LOAD_GLOBAL`` inline caches; for measuring what they save."""
    global _caches_enabled
    _caches_enabled = bool(enabled)


def profile_of(func: "VMFunction") -> FunctionProfile:
    """The profile of ``func``'s code object."""
    from dxpy.vm.functions import prepared_of  # functions imports this module
    prepared = prepared_of(func)
    if prepared is None:
        raise TypeError(f"profile_of() needs a function defined in DPB code, got {type(func).__name__}")
    return prepared.profile


def cache_stats(func: Any) -> dict[int, dict[str, Any]]:
    """Per inline-cache site of ``func`` (a VMFunction or a FunctionProfile): state and hit counts."""
    profile = func if isinstance(func, FunctionProfile) else profile_of(func)
    return {pc: {"kind": "global" if isinstance(cache, GlobalCache) else "attr", "state": cache.state,
                 "hits": cache.hits, "misses": cache.misses, "hit_rate": cache.hit_rate}
            for pc, cache in sorted(profile.caches.items())}
