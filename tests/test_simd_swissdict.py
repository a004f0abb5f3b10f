"""SwissDict against dict: a stateful model test (insert, delete, lookup, iteration order,
resizes with many tombstones), the control-byte matchers, views, equality, pickling, repr,
and the batch lookups against one-at-a-time ``get``."""

from __future__ import annotations

import os
import pickle
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from dxpy.simd import SwissDict
from dxpy.simd.swiss_batch import int_hashes, mixed_hashes
from dxpy.simd.swissdict import DELETED, EMPTY, GROUP, match_byte, match_empty, match_free, mix
from tests.test_simd_engines import FAST_ENGINES, use

# -1 and -2 share a hash, 1 == 1.0 == True are one key, 0.0/-0.0 too: all in the pool.
KEY_POOL = [0, 1, -1, -2, 2, 1.0, -0.0, True, "a", "b", b"a", (1, 2), None, 1 << 64, (1 << 63) - 1,
            -(1 << 63), 2 ** 61 - 1, float("inf")] + list(range(3, 40))
keys_ = st.one_of(st.sampled_from(KEY_POOL), st.integers(-(1 << 70), 1 << 70), st.text(max_size=3))


class SwissDictModel(RuleBasedStateMachine):
    """Every step on a SwissDict and a dict; contents and order must agree after each."""

    @initialize()
    def start(self) -> None:
        self.ours: SwissDict = SwissDict()
        self.model: dict[Any, Any] = {}

    @rule(key=keys_, value=st.integers())
    def insert(self, key: Any, value: int) -> None:
        self.ours[key] = value
        self.model[key] = value

    @rule(key=keys_)
    def delete(self, key: Any) -> None:
        assert (key in self.ours) == (key in self.model)
        if key in self.model:
            del self.ours[key]
            del self.model[key]
        else:
            with pytest.raises(KeyError):
                del self.ours[key]

    @rule(key=keys_)
    def lookup(self, key: Any) -> None:
        assert self.ours.get(key, "missing") == self.model.get(key, "missing")

    @rule(key=keys_, value=st.integers())
    def setdefault(self, key: Any, value: int) -> None:
        assert self.ours.setdefault(key, value) == self.model.setdefault(key, value)

    @rule(key=keys_)
    def pop(self, key: Any) -> None:
        assert self.ours.pop(key, "none") == self.model.pop(key, "none")

    @rule()
    def popitem(self) -> None:
        if self.model:
            assert self.ours.popitem() == self.model.popitem()
        else:
            with pytest.raises(KeyError):
                self.ours.popitem()

    @rule(count=st.integers(1, 200))
    def churn(self, count: int) -> None:
        """Many inserts then deletes: tombstones pile up until a rehash clears them."""
        for i in range(count):
            self.ours[("churn", i)] = i
            self.model[("churn", i)] = i
        for i in range(count):
            del self.ours[("churn", i)]
            del self.model[("churn", i)]

    @invariant()
    def same_contents_in_the_same_order(self) -> None:
        assert list(self.ours.items()) == list(self.model.items())
        assert len(self.ours) == len(self.model)
        assert self.ours == self.model and self.model == self.ours


TestSwissDictModel = SwissDictModel.TestCase
TestSwissDictModel.settings = settings(max_examples=int(os.environ.get("SIMD_EXAMPLES", "25")),
                                       stateful_step_count=40, deadline=None,
                                       suppress_health_check=[HealthCheck.too_slow])


def _word(control: list[int]) -> int:
    return int.from_bytes(bytes(control), "little")


@given(st.lists(st.sampled_from([EMPTY, DELETED, *range(0, 128)]), min_size=GROUP, max_size=GROUP),
       st.integers(0, 127))
def test_group_matchers_are_exact_per_byte(control: list[int], h2: int) -> None:
    word = _word(control)
    lanes = lambda bits: [i for i in range(GROUP) if bits >> (8 * i + 7) & 1]  # noqa: E731
    assert lanes(match_byte(word, h2)) == [i for i, c in enumerate(control) if c == h2]
    assert lanes(match_empty(word)) == [i for i, c in enumerate(control) if c == EMPTY]
    assert lanes(match_free(word)) == [i for i, c in enumerate(control) if c in (EMPTY, DELETED)]


def test_resize_with_many_tombstones_keeps_everything() -> None:
    ours, model = SwissDict(), {}
    for round_ in range(5):
        for i in range(3000):
            ours[(round_, i)] = i
            model[(round_, i)] = i
        for i in range(0, 3000, 3 if round_ % 2 else 1):
            del ours[(round_, i)]
            del model[(round_, i)]
    assert list(ours.items()) == list(model.items())
    assert all(ours[k] == v for k, v in model.items())


def test_views_order_and_set_operations() -> None:
    ours = SwissDict(a=1, b=2)
    ours["c"] = 3
    model = {"a": 1, "b": 2, "c": 3}
    assert list(ours) == list(model) and list(reversed(ours)) == list(reversed(model))
    assert ours.keys() == model.keys() and ours.keys() & {"a", "z"} == {"a"}
    assert ours.items() == model.items() and ("b", 2) in ours.items()
    assert list(ours.values()) == [1, 2, 3] and list(reversed(ours.values())) == [3, 2, 1]
    live = ours.keys()
    ours["d"] = 4
    assert "d" in live and len(live) == 4
    with pytest.raises(RuntimeError, match="changed size during iteration"):
        for key in ours:
            ours[key + "!"] = 0
    changing = SwissDict.fromkeys("xy", 0)
    with pytest.raises(RuntimeError, match="keys changed during iteration"):
        for key in changing:
            del changing[key]
            changing[key + "!"] = 1


def test_merge_copy_pickle_repr() -> None:
    ours = SwissDict({1: "one"})
    assert (ours | {2: "two"}) == {1: "one", 2: "two"} and ({0: 0} | ours) == {0: 0, 1: "one"}
    ours |= {3: "three"}
    assert ours == {1: "one", 3: "three"} and ours.copy() == ours
    assert pickle.loads(pickle.dumps(ours)) == ours and type(pickle.loads(pickle.dumps(ours))) is SwissDict
    assert repr(ours) == "SwissDict({1: 'one', 3: 'three'})"
    ours["self"] = ours
    assert repr(ours) == "SwissDict({1: 'one', 3: 'three', 'self': SwissDict({...})})"
    assert SwissDict.fromkeys("ab") == {"a": None, "b": None}


def test_bad_input_raises_as_dict_does() -> None:
    ours = SwissDict()
    with pytest.raises(TypeError, match="unhashable type: 'list'"):
        ours[[1]] = 2
    with pytest.raises(KeyError):
        ours["missing"]
    with pytest.raises(TypeError):
        ours.pop("a", 1, 2)
    with pytest.raises(TypeError):
        hash(ours)

    class Counting(SwissDict):
        def __missing__(self, key: Any) -> int:
            return 0

    assert Counting()["x"] == 0


def test_python_hashes_of_int64_arrays() -> None:
    values = [0, 1, -1, -2, (1 << 63) - 1, -(1 << 63), 2 ** 61 - 1, -(2 ** 61 - 1), 2 ** 61, 12345678901234]
    keys = np.array(values, dtype=np.int64)
    assert int_hashes(keys).tolist() == [hash(v) & (2 ** 64 - 1) for v in values]
    assert mixed_hashes(keys).tolist() == [mix(hash(v)) for v in values]


@pytest.mark.parametrize("engine_id", FAST_ENGINES + ["scalar"])
@given(stored=st.lists(st.integers(-(1 << 63), (1 << 63) - 1), max_size=300),
       queries=st.lists(st.integers(-(1 << 63), (1 << 63) - 1), max_size=100), deleted=st.integers(0, 50))
@settings(max_examples=30, deadline=None)
def test_batch_lookups_equal_get(engine_id: str, stored: list[int], queries: list[int], deleted: int) -> None:
    ours = SwissDict((k, (k, "value")) for k in stored)  # tuple values: not unpacked into an array
    for k in stored[:deleted]:
        ours.pop(k, None)
    asked = np.array(queries + stored[:80], dtype=np.int64)
    expected = [ours.get(int(k), "absent") for k in asked]
    with use(engine_id):
        assert ours.get_many(asked, "absent") == expected
        assert ours.get_many(asked[:3], "absent") == expected[:3]
        assert ours.contains_many(asked).tolist() == [int(k) in ours for k in asked]
    assert ours.get_many(list(map(int, asked)), "absent") == expected  # not an array: one at a time


def test_batch_lookups_with_non_int_keys_fall_back() -> None:
    ours = SwissDict({1: "int", 2.0: "float", "x": "str"})
    asked = np.array([1, 2, 3], dtype=np.int64)
    assert ours.get_many(asked) == ["int", "float", None]
    assert ours.contains_many(asked).tolist() == [True, True, False]
    del ours[2.0], ours["x"]
    assert ours.get_many(asked) == ["int", None, None]
    assert ours.get_many(np.array([], dtype=np.int64)) == [] and ours.get_many(asked[:1]) == ["int"]
