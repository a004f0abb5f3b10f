"""DPB compiler (supported subset): structure, scoping, errors, round trip.

Execution is not tested here (there is no interpreter yet); these tests pin
what the compiler emits and that everything it emits is a valid,
round-tripping DPB module.
"""

from __future__ import annotations

import sysconfig
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dxpy.vm import CodeFlags, DpbModule, Opcode, iter_instructions, loads, to_bytes
from dxpy.vm.compiler import compile_file, compile_source
from dxpy.vm.errors import DpbCompileError

STDLIB = Path(sysconfig.get_paths()["stdlib"])


def ops(module: DpbModule, index: int = 0) -> list[tuple[str, int]]:
    return [(i.opcode.name, i.arg) for i in iter_instructions(module.code[index].instructions)]


def names(module: DpbModule, indices: tuple[int, ...]) -> list[str]:
    return [module.names[i] for i in indices]


def by_qualname(module: DpbModule, qualname: str) -> int:
    return next(i for i, c in enumerate(module.code) if module.names[c.qualname] == qualname)


def round_trips(module: DpbModule) -> None:
    data = to_bytes(module)
    assert to_bytes(loads(data).to_module()) == data


def test_module_body_and_constants() -> None:
    module = compile_source("x = 1\nprint(x + 2.0, 1, True)\n")
    assert ops(module) == [
        ("LOAD_CONST", 0), ("STORE_NAME", 0), ("LOAD_NAME", 1), ("LOAD_NAME", 0),
        ("LOAD_CONST", 1), ("BINARY_ADD", 0), ("LOAD_CONST", 0), ("LOAD_CONST", 2),
        ("CALL", 3), ("POP_TOP", 0), ("LOAD_CONST", 3), ("RETURN_VALUE", 0)]
    assert [type(c) for c in module.constants] == [int, float, bool, type(None)]  # 1 and True kept apart
    assert module.code[0].linetable == ((0, 1), (2, 2))  # the implicit return is on the last line
    round_trips(module)


def test_function_scopes_resolve_to_slots_cells_and_globals() -> None:
    source = (
        "G = 0\n"
        "def outer(a, b=2, *rest, k, **kw):\n"
        "    '''doc'''\n"
        "    hidden = a\n"
        "    def inner():\n"
        "        nonlocal hidden\n"
        "        hidden += G\n"
        "        return hidden, b\n"
        "    return inner\n")
    module = compile_source(source)
    outer = module.code[by_qualname(module, "outer")]
    inner_index = by_qualname(module, "outer.<locals>.inner")
    inner = module.code[inner_index]
    assert names(module, outer.localnames) == ["a", "b", "k", "rest", "kw", "inner"]
    assert names(module, outer.cellnames) == ["b", "hidden"]  # b: a captured parameter
    assert (outer.argcount, outer.kwonly) == (2, 1)
    assert outer.flags == CodeFlags.VARARGS | CodeFlags.VARKEYWORDS | CodeFlags.HAS_DOCSTRING
    assert module.constants[outer.consts[0]] == "doc"
    assert names(module, inner.freenames) == ["b", "hidden"]
    assert outer.nested == (inner_index,) and inner_index > by_qualname(module, "outer")
    assert ("LOAD_GLOBAL", module.names.index("G")) in ops(module, inner_index)
    assert ("STORE_DEREF", 1) in ops(module, inner_index)
    round_trips(module)


def test_classes_methods_and_private_names() -> None:
    module = compile_source(
        "class Account(Base, metaclass=Meta):\n"
        "    '''An account.'''\n"
        "    rate = 1\n"
        "    def __init__(self, __secret):\n"
        "        self.__secret = __secret\n")
    body = ops(module, by_qualname(module, "Account"))
    assert body[:4] == [("LOAD_NAME", module.names.index("__name__")),
                        ("STORE_NAME", module.names.index("__module__")),
                        ("LOAD_CONST", 0), ("STORE_NAME", module.names.index("__qualname__"))]
    init = module.code[by_qualname(module, "Account.__init__")]
    assert names(module, init.localnames) == ["self", "_Account__secret"]
    assert ("STORE_ATTR", module.names.index("_Account__secret")) in ops(module, by_qualname(module, "Account.__init__"))
    assert ("CALL_KW", 4) in ops(module)  # __build_class__(body, name, Base, metaclass=Meta)
    round_trips(module)


def test_chained_comparison_evaluates_middle_once() -> None:
    module = compile_source("def f(a, b, c):\n    return a < b <= c\n")
    assert ops(module, 1) == [
        ("LOAD_FAST", 0), ("LOAD_FAST", 1), ("SWAP", 2), ("COPY", 2), ("COMPARE_LT", 0),
        ("JUMP_IF_FALSE_OR_POP", 9), ("LOAD_FAST", 2), ("COMPARE_LE", 0), ("JUMP", 11),
        ("SWAP", 2), ("POP_TOP", 0), ("RETURN_VALUE", 0), ("LOAD_CONST", 0), ("RETURN_VALUE", 0)]


def test_loops_break_pops_the_iterator() -> None:
    module = compile_source("for i in x:\n    if i:\n        break\nelse:\n    y = 1\n")
    listing = ops(module)
    assert listing[:4] == [("LOAD_NAME", 0), ("GET_ITER", 0), ("FOR_ITER", 9), ("STORE_NAME", 1)]
    assert listing[6:9] == [("POP_TOP", 0), ("JUMP", 11), ("JUMP", 2)]  # break skips the else


def test_comprehension_is_a_nested_function_called_with_the_iterator() -> None:
    module = compile_source("def f(xs, k):\n    return [x * k for x in xs if x]\n")
    comp_index = by_qualname(module, "f.<locals>.<listcomp>")
    comp = module.code[comp_index]
    assert names(module, comp.localnames) == [".0", "x"] and names(module, comp.freenames) == ["k"]
    call = [("MAKE_FUNCTION", 8), ("LOAD_FAST", 0), ("GET_ITER", 0), ("CALL", 1), ("RETURN_VALUE", 0)]
    listing = ops(module, by_qualname(module, "f"))
    assert listing[3:8] == call  # closure over k; xs is iterated in f's own scope
    assert ("LIST_APPEND", 2) in ops(module, comp_index)
    round_trips(module)


def test_long_jumps_get_extended_arg_prefixes() -> None:
    source = "if x:\n" + "".join(f"    y = {i}\n" for i in range(3_000_000 // 1000)) + "z = 1\n"
    module = compile_source(source)
    round_trips(module)
    instructions = list(iter_instructions(module.code[0].instructions))
    assert all(i.opcode is not Opcode.EXTENDED_ARG for i in instructions)
    many = compile_source("x = (" + ", ".join(str(i) for i in range(70_000)) + ")\n")
    assert max(i.arg for i in iter_instructions(many.code[0].instructions)) >= 2**16
    round_trips(many)


@pytest.mark.parametrize("source, construct", [
    ("if 0:\n    a, *b, " + ", ".join(f"c{i}" for i in range(65536)) + " = x\n",
     "star-unpacking into this many targets"),  # UNPACK_EX has 16 bits for the targets after the star
])
def test_unsupported_constructs_fail_at_compile_time(source: str, construct: str) -> None:
    with pytest.raises(DpbCompileError) as info:
        compile_source("import os\n" + source, "prog.py")
    assert info.value.construct == construct and info.value.filename == "prog.py"
    assert info.value.lineno >= 2 and str(info.value).startswith(f"prog.py:{info.value.lineno}: {construct}")


def test_syntax_errors_are_cpythons_own() -> None:
    for source in ("return 1\n", "def f(:\n", "break\n"):
        with pytest.raises(SyntaxError) as ours:
            compile_source(source, "bad.py")
        with pytest.raises(SyntaxError) as theirs:
            compile(source, "bad.py", "exec")
        assert (ours.value.msg, ours.value.lineno) == (theirs.value.msg, theirs.value.lineno)


IDENTIFIERS = st.sampled_from(["a", "b", "c", "__d", "e_1"])
LEAVES = st.one_of(IDENTIFIERS, st.integers(-10**30, 10**30).map(str), st.floats(allow_nan=False).map(repr),
                   st.text(max_size=5).map(repr), st.binary(max_size=5).map(repr), st.just("None"))


def expressions() -> st.SearchStrategy[str]:
    return st.recursive(LEAVES, lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "//", "%", "**", "<<", "&", "|", "^", "@"]), inner)
        .map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(inner, st.sampled_from(["<", "<=", "==", "is not", "not in"]), inner, inner)
        .map(lambda t: f"({t[0]} {t[1]} {t[2]} < {t[3]})"),
        st.tuples(inner, inner).map(lambda t: f"({t[0]} and not {t[1]} or -{t[0]})"),
        st.lists(inner, max_size=3).map(lambda xs: f"f({', '.join(xs)}, key={xs[0] if xs else 0})"),
        st.lists(inner, max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]"),
        st.tuples(inner, inner).map(lambda t: f"{{{t[0]}: {t[1]}}}"),
        st.tuples(inner, inner, inner).map(lambda t: f"({t[0]} if {t[1]} else {t[2]})"),
        inner.map(lambda x: f"a[{x}:]"),
        inner.map(lambda x: f"(lambda a, *r, k=1: {x})"),
        inner.map(lambda x: f"f'{{{x}!r:>{{a}}}}'"),
    ), max_leaves=6)


@st.composite
def programs(draw: st.DrawFn) -> str:
    """Small programs of the supported subset: nested defs, classes, loops, closures."""
    lines = []
    for _ in range(draw(st.integers(1, 4))):
        shape = draw(st.integers(0, 5))
        expr, other = draw(expressions()), draw(expressions())
        if shape == 0:
            lines.append(f"a = {expr}")
        elif shape == 1:
            lines.append(f"def g(a, b=1, *c, d, **e):\n    def h():\n        nonlocal a\n        a += {expr}\n"
                         f"        return a\n    return h, {other}")
        elif shape == 2:
            lines.append(f"class K(object):\n    __d = {expr}\n    def m(self, __d=1):\n        return self.__d + {other}")
        elif shape == 3:
            lines.append(f"for a, *b in {expr}:\n    if {other}:\n        continue\n    break\nelse:\n    del a")
        elif shape == 4:
            lines.append(f"while (b := {expr}):\n    b.x += 1\n    b[1:2] //= {other}")
        else:
            lines.append(f"assert {expr}, {other}")
    return "\n".join(lines) + "\n"


@pytest.mark.filterwarnings("ignore::SyntaxWarning")  # CPython's own lint of generated code
@settings(max_examples=80, deadline=None)
@given(programs())
def test_compiled_programs_round_trip(source: str) -> None:
    try:
        module = compile_source(source, "gen.py")
    except SyntaxError:
        return  # e.g. a generated nonlocal that CPython rejects: its error, not ours
    round_trips(module)


def test_stdlib_sample_compiles_or_is_refused_cleanly() -> None:
    """Real code: every file either compiles to a valid module or is refused by construct."""
    files = sorted(STDLIB.glob("*.py"))
    compiled = 0
    for path in files:
        try:
            module = compile_file(str(path))
        except DpbCompileError as exc:
            assert exc.filename == str(path) and exc.lineno >= 1
            continue
        round_trips(module)
        compiled += 1
    assert compiled >= 10
