"""dxpy.simd string functions: every engine (and native kernel variant) equals the builtin.

Inputs come from small alphabets so that matches, overlaps, separators and
line ends are frequent; lengths run past every vector width (16, 32, 64)
unaligned; non-ASCII ``str`` and bytes >= 0x80, NULs and ``\\r\\n`` are in
the alphabets.  Each case compares result *and* type, or the exception's
type and message.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import dxpy.simd as simd
from tests.test_simd_engines import ENGINES, FAST_ENGINES, use

CHECK = settings(max_examples=int(os.environ.get("SIMD_EXAMPLES", "25")), deadline=None,
                 suppress_health_check=[HealthCheck.too_slow])
BYTE_ALPHABET = b"aAbz \t\n\r\x0b\x0c\x1c\x00\xff"
TEXT_ALPHABET = "aAbz \t\n\r\x0b\x0c\x1c\x1f\x00\x85\u2028\u00e9\u00df"
KINDS = ["bytes", "bytearray", "memoryview", "str", "text"]

raw = st.lists(st.sampled_from(BYTE_ALPHABET), max_size=96).map(bytes)
small = st.lists(st.sampled_from(b"abA\n\r\x00"), max_size=4).map(bytes)
index = st.one_of(st.none(), st.integers(-120, 120))


def make(kind: str, data: bytes, text: str) -> Any:
    """The haystack of ``kind``: ``str`` is ASCII unless the data has 0xff; ``text`` is Unicode."""
    if kind == "bytearray":
        return bytearray(data)
    if kind == "memoryview":
        return memoryview(data)
    if kind == "str":
        return data.decode("latin-1")
    if kind == "text":
        return text
    return data


def needle_for(hay: Any, data: bytes) -> Any:
    return data.decode("latin-1") if isinstance(hay, str) else data


def plain(s: Any) -> Any:
    return bytes(s) if isinstance(s, memoryview) else s


def outcome(call: Callable[[], Any]) -> Any:
    try:
        value = call()
    except Exception as exc:  # noqa: BLE001 - the exception is the outcome compared
        return ("raised", type(exc), str(exc))
    return ("value", type(value), value if not isinstance(value, list) else [(type(v), v) for v in value])


def same(ours: Callable[[], Any], builtin: Callable[[], Any]) -> None:
    assert outcome(ours) == outcome(builtin)


haystacks = st.tuples(st.sampled_from(KINDS), raw, st.text(TEXT_ALPHABET, max_size=64)).map(lambda t: make(*t))


@pytest.mark.parametrize("engine_id", ENGINES)
@CHECK
@given(hay=haystacks, sub=small, start=index, end=index)
def test_find_rfind_count(engine_id: str, hay: Any, sub: bytes, start: Any, end: Any) -> None:
    needle = needle_for(hay, sub)
    with use(engine_id):
        for name in ("find", "rfind", "count"):
            same(lambda: getattr(simd, name)(hay, needle, start, end),
                 lambda: getattr(plain(hay), name)(needle, start, end))


@pytest.mark.parametrize("engine_id", ENGINES)
@CHECK
@given(hay=haystacks, sub=small, start=index, end=index, overlapping=st.booleans())
def test_find_all_lists_every_match(engine_id: str, hay: Any, sub: bytes, start: Any, end: Any,
                                    overlapping: bool) -> None:
    needle = needle_for(hay, sub)
    expected, at, source = [], plain(hay).find(needle, start, end), plain(hay)
    stop = len(source) if end is None else (end if end >= 0 else max(end + len(source), 0))
    while at >= 0:
        expected.append(at)
        at = source.find(needle, at + (1 if overlapping or not needle else len(needle)), stop)
        if not needle and expected[-1] >= min(stop, len(source)):
            break
    with use(engine_id):
        assert simd.find_all(hay, needle, start, end, overlapping) == expected
        if not overlapping:
            assert len(expected) == plain(hay).count(needle, start, end)


@pytest.mark.parametrize("engine_id", ENGINES)
@CHECK
@given(hay=haystacks)
def test_count_lines_is_line_iteration(engine_id: str, hay: Any) -> None:
    source = plain(hay)
    lines = (io.StringIO(source, newline="\n") if isinstance(source, str) else io.BytesIO(source)).readlines()
    with use(engine_id):
        assert simd.count_lines(hay) == len(lines)


@pytest.mark.parametrize("engine_id", ENGINES)
@CHECK
@given(hay=haystacks, other=raw)
def test_equal(engine_id: str, hay: Any, other: bytes) -> None:
    with use(engine_id):
        mirror = make(type(hay).__name__ if not isinstance(hay, str) else "str", other, "")
        same(lambda: simd.equal(hay, hay), lambda: plain(hay) == plain(hay))
        same(lambda: simd.equal(hay, mirror), lambda: plain(hay) == plain(mirror))
        same(lambda: simd.equal(hay, plain(hay)[:-1]), lambda: plain(hay) == plain(hay)[:-1])


@pytest.mark.parametrize("engine_id", ENGINES)
@CHECK
@given(hay=haystacks, affix=small, start=index, end=index)
def test_startswith_endswith(engine_id: str, hay: Any, affix: bytes, start: Any, end: Any) -> None:
    needle = needle_for(hay, affix)
    with use(engine_id):
        for name in ("startswith", "endswith"):
            same(lambda: getattr(simd, name)(hay, needle, start, end),
                 lambda: getattr(plain(hay), name)(needle, start, end))
            same(lambda: getattr(simd, name)(hay, (needle, needle[:1]), start, end),
                 lambda: getattr(plain(hay), name)((needle, needle[:1]), start, end))


@pytest.mark.parametrize("engine_id", ENGINES)
@CHECK
@given(hay=haystacks)
def test_lower_upper(engine_id: str, hay: Any) -> None:
    with use(engine_id):
        for name in ("lower", "upper"):
            same(lambda: getattr(simd, name)(hay), lambda: getattr(plain(hay), name)())


@pytest.mark.parametrize("engine_id", ENGINES)
@CHECK
@given(hay=haystacks, sep=small, maxsplit=st.integers(-2, 5))
def test_split(engine_id: str, hay: Any, sep: bytes, maxsplit: int) -> None:
    separator = needle_for(hay, sep)
    with use(engine_id):
        same(lambda: simd.split(hay, separator, maxsplit), lambda: plain(hay).split(separator, maxsplit))
        same(lambda: simd.split(hay, None, maxsplit), lambda: plain(hay).split(None, maxsplit))
        same(lambda: simd.split(hay), lambda: plain(hay).split())


@pytest.mark.parametrize("engine_id", ENGINES)
@CHECK
@given(hay=haystacks, keepends=st.booleans())
def test_splitlines(engine_id: str, hay: Any, keepends: bool) -> None:
    with use(engine_id):
        same(lambda: simd.splitlines(hay, keepends), lambda: plain(hay).splitlines(keepends))


@pytest.mark.parametrize("engine_id", ENGINES)
@CHECK
@given(hay=haystacks, old=small, new=small, count=st.integers(-2, 5))
def test_replace(engine_id: str, hay: Any, old: bytes, new: bytes, count: int) -> None:
    old_, new_ = needle_for(hay, old), needle_for(hay, new)
    with use(engine_id):
        same(lambda: simd.replace(hay, old_, new_, count), lambda: plain(hay).replace(old_, new_, count))


@pytest.mark.parametrize("engine_id", ENGINES)
@CHECK
@given(hay=haystacks, chars=st.one_of(st.none(), small))
def test_join_and_strip(engine_id: str, hay: Any, chars: Any) -> None:
    which = None if chars is None else needle_for(hay, chars)
    parts = plain(hay).split()
    sep = plain(hay)[:2]
    with use(engine_id):
        same(lambda: simd.join(sep, parts), lambda: sep.join(parts))
        for name in ("strip", "lstrip", "rstrip"):
            same(lambda: getattr(simd, name)(hay, which), lambda: getattr(plain(hay), name)(which))


BAD_CALLS = [
    ("find", (5, b"x")), ("find", (b"abc", "a")), ("find", ("abc", b"a")), ("find", (b"abc", 300)),
    ("count", (b"abc", b"a", "1")), ("rfind", (b"abc", None)), ("split", (b"a,b", b"")),
    ("split", ("a,b", ",", "2")), ("replace", (b"abc", "a", b"b")), ("lower", (None,)),
    ("splitlines", (b"a\nb", "yes")), ("startswith", (b"abc", ["a"])), ("join", (b",", ["a", "b"])),
    ("strip", (b"abc", "a")), ("count_lines", (42,)),
]


@pytest.mark.parametrize("engine_id", ENGINES)
@pytest.mark.parametrize("name,args", BAD_CALLS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(BAD_CALLS)])
def test_bad_arguments_raise_what_the_builtin_raises(engine_id: str, name: str, args: tuple) -> None:
    with use(engine_id):
        ours = outcome(lambda: getattr(simd, name)(*args))
    assert ours[0] == "raised", ours
    if name != "count_lines":  # the builtins have no count_lines: its TypeError is its own
        assert ours == outcome(lambda: getattr(plain(args[0]), name)(*args[1:]))


def test_released_and_strided_memoryviews() -> None:
    view = memoryview(b"abcabc")
    view.release()
    with pytest.raises(ValueError, match="released"):
        simd.find(view, b"a")
    strided = memoryview(b"aXbXaXbX")[::2]
    assert simd.find(strided, b"ab") == bytes(strided).find(b"ab") == 0
    ints = memoryview(bytearray(b"\x01\x00\x00\x00\x02\x00\x00\x00")).cast("i")
    with use("scalar"):
        assert simd.count(ints, b"\x00") == bytes(ints).count(b"\x00") == 6


@pytest.mark.parametrize("engine_id", FAST_ENGINES)
def test_large_inputs_across_chunk_boundaries(engine_id: str) -> None:
    """Matches straddling the NumPy engine's 1 MiB chunks and at the very ends."""
    size = (1 << 21) + 37
    data = bytearray(b"x" * size)
    for at in (0, (1 << 20) - 3, (1 << 20) + 9, size - 5):
        data[at:at + 5] = b"NEEDL"
    data = bytes(data)
    with use(engine_id):
        assert simd.find(data, b"NEEDL") == data.find(b"NEEDL")
        assert simd.rfind(data, b"NEEDL") == data.rfind(b"NEEDL")
        assert simd.rfind(data, b"NEEDL", 0, size - 1) == data.rfind(b"NEEDL", 0, size - 1)
        assert simd.find(data, b"NEEDL", 5) == data.find(b"NEEDL", 5)
        assert simd.count(data, b"x") == data.count(b"x")
        assert simd.find_all(data, b"NEEDL") == [0, (1 << 20) - 3, (1 << 20) + 9, size - 5]
        assert simd.find(data, b"NEEDLE-LONGER-THAN-EIGHT") == -1
        assert simd.lower(data) == data.lower() and simd.upper(data) == data.upper()
        assert simd.split(data, b"NEEDL") == data.split(b"NEEDL")


@pytest.mark.parametrize("engine_id", [p for p in FAST_ENGINES if p.id.startswith("native")])
def test_large_case_conversion_streams(engine_id: str) -> None:
    """>= 4 MiB outputs take the huge-page, non-temporal-store path: every byte value, an
    unaligned source and a length that is no multiple of the vector width."""
    data = bytes(range(256)) * (1 << 14) + b"Tail-END"
    with use(engine_id):
        for source in (data, memoryview(data)[3:]):
            assert simd.lower(source) == bytes(source).lower()
            assert simd.upper(source) == bytes(source).upper()
