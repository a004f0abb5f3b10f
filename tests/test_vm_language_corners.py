"""VM semantics that CPython's own test files exposed (docs/vm-conformance.md), each checked
against CPython running the same source, plus the tiering changes pyperformance exposed
(generator first calls on tier 1, no tier-2 job for object arguments).
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from dxpy.vm import loads, profile, to_bytes
from dxpy.vm.compiler import compile_source
from dxpy.vm.interpreter import run_module

from .test_dpb_interpreter import run

ROOT = Path(__file__).resolve().parent.parent


def same_as_cpython(source: str) -> str:
    source = textwrap.dedent(source)
    expected = run(source, False)
    assert expected[1] is None, expected  # the corner programs run cleanly on CPython
    assert run(source, True) == expected
    return expected[0]


def test_class_body_assigning_dunder_class_sets_the_attribute() -> None:
    """test_super's ``__class__`` pathologies: the body's ``__class__`` is a class-namespace name
    even when the methods' ``super()`` gives the class an implicit ``__class__`` cell."""
    printed = same_as_cpython("""
        class A:
            def f(self):
                return 'A'
        class X(A):
            def f(self):
                return super().f()
            __class__ = 413
        print(X().f(), X().__class__, X.__dict__['__class__'])
        def outer():
            class Y:
                x = __class__
                def g(self):
                    return super().__repr__
            return Y
        class W:
            def m(self):
                return outer()
        try:
            W().m()
        except NameError as exc:
            print(type(exc).__name__)
        class Holder:
            def make(self):
                class Inner:
                    seen = __class__
                return Inner.seen
        print(Holder().make() is Holder)
    """)
    assert printed.startswith("A 413 413")


def test_special_methods_bind_through_their_descriptor_once() -> None:
    """``with``/``async with``/``async for`` look their methods up on the type and call the
    descriptor's ``__get__`` once (test_descr's test_special_method_lookup)."""
    same_as_cpython("""
        import asyncio
        calls = []
        class Recorded:
            def __init__(self, impl):
                self.impl = impl
            def __get__(self, obj, owner):
                calls.append(self.impl.__name__)
                return self.impl.__get__(obj, owner)
        def enter(self):
            return 'entered'
        def exit_(self, *exc):
            return False
        async def aenter(self):
            return 'aentered'
        async def aexit(self, *exc):
            return False
        class Manager:
            __enter__ = Recorded(enter)
            __exit__ = Recorded(exit_)
            __aenter__ = Recorded(aenter)
            __aexit__ = Recorded(aexit)
        with Manager() as value:
            print(value)
        async def main():
            async with Manager() as value:
                print(value)
        asyncio.run(main())
        print(calls)
        class Instance:
            pass
        broken = Instance()
        broken.__enter__ = lambda: None  # on the instance only: not a context manager
        broken.__exit__ = lambda *a: None
        try:
            with broken:
                pass
        except TypeError as exc:
            print(exc)
        class EnterOnly:
            def __enter__(self):
                return self
        try:
            with EnterOnly():
                pass
        except TypeError as exc:
            print(exc)
    """)


def test_match_follows_the_collection_flags_of_the_first_base() -> None:
    """A class deriving from both a sequence and a mapping base matches as the first one's kind
    (CPython's ``Py_TPFLAGS_SEQUENCE``/``MAPPING``), as test_patma's inheritance tests check."""
    printed = same_as_cpython("""
        import collections, collections.abc
        class C:
            pass
        def kind(subject):
            match subject:
                case {}:
                    return 'map'
                case [*_]:
                    return 'seq'
            return 'neither'
        class M1(collections.UserDict, collections.abc.Sequence): pass
        class M2(C, collections.UserDict, collections.abc.Sequence): pass
        class M4(dict, collections.abc.Sequence, C): pass
        class S1(collections.UserList, collections.abc.Mapping): pass
        class S3(list, C, collections.abc.Mapping): pass
        class Registered: pass
        collections.abc.Sequence.register(Registered)
        print([kind(cls()) for cls in (M1, M2, M4, S1, S3, Registered)])
        print(kind("abc"), kind(b"ab"), kind(bytearray()), kind(range(3)), kind({}.keys()))
    """)
    assert "['map', 'map', 'map', 'seq', 'seq', 'seq']" in printed


def test_global_cache_first_execution_allocates_no_tracked_object() -> None:
    """With type feedback off (``dxpy run --vm`` under ``DXPY_JIT=off``), running an instruction
    for the first time creates no object the GC tracks (test_descr counts ``gc.get_objects()``)."""
    source = textwrap.dedent("""
        import gc
        class G:
            def __eq__(self, other):
                return False
        def f():
            g = G()
            before = len(gc.get_objects())
            for i in range(10):
                g == g
            return before, len(gc.get_objects())
        result = f()
    """)
    program = loads(to_bytes(compile_source(source, "prog.py")))
    was = profile.is_enabled()
    profile.set_enabled(False)
    gc.disable()
    try:
        namespace = run_module(program, {"__name__": "__main__"})
    finally:
        gc.enable()
        profile.set_enabled(was)
    before, after = namespace["result"]
    assert after == before


def _run_vm(tmp_path: Path, source: str, *options: str, **env: str) -> str:
    script = tmp_path / "prog.py"
    script.write_text(textwrap.dedent(source))
    done = subprocess.run([sys.executable, "-m", "dxpy", "run", "--vm", *options, str(script)],
                          capture_output=True, text=True, timeout=120, cwd=ROOT,
                          env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1", **env},
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    return done.stdout + done.stderr


def test_a_generators_first_call_runs_on_tier_1(tmp_path: Path) -> None:
    """Under ``dxpy run --vm`` the call that makes a generator (or coroutine) function hot runs
    on tier 1 too: pyperformance's nqueens makes one generator for its whole run, which
    stayed in the interpreter (minutes instead of seconds)."""
    printed = _run_vm(tmp_path, """
        import asyncio, sys
        def numbers(n):
            yield sys._getframe().f_code.co_name
            total = yield from range(n)
            sent = yield 'after'
            return sent
        async def coro():
            return sys._getframe().f_code.co_name
        gen = numbers(2)
        print(list(gen))
        gen = numbers(0)
        print(next(gen), next(gen), end=' ')
        try:
            gen.send('value')
        except StopIteration as stop:
            print(stop.value)
        print(asyncio.run(coro()))
    """)
    assert printed.splitlines() == ["['numbers', 0, 1, 'after']", "numbers after value", "coro"]


def test_object_arguments_do_not_start_a_tier_2_job(tmp_path: Path) -> None:
    """A function seen with an object argument goes to tier 1 without the tier-2 call counter
    (its per-call cost was 10% of deltablue), and one whose object argument comes later
    reaches the threshold without a background job (which would import NumPy and llvmlite
    only to refuse)."""
    source = """
        import sys
        class Point:
            def __init__(self, x):
                self.x = x
            def moved(self, dx):
                return Point(self.x + dx)
        def first_int(value):
            return value
        def main():  # on tier 1 from its call: no OSR of a module-level loop
            p = Point(0)
            for i in range(3000):
                p = p.moved(1)
                first_int(i if i < 990 else p)
            print(p.x, 'dxpy.jit.types' in sys.modules)
        main()
    """
    printed = _run_vm(tmp_path, source, DXPY_JIT_TIER2_THRESHOLD="1000")
    assert printed.split() == ["3000", "False"]
    stats = _run_vm(tmp_path, source, "--jit-stats", DXPY_JIT_TIER2_THRESHOLD="1000")  # imports the JIT
    lines = stats.splitlines()
    reasons = {line.split()[0]: lines[n + 1].strip() for n, line in enumerate(lines[:-1])
               if line.split() and line.split()[0] in ("Point.moved", "first_int")}
    assert reasons["Point.moved"].endswith("outside the JIT's at its first calls: stays at tier 1")
    assert reasons["first_int"] == ("argument type Point outside the JIT's at the tier-2 "
                                    "threshold call: stays at tier 1")


def test_a_generators_handler_restores_its_own_empty_exception_slot() -> None:
    """test_generators' exception-context tests: an ``except`` clause that ends inside a
    generator restores the generator's own (empty) slot, not the exception its caller was
    handling when the clause began; chaining still sees the caller's."""
    same_as_cpython("""
        import sys
        def gen():
            try:
                print("start", sys.exc_info()[0])
                yield
                raise TypeError()
            except TypeError as exc:
                print("inner", sys.exc_info()[0].__name__, type(exc.__context__).__name__)
            print("after", sys.exc_info()[0].__name__)
            yield
            print("later", sys.exc_info()[0])
            yield "done"
        g = gen()
        next(g)
        try:
            raise ValueError
        except Exception:
            next(g)
        print(next(g), sys.exc_info())
        def thrown():
            try:
                try:
                    yield
                except ValueError:
                    raise TypeError()
            except Exception as exc:
                print("caught", type(exc.__context__).__name__)
            print("still", sys.exc_info()[0].__name__)
            yield
            print("outside", sys.exc_info()[0])
            yield "done"
        t = thrown()
        next(t)
        try:
            raise ValueError
        except Exception as exc:
            t.throw(exc)
        print(next(t), sys.exc_info())
    """)


def test_coroutine_protocol_errors_have_cpythons_messages() -> None:
    """test_coroutines' messages: PEP 479 and ignored GeneratorExit in a coroutine's words,
    awaiting what ``async with``/``async for`` got, ``__await__`` returning a coroutine,
    reusing a finished coroutine, ``yield from`` a coroutine in a plain generator."""
    printed = same_as_cpython("""
        import types, warnings
        warnings.simplefilter("ignore", RuntimeWarning)  # the coroutines left unawaited on purpose
        def run(coro):
            try:
                while True:
                    coro.send(None)
            except StopIteration as stop:
                return stop.value
        def report(make):
            try:
                run(make())
            except Exception as exc:
                print(type(exc).__name__, exc, type(exc.__cause__).__name__)
        async def stops():
            raise StopIteration
        report(stops)
        class Await:
            def __await__(self):
                return stops()
        async def awaits_coroutine_iterator():
            await Await()
        report(awaits_coroutine_iterator)
        class Manager:
            def __init__(self, enter, exit_):
                self.enter, self.exit = enter, exit_
            async def __aenter__(self):
                return self.enter
            def __aexit__(self, *exc):
                return self.exit
        class BadEnter:
            def __aenter__(self):
                return 1
            async def __aexit__(self, *exc):
                return None
        async def bad_enter():
            async with BadEnter():
                pass
        report(bad_enter)
        class BadExit:
            async def __aenter__(self):
                return 1
            def __aexit__(self, *exc):
                return 2
        async def bad_exit():
            async with BadExit():
                pass
        report(bad_exit)
        class NoNext:
            def __aiter__(self):
                return self
        async def no_next():
            async for _ in NoNext():
                pass
        report(no_next)
        class TupleNext:
            def __aiter__(self):
                return self
            def __anext__(self):
                return ()
        async def tuple_next():
            async for _ in TupleNext():
                pass
        report(tuple_next)
        async def value():
            return 1
        async def twice():
            done = value()
            await done
            await done
        report(twice)
        def plain():
            yield from value()
        report(plain)
        @types.coroutine
        def iterable():
            return (yield from value())
        print(run(iterable()))
        async def ignores():
            try:
                await types.coroutine(lambda: (yield))()
            except GeneratorExit:
                await types.coroutine(lambda: (yield))()
        async def aiter_of(values):
            for value in values:
                yield value
        async def nested():
            gen = ([i + j async for i in aiter_of([1, 2])] for j in [10, 20])
            lists = [(i async for i in aiter_of(range(j))) for j in [3, 5]]
            return [x async for x in gen], [[i async for i in g] for g in lists]
        print(run(nested()))
        coro = ignores()
        coro.send(None)
        try:
            coro.close()
        except RuntimeError as exc:
            print(exc)
    """)
    assert "coroutine raised StopIteration" in printed and "from __aexit__" in printed
