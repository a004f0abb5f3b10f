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

import importlib.util
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from dxpy.cli import main
from dxpy.vm import load
from dxpy.vm.dis import compile_to_file

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
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[Path, tuple[Result, Result, Result]]:
    """(CPython, ``dxpy run --vm prog.py``, ``dxpy run prog.dpb``) results of every corpus
    program, computed two programs at a time.  The DPB files come from ``dxpy compile``."""
    cwd = tmp_path_factory.mktemp("cwd")
    compiled = tmp_path_factory.mktemp("dpb")

    def all_three(program: Path) -> tuple[Result, Result, Result]:
        dpb = compile_to_file(str(program), str(compiled / f"{program.stem}.dpb"))
        return (_run([sys.executable, str(program)], cwd),
                _run([sys.executable, "-m", "dxpy", "run", "--vm", str(program)], cwd),
                _run([sys.executable, "-m", "dxpy", "run", str(dpb)], cwd))

    with ThreadPoolExecutor(2) as pool:
        return dict(zip(PROGRAMS, pool.map(all_three, PROGRAMS)))


def test_corpus_is_there() -> None:
    assert len(PROGRAMS) >= 150


@pytest.mark.timeout(900)  # the first test computes the shared fixture: 3 x 164 processes
@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.stem)
def test_run_vm_matches_cpython(program: Path, results: dict[Path, tuple[Result, Result, Result]]) -> None:
    cpython, dxpy, _ = results[program]
    assert dxpy[0] == cpython[0], f"exit status; dxpy stderr:\n{dxpy[2]}"
    assert dxpy[1] == cpython[1]
    assert dxpy[2] == cpython[2]


@pytest.mark.timeout(900)
@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.stem)
def test_run_dpb_matches_cpython(program: Path, results: dict[Path, tuple[Result, Result, Result]]) -> None:
    """``dxpy run prog.dpb`` as ``python prog.pyc``: same output, status and tracebacks (which
    name the source file the DPB file was compiled from).  ``sys.argv[0]`` is the DPB path,
    so a program printing it would differ; none of the corpus does."""
    cpython, _, dpb = results[program]
    assert dpb[0] == cpython[0], f"exit status; dxpy stderr:\n{dpb[2]}"
    assert dpb[1] == cpython[1]
    assert dpb[2] == cpython[2]


def _write_dpb(tmp_path: Path, source: str) -> Path:
    """``source`` compiled by ``dxpy compile`` into ``tmp_path/prog.dpb``."""
    program = tmp_path / "prog.py"
    program.write_text(source)
    output = tmp_path / "prog.dpb"
    assert main(["compile", str(program), "-o", str(output)]) == 0
    return output


def test_run_dpb_argv_main_and_exit_status(tmp_path: Path) -> None:
    dpb = _write_dpb(tmp_path, "import sys\nprint(__name__, sys.argv[1:], __file__.endswith('.dpb'))\n"
                               "sys.exit(int(sys.argv[1]))\n")
    status, out, err = _run([sys.executable, "-m", "dxpy", "run", str(dpb), "7", "x"], tmp_path)
    assert (status, out, err) == (7, "__main__ ['7', 'x'] True\n", "")


def test_run_dpb_imports_its_neighbours(tmp_path: Path) -> None:
    """Modules beside the DPB file import as they would beside a script (through the VM hook)."""
    (tmp_path / "helper.py").write_text("VALUE = 41\n")
    dpb = _write_dpb(tmp_path, "import helper\nprint(helper.VALUE + 1)\n")
    assert _run([sys.executable, "-m", "dxpy", "run", str(dpb)], tmp_path / "..") == (0, "42\n", "")


@pytest.mark.parametrize("damage", ["text", "truncated", "bit flip", "pyc", "empty", "version"])
def test_run_corrupt_or_foreign_dpb(damage: str, tmp_path: Path) -> None:
    """A bad file is one ``DpbError`` line naming it, exit status 1, no dxpy frames."""
    data = bytearray(_write_dpb(tmp_path, "print('never')\n").read_bytes())
    if damage == "text":
        data = bytearray(b"print('source, not bytecode')\n")
    elif damage == "truncated":
        del data[len(data) // 2:]
    elif damage == "bit flip":
        data[len(data) // 2] ^= 0x10
    elif damage == "pyc":
        data = bytearray(importlib.util.MAGIC_NUMBER + bytes(60))
    elif damage == "empty":
        data = bytearray()
    else:
        data[4] += 1  # the version field
    bad = tmp_path / "bad.dpb"
    bad.write_bytes(bytes(data))
    status, out, err = _run([sys.executable, "-m", "dxpy", "run", str(bad)], tmp_path)
    assert status == 1 and out == ""
    assert err.startswith("dxpy.vm.errors.DpbError: ") and str(bad) in err, err
    assert "Traceback" not in err and len(err.splitlines()) == 1, err


def test_run_missing_dpb(tmp_path: Path) -> None:
    status, _, err = _run([sys.executable, "-m", "dxpy", "run", str(tmp_path / "nope.dpb")], tmp_path)
    assert status == 2 and "No such file" in err


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
