"""The corpus through the command line: ``dxpy run --vm prog.py`` prints exactly what CPython prints.

``test_dpb_corpus`` compares outcomes in-process (stdout, exception type and
message, traceback lines).  This compares the whole observable result of the
two interpreters as a user sees it: exit status, stdout and stderr byte for
byte, so uncaught-exception tracebacks must match CPython's to the column
carets, with no interpreter frame showing.  Programs run as subprocesses
with absolute paths from an empty working directory; both get the same hash
seed, since set iteration order of strings depends on it.  Two at a time:
the pairs are independent and this machine has two cores.

``dxpy compile`` and ``dxpy dis`` run in-process (``dxpy.cli.main``), which
keeps the file well under a minute.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from dxpy.cli import main
from dxpy.vm import load

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "vm_corpus"
PROGRAMS = sorted(CORPUS.glob("*.py"))
TIMEOUT = 60

Result = tuple[int, str, str]


def _run(command: list[str], cwd: Path) -> Result:
    env = {**os.environ, "PYTHONHASHSEED": "0", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(command, capture_output=True, text=True, cwd=cwd, env=env, timeout=TIMEOUT)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[Path, tuple[Result, Result]]:
    """(CPython, dxpy) results of every corpus program, computed two processes at a time."""
    cwd = tmp_path_factory.mktemp("cwd")

    def both(program: Path) -> tuple[Result, Result]:
        return (_run([sys.executable, str(program)], cwd),
                _run([sys.executable, "-m", "dxpy", "run", "--vm", str(program)], cwd))

    with ThreadPoolExecutor(2) as pool:
        return dict(zip(PROGRAMS, pool.map(both, PROGRAMS)))


def test_corpus_is_there() -> None:
    assert len(PROGRAMS) >= 150


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.stem)
def test_run_vm_matches_cpython(program: Path, results: dict[Path, tuple[Result, Result]]) -> None:
    cpython, dxpy = results[program]
    assert dxpy[0] == cpython[0], f"exit status; dxpy stderr:\n{dxpy[2]}"
    assert dxpy[1] == cpython[1]
    assert dxpy[2] == cpython[2]


POSITIONS_PROGRAM = """\
import asyncio
import traceback


def show(function, *args):
    try:
        function(*args)
    except Exception:
        traceback.print_exc()


class A:
    pass


a = A()
show(lambda: a.nope(1, 2))                 # a method call: LOAD_METHOD, then CALL
def store_item():
    t = (1, 2)
    t[0] = 5
show(store_item)
def augmented(x, d):
    x += "s"
show(augmented, 1, {})
show(lambda d: d.__setitem__(0, d["k"] + 1), {"k": "v"})
def augmented_item(d):
    d["k"] += 1
show(augmented_item, {"k": "v"})
def augmented_attribute():
    a.missing += 1
show(augmented_attribute)
def unpack():
    x, y = [1, 2, 3]
show(unpack)
def deco(function):
    raise RuntimeError("deco")
def decorated():
    @staticmethod
    @deco
    def z():
        pass
show(decorated)
def with_statement():
    with 5:
        pass
show(with_statement)
def multi_line_call():
    return len(
        a.attr_missing
    )
show(multi_line_call)
def chained_store():
    a.b.c = 3
show(chained_store)
def f_string():
    return f"{a.zz:>10}"
show(f_string)
def comparison():
    return 1 < "x" < 3
show(comparison)
def delete():
    del (a
         .gone)
show(delete)
def not_iterable():
    for _ in 5:
        pass
show(not_iterable)
def method_on_later_line():
    return (a
            .q(1,
               2))
show(method_on_later_line)
def comprehension():
    return [x + 1 for x in "ab" if x]
show(comprehension)
def generator_expression():
    return sum(1 // x for x in range(3))
show(generator_expression)
async def coroutine():
    await asyncio.sleep(0)
    return {}["key"]
show(asyncio.run, coroutine())
def pattern(value):
    match value:
        case complex(x):
            return x
show(pattern, 1j)
def star():
    try:
        [][1]
    except* IndexError as group:  # a naked exception is wrapped in a group without a traceback
        raise RuntimeError("wrapped") from group
show(star)
def asserts(x):
    assert (x if x == 1 else x == 3) and len([x]) == 0, "at the last comparison"
show(asserts, 1)
def thrown_before_start():  # the generator's entry is at its first line, without columns
    def g():
        yield 1
    g().throw(KeyError("thrown"))
show(thrown_before_start)
show(lambda: coroutine().throw(KeyError("thrown")))
print({}["uncaught"])
"""


def test_positions_of_many_constructs(tmp_path: Path) -> None:
    """Carets (and their lines) for constructs whose CPython positions are not just "the node"."""
    program = tmp_path / "positions.py"
    program.write_text(POSITIONS_PROGRAM)
    cpython = _run([sys.executable, str(program)], tmp_path)
    dxpy = _run([sys.executable, "-m", "dxpy", "run", "--vm", str(program)], tmp_path)
    assert cpython[2].count("Traceback") == 26 and "^" in cpython[2] and "~" in cpython[2]
    assert dxpy == cpython


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.stem)
def test_compile_then_dis(program: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "prog.dpb"
    assert main(["compile", str(program), "-o", str(output)]) == 0
    assert capsys.readouterr().out.strip() == str(output)
    with load(output) as dpb:
        code_count = dpb.code_count
    assert main(["dis", str(output)]) == 0
    headers = re.findall(r"^code (\d+): ", capsys.readouterr().out, re.MULTILINE)
    assert headers == [str(index) for index in range(code_count)]  # every code object listed
