"""Exception handling, tracebacks, generators and ``dxpy run --vm`` of the DPB VM."""

from __future__ import annotations

import inspect
import subprocess
import sys
import textwrap
import traceback
from pathlib import Path

import pytest

from dxpy.vm import loads, to_bytes
from dxpy.vm.compiler import compile_source
from dxpy.vm.interpreter import run_module


def vm(source: str, filename: str = "prog.py") -> dict:
    namespace: dict = {"__name__": "vmprog"}
    return run_module(loads(to_bytes(compile_source(textwrap.dedent(source), filename))), namespace, filename)


def test_uncaught_exception_traceback_names_source_lines_only() -> None:
    with pytest.raises(ZeroDivisionError) as info:
        vm("""
            def inner(x):
                return 1 / x

            def outer():
                return inner(0)

            outer()
        """)
    entries = [(e.filename, e.lineno, e.name) for e in traceback.extract_tb(info.value.__traceback__)]
    assert entries[-3:] == [("prog.py", 8, "<module>"), ("prog.py", 6, "outer"), ("prog.py", 3, "inner")]
    assert not any("dxpy/vm" in e[0] for e in entries)


def test_reraise_keeps_the_original_line_once() -> None:
    with pytest.raises(KeyError) as info:
        vm("""
            def f():
                try:
                    {}["x"]
                finally:
                    pass
            f()
        """)
    lines = [e.lineno for e in traceback.extract_tb(info.value.__traceback__) if e.filename == "prog.py"]
    assert lines == [7, 4]


def test_handler_state_is_restored_when_a_handler_raises_out_of_a_vm_function() -> None:
    namespace = vm("""
        def fails():
            try:
                raise KeyError("inner")
            except KeyError:
                raise ValueError("outer")
    """)
    try:
        raise OSError("caller's")
    except OSError as exc:
        mine = exc
        with pytest.raises(ValueError) as info:
            namespace["fails"]()
        assert sys.exception() is mine
    assert isinstance(info.value.__context__, KeyError)
    assert info.value.__context__.__context__ is mine
    assert sys.exception() is None


def test_vm_generators_are_real_generators_for_cpython_code() -> None:
    namespace = vm("""
        def numbers(n):
            total = yield "start"
            while n:
                n -= 1
                total += yield n
            return total
        squares = (i * i for i in range(4))
    """)
    generator = namespace["numbers"](2)
    assert inspect.isgenerator(generator) and generator.__qualname__ == "numbers"
    assert [next(generator), generator.send(10), generator.send(1)] == ["start", 1, 0]
    with pytest.raises(StopIteration) as stop:
        generator.send(5)
    assert stop.value.value == 16
    assert list(namespace["squares"]) == [0, 1, 4, 9]


def test_throw_into_yield_from_reaches_the_delegate() -> None:
    namespace = vm("""
        log = []
        def inner():
            try:
                yield 1
            except ValueError as e:
                log.append(("inner caught", str(e)))
                yield 2
            return "done"
        def outer():
            result = yield from inner()
            log.append(result)
    """)
    generator = namespace["outer"]()
    assert next(generator) == 1
    assert generator.throw(ValueError("x")) == 2
    with pytest.raises(StopIteration):
        next(generator)
    assert namespace["log"] == [("inner caught", "x"), "done"]


@pytest.mark.parametrize("source, construct", [
    ("if 0:\n    a, *b, " + ", ".join(f"c{i}" for i in range(65536)) + " = x\n",
     "star-unpacking into this many targets"),
])
def test_still_refused_constructs(source: str, construct: str) -> None:
    from dxpy.vm.errors import DpbCompileError
    with pytest.raises(DpbCompileError) as info:
        compile_source(source, "p.py")
    assert info.value.construct == construct


def dxpy_run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dxpy", "run", *argv], capture_output=True, text=True,
                          timeout=60)


def test_run_vm_executes_the_script_and_prints_cpython_style_tracebacks(tmp_path: Path) -> None:
    script = tmp_path / "s.py"
    script.write_text("import sys\nprint(sys.argv[1:])\ndef f():\n    raise ValueError('no')\nf()\n")
    result = dxpy_run("--vm", str(script), "a", "b")
    reference = subprocess.run([sys.executable, str(script), "a", "b"], capture_output=True, text=True)
    assert (result.returncode, result.stdout) == (1, "['a', 'b']\n")
    assert result.stderr == reference.stderr


def test_run_vm_refuses_unsupported_and_fallback_runs_cpython(tmp_path: Path) -> None:
    script = tmp_path / "m.py"
    wide = ", ".join(f"c{i}" for i in range(65536))  # more targets after a star than UNPACK_EX encodes
    script.write_text(f"print('start')\nif 0:\n    a, *b, {wide} = x\nprint('done')\n")
    construct = "star-unpacking into this many targets"
    refused = dxpy_run("--vm", str(script))
    assert refused.returncode == 1 and refused.stdout == ""
    assert f"{script}:3: {construct} is not supported" in refused.stderr
    fallback = dxpy_run("--vm", "--fallback", str(script))
    assert (fallback.returncode, fallback.stdout) == (0, "start\ndone\n")
    assert fallback.stderr.strip() == (f"dxpy: {script}:3: {construct} is not supported by the DPB "
                                       f"compiler yet; running {script} on CPython instead")


def test_fallback_requires_vm(tmp_path: Path) -> None:
    script = tmp_path / "x.py"
    script.write_text("pass\n")
    result = dxpy_run("--fallback", str(script))
    assert result.returncode == 2 and "--fallback only applies with --vm" in result.stderr


def test_run_vm_coroutines_run_on_the_dxpy_loop(tmp_path: Path) -> None:
    script = tmp_path / "a.py"
    script.write_text("import asyncio\nasync def main():\n    await asyncio.sleep(0)\n"
                      "    return type(asyncio.get_running_loop()).__module__\nprint(asyncio.run(main()))\n")
    result = dxpy_run("--vm", str(script))
    assert result.returncode == 0 and result.stdout.startswith("dxpy"), result.stderr


def test_functools_wraps_does_not_copy_interpreter_state() -> None:
    namespace = vm("""
        import functools
        def deco(func):
            @functools.wraps(func)
            def wrapper(*args):
                return ("wrapped", func(*args))
            return wrapper
        @deco
        def f(x):
            return x + 1
    """)
    assert namespace["f"](1) == ("wrapped", 2) and namespace["f"].__name__ == "f"
