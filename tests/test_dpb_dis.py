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
    source = tmp_path / "uses_match.py"
    source.write_text("x = 1\nmatch x:\n    case 1:\n        pass\n")
    status, _, err = cli("compile", str(source))
    assert status == 1
    assert err.strip() == f"dxpy: {source}:2: match statement is not supported by the DPB compiler yet"
    assert not source.with_suffix(".dpb").exists()
