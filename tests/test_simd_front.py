"""The compiled string fronts (dxpy/simd/_front.c) against the pure-Python functions.

The fronts change only what small calls cost: for every input and argument
shape -- small exact types (the C fast path), memoryviews and subclasses,
keywords, wrong argument counts, wrong types -- the compiled function must
return or raise exactly what ``dxpy.simd.strings`` (and the builtin) does.
The other ``test_simd_*`` modules run through the fronts as well (they are
what ``dxpy.simd`` exports when built); forcing an engine there sends every
call down the Python path, which this module checks too.
"""

from __future__ import annotations

import inspect
import os
import sys
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import dxpy.simd as simd
from dxpy.simd import engines, front, strings
from tests.test_simd_strings import BYTE_ALPHABET, TEXT_ALPHABET, make, outcome

pytestmark = pytest.mark.skipif(front._front is None, reason=f"dxpy.simd._front not built: {front.WHY_PURE}")

CHECK = settings(max_examples=int(os.environ.get("SIMD_EXAMPLES", "25")) * 4, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow])


class Bytes(bytes):
    """A subclass: never the fast path (its methods could be overridden)."""


KINDS = ["bytes", "bytearray", "memoryview", "str", "text", "subclass"]
raw = st.lists(st.sampled_from(BYTE_ALPHABET), max_size=48).map(bytes)
haystacks = st.tuples(st.sampled_from(KINDS), raw, st.text(TEXT_ALPHABET, max_size=32)).map(
    lambda t: Bytes(t[1]) if t[0] == "subclass" else make(*t))
needles = st.one_of(st.lists(st.sampled_from(b"aA\n\x00"), max_size=3).map(bytes),
                    st.text("aA\n\x00\u00e9", max_size=3), st.integers(-1, 300), st.none(), st.just(["a"]))
extras = st.lists(st.one_of(st.none(), st.integers(-60, 60), st.booleans(), needles), max_size=4)


def _same(name: str, args: tuple, kwargs: dict[str, Any]) -> None:
    compiled, pure = getattr(front, name), getattr(strings, name)
    assert outcome(lambda: compiled(*args, **kwargs)) == outcome(lambda: pure(*args, **kwargs)), (name, args, kwargs)


@CHECK
@given(name=st.sampled_from(sorted(front.SIGNATURES)), hay=haystacks, first=needles, rest=extras,
       given_args=st.integers(0, 6))
def test_fronts_equal_the_python_functions(name: str, hay: Any, first: Any, rest: list[Any], given_args: int) -> None:
    """Any positional shape, including too few or too many arguments and wrong types."""
    if name == "join" and not isinstance(hay, memoryview):
        first = hay.split()
    _same(name, (hay, first, *rest)[:given_args], {})


@CHECK
@given(hay=haystacks, sub=needles, start=st.one_of(st.none(), st.integers(-60, 60)))
def test_keywords_take_the_python_path(hay: Any, sub: Any, start: Any) -> None:
    for name in ("find", "rfind", "count", "startswith", "endswith"):
        _same(name, (hay, sub), {"start": start})
        _same(name, (hay,), {"sub": sub})
    _same("split", (hay,), {"maxsplit": 1})
    _same("lower", (), {"s": hay})
    _same("find_all", (hay, sub), {"overlapping": False})


@CHECK
@given(hay=haystacks, other=haystacks)
def test_equal_and_count_lines(hay: Any, other: Any) -> None:
    _same("equal", (hay, other), {})
    _same("equal", (hay, hay[:]), {})
    _same("count_lines", (hay,), {})


def test_fast_path_results_and_types() -> None:
    """Small exact inputs (handled in C) give the builtin's values and types."""
    assert front.lower(b"AbC\xc9") == b"abc\xc9" and type(front.upper(bytearray(b"ab"))) is bytearray
    assert front.lower("ÀB") == "àb" and front.upper("straße") == "STRASSE"  # non-ASCII: Python's rules
    assert front.lower("ABC").isascii() and front.find(b"abcabc", b"c", 3) == 5
    assert front.find_all(b"aaaa", b"aa") == [0, 1, 2] and front.find_all("é-é", "é") == [0, 2]
    assert front.find_all(b"ab", b"") == [0, 1, 2] and front.count_lines(b"a\nb") == 2
    assert front.equal("abc", "abc") and not front.equal(b"abc", bytearray(b"abd"))
    assert front.join(b"-", [b"a", b"b"]) == b"a-b" and front.strip("  x ") == "x"


def test_limits_follow_the_dispatcher() -> None:
    find = front._FRONTS["find"]
    with simd.forced(None):
        assert find.limit == engines.LIMITS["find"] and front._FRONTS["join"].limit == sys.maxsize
        assert front._FRONTS["lower"].str_limit == engines.LIMITS["lower_str"]
    with simd.forced("scalar"):
        assert find.limit == find.str_limit == 0
        assert front._FRONTS["strip"].limit == sys.maxsize  # always the builtin, forced or not
    assert find.limit == engines.LIMITS["find"]


def test_large_inputs_take_the_python_path() -> None:
    data = b"Ab\n" * (1 << 16) + b"needle"
    with simd.forced(None):
        assert len(data) >= front._FRONTS["find"].limit
        assert front.find(data, b"needle") == data.find(b"needle")
        assert front.lower(data) == data.lower() and front.count_lines(data) == data.count(b"\n") + 1
        assert front.find_all(data, b"needle") == [len(data) - 6]


def test_fronts_look_like_the_functions() -> None:
    assert simd.find is front.find and front.find.__name__ == "find"
    assert str(inspect.signature(front.find)) == "(s, sub, start=None, end=None)"
    assert front.find.__doc__.startswith("``s.find(sub, start, end)``")
    assert "builtin below" in repr(front._FRONTS["find"])
    assert front.implementation() == "compiled"


def test_bad_front_construction_is_a_precise_error() -> None:
    with pytest.raises(ValueError, match="slow must be callable"):
        front._front.Front("find", 42, 2, 4)
    with pytest.raises(ValueError, match="min_args"):
        front._front.Front("find", strings.find, 3, 2)
    made = front._front.Front("find", strings.find, 2, 4)
    with pytest.raises(TypeError, match="initialised once"):
        made.__init__("find", strings.find, 2, 4)
    with pytest.raises(TypeError, match="not initialised"):
        front._front.Front.__new__(front._front.Front).function("x")
