"""String operations as functions: ``find(s, sub, start=None, end=None)``, ...

Each takes the method's arguments with the string first and returns what
the method returns, for ``bytes``, ``bytearray``, ``memoryview`` (as
``bytes(view).method(...)`` would) and ``str``.  The kernel path runs only
when the dispatcher says it beats the builtin for this size and every
argument is of the plain kind it handles (an ASCII ``str``, exact ``int``
or ``None`` indices, a needle of the haystack's kind); anything else --
non-ASCII text, odd argument types, bad values -- goes to the builtin
method itself, so results and exceptions are always Python's.

An ASCII ``str`` is searched as its ASCII bytes: offsets are the same, and
pieces are cut from the original ``str``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from dxpy.simd.engines import LIMITS, choose, is_forced
from dxpy.simd.kernels import WHITESPACE, Engine

Text = Any
"""``bytes``, ``bytearray``, ``memoryview`` or ``str``."""

_STR_WHITESPACE = WHITESPACE + b"\x1c\x1d\x1e\x1f"
"""What ``str.split()`` splits on within ASCII (``bytes.split()`` stops at \\x0c)."""
_BYTES_LINE_ENDS = b"\n\r"
_STR_LINE_ENDS = b"\n\r\x0b\x0c\x1c\x1d\x1e"
"""ASCII line boundaries of ``str.splitlines`` (``bytes.splitlines`` knows only \\n and \\r)."""
_DIRECT = frozenset({bytes, bytearray, str})
"""Types whose builtin method runs as is: below the crossover they go straight to it (fast path)."""
PIECES_DENSITY = 256
"""split/replace/splitlines use a kernel only with at most one match per this many bytes: each
piece is cut in Python (~100 ns), so dense matches are the builtin's (measured in simd_bench)."""


def _plain(s: Text) -> Text:
    """What the builtin method runs on: a memoryview's bytes, anything else itself."""
    return bytes(s) if type(s) is memoryview else s


def _target(s: Text, op: str) -> tuple[Engine, Any] | None:
    """``(engine, bytes-like)`` when ``op`` on ``s`` should run in a kernel, else ``None``."""
    kind = type(s)
    if kind is bytes or kind is bytearray:
        size = len(s)
    elif kind is str:
        if not s.isascii():
            return None
        size = len(s)
    elif kind is memoryview:
        if not s.c_contiguous:
            return None
        size = s.nbytes
    else:
        return None
    engine = choose(op, size)
    if engine is None:
        return None
    if kind is str:
        return engine, s.encode("ascii")
    if kind is memoryview:
        return engine, s.cast("B") if s.format != "B" or s.ndim != 1 else s
    return engine, s


def _needle(s: Text, sub: Any) -> bytes | None:
    """``sub`` as bytes if it is of the plain kind for haystack ``s``; else ``None`` (builtin)."""
    if type(s) is str:
        return sub.encode("ascii") if type(sub) is str and sub.isascii() else None
    kind = type(sub)
    if kind is bytes:
        return sub
    if kind is bytearray or (kind is memoryview and sub.c_contiguous):
        return bytes(sub)
    if kind is int and 0 <= sub < 256:
        return bytes((sub,))
    return None


def _span(n: int, start: Any, end: Any) -> tuple[int, int] | None:
    """CPython's ADJUST_INDICES for exact-int-or-None bounds (start is not clamped to n)."""
    if not ((start is None or type(start) is int) and (end is None or type(end) is int)):
        return None
    lo = 0 if start is None else start
    hi = n if end is None else end
    if hi > n:
        hi = n
    elif hi < 0:
        hi = max(hi + n, 0)
    if lo < 0:
        lo = max(lo + n, 0)
    return lo, hi


def _search(s: Text, sub: Any, start: Any, end: Any, op: str) -> tuple[Engine, Any, bytes, int, int] | None:
    target = _target(s, op)
    if target is None:
        return None
    needle = _needle(s, sub)
    span = _span(len(target[1]), start, end)
    if needle is None or span is None:
        return None
    return target[0], target[1], needle, span[0], span[1]


# ---- searching --------------------------------------------------------
def find(s: Text, sub: Any, start: Any = None, end: Any = None) -> int:
    """``s.find(sub, start, end)``."""
    return _searched("find", s, sub, start, end, -1)


def rfind(s: Text, sub: Any, start: Any = None, end: Any = None) -> int:
    """``s.rfind(sub, start, end)``."""
    return _searched("rfind", s, sub, start, end, -1)


def count(s: Text, sub: Any, start: Any = None, end: Any = None) -> int:
    """``s.count(sub, start, end)``: non-overlapping occurrences."""
    return _searched("count", s, sub, start, end, 0)


def _searched(op: str, s: Text, sub: Any, start: Any, end: Any, nothing: int) -> int:
    """Method ``op`` (find/rfind/count) of ``s``; ``nothing`` when the needle cannot fit the span."""
    if type(s) in _DIRECT and len(s) < LIMITS[op]:
        return getattr(s, op)(sub, start, end)
    work = _search(s, sub, start, end, op)
    if work is None:
        return getattr(_plain(s), op)(sub, start, end)
    engine, buf, needle, lo, hi = work
    if lo > len(buf) or hi - lo < len(needle):
        return nothing
    return getattr(engine, op)(buf, needle, lo, hi)


def find_all(s: Text, sub: Any, start: Any = None, end: Any = None, overlapping: bool = True) -> list[int]:
    """Every offset where ``sub`` occurs in ``s[start:end]``, ascending (the builtins lack this).

    ``overlapping=True``: every offset (``find_all(b"aaa", b"aa") == [0, 1]``);
    ``False``: the matches ``count`` counts.  Errors are ``s.find``'s.
    """
    work = _search(s, sub, start, end, "find_all")
    if work is None:
        return _find_all_builtin(s, sub, start, end, overlapping)
    engine, buf, needle, lo, hi = work
    if lo > len(buf) or hi - lo < len(needle):
        return []
    return engine.find_all(buf, needle, lo, hi, overlapping)


def _find_all_builtin(s: Text, sub: Any, start: Any, end: Any, overlapping: bool) -> list[int]:
    plain = _plain(s)
    at = plain.find(sub, start, end)
    if at < 0:
        return []
    lo, hi = _span(len(plain), at, end) or (at, len(plain))
    width = len(sub) if type(sub) is not int else 1
    step = 1 if overlapping or width == 0 else width
    found = []
    while at >= 0:
        found.append(at)
        if width == 0 and at >= hi:
            break
        at = plain.find(sub, at + step, hi)
    return found


def count_lines(s: Text) -> int:
    """Lines as iterating a binary file of ``s`` yields them: ``\\n`` ends a line, a last
    unterminated line counts.  ``len(io.BytesIO(s).readlines())``, without the lines."""
    target = _target(s, "count_lines")
    if target is None:
        plain = _plain(s)
        newline = "\n" if type(plain) is str else b"\n"
        if not isinstance(plain, (bytes, bytearray, str)):
            raise TypeError(f"count_lines() argument must be str, bytes, bytearray or memoryview, "
                            f"not {type(s).__name__}")
        return plain.count(newline) + (1 if plain and not plain.endswith(newline) else 0)
    engine, buf = target
    return engine.count_byte(buf, 0x0A) + (1 if len(buf) and buf[-1] != 0x0A else 0)


# ---- comparing --------------------------------------------------------
def equal(a: Text, b: Text) -> bool:
    """``a == b``, for strings and bytes-likes."""
    if type(a) is str or type(b) is str:
        return a == b if type(a) is not type(b) or len(a) != len(b) else _equal_same_length(a, b)
    if not (_byteslike(a) and _byteslike(b)) or len(a) != len(b):
        return a == b
    return _equal_same_length(a, b)


def _byteslike(x: Any) -> bool:
    return type(x) in (bytes, bytearray) or (type(x) is memoryview and x.format == "B" and x.ndim == 1)


def _equal_same_length(a: Text, b: Text) -> bool:
    left, right = _target(a, "equal"), _target(b, "equal")
    if left is None or right is None:
        return a == b
    return left[0].equal(left[1], right[1])


def startswith(s: Text, prefix: Any, start: Any = None, end: Any = None) -> bool:
    """``s.startswith(prefix, start, end)``."""
    return _tailmatch(s, prefix, start, end, "startswith")


def endswith(s: Text, suffix: Any, start: Any = None, end: Any = None) -> bool:
    """``s.endswith(suffix, start, end)``."""
    return _tailmatch(s, suffix, start, end, "endswith")


def _tailmatch(s: Text, affix: Any, start: Any, end: Any, op: str) -> bool:
    if type(s) in _DIRECT and len(s) < LIMITS[op]:
        return getattr(s, op)(affix, start, end)
    work = _search(s, affix, start, end, op) if type(affix) is not int else None
    if work is None:
        return getattr(_plain(s), op)(affix, start, end)
    engine, buf, needle, lo, hi = work
    if lo > len(buf) or hi - lo < len(needle):
        return False
    at = lo if op == "startswith" else hi - len(needle)
    return engine.equal(memoryview(buf)[at:at + len(needle)], needle)


# ---- case ---------------------------------------------------------------
def lower(s: Text) -> Text:
    """``s.lower()`` (ASCII letters for bytes-likes; exact Unicode rules for non-ASCII ``str``)."""
    return _convert_case(s, "lower")


def upper(s: Text) -> Text:
    """``s.upper()``."""
    return _convert_case(s, "upper")


def _convert_case(s: Text, op: str) -> Text:
    name = op + "_str" if type(s) is str else op  # str pays an encode and a decode: its own crossover
    if type(s) in _DIRECT and len(s) < LIMITS[name]:
        return getattr(s, op)()
    target = _target(s, name)
    if target is None:
        return getattr(_plain(s), op)()
    engine, buf = target
    converted = getattr(engine, op)(buf)
    kind = type(s)
    if kind is str:
        return converted.decode("ascii")
    return bytearray(converted) if kind is bytearray else converted


# ---- splitting and joining --------------------------------------------
def _cutter(s: Text) -> Callable[[int, int], Text]:
    """Slices of ``s`` as the builtin's pieces: bytes of a memoryview, same type otherwise."""
    if type(s) is memoryview:
        return lambda a, b: s[a:b].tobytes()
    return lambda a, b: s[a:b]


def _sparse_matches(engine: Engine, buf: Any, needle: bytes) -> list[int] | None:
    """Non-overlapping match offsets, or ``None`` if they are too dense to beat the builtin."""
    if engine.count(buf, needle, 0, len(buf)) * PIECES_DENSITY > len(buf) and not is_forced():
        return None
    return engine.find_all(buf, needle, 0, len(buf), False)


def split(s: Text, sep: Any = None, maxsplit: Any = -1) -> list[Text]:
    """``s.split(sep, maxsplit)``: by a separator, or by runs of whitespace when ``sep`` is None."""
    if type(s) in _DIRECT and len(s) < LIMITS["split" if sep is not None else "split_ws"]:
        return s.split(sep, maxsplit)
    target = _target(s, "split" if sep is not None else "split_ws")
    if target is None or type(maxsplit) is not int:
        return _plain(s).split(sep, maxsplit)
    engine, buf = target
    cut = _cutter(s)
    if sep is None:
        spans = engine.word_spans(buf, _STR_WHITESPACE if type(s) is str else WHITESPACE)
        return _whitespace_pieces(spans, maxsplit, cut, len(buf))
    needle = _needle(s, sep)
    if needle is None or not needle or type(sep) is int:
        return _plain(s).split(sep, maxsplit)
    offsets = _sparse_matches(engine, buf, needle)
    if offsets is None:
        return _plain(s).split(sep, maxsplit)
    if maxsplit >= 0:
        offsets = offsets[:maxsplit]
    pieces, begin = [], 0
    for at in offsets:
        pieces.append(cut(begin, at))
        begin = at + len(needle)
    pieces.append(cut(begin, len(buf)))
    return pieces


def _whitespace_pieces(spans: list[tuple[int, int]], maxsplit: int, cut: Callable[[int, int], Text],
                       n: int) -> list[Text]:
    if maxsplit < 0 or len(spans) <= maxsplit:
        return [cut(a, b) for a, b in spans]
    # after maxsplit words the rest runs from the next word to the end, trailing whitespace and all
    return [cut(a, b) for a, b in spans[:maxsplit]] + [cut(spans[maxsplit][0], n)]


def splitlines(s: Text, keepends: bool = False) -> list[Text]:
    """``s.splitlines(keepends)``: ``\\n``, ``\\r``, ``\\r\\n`` (and ``str``'s ASCII extras)."""
    if type(s) in _DIRECT and len(s) < LIMITS["splitlines"]:
        return s.splitlines(keepends)
    target = _target(s, "splitlines")
    if target is None or type(keepends) is not bool:
        return _plain(s).splitlines(keepends)
    engine, buf = target
    ends: list[int] = []
    for byte in _STR_LINE_ENDS if type(s) is str else _BYTES_LINE_ENDS:
        ends += engine.find_all(buf, bytes((byte,)), 0, len(buf), False)
        if len(ends) * PIECES_DENSITY > len(buf) and not is_forced():
            return _plain(s).splitlines(keepends)
    ends.sort()
    cut, lines, begin, n = _cutter(s), [], 0, len(buf)
    for at in ends:
        if at < begin:  # the \n of a \r\n already taken
            continue
        stop = at + 2 if buf[at] == 0x0D and at + 1 < n and buf[at + 1] == 0x0A else at + 1
        lines.append(cut(begin, stop if keepends else at))
        begin = stop
    if begin < n:
        lines.append(cut(begin, n))
    return lines


def join(sep: Text, parts: Iterable[Any]) -> Text:
    """``sep.join(parts)``.  Always the builtin: it sizes the result once and copies each part
    with memcpy, which no kernel improves on (simd_bench measures it)."""
    return _plain(sep).join(parts)


def replace(s: Text, old: Any, new: Any, count: Any = -1) -> Text:
    """``s.replace(old, new, count)``."""
    if type(s) in _DIRECT and len(s) < LIMITS["replace"]:
        return s.replace(old, new, count)
    target = _target(s, "replace")
    needle = _needle(s, old) if target is not None else None
    replacement = _needle(s, new) if target is not None else None
    if target is None or not needle or replacement is None or type(count) is not int \
            or type(old) is int or type(new) is int:
        return _plain(s).replace(old, new, count)
    engine, buf = target
    offsets = _sparse_matches(engine, buf, needle)
    if offsets is None:
        return _plain(s).replace(old, new, count)
    if count >= 0:
        offsets = offsets[:count]
    view = memoryview(buf)
    pieces, begin = [], 0
    for at in offsets:
        pieces.append(view[begin:at])
        begin = at + len(needle)
    pieces.append(view[begin:])
    joined = replacement.join(pieces)
    kind = type(s)
    if kind is str:
        return joined.decode("ascii")
    return bytearray(joined) if kind is bytearray else joined


def strip(s: Text, chars: Any = None) -> Text:
    """``s.strip(chars)``.  Always the builtin: it reads only the bytes it strips."""
    return _plain(s).strip(chars)


def lstrip(s: Text, chars: Any = None) -> Text:
    """``s.lstrip(chars)`` (the builtin, as ``strip``)."""
    return _plain(s).lstrip(chars)


def rstrip(s: Text, chars: Any = None) -> Text:
    """``s.rstrip(chars)`` (the builtin, as ``strip``)."""
    return _plain(s).rstrip(chars)
