"""SimdList against list: storage choice and promotion, the sequence protocol, and every
vectorised operation on every engine with Python's exact results (huge ints, NaN, -0.0, inf)."""

from __future__ import annotations

import math
import operator
import os
import pickle
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from dxpy.simd import SimdList
from tests.test_simd_engines import ENGINES, use

CHECK = settings(max_examples=int(os.environ.get("SIMD_EXAMPLES", "25")), deadline=None,
                 suppress_health_check=[HealthCheck.too_slow])
CMP = {"<": operator.lt, "<=": operator.le, "==": operator.eq, "!=": operator.ne,
       ">": operator.gt, ">=": operator.ge}
ARITH = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
         "//": operator.floordiv, "%": operator.mod, "**": operator.pow}

int64s = st.one_of(st.integers(-6, 6), st.integers(-(1 << 63), (1 << 63) - 1))
floats = st.one_of(st.sampled_from([0.0, -0.0, math.nan, math.inf, -math.inf, 1.5, -2.5, 1e308, 5e-324]),
                   st.floats(allow_nan=True, allow_infinity=True))
int_lists = st.lists(int64s, max_size=70)
float_lists = st.lists(floats, max_size=70)
mixed_lists = st.lists(st.one_of(int64s, floats, st.just(1 << 70), st.just(True)), max_size=20)
any_lists = st.one_of(int_lists, float_lists, mixed_lists)
scalars = st.one_of(st.integers(-5, 5), st.sampled_from([0, 2, 3, -1, 1 << 62, 1 << 64, -(1 << 64), True,
                                                        0.0, -0.0, 2.5, -0.5, math.nan, math.inf, 1e300]))


def key(x: Any) -> Any:
    """Compare values with type, sign of zero and NaN-ness (``nan == nan`` is false)."""
    if isinstance(x, float):
        return ("float", "nan") if math.isnan(x) else ("float", x, math.copysign(1.0, x))
    return (type(x).__name__, x)


def keys(xs: Any) -> list[Any]:
    return [key(x) for x in xs]


def outcome(call: Any) -> Any:
    try:
        value = call()
    except Exception as exc:  # noqa: BLE001 - the exception is the outcome
        return ("raised", type(exc))
    if isinstance(value, (SimdList, list)):
        return ("list", keys(value))
    return ("value", key(value))


def test_storage_is_chosen_from_the_elements() -> None:
    assert SimdList([1, 2]).storage == "int64"
    assert SimdList([1.0, 2.5]).storage == "float64"
    for items in ([1, 2.0], [True, False], [1 << 63], ["a"], [1, None]):
        assert SimdList(items).storage == "object", items
    numbers = SimdList([1, 2])
    numbers.append(2.5)
    assert numbers.storage == "object" and numbers.tolist() == [1, 2, 2.5]
    assert type(numbers[0]) is int
    empty = SimdList()
    empty.append(1.5)
    assert empty.storage == "float64"
    empty.clear()
    empty.extend(["x"])
    assert empty.storage == "object"


def test_to_numpy_is_a_view_that_pins_the_length() -> None:
    numbers = SimdList(range(10))
    view = numbers.to_numpy()
    view[0] = 42
    assert numbers[0] == 42
    numbers[1] = 7
    assert view[1] == 7
    numbers.sort()
    with pytest.raises(BufferError, match="to_numpy"):
        numbers.append(1)
    with pytest.raises(BufferError):
        numbers.append(1.5)  # a promotion would move the storage away from the view
    del view
    numbers.append(1)
    assert len(numbers) == 11
    with pytest.raises(TypeError, match="object storage"):
        SimdList(["a"]).to_numpy()


@CHECK
@given(items=any_lists, data=st.data())
def test_sequence_protocol_matches_list(items: list[Any], data: st.DataObject) -> None:
    ours, model = SimdList(items), list(items)
    for _ in range(12):
        action = data.draw(st.sampled_from(["append", "insert", "pop", "set", "del", "slice-set",
                                            "slice-del", "extend", "reverse", "remove", "iadd", "imul"]))
        value = data.draw(st.one_of(int64s, floats, st.just("s")))
        if action == "remove" and value != value:
            # list.remove finds a NaN by identity; numeric storage (and a promotion out of it)
            # keeps values, not objects, so that NaN is another object there: documented.
            value = 0.5
        at = data.draw(st.integers(-len(model) - 2, len(model) + 2))
        cut = slice(data.draw(st.integers(-5, 5)), data.draw(st.integers(-5, 5)),
                    data.draw(st.sampled_from([None, 1, 2, -1])))
        for target in (ours, model):
            target_outcome = outcome(lambda: _apply(target, action, value, at, cut))
            if target is ours:
                first = target_outcome
        assert first == target_outcome, action
        assert keys(ours) == keys(model)
        assert len(ours) == len(model)
    probe = data.draw(st.integers(-80, 80))
    assert outcome(lambda: ours[probe]) == outcome(lambda: model[probe])
    assert keys(ours[1:-1:2]) == keys(model[1:-1:2])
    assert keys(reversed(ours)) == keys(reversed(model))
    assert keys(pickle.loads(pickle.dumps(ours))) == keys(model)
    assert repr(ours) == f"SimdList({model!r})"


def _apply(target: Any, action: str, value: Any, at: int, cut: slice) -> Any:
    if action == "append":
        return target.append(value)
    if action == "insert":
        return target.insert(at, value)
    if action == "pop":
        return target.pop(at) if target else target.pop()
    if action == "set":
        target[at] = value
    elif action == "del":
        del target[at]
    elif action == "slice-set":
        target[cut] = [value, value]
    elif action == "slice-del":
        del target[cut]
    elif action == "extend":
        target.extend([value, 1])
    elif action == "reverse":
        target.reverse()
    elif action == "remove":
        target.remove(value)
    elif action == "iadd":
        target += [value]
    elif action == "imul":
        target *= 2 if len(target) < 40 else 1
    return None


def test_iteration_sees_changes_as_a_list_iterator_does() -> None:
    ours, model = SimdList(range(600)), list(range(600))
    seen_ours, seen_model = [], []
    for seen, target in ((seen_ours, ours), (seen_model, model)):
        for i, x in enumerate(target):
            seen.append(x)
            if i == 300:
                target[301] = -1
                target.append(1.5)
    assert keys(seen_ours) == keys(seen_model)


@pytest.mark.parametrize("engine_id", ENGINES)
@CHECK
@given(items=any_lists, start=st.one_of(st.just(0), scalars))
def test_reductions(engine_id: str, items: list[Any], start: Any) -> None:
    ours = SimdList(items)
    with use(engine_id):
        assert outcome(lambda: ours.sum()) == outcome(lambda: sum(items))
        assert outcome(lambda: ours.sum(start)) == outcome(lambda: sum(items, start))
        assert outcome(ours.min) == outcome(lambda: min(items))
        assert outcome(ours.max) == outcome(lambda: max(items))
        assert outcome(lambda: ours.min(default=None)) == outcome(lambda: min(items, default=None))
        assert outcome(lambda: ours.max(key=abs)) == outcome(lambda: max(items, key=abs))
        if all(isinstance(x, (int, float)) for x in items):
            assert outcome(ours.fsum) == outcome(lambda: math.fsum(items))


def test_int_sum_is_exact_beyond_int64() -> None:
    big = [(1 << 63) - 1] * 1000 + [-(1 << 63)] * 3
    with use("numpy"):
        assert SimdList(big).sum() == sum(big)
    for engine_id in ("scalar", "numpy"):
        with use(engine_id):
            assert SimdList(big).sum(5) == sum(big, 5)


@pytest.mark.parametrize("engine_id", ENGINES)
@CHECK
@given(items=any_lists, op=st.sampled_from(sorted(CMP)), value=scalars)
def test_filter_count_index(engine_id: str, items: list[Any], op: str, value: Any) -> None:
    ours = SimdList(items)
    test = CMP[op]
    with use(engine_id):
        assert outcome(lambda: ours.filter(op, value)) == outcome(lambda: [x for x in items if test(x, value)])
        assert outcome(lambda: ours.filter(op, value, indices=True)) == \
            outcome(lambda: [i for i, x in enumerate(items) if test(x, value)])
        same = _same_object_or_equal if ours.storage == "object" else _equal
        assert ours.count(value) == sum(1 for x in items if same(x, value))
        assert outcome(lambda: ours.index(value)) == outcome(lambda: _index(items, value, same))
        assert outcome(lambda: ours.index(value, 2, -1)) == outcome(lambda: _index(items, value, same, 2, -1))
        assert (value in ours) == any(same(x, value) for x in items)


def _equal(x: Any, value: Any) -> bool:
    return x == value


def _same_object_or_equal(x: Any, value: Any) -> bool:
    """``list``'s own test (object storage keeps the objects: ``[nan].count(nan)`` is 1)."""
    return x is value or x == value


def _index(items: list[Any], value: Any, same: Any, *bounds: int) -> int:
    """``list.index`` with ``same`` as the test (numeric storage keeps values, not objects: equality only)."""
    lo, hi, _ = slice(*bounds).indices(len(items)) if bounds else (0, len(items), 1)
    for i in range(lo, hi):
        if same(items[i], value):
            return i
    raise ValueError(f"{value!r} is not in list")


@pytest.mark.parametrize("engine_id", ENGINES)
@CHECK
@given(items=any_lists, op=st.sampled_from(sorted(ARITH)), value=scalars)
def test_map_arithmetic(engine_id: str, items: list[Any], op: str, value: Any) -> None:
    if op == "**" and isinstance(value, int) and abs(value) > 64:
        value = 3  # 2**(2**62) is a different test (of patience)
    apply = ARITH[op]
    with use(engine_id):
        assert outcome(lambda: SimdList(items).map(op, value)) == \
            outcome(lambda: [apply(x, value) for x in items])


@pytest.mark.parametrize("engine_id", ENGINES)
@CHECK
@given(items=st.one_of(int_lists, float_lists), reverse=st.booleans())
def test_sort_is_list_sort(engine_id: str, items: list[Any], reverse: bool) -> None:
    ours, model = SimdList(items), list(items)
    with use(engine_id):
        ours.sort(reverse=reverse)
    model.sort(reverse=reverse)
    assert keys(ours) == keys(model)
    ours.sort(key=lambda x: -x if x == x else 0)
    model.sort(key=lambda x: -x if x == x else 0)
    assert keys(ours) == keys(model)


def test_equality_and_copies() -> None:
    numbers = SimdList([1, 2, 3])
    assert numbers == [1, 2, 3] and [1, 2, 3] == numbers and numbers == SimdList([1, 2, 3])
    assert numbers != SimdList([1.0, 2.0, 3.5]) and numbers != (1, 2, 3)
    assert numbers < [1, 2, 4] and numbers + [4] == [1, 2, 3, 4] and 2 * numbers == [1, 2, 3] * 2
    twin = numbers.copy()
    twin[0] = 9
    assert numbers[0] == 1
    with pytest.raises(TypeError):
        hash(numbers)


def test_bad_input_raises_precisely() -> None:
    numbers = SimdList([1, 2, 3])
    with pytest.raises(ValueError, match="unknown comparison '=>'"):
        numbers.filter("=>", 1)
    with pytest.raises(ValueError, match="unknown arithmetic operator '<<'"):
        numbers.map("<<", 1)
    with pytest.raises(ZeroDivisionError):
        numbers.map("//", 0)
    with pytest.raises(ZeroDivisionError):
        SimdList([1.5]).map("%", 0.0)
    assert SimdList([]).map("/", 0) == []
    with pytest.raises(TypeError):
        numbers.filter("<", "a")
    with pytest.raises(TypeError):
        numbers.map("+", "a")
    with pytest.raises(ValueError, match="4 is not in list"):
        numbers.index(4)
    with pytest.raises(IndexError, match="pop from empty list"):
        SimdList().pop()
    with pytest.raises(IndexError, match="list index out of range"):
        numbers[3]
    with pytest.raises(TypeError):
        numbers["a"]
    with pytest.raises(ValueError, match="empty"):
        SimdList().max()


@pytest.mark.parametrize("engine_id", ENGINES)
def test_to_numpy_feeds_back(engine_id: str) -> None:
    values = SimdList(np.arange(100, dtype=np.int64).tolist())
    with use(engine_id):
        assert values.filter(">=", 90).to_numpy().tolist() == list(range(90, 100))
        assert values.map("*", 2).sum() == 2 * sum(range(100))
