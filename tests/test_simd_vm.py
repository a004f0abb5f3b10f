"""The VM's builtin calls routed to dxpy.simd: ``dxpy run --vm`` prints exactly what
``python`` prints, and the route is really taken (a spy on ``vm_builtins.call``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dxpy.simd import SimdList, vm_builtins

PROGRAM = '''
from dxpy.simd import SimdList
data = b"abc,def\\n" * 100000 + b"NEEDLE"
values = SimdList(range(-50000, 50000))
big = SimdList([2 ** 62, 2 ** 62, 2 ** 62])
floats = SimdList([0.5 * i for i in range(-3000, 3000)] + [-0.0, float("nan")])
print(sum(values), min(values), max(values), sum(values, 10), sum(big), sum(floats), min(floats), max(floats))
print(data.count(b","), data.count(b"\\n", 5, 800000), data.find(b"NEEDLE"), data.find(b"zz"),
      bytearray(data).find(b"NEEDLE", -100), data.count(44), data.find(b""))
print(sum([1, 2, 3]), min([3, 1]), max("abc"), b"xyz".count(b"y"), 49999 in values, 10 ** 9 in values)
print(sum([0.1] * 10), min([], default=7), max(values, key=abs), sum(SimdList()), sum(values, 0.5))
for bad in (lambda: data.find(1000), lambda: data.count("a"), lambda: min(SimdList()), lambda: sum(values, "x")):
    try:
        bad()
    except (ValueError, TypeError) as exc:
        print(type(exc).__name__, exc)
'''

SPY = '''
import dxpy.simd.vm_builtins as route
taken = []
original = route.call
def spy(callee, args):
    taken.append(callee.__name__)
    return original(callee, args)
route.call = spy
'''


def _run(*command: str, script: Path) -> str:
    env = {**os.environ, "DXPY_JIT": "off"}
    result = subprocess.run([*command, str(script)], capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_vm_results_equal_cpython(tmp_path: Path) -> None:
    script = tmp_path / "routed.py"
    script.write_text(PROGRAM)
    expected = _run(sys.executable, script=script)
    assert _run(sys.executable, "-m", "dxpy", "run", "--vm", script=script) == expected
    assert "ValueError byte must be in range(0, 256)" in expected


def test_vm_takes_the_route(tmp_path: Path) -> None:
    script = tmp_path / "spied.py"
    script.write_text(SPY + PROGRAM + "print('routed:', sorted(set(taken)))\n")
    under_python = _run(sys.executable, script=script)
    under_vm = _run(sys.executable, "-m", "dxpy", "run", "--vm", script=script)
    assert under_python.splitlines()[-1] == "routed: []"  # CPython runs the builtins itself
    assert under_vm.splitlines()[-1] == "routed: ['count', 'find', 'max', 'min', 'sum']"
    assert under_vm.splitlines()[:-1] == under_python.splitlines()[:-1]


@pytest.mark.parametrize("callee,args", [
    (sum, [SimdList([1, 2, 3])]), (sum, [SimdList([1.5, 2.5]), 1]), (min, [SimdList([3, 1, 2])]),
    (max, [SimdList([0.0, -0.0])]), (sum, [[1, 2]]), (min, [[1], [0]]), (max, [SimdList(["a", "b"])]),
    (sum, [SimdList([1]), 2, 3]), (b"abcb".count, [b"b"]), (bytearray(b"x" * 5000 + b"ab").find, [b"ab"]),
    ((b"q" * 5000).count, [b"q", 10, -10]),
])
def test_call_equals_the_builtin(callee: object, args: list) -> None:
    def result(call):
        try:
            return ("value", call())
        except Exception as exc:  # noqa: BLE001 - the exception is the result compared
            return ("raised", type(exc), str(exc))

    assert vm_builtins.routed(callee)
    assert result(lambda: vm_builtins.call(callee, list(args))) == result(lambda: callee(*args))


def test_only_the_routed_builtins_are_routed() -> None:
    assert not vm_builtins.routed(len) and not vm_builtins.routed([].append)
    assert vm_builtins.routed(sum) and vm_builtins.routed(b"".find)
    assert vm_builtins.call(b"abc".upper, []) == b"ABC"  # a bytes method with no kernel route
