"""``match``, ``except*`` and the VM fixes the corpus exposed: each checked against CPython.

The hypothesis test builds random (pattern, subject) pairs from every
pattern kind, lets CPython's compiler reject the invalid ones, and requires
the VM to bind the same names (or none) and raise the same errors.
"""

from __future__ import annotations

import contextlib
import gc
import io
import textwrap
import traceback

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from dxpy.vm import loads, to_bytes
from dxpy.vm.compiler import compile_source
from dxpy.vm.interpreter import run_module
from dxpy.vm.opcodes import Opcode, iter_instructions

Outcome = tuple[str, tuple[str, str, list[tuple[int, str]]] | None]


def run(source: str, through_vm: bool) -> Outcome:
    """stdout, and the uncaught exception with its traceback entries in the program's file."""
    out = io.StringIO()
    error = None
    namespace = {"__name__": "__main__"}
    try:
        with contextlib.redirect_stdout(out):
            if through_vm:
                run_module(loads(to_bytes(compile_source(source, "prog.py"))), namespace, "prog.py")
            else:
                exec(compile(source, "prog.py", "exec", dont_inherit=True), namespace)
    except Exception as exc:  # the comparison is the point: any exception, same on both sides
        frames = [(e.lineno, e.name) for e in traceback.extract_tb(exc.__traceback__) if e.filename == "prog.py"]
        error = (type(exc).__name__, str(exc), frames)
    return out.getvalue(), error


def same_as_cpython(source: str) -> Outcome:
    source = textwrap.dedent(source)
    ours = run(source, True)
    assert ours == run(source, False)
    return ours


def opcodes(source: str) -> set[str]:
    module = compile_source(textwrap.dedent(source))
    return {i.opcode.name for code in module.code for i in iter_instructions(code.instructions)}


def test_match_uses_the_pattern_opcodes() -> None:
    used = opcodes("""
        match x:
            case [a, *b]: pass
            case {"k": v, **rest}: pass
            case int(n) | str(n): pass
    """)
    assert {"MATCH_SEQUENCE", "MATCH_MAPPING", "MATCH_KEYS", "MATCH_CLASS", "GET_LEN"} <= used


def test_failed_pattern_binds_nothing_and_guard_sees_captures() -> None:
    out, error = same_as_cpython("""
        match [1, 2]:
            case [a, 3]:
                pass
            case [b, c] if b > c:
                pass
            case _:
                print("b and c bound by the failed guard:", b, c)
        print(a)
    """)
    assert error is not None and error[0] == "NameError" and "b and c bound" in out


def test_or_patterns_agree_on_name_order() -> None:
    same_as_cpython("""
        def f(v):
            match v:
                case (a, b, c, 0) | (c, a, b, 1) | (b, c, a, 2) | {"a": a, "b": b, "c": c}:
                    return a, b, c
        print([f(v) for v in [(1, 2, 3, 0), (1, 2, 3, 1), (1, 2, 3, 2), {"c": 3, "b": 2, "a": 1}]])
    """)


def test_class_pattern_errors_are_cpythons() -> None:
    for pattern in ("len()", "P(1, 2, 3)", "P(1, x=2)", "Bad(1)", "Odd(1)"):
        same_as_cpython(f"""
            class P:
                __match_args__ = ("x", "y")
                x, y = 1, 2
            class Bad:
                __match_args__ = ["x"]
            class Odd:
                __match_args__ = (5,)
            match P() if "{pattern}" != "Bad(1)" and "{pattern}" != "Odd(1)" else {pattern.split("(")[0]}():
                case {pattern}:
                    print("matched")
        """)


def test_mapping_duplicate_value_key_is_a_value_error() -> None:
    _, error = same_as_cpython("""
        class K:
            a = "a"
        match {"a": 1, "b": 2}:
            case {"a": 1, K.a: 1}:
                pass
    """)
    assert error is not None and error[0] == "ValueError"


LITERALS = st.sampled_from(["0", "1", "-1", "2.5", "'a'", "'ab'", "None", "True", "False", "b'x'"])
NAMES = st.sampled_from(["a", "b", "c", "_"])


def patterns(depth: int = 0) -> st.SearchStrategy[str]:
    leaf = st.one_of(LITERALS, NAMES, st.sampled_from(["int()", "str()", "int(a)", "str(b)", "list()", "K.V"]))
    if depth >= 2:
        return leaf
    inner = patterns(depth + 1)
    return st.one_of(
        leaf,
        st.lists(inner, max_size=3).map(lambda ps: "[" + ", ".join(ps) + "]"),
        st.tuples(st.lists(inner, max_size=2), NAMES, st.lists(inner, max_size=2))
        .map(lambda t: "[" + ", ".join(t[0] + ["*" + t[1]] + t[2]) + "]"),
        st.lists(st.tuples(st.sampled_from(["'k'", "'m'", "1"]), inner), max_size=2)
        .map(lambda kvs: "{" + ", ".join(f"{k}: {p}" for k, p in kvs) + "}"),
        st.tuples(st.lists(st.tuples(st.sampled_from(["'k'", "1"]), inner), max_size=1), NAMES)
        .map(lambda t: "{" + ", ".join([f"{k}: {p}" for k, p in t[0]] + [f"**{t[1]}"]) + "}"),
        st.tuples(inner, inner).map(lambda t: f"({t[0]} | {t[1]})"),
        st.tuples(inner, NAMES).map(lambda t: f"({t[0]} as {t[1]})"),
        st.tuples(inner, inner).map(lambda t: f"P({t[0]}, y={t[1]})"),
    )


SUBJECTS = st.recursive(
    st.one_of(st.integers(-2, 2), st.sampled_from([2.5, "a", "ab", b"x", None, True, False])),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.lists(inner, max_size=3).map(tuple),
                            st.dictionaries(st.sampled_from(["k", "m", 1]), inner, max_size=3),
                            st.tuples(inner, inner).map(lambda t: ("P", t))),
    max_leaves=6)

PRELUDE = """\
class K:
    V = 1
class P:
    __match_args__ = ("x", "y")
    def __init__(self, x, y):
        self.x, self.y = x, y
    def __repr__(self):
        return f"P({self.x!r}, {self.y!r})"
def build(v):
    if isinstance(v, tuple) and len(v) == 2 and v[0] == "P" and isinstance(v[1], tuple):
        return P(build(v[1][0]), build(v[1][1]))
    if isinstance(v, (list, tuple)):
        return type(v)(build(x) for x in v)
    if isinstance(v, dict):
        return {k: build(x) for k, x in v.items()}
    return v
"""


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(patterns(), min_size=1, max_size=3), SUBJECTS, st.booleans())
def test_random_patterns_match_as_on_cpython(cases: list[str], subject: object, guarded: bool) -> None:
    body = "".join(f"    case {p}{' if a != 0' if guarded and 'a' in p else ''}:\n        hit = {i}\n"
                   for i, p in enumerate(cases))
    source = (PRELUDE + f"subject = build({subject!r})\nhit = None\nmatch subject:\n{body}"
              "print(hit, sorted((n, repr(v)) for n, v in globals().items() if n in 'abc' and n))\n")
    try:
        compile(source, "prog.py", "exec", dont_inherit=True)
    except SyntaxError:
        assume(False)  # CPython's compiler rejects it (irrefutable case first, names bound twice, ...)
    assert run(source, True) == run(source, False)


def test_except_star_compiles_to_group_opcodes() -> None:
    used = opcodes("try:\n    f()\nexcept* ValueError as e:\n    g(e)\n")
    assert {"CHECK_EG_MATCH", "PREP_RERAISE_STAR"} <= used
    assert Opcode.PREP_RERAISE_STAR >> 4 == 0x9  # the exceptions range


@pytest.mark.parametrize("handlers", [
    "except* ValueError:\n    pass\n",
    "except* ValueError:\n    raise\nexcept* TypeError as e:\n    raise KeyError('new') from e\n",
    "except* (KeyError, OSError) as e:\n    print(repr(e))\n",
    "except* ExceptionGroup:\n    pass\n",
])
def test_except_star_results_are_cpythons(handlers: str) -> None:
    raising = "        raise ExceptionGroup('g', [ValueError(1), TypeError(2), KeyError(3)])\n"
    same_as_cpython("def f():\n    try:\n" + raising + textwrap.indent(handlers, "    ") + "f()\n")


def test_nested_same_line_comprehensions_get_their_own_scopes() -> None:
    same_as_cpython("""
        def f(rows, k):
            return [row[0] for row in [[v * k] for v in rows] if [q for q in rows]]
        print(f([1, 2], 3), [x for x in [y for y in [z for z in "ab"]]])
    """)


def test_frame_builtins_see_the_vm_frame() -> None:
    same_as_cpython("""
        top = 1
        def f(p):
            q = 2
            def inner():
                return p + q
            return sorted(locals()), dir(), "top" in globals()
        class C:
            z = 3
            names = sorted(vars())
        print(f(0), C.names, [sorted(locals()) for _ in "a"], "top" in globals())
    """)


def test_bare_raise_adds_no_traceback_entry() -> None:
    _, error = same_as_cpython("""
        def fail():
            raise KeyError("k")
        def again():
            try:
                fail()
            except KeyError:
                raise
        again()
    """)
    assert error is not None and [name for _, name in error[2]] == ["<module>", "again", "fail"]


def test_closed_generator_releases_its_locals_at_once() -> None:
    gc.collect()
    gc.disable()  # CPython frees these by reference counting; the VM must not need the cyclic GC
    try:
        out, _ = same_as_cpython("""
            def sink(log):
                try:
                    while True:
                        yield
                except GeneratorExit:
                    log.append("sink closed")
            def feeder(target):
                try:
                    while True:
                        target.send((yield))
                finally:
                    target.send("last")
            log = []
            s = sink(log)
            next(s)
            f = feeder(s)
            del s
            next(f)
            f.close()
            print(log)
        """)
    finally:
        gc.enable()
    assert "sink closed" in out


def test_super_without_positional_parameters_fails_at_run_time() -> None:
    _, error = same_as_cpython("""
        class A:
            def f(*args):
                return super().f()
            def g(self):
                def inner():
                    return super()
                return inner()
        for call in (A().f, A().g):
            try:
                call()
            except RuntimeError as e:
                print("RuntimeError:", e)
        A.f()
    """)
    assert error is not None and error[:2] == ("RuntimeError", "super(): no arguments")
