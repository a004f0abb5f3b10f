"""``dxpy dis`` / ``dxpy compile`` and the disassembler; a .dpb file run end to end."""

from __future__ import annotations

import contextlib
import io
import textwrap
from pathlib import Path

import pytest

from dxpy.cli import main
from dxpy.vm import load, run_module
from dxpy.vm.dis import disassemble, open_program

SOURCE = textwrap.dedent('''\
    def greet(name, *, loud=False):
        """Say hello."""
        text = f"hello {name!r}"
        if loud:
            text = text.upper()
        return text
    print(greet("dxpy", loud=True))
''')


@pytest.fixture
def program(tmp_path: Path) -> Path:
    path = tmp_path / "greet.py"
    path.write_text(SOURCE)
    return path


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(list(argv))
    return status, out.getvalue(), err.getvalue()


def test_listing_resolves_arguments_lines_and_targets(program: Path) -> None:
    listing = disassemble(open_program(str(program)))
    assert "code 1: greet (line 1, args 1, posonly 0, kwonly 1, nlocals 3, flags HAS_DOCSTRING)" in listing
    assert "  locals: name, loud, text" in listing
    assert "MAKE_FUNCTION              2  (kwdefaults)" in listing
    assert "LOAD_CONST                 2  (code 1: greet)" in listing
    assert "FORMAT_VALUE               2  (!r)" in listing
    assert "POP_JUMP_IF_FALSE         11  (to 11)" in listing
    assert "     6 >>    11 LOAD_FAST                  2  (text)" in listing
    assert "     5        7 LOAD_FAST" in listing


def test_compile_then_dis_and_run_the_mapped_file(program: Path, tmp_path: Path) -> None:
    target = tmp_path / "out" / "greet.dpb"
    target.parent.mkdir()
    status, out, err = cli("compile", str(program), "-o", str(target))
    assert (status, out.strip(), err) == (0, str(target), "")
    assert sorted(p.name for p in target.parent.iterdir()) == ["greet.dpb"]  # no temporary left
    status, listing, _ = cli("dis", str(target))
    assert status == 0 and listing == disassemble(open_program(str(program)))
    printed = io.StringIO()
    with load(target) as dpb, contextlib.redirect_stdout(printed):
        run_module(dpb, {"__name__": "__main__"})
    assert printed.getvalue() == "HELLO 'DXPY'\n"


def test_compile_defaults_to_a_sibling_dpb(program: Path) -> None:
    status, out, _ = cli("compile", str(program))
    assert status == 0 and out.strip() == str(program.with_suffix(".dpb"))


@pytest.mark.parametrize("argv, message", [
    (("dis", "/nonexistent/x.dpb"), "/nonexistent/x.dpb: cannot read"),
    (("compile", "/nonexistent/x.py"), "No such file"),
])
def test_cli_reports_errors(argv: tuple[str, ...], message: str) -> None:
    status, out, err = cli(*argv)
    assert status == 1 and out == "" and message in err


def test_cli_refuses_unsupported_source_at_compile_time(tmp_path: Path) -> None:
    source = tmp_path / "wide.py"
    source.write_text("if 0:\n    a, *b, " + ", ".join(f"c{i}" for i in range(65536)) + " = x\n")
    status, _, err = cli("compile", str(source))
    assert status == 1
    assert err.strip() == (f"dxpy: {source}:2: star-unpacking into this many targets is not supported by the "
                           "DPB compiler yet")
    assert not source.with_suffix(".dpb").exists()


PROFILED = textwrap.dedent('''\
    class Point:
        def __init__(self, x):
            self.x = x

    def total(points):
        s = 0
        for p in points:
            if p.x % 4:
                s += p.x
        return s

    print(total([Point(i) for i in range(100)]))
    print(len("abc"))
''')


def test_annotated_listing_shows_what_the_interpreter_recorded(tmp_path: Path) -> None:
    path = tmp_path / "profiled.py"
    path.write_text(PROFILED)
    status, listing, err = cli("dis", "--annotated", str(path))
    assert status == 0 and err == "3750\n3\n"  # the program's own output goes to stderr
    plain = disassemble(open_program(str(path))).splitlines()
    annotated = listing.splitlines()
    assert [line.split("  ;")[0] for line in annotated if not line.startswith("  profile:")
            and not line.startswith("  arg types:")] == plain  # the listing itself is unchanged
    assert "  profile: calls 100, back-edges 0" in annotated
    assert "  arg types: self: Point mono 100x, x: int mono 100x" in annotated
    assert "  profile: calls 1, back-edges 100" in annotated  # total
    assert any(line.endswith("(x)  ; types Point mono 100x; IC mono hit 99.0%") and "LOAD_ATTR" in line
               for line in annotated)
    assert any("BINARY_MODULO" in line and line.endswith("; types int,int mono 100x") for line in annotated)
    assert any("POP_JUMP_IF_FALSE" in line and line.endswith("; taken 25/100") for line in annotated)
    assert any("INPLACE_ADD" in line and line.endswith("; types int,int mono 75x") for line in annotated)
    assert any("LOAD_GLOBAL" in line and line.endswith("(Point)  ; IC mono hit 99.0% (globals)")
               for line in annotated)
    assert any("STORE_ATTR" in line and line.endswith("; types Point mono 100x") for line in annotated)


def test_annotated_listing_of_a_failing_program_shows_what_ran(tmp_path: Path) -> None:
    path = tmp_path / "fails.py"
    path.write_text("def never():\n    return 1\n\ndef boom(x):\n    return x + 'a'\n\nboom(1)\n")
    status, listing, err = cli("dis", "--annotated", str(path))
    assert status == 0
    assert "TypeError: unsupported operand type(s) for +: 'int' and 'str'" in err
    assert "listing what ran until then" in err
    never, boom = listing.split("\n\ncode ")[1:]
    assert "profile: calls 0, back-edges 0" in never  # defined, never called
    assert "profile: calls 1" in boom and "types int,str mono 1x" in boom


def test_annotated_listing_of_an_exiting_program(tmp_path: Path) -> None:
    path = tmp_path / "exits.py"
    path.write_text("import sys\nfor i in range(3):\n    pass\nsys.exit(3)\n")
    status, listing, err = cli("dis", "--annotated", str(path))
    assert status == 0 and "the program exited (3)" in err
    assert "profile: calls 1, back-edges 3" in listing
