"""Interpreter profiles (dxpy.vm.profile): counts, type feedback, tiering hooks, inline caches."""

from __future__ import annotations

import builtins
import contextlib
import io
import os
import subprocess
import sys
import textwrap
from typing import Any, Callable, Iterator

import pytest

from dxpy.vm import compile_source, loads, run_module, to_bytes
from dxpy.vm import profile
from types import FunctionType as VMFunction

from dxpy.vm.functions import compiled_of, interpret, is_vm_function, prepared_of
from dxpy.vm.profile import FunctionProfile, GlobalCache, SiteTypes, cache_stats, profile_of


@pytest.fixture(autouse=True)
def exact_recording() -> Iterator[None]:
    """Every test starts with profiling on, recording forever, no tiering; and leaves it so."""
    saved = (profile.is_enabled(), profile.stable_ticks())
    profile.set_enabled(True)
    profile.set_stable_ticks(None)
    profile.set_tiering(None)
    yield
    profile.set_tiering(None)
    profile.set_enabled(saved[0])
    profile.set_stable_ticks(saved[1])


def run(source: str) -> dict[str, Any]:
    """Run ``source`` in the VM (its output discarded); returns its namespace."""
    namespace = {"__name__": "m", "__builtins__": builtins}
    with contextlib.redirect_stdout(io.StringIO()):
        run_module(loads(to_bytes(compile_source(textwrap.dedent(source), "prog.py"))), namespace, "prog.py")
    return namespace


def same_output_as_cpython(source: str) -> str:
    """Run ``source`` in the VM and in CPython; their outputs must match; returns it."""
    source = textwrap.dedent(source)
    outputs = []
    for through_vm in (True, False):
        out = io.StringIO()
        namespace = {"__name__": "m", "__builtins__": builtins}
        with contextlib.redirect_stdout(out):
            if through_vm:
                run_module(loads(to_bytes(compile_source(source))), namespace)
            else:
                exec(compile(source, "<cpython>", "exec"), namespace)
        outputs.append(out.getvalue())
    assert outputs[0] == outputs[1]
    return outputs[0]


def sites(func: VMFunction, table: str = "sites") -> list[Any]:
    """The entries of one of ``func``'s profile tables, in instruction order."""
    return [entry for _, entry in sorted(getattr(profile_of(func), table).items())]


# -- counts -----------------------------------------------------------------------
COUNTING = """
    def count(n):
        total = 0
        i = 0
        while i < n:
            if i % 3 == 0:
                total += i
            i += 1
        return total
"""


def test_calls_backedges_and_branches_are_exact() -> None:
    count = run(COUNTING)["count"]
    assert count(10) == 18 and count(4) == 3
    recorded = profile_of(count)
    assert (recorded.calls, recorded.backedges) == (2, 14)
    loop_test, if_test = sites(count, "branches")
    assert (loop_test.taken, loop_test.not_taken) == (2, 14)  # exits once per call
    assert (if_test.taken, if_test.not_taken) == (14 - 6, 6)  # i % 3 == 0 for 0,3,6,9 and 0,3
    compare, modulo, equals, add, increment = sites(count)
    assert [site.count for site in (compare, modulo, equals, add, increment)] == [16, 14, 14, 6, 14]
    assert compare.types == ((int, int),) and compare.state == "mono"
    assert [site.describe() for site in recorded.arg_types] == ["types int mono 2x"]
    assert (recorded.deopts, recorded.tier) == (0, 0)


def test_module_and_class_bodies_count_as_calls_and_closures_share_a_profile() -> None:
    namespace = run("""
        def outer(k):
            def inner(x):
                return x + k
            return inner
        class C:
            pass
        for _ in range(3):
            pass
    """)
    first, second = namespace["outer"](1), namespace["outer"](2.5)
    first(1), second(1), second(2)
    assert profile_of(first) is profile_of(second) and profile_of(first).calls == 3
    add, = sites(first)
    assert set(add.types) == {(int, int), (int, float)} and add.state == "poly"
    assert profile_of(namespace["outer"]).calls == 2


def test_disabled_profiling_records_no_feedback_but_still_counts() -> None:
    profile.set_enabled(False)
    count = run(COUNTING)["count"]
    count(10)
    recorded = profile_of(count)
    assert (recorded.calls, recorded.backedges) == (1, 10)
    assert all(site.count == 0 and site.state == "uninit" for site in sites(count))
    assert all(b.taken == b.not_taken == 0 for b in sites(count, "branches"))
    assert recorded.arg_types[0].count == 0


def test_recording_stops_once_stable_by_the_documented_rule() -> None:
    profile.set_stable_ticks(50)
    namespace = run("""
        def loop(values):
            total = 0
            for value in values:
                total = total + value
            return total
    """)
    loop = namespace["loop"]
    assert loop(list(range(10))) == 45
    assert profile_of(loop).recording  # 11 ticks: still recording
    loop([1] * 200)
    recorded = profile_of(loop)
    assert not recorded.recording and recorded.backedges == 210  # counts go on
    add, = sites(loop)
    assert add.types == ((int, int),) and 40 <= add.count < 210
    frozen = add.count
    assert loop([0.5] * 5) == 2.5
    assert (add.count, add.types) == (frozen, ((int, int),))  # stable: described as recorded
    with pytest.raises(ValueError, match="stable_ticks"):
        profile.set_stable_ticks(0)


# -- type states ------------------------------------------------------------------
CLASSES = """
    class A:
        x = 1
    class B:
        x = 2
    class C:
        x = 3
    class D:
        x = 4
    class E:
        x = 5
    def get(o):
        return o.x
    def add(a, b):
        return a + b
"""


@pytest.mark.parametrize("kinds, state", [(1, "mono"), (2, "poly"), (4, "poly"), (5, "mega")])
def test_attribute_site_states(kinds: int, state: str) -> None:
    namespace = run(CLASSES)
    classes = [namespace[name] for name in "ABCDE"[:kinds]]
    get = namespace["get"]
    for _ in range(3):
        assert [get(cls()) for cls in classes] == list(range(1, kinds + 1))
    site, = sites(get)
    assert site.state == state and site.count == 3 * kinds
    assert site.types == tuple(classes[:4])  # the first four stay listed when megamorphic
    assert profile_of(get).caches[next(iter(profile_of(get).caches))] is site


def test_operator_site_records_type_pairs_up_to_megamorphic() -> None:
    add = run(CLASSES)["add"]
    site: SiteTypes = sites(add)[0]
    assert site.state == "uninit" and site.count == 0
    pairs = [(1, 2), (1.0, 2), (1, 2.0), ("a", "b"), ([1], [2])]
    for step, (left, right) in enumerate(pairs, start=1):
        assert add(left, right) == left + right
        assert site.state == {1: "mono", 5: "mega"}.get(step, "poly")
    assert site.types == ((int, int), (float, int), (int, float), (str, str))
    assert site.describe() == "types int,int|float,int|int,float|str,str mega 5x"


def test_argument_types() -> None:
    add = run(CLASSES)["add"]
    add(1, 2), add(1, 2.0)
    left, right = profile_of(add).arg_types
    assert (left.types, left.state, left.count) == ((int,), "mono", 2)
    assert (right.types, right.state) == ((int, float), "poly")


# -- tiering hooks ------------------------------------------------------------------
class FakeTiering:
    """Records every hook call; answers with what the test configured."""

    def __init__(self, call_threshold: int = 5, loop_threshold: int = 10,
                 compiled: Callable[..., Any] | None = None, loop_answer: tuple[bool, Any] = (False, None)):
        self.call_threshold = call_threshold
        self.loop_threshold = loop_threshold
        self.compiled = compiled
        self.loop_answer = loop_answer
        self.hot_functions: list[tuple[VMFunction, int]] = []
        self.hot_loops: list[dict[str, Any]] = []

    def on_hot_function(self, func: VMFunction) -> Callable[..., Any] | None:
        self.hot_functions.append((func, profile_of(func).calls))
        return self.compiled

    def on_hot_loop(self, func: VMFunction, line: int, names: list[str], values: list[Any],
                    iterator: Any) -> tuple[bool, Any]:
        self.hot_loops.append({"func": func, "line": line, "locals": dict(zip(names, values)),
                               "iterator": iterator, "backedges": profile_of(func).backedges,
                               "remaining": None if iterator is None else iterator.__length_hint__()})
        return self.loop_answer


LOOPS = """
    def summed(n):
        total = 0
        for i in range(n):
            total += i
        return total

    def counted(n):
        i = 0
        while i < n:
            i += 1
        return i

    def captured(n):
        scale = 2
        def times(x):
            return x * scale
        i = 0
        while i < n:
            i += 1
        return times(i)

    def generated(n):
        for i in range(n):
            yield i
"""


def test_on_hot_function_is_called_once_at_exactly_the_threshold() -> None:
    tiering = FakeTiering(call_threshold=5)
    profile.set_tiering(tiering)
    summed = run(LOOPS)["summed"]
    for _ in range(4):
        summed(3)
    assert tiering.hot_functions == []
    summed(3)
    assert tiering.hot_functions == [(summed, 5)]
    for _ in range(20):
        assert summed(3) == 3  # None: keep interpreting, and never ask again
    assert len(tiering.hot_functions) == 1 and compiled_of(summed) is None
    assert profile_of(summed).calls == 25


def test_a_returned_callable_serves_later_calls_and_interpret_still_interprets() -> None:
    calls: list[tuple] = []

    def compiled(*args: Any, **kwargs: Any) -> Any:
        calls.append((args, kwargs))
        return "compiled"
    tiering = FakeTiering(call_threshold=3, compiled=compiled)
    profile.set_tiering(tiering)
    summed = run(LOOPS)["summed"]
    assert [summed(4), summed(4)] == [6, 6]
    assert summed(4) == "compiled"  # the third call reaches the threshold: already compiled
    assert compiled_of(summed) is compiled and summed.__code__ is not profile_code(summed)
    assert summed(n=5) == "compiled"
    assert calls == [((4,), {}), ((5,), {})]  # the forwarder passes parameters as bound
    assert interpret(summed, 5) == 10 and len(calls) == 2  # the deopt path
    profile.set_tiering(None)
    assert summed(6) == "compiled"  # the compiled version stays installed
    assert profile_of(summed).calls == 2  # counted while interpreted; interpret() is not a call


def profile_code(func: Any) -> Any:
    """The entry code object of a DPB function (what runs it in the interpreter)."""
    return prepared_of(func).entry


def test_on_hot_loop_for_loop_gets_line_locals_and_iterator_once_per_frame() -> None:
    tiering = FakeTiering(call_threshold=1000, loop_threshold=10)
    profile.set_tiering(tiering)
    summed = run(LOOPS)["summed"]
    assert summed(100) == 4950 and summed(100) == 4950
    assert summed(5) == 10  # never hot
    first, second = tiering.hot_loops
    assert first["func"] is summed and first["line"] == 4  # the `for` line
    assert first["locals"] == {"n": 100, "total": 45, "i": 9}  # after the 10th iteration's body
    assert type(first["iterator"]).__name__ == "range_iterator"
    assert first["remaining"] == 90 and first["backedges"] == 10
    assert second["backedges"] == 110 and second["locals"]["total"] == 45


def test_on_hot_loop_while_loop_has_no_iterator_and_includes_cells() -> None:
    tiering = FakeTiering(loop_threshold=7)
    profile.set_tiering(tiering)
    namespace = run(LOOPS)
    assert namespace["counted"](20) == 20 and namespace["captured"](20) == 40
    counted, captured = tiering.hot_loops
    assert (counted["line"], counted["iterator"], counted["locals"]) == (10, None, {"n": 20, "i": 7})
    assert captured["line"] == 19 and captured["locals"]["scale"] == 2 and captured["locals"]["i"] == 7
    assert set(captured["locals"]) == {"n", "scale", "times", "i"}


def test_on_hot_loop_returning_done_makes_the_frame_return_its_result() -> None:
    tiering = FakeTiering(loop_threshold=10, loop_answer=(True, "from the JIT"))
    profile.set_tiering(tiering)
    namespace = run(LOOPS)
    assert namespace["summed"](100) == "from the JIT"
    assert namespace["summed"](3) == 3
    assert list(namespace["generated"](50)) == list(range(50))  # generator frames are not offered
    assert len(tiering.hot_loops) == 1


class NestedFakeTiering(FakeTiering):
    """A hook that declares ``iterators``: it also gets the enclosing loops' iterators."""

    def on_hot_loop(self, func: VMFunction, line: int, names: list[str], values: list[Any],
                    iterator: Any, iterators: list[Any] | None = None) -> tuple[bool, Any]:
        answer = super().on_hot_loop(func, line, names, values, iterator)
        self.hot_loops[-1]["iterators"] = iterators
        self.hot_loops[-1]["left"] = [it.__length_hint__() for it in iterators or []]
        return answer


NESTED = """
    def grid(n):
        t = 0
        for a in range(n):
            for b in range(n + 1):
                t += a * b
        return t

    def walk(rows):
        t = 0
        for row in rows:
            i = 0
            while i < row:
                i += 1
            t += i
        return t
"""


def test_on_hot_loop_gets_the_enclosing_loops_iterators_outermost_first() -> None:
    tiering = NestedFakeTiering(loop_threshold=10)
    profile.set_tiering(tiering)
    assert profile.hot_loop_wants_iterators()
    namespace = run(NESTED)
    assert namespace["grid"](4) == 60 and namespace["walk"]([3, 3, 3, 3]) == 12
    grid, walk = tiering.hot_loops
    # grid: 5 inner back-edges per row, then the outer one: the 10th is row 1's 4th inner
    assert grid["line"] == 5 and grid["locals"] == {"n": 4, "t": 0 + 1 + 2 + 3, "a": 1, "b": 3}
    assert grid["iterators"][-1] is grid["iterator"] and grid["left"] == [2, 1]
    # walk: 3 while back-edges then the for's per row; the 10th is row 2's 2nd while back-edge
    assert walk["line"] == 13 and walk["iterator"] is None and walk["locals"]["i"] == 2
    assert len(walk["iterators"]) == 1 and walk["left"] == [1]


def test_hooks_declaring_no_iterators_parameter_keep_the_five_argument_call() -> None:
    class KeywordsTiering(FakeTiering):
        def on_hot_loop(self, *args: Any, **kwargs: Any) -> tuple[bool, Any]:
            self.kwargs = kwargs
            return super().on_hot_loop(*args)

    tiering = FakeTiering(loop_threshold=10)
    profile.set_tiering(tiering)
    assert not profile.hot_loop_wants_iterators()
    assert run(NESTED)["grid"](4) == 60 and tiering.hot_loops[0]["line"] == 5  # no TypeError
    keywords = KeywordsTiering(loop_threshold=10)
    profile.set_tiering(keywords)
    assert profile.hot_loop_wants_iterators()  # **kwargs takes it too
    assert run(NESTED)["grid"](4) == 60 and len(keywords.kwargs["iterators"]) == 2
    profile.set_tiering(None)
    assert not profile.hot_loop_wants_iterators()


def test_tiering_errors_are_precise() -> None:
    with pytest.raises(ValueError, match="call_threshold must be a positive int"):
        profile.set_tiering(FakeTiering(call_threshold=0))
    profile.set_tiering(FakeTiering(call_threshold=1, compiled=42))  # type: ignore[arg-type]
    summed = run(LOOPS)["summed"]
    with pytest.raises(TypeError, match="returned a int, not a callable"):
        summed(3)
    profile.set_tiering(FakeTiering(loop_threshold=2, loop_answer="yes"))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"must return \(done, result\), got 'yes'"):
        run(LOOPS)["counted"](5)
    assert profile.get_tiering() is not None


def test_vm_function_exposes_what_the_jit_needs() -> None:
    source = """\
        import functools
        SCALE = 3

        @functools.lru_cache
        @staticmethod
        def decorated(x):
            return x

        def plain(a, b=2, *, c=3):
            return a
    """
    namespace = run(source)
    plain = namespace["plain"]
    decorated = namespace["decorated"].__wrapped__.__func__
    assert (plain.__name__, plain.__qualname__, plain.__module__) == ("plain", "plain", "m")
    assert plain.__globals__ is namespace and plain.__globals__["SCALE"] == 3
    assert (plain.__defaults__, plain.__kwdefaults__) == ((2,), {"c": 3})
    assert plain.__code__.co_filename == "prog.py"
    assert (plain.__code__.co_firstlineno, decorated.__code__.co_firstlineno) == (9, 4)
    assert compiled_of(plain) is None and isinstance(profile_of(plain), FunctionProfile)
    with pytest.raises(TypeError, match="needs a function defined in DPB code, got function"):
        profile_of(lambda: None)


# -- inline caches ------------------------------------------------------------------
def test_monomorphic_attribute_and_global_sites_hit_at_least_99_percent() -> None:
    namespace = run("""
        class Point:
            def __init__(self, x):
                self.x = x
        def walk(points):
            total = 0
            for p in points:
                total += abs(p.x)
            return total
    """)
    walk = namespace["walk"]
    assert walk([namespace["Point"](i) for i in range(1000)]) == 499500
    stats = cache_stats(walk)
    attribute, = [s for s in stats.values() if s["kind"] == "attr"]
    global_, = [s for s in stats.values() if s["kind"] == "global"]
    for entry in (attribute, global_):
        assert entry["state"] == "mono" and entry["hit_rate"] >= 0.99
        assert (entry["hits"], entry["misses"]) == (999, 1)


def test_attribute_cache_goes_polymorphic_then_megamorphic() -> None:
    namespace = run(CLASSES)
    get = namespace["get"]
    objects = [namespace[name]() for name in "ABCDE"]
    states = []
    for obj in objects:
        for _ in range(10):
            get(obj)
        entry, = cache_stats(get).values()
        states.append(entry["state"])
    assert states == ["mono", "poly", "poly", "poly", "mega"]
    # Every execution with the unlisted fifth type misses: 4 first sightings + 10.
    assert (entry["hits"], entry["misses"]) == (36, 14)


def test_global_cache_follows_shadowing_deletion_and_builtins_changes() -> None:
    output = same_output_as_cpython("""
        import builtins
        def probe():
            return len("abc")
        results = [probe()]
        def len(x):
            return "shadowed"
        results.append(probe())
        del len
        results.append(probe())
        builtins.dxpy_probe_name = 1
        def uses_new_builtin():
            return dxpy_probe_name
        results.append(uses_new_builtin())
        builtins.dxpy_probe_name = 2
        results.append(uses_new_builtin())
        dxpy_probe_name = "global wins"
        results.append(uses_new_builtin())
        del builtins.dxpy_probe_name
        del dxpy_probe_name
        try:
            uses_new_builtin()
        except NameError as exc:
            results.append(str(exc))
        print(results)
    """)
    assert output == "[3, 'shadowed', 3, 1, 2, 'global wins', \"name 'dxpy_probe_name' is not defined\"]\n"


def test_global_cache_counts_misses_when_the_binding_moves() -> None:
    namespace = run("""
        def probe():
            return len("ab")
    """)
    probe = namespace["probe"]
    probe(), probe()
    namespace["len"] = lambda x: -1
    assert probe() == -1 and probe() == -1
    del namespace["len"]
    assert probe() == 2
    cache: GlobalCache = sites(probe, "caches")[0]
    assert (cache.hits, cache.misses, cache.source, cache.state) == (2, 3, "builtins", "mono")


ATTRIBUTE_MUTATIONS = {
    "class_attribute_rebound": """
        class K:
            value = 1
        def read(o):
            return o.value
        k = K()
        seen = [read(k)]
        K.value = 2
        seen.append(read(k))
        print(seen)
    """,
    "method_replaced": """
        class K:
            def m(self):
                return "old"
        def call(o):
            return o.m()
        k = K()
        seen = [call(k), call(k)]
        K.m = lambda self: "new"
        seen.append(call(k))
        print(seen)
    """,
    "instance_dict_shadows_then_deleted": """
        class K:
            value = "class"
        def read(o):
            return o.value
        k = K()
        seen = [read(k)]
        k.value = "instance"
        seen.append(read(k))
        del k.value
        seen.append(read(k))
        print(seen)
    """,
    "data_descriptor_added_later": """
        class K:
            pass
        def read(o):
            return o.value
        k = K()
        k.value = "instance"
        seen = [read(k)]
        K.value = property(lambda self: "property")
        seen.append(read(k))
        print(seen)
    """,
    "base_class_mutated": """
        class Base:
            value = "base"
        class Sub(Base):
            pass
        def read(o):
            return o.value
        s = Sub()
        seen = [read(s)]
        Base.value = "changed"
        seen.append(read(s))
        Sub.value = "sub"
        seen.append(read(s))
        print(seen)
    """,
    "getattr_added_later": """
        class K:
            pass
        def read(o):
            try:
                return o.missing
            except AttributeError:
                return "AttributeError"
        k = K()
        seen = [read(k)]
        K.__getattr__ = lambda self, name: "fallback " + name
        seen.append(read(k))
        print(seen)
    """,
    "getattribute_override": """
        class K:
            value = 1
        def read(o):
            return o.value
        k = K()
        seen = [read(k)]
        K.__getattribute__ = lambda self, name: "intercepted " + name
        seen.append(read(k))
        del K.__getattribute__
        seen.append(read(k))
        print(seen)
    """,
    "class_of_instance_changed": """
        class A:
            value = "a"
        class B:
            value = "b"
        def read(o):
            return o.value
        x = A()
        seen = [read(x)]
        x.__class__ = B
        seen.append(read(x))
        print(seen)
    """,
    "module_attribute_rebound": """
        import math
        def read():
            return math.pi
        seen = [read()]
        saved = math.pi
        math.pi = 3
        seen.append(read())
        math.pi = saved
        seen.append(read() == saved)
        print(seen)
    """,
    "store_attr_through_setattr_override": """
        class K:
            def __setattr__(self, name, value):
                object.__setattr__(self, name, value * 10)
        def store(o, v):
            o.value = v
            return o.value
        k = K()
        print([store(k, 1), store(k, 2)])
    """,
}


@pytest.mark.parametrize("name", sorted(ATTRIBUTE_MUTATIONS))
def test_attribute_results_stay_exact_after_mutation(name: str) -> None:
    assert same_output_as_cpython(ATTRIBUTE_MUTATIONS[name]).startswith("[")


def test_cache_stats_rejects_non_vm_functions() -> None:
    with pytest.raises(TypeError, match="got builtin_function_or_method"):
        cache_stats(len)


def test_a_comprehension_filter_jumping_back_is_a_back_edge() -> None:
    tiering = FakeTiering(loop_threshold=30)
    profile.set_tiering(tiering)
    namespace = run("""
        def evens(n):
            return [i for i in range(n) if i % 2 == 0]
    """)
    assert namespace["evens"](100) == list(range(0, 100, 2))
    comprehension = tiering.hot_loops[0]["func"]
    assert comprehension.__name__ == "<listcomp>" and profile_of(comprehension).backedges == 100
    assert tiering.hot_loops[0]["locals"]["i"] == 29  # the 30th back-edge: 15 filtered, 15 kept


def test_short_circuit_branches_and_slow_path_sites_are_recorded() -> None:
    namespace = run("""
        class Box:
            pass
        def both(a, b):
            return a and b
        def store(box, value):
            box.value = value
            return sorted([value], reverse=True)
    """)
    both, store = namespace["both"], namespace["store"]
    for a in (0, 1, 1, "", "x"):
        both(a, 2)
    jump, = sites(both, "branches")
    assert (jump.taken, jump.not_taken) == (2, 3)  # a falsy: jump keeping it
    store(namespace["Box"](), 1), store(namespace["Box"](), 2.0)
    attribute, call_kw = sites(store)
    assert attribute.describe() == "types Box mono 2x"
    assert call_kw.describe() == "types builtin_function_or_method mono 2x"


@pytest.mark.parametrize("value, expected", [("0", "False 1024"), ("full", "True None"), ("1", "True 1024")])
def test_dxpy_vm_profile_environment_variable(value: str, expected: str) -> None:
    script = "from dxpy.vm import profile; print(profile.is_enabled(), profile.stable_ticks())"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                            env={**os.environ, "DXPY_VM_PROFILE": value})
    assert result.stdout.strip() == expected
