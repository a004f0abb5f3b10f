"""``dxpy.serve.heap``: glibc keeps freed request buffers instead of trimming them.

Each check runs in a fresh interpreter, so the test process's allocator is
left as it is.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

from dxpy.serve import heap

from .serve_support import ROOT

GLIBC = platform.libc_ver()[0] == "glibc"

#: Allocates 8 MiB in 64 KiB buffers (the size of a received body chunk),
#: frees them and prints how much of it left the resident set.
_CHURN = """
import sys
from dxpy.serve.heap import tune_malloc

def rss_kib():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))

tuned = tune_malloc() if sys.argv[1] == "tune" else False
buffers = [bytearray(b"x" * 65536) for _ in range(128)]
before = rss_kib()
del buffers
print(int(tuned), before - rss_kib())
"""


def churn(mode: str, **env: str) -> tuple[bool, int]:
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith("MALLOC_")}
    environment.update(env, PYTHONPATH=ROOT)
    out = subprocess.run([sys.executable, "-c", _CHURN, mode], capture_output=True, text=True,
                         env=environment, timeout=60, check=True).stdout.split()
    return bool(int(out[0])), int(out[1])


@pytest.mark.skipif(not GLIBC or not os.path.exists("/proc/self/status"),
                    reason="glibc's mallopt and /proc are Linux/glibc features")
def test_tuned_heap_keeps_freed_buffers_resident():
    tuned, released = churn("tune")
    assert tuned and released < 1024  # kept for the next requests' bodies
    tuned, released = churn("default")
    assert not tuned and released > 4096  # glibc's default trims the heap top


@pytest.mark.skipif(not GLIBC, reason="glibc's mallopt")
def test_user_settings_win(monkeypatch):
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "131072")
    assert heap.user_tuned() and heap.tune_malloc() is False
    tuned, _ = churn("tune", MALLOC_TRIM_THRESHOLD_="131072")
    assert not tuned
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_")
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.cpu.hwcaps=-AVX512F")
    assert not heap.user_tuned()  # tunables for something else are not malloc settings
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.trim_threshold=131072")
    assert heap.user_tuned()


def test_without_glibc_nothing_changes(monkeypatch):
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    monkeypatch.delenv("GLIBC_TUNABLES", raising=False)
    monkeypatch.setattr(heap, "_glibc_mallopt", lambda: None)
    assert heap.tune_malloc() is False
