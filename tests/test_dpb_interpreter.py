"""Differential tests: programs run by the DPB VM and by CPython must agree.

Each program runs twice, compiled by dxpy (compile -> to_bytes -> loads ->
run_module) and by CPython's own exec; stdout and the exception raised (type
and message) must be identical.  Programs stay within the compiler's
supported subset (see dxpy/vm/compiler.py).
"""

from __future__ import annotations

import contextlib
import io
import textwrap

import pytest

from dxpy.vm import loads, to_bytes
from dxpy.vm.compiler import compile_source
from dxpy.vm.functions import compiled_of, is_vm_function
from dxpy.vm.interpreter import run_module


def run(source: str, through_vm: bool) -> tuple[str, tuple[str, str] | None]:
    out = io.StringIO()
    error = None
    try:
        with contextlib.redirect_stdout(out):
            namespace = {"__name__": "__main__"}
            if through_vm:
                run_module(loads(to_bytes(compile_source(source, "prog.py"))), namespace)
            else:
                exec(compile(source, "prog.py", "exec", dont_inherit=True), namespace)
    except Exception as exc:  # the comparison is the point: any exception, same on both sides
        error = (type(exc).__name__, str(exc))
    return out.getvalue(), error


def same_as_cpython(source: str) -> None:
    source = textwrap.dedent(source)
    assert run(source, True) == run(source, False)


PROGRAMS = {
    "arithmetic": """
        print(7 // 2, -7 // 2, 7 % -3, 2 ** -1, 2 ** 100, 1 / 3, 5 @ 1 if False else 0)
        print(~5, -(-5), +3, 1 << 70, 2 ** 70 >> 3, 6 & 3, 6 | 3, 6 ^ 3, not 0)
        print(0.1 + 0.2, 1e308 * 10, -0.0, complex(1, 2) * 1j, divmod(7, 2))
    """,
    "strings_and_fstrings": """
        name, width = "dxpy", 8
        print(f"[{name:>{width}}] [{name!r}] [{name!a}] [{3.14159:.2f}] [{'é'!a}] {{}}")
        print("a" "b", "x" * 3, "abc"[::-1], "a,b".split(","), b"\\x00\\xff", r"\\n")
    """,
    "containers": """
        d = {"a": 1, "b": [1, 2]}
        d["c"] = d.pop("a") + 1
        s = {3, 1, 2}
        t = (1, (2, 3), [4])
        t[2].append(5)
        print(sorted(d.items()), sorted(s), t, t[1][0], len(t), d.get("zz", "none"))
        del d["b"]
        print(d, 2 in s, 9 not in s, [1, 2, 3][1:], [1, 2, 3, 4][::2], list(range(10))[-3:])
    """,
    "chained_comparisons_short_circuit": """
        def v(x):
            print("eval", x)
            return x
        print(v(1) < v(2) < v(3))
        print(v(3) < v(2) < v(1))
        print(v(0) and v(1), v(2) or v(3), v(None) or v(0) or v("last"))
    """,
    "unpacking": """
        a, (b, c), *d = 1, (2, 3), 4, 5
        *e, f = "xyz"
        g, *h, i = range(5)
        print(a, b, c, d, e, f, g, h, i)
        j = k = [0]
        j.append(1)
        print(k)
    """,
    "unpack_errors": """
        a, b = [1, 2, 3]
    """,
    "unpack_too_few": """
        a, *b, c = [1]
    """,
    "unpack_non_iterable": """
        a, b = 5
    """,
    "closures_and_nonlocal": """
        def make():
            count = 0
            def bump(n=1):
                nonlocal count
                count += n
                return count
            def peek():
                return count
            return bump, peek
        bump, peek = make()
        bump(); bump(5)
        print(peek(), bump.__name__, bump.__qualname__, bump.__defaults__)
        def adders():
            fs = []
            for i in range(3):
                fs.append(lambda x, i=i: x + i)
            return fs
        print(adders()[2](10), adders()[0](1))
    """,
    "captured_parameter": """
        def outer(x, y=2):
            def inner():
                return x * y
            x = x + 1
            return inner
        print(outer(3)(), outer(3, y=10)())
    """,
    "unbound_local": """
        def f():
            print(value)
            value = 1
        f()
    """,
    "unbound_free": """
        def f():
            def g():
                return value
            r = g
            del_me = 0
            return r
        def h():
            def g():
                return later
            result = g()
            later = 1
            return result
        h()
    """,
    "globals": """
        counter = 0
        def incr():
            global counter
            counter += 1
            return counter
        incr(); incr()
        print(counter, incr.__module__)
        def missing():
            return nowhere
        missing()
    """,
    "classes": """
        class Base:
            kind = "base"
            def __init__(self, v):
                self.v = v
            def describe(self):
                return f"{self.kind}:{self.v}"
            def __eq__(self, other):
                return isinstance(other, Base) and self.v == other.v
            __hash__ = None
        class Child(Base):
            kind = "child"
            def describe(self):
                return "child " + Base.describe(self)
        c = Child(3)
        print(c.describe(), Child.__qualname__, Child.__module__, Child.__mro__[1].__name__)
        print(c == Child(3), c != Base(4), isinstance(c, Base), Child.__dict__["kind"])
    """,
    "class_private_names": """
        class Account:
            __rate = 5
            def __init__(self, secret):
                self.__secret = secret
            def reveal(self):
                return self.__secret, self.__rate, Account.__rate
        a = Account("s3")
        print(a.reveal(), list(vars(a)))
        print(a.__secret)
    """,
    "decorators_properties_staticmethods": """
        def trace(fn):
            def wrapper(a, b=0):
                print("call", fn.__name__, a, b)
                return fn(a, b=b)
            return wrapper
        class Temp:
            def __init__(self, c):
                self._c = c
            @property
            def f(self):
                return self._c * 9 / 5 + 32
            @f.setter
            def f(self, value):
                self._c = (value - 32) * 5 / 9
            @staticmethod
            def unit():
                return "C"
            @classmethod
            def freezing(cls):
                return cls(0)
        @trace
        def add(a, b=0):
            return a + b
        t = Temp.freezing()
        t.f = 212
        print(t.f, Temp.unit(), add(1, b=2), add(5))
    """,
    "metaclass_and_keywords": """
        class Registry(type):
            seen = []
            def __new__(mcls, name, bases, ns, tag="none"):
                cls = type.__new__(mcls, name, bases, ns)
                Registry.seen.append((name, tag))
                return cls
        class A(metaclass=Registry, tag="first"):
            pass
        class B(A):
            pass
        print(Registry.seen, type(B).__name__)
    """,
    "docstrings_and_annotations": """
        def f(a: int, *, b: "str" = "x") -> list:
            "The doc."
            return [a, b]
        class K:
            "Class doc."
        print(f.__doc__, f(1), f.__annotations__, f.__kwdefaults__, K.__doc__)
    """,
    "imports": """
        import os.path
        import collections.abc as cabc
        from math import sqrt as root, pi
        from json import *
        print(os.path.basename("/a/b.txt"), root(16.0), round(pi, 3), cabc.Mapping.__name__)
        print(dumps({"k": [1, 2]}), loads("[1]"))
        from math import no_such_name
    """,
    "assert_and_raise": """
        def check(x):
            assert x > 0, f"bad {x}"
            return x
        print(check(1))
        try_it = check
        try_it(-1)
    """,
    "raise_from": """
        def fail():
            raise ValueError("outer") from KeyError("inner")
        fail()
    """,
    "loops": """
        total = 0
        for i in range(20):
            if i % 3 == 0:
                continue
            if i > 15:
                break
            total += i
        else:
            total = -1
        n = 0
        while n < 5:
            n += 1
        else:
            print("while-else ran", n)
        for ch in "":
            pass
        else:
            print("empty for-else ran")
        print(total)
    """,
    "walrus_and_ternary": """
        data = [5, 8, 0, 3]
        i = 0
        while (item := data[i]) != 0:
            i += 1
        print(i, item, "big" if item > 3 else "small", (y := 10) + y)
    """,
    "interop_callbacks": """
        import functools
        def key(pair):
            return pair[1]
        pairs = [("a", 3), ("b", 1), ("c", 2)]
        print(sorted(pairs, key=key), list(map(lambda p: p[0], pairs)))
        print(functools.reduce(lambda a, b: a * b, range(1, 10)), functools.partial(pow, 2)(10))
        print(list(filter(None, [0, 1, "", "x"])), max(pairs, key=lambda p: p[1]))
    """,
    "call_errors_surface": """
        def f(a):
            return 1 / a
        print(f(4))
        f(0)
    """,
    "attribute_errors": """
        class P:
            pass
        p = P()
        p.x = 1
        del p.x
        print(hasattr(p, "x"))
        p.y
    """,
    "slices_augmented": """
        grid = [[0, 0, 0], [0, 0, 0]]
        grid[1][2] += 5
        grid[0][0:2] = [7, 8]
        s = slice(1, None)
        nums = list(range(6))
        nums[s] = [9]
        nums[::-1]
        obj = type("O", (), {})()
        obj.count = 1
        obj.count *= 7
        print(grid, nums, obj.count)
    """,
    "comprehensions": """
        data = [3, 1, 4, 1, 5, 9, 2, 6]
        print([x * 2 for x in data if x > 2 if x != 9])
        print({x % 3 for x in data}, {k: v for k, v in zip("abc", data)})
        print([(i, j) for i in range(3) for j in range(i) if (i + j) % 2])
        def f(scale):
            offset = 10
            return [x * scale + offset for x in data], [[y for y in range(x)] for x in range(3)]
        print(f(2))
        class C:
            items = [1, 2]
            doubled = [v * 2 for v in items]
        print(C.doubled, [last := x for x in data], last)
        def g():
            s = 0
            [s := s + v for v in range(5)]
            return s
        print(g(), [x for x in data][-1])
        print([q for q in undefined_thing])
    """,
    "comprehension_scope_is_private": """
        x = "outer"
        squares = [x * x for x in range(4)]
        print(x, squares)
        class K:
            y = 2
            values = [y for _ in range(2)]
    """,
    "delete_names": """
        a = 1
        b = [1, 2, 3]
        del a, b[0]
        print(b)
        print(a)
    """,
}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_program_behaves_as_on_cpython(name: str) -> None:
    same_as_cpython(PROGRAMS[name])


# The classic benchmark programs (nbody, fannkuch, nqueens, spectral_norm)
# run as files of the differential corpus: tests/vm_corpus/bench_*.py.


def test_vm_functions_are_python_callables() -> None:
    namespace = run_module(loads(to_bytes(compile_source(
        "def scale(x, factor=2):\n    'Scale x.'\n    return x * factor\n"))), {"__name__": "m"})
    scale = namespace["scale"]
    assert is_vm_function(scale) and scale(21) == 42 and scale(2, factor=5) == 10
    assert (scale.__name__, scale.__doc__, scale.__module__, scale.__defaults__) == ("scale", "Scale x.", "m", (2,))
    assert list(map(scale, [1, 2])) == [2, 4]
    with pytest.raises(TypeError, match="scale()"):
        scale()
