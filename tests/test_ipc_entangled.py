"""Entangled: versioned shared values, CAS, contention across processes, crashes, no leaks."""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid

import numpy as np
import pytest

from dxpy.ipc import Channel, ConcurrencyError, Entangled, atomics
from dxpy.ipc.entangled import segments

CHILD_PRELUDE = """
import signal, sys, time
signal.signal(signal.SIGINT, signal.SIG_DFL)
signal.signal(signal.SIGTERM, signal.SIG_DFL)
import numpy as np
from dxpy.ipc import Entangled
"""


@pytest.fixture(params=["lock", pytest.param("atomic", marks=pytest.mark.skipif(
    not atomics.AVAILABLE, reason=f"atomic protocol unavailable: {atomics.WHY_NOT}"))])
def protocol(request: pytest.FixtureRequest) -> str:
    """Every test that creates a value runs on both protocols (openers follow
    the creator's, so children in those tests do too)."""
    return request.param


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def child(script: str, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", CHILD_PRELUDE + textwrap.dedent(script),
                             *args], stdout=subprocess.PIPE)


def wait_gone(name: str, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while name in segments():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_create_open_read_write_and_compare_and_swap(protocol: str) -> None:
    name = unique("basic")
    with Entangled.create(name, 10, protocol=protocol) as counter, Entangled.open(name) as other:
        assert counter.version == 1 and other.value == 10
        assert counter.write(11, expected_version=1) == 2
        with pytest.raises(ConcurrencyError, match="version is 2, not the expected 1"):
            other.write(99, expected_version=1)
        assert other.update(lambda n: n * 2) == 3 and counter.value == 22
        with pytest.raises(OverflowError):
            counter.write(1 << 70, 3)
        with pytest.raises(TypeError, match="bytes, a NumPy array or an int"):
            counter.write("text", 3)
        with pytest.raises(FileExistsError):
            Entangled.create(name, 0)
    assert name not in segments()


def test_arrays_and_bytes_are_zero_copy_snapshots(protocol: str) -> None:
    name = unique("array")
    initial = np.arange(12, dtype=np.int32).reshape(3, 4)
    with Entangled.create(name, initial, capacity=1 << 16, protocol=protocol) as shared:
        with shared.read() as snapshot:
            view = snapshot.value
            assert not view.flags.writeable and view.dtype == np.int32
            np.testing.assert_array_equal(view, initial)
            again = shared.read()
            assert again.value.ctypes.data == view.ctypes.data  # the same shared bytes
            again.release()
        shared.write(np.ones((2, 2, 2), dtype=np.complex64), 1)
        assert shared.value.shape == (2, 2, 2)
        shared.write(b"raw bytes", 2)
        with shared.read() as snapshot:
            assert isinstance(snapshot.value, memoryview) and bytes(snapshot.value) == b"raw bytes"
        with pytest.raises(ValueError, match="exceeds this Entangled's capacity"):
            shared.write(np.zeros(1 << 14), 3)


def test_a_held_snapshot_is_never_overwritten(protocol: str) -> None:
    name = unique("pinned")
    with Entangled.create(name, b"first", slots=2, protocol=protocol) as shared:
        snapshot = shared.read()
        shared.write(b"second", 1)  # into the other slot
        with pytest.raises(TimeoutError, match="readers pin all 1 spare slots"):
            shared.write(b"third", 2, timeout=0.05)  # only free slot is the pinned one
        assert bytes(snapshot.value) == b"first"
        snapshot.release()
        assert shared.write(b"third", 2) == 3 and shared.value == b"third"


def test_values_move_between_inline_ints_and_slots(protocol: str) -> None:
    name = unique("kinds")
    with Entangled.create(name, b"bytes", capacity=256, protocol=protocol) as shared, \
            Entangled.open(name) as other:
        assert other.protocol == shared.protocol == protocol
        held = shared.read()
        assert shared.write(7, 1) == 2 and other.value == 7
        assert other.update(lambda n: n + 1) == 3
        assert shared.update(lambda n: np.arange(4.0)) == 4  # an int's update makes an array
        assert shared.update(lambda a: a * 2) == 5
        np.testing.assert_array_equal(other.value, [0.0, 2.0, 4.0, 6.0])
        assert other.update(lambda a: int(a.sum())) == 6 and shared.value == 12
        assert bytes(held.value) == b"bytes"  # pinned all along
        held.release()
        with pytest.raises(OverflowError):
            shared.update(lambda n: n << 70)
        with pytest.raises(ValueError, match="attempts must be at least 1"):
            shared.update(lambda n: n, attempts=0)
        with pytest.raises(ValueError, match="protocol must be one of"):
            Entangled.create(unique("kinds"), 0, protocol="futex")


@pytest.mark.skipif(not atomics.AVAILABLE, reason=f"atomic protocol unavailable: "
                    f"{atomics.WHY_NOT}")
def test_without_the_extension_lock_is_the_default_and_atomic_segments_refuse() -> None:
    name = unique("fallback")
    with Entangled.create(name, 1, protocol="atomic"):
        probe = subprocess.run([sys.executable, "-c", textwrap.dedent("""
            import sys
            sys.modules["dxpy.ipc._atomics"] = None  # as if the build had no compiler
            from dxpy.ipc import Entangled, atomics
            assert not atomics.AVAILABLE and "not built" in atomics.WHY_NOT
            with Entangled.create(sys.argv[2], 5) as fresh:
                assert fresh.protocol == "lock" and fresh.update(lambda n: n + 1) == 2
            try:
                Entangled.open(sys.argv[1])
            except RuntimeError as exc:
                print(exc)
        """), name, unique("fallback")], capture_output=True, timeout=60)
    assert probe.returncode == 0, probe.stderr
    assert b"16-byte atomics are unavailable" in probe.stdout
    assert name not in segments()


def test_update_gives_up_after_its_attempts(protocol: str) -> None:
    name = unique("attempts")
    with Entangled.create(name, 0, protocol=protocol) as shared, Entangled.open(name) as rival:
        def meddle(n: int) -> int:
            rival.write(n + 100, rival.version)  # every attempt's version goes stale
            return n + 1
        with pytest.raises(ConcurrencyError, match="lost to other writers 3 times"):
            shared.update(meddle, attempts=3)
        assert shared.value == 300 and shared.version == 4


def test_threads_of_one_process_update_exactly(protocol: str) -> None:
    name = unique("threads")
    with Entangled.create(name, 0, protocol=protocol) as counter:
        def work() -> None:
            for _ in range(2000):
                counter.update(lambda n: n + 1)
        threads = [threading.Thread(target=work) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert counter.value == 6000 and counter.version == 6001


def test_a_counter_writer_killed_mid_update_leaves_it_usable(protocol: str) -> None:
    name = unique("killed")
    with Entangled.create(name, 0, protocol=protocol) as counter:
        for _ in range(2):
            writer = child("""
                counter = Entangled.open(sys.argv[1])
                print("ready", flush=True)
                while True:
                    counter.update(lambda n: n + 1)
            """, name)
            assert writer.stdout is not None and writer.stdout.readline() == b"ready\n"
            start, deadline = counter.version, time.monotonic() + 30
            while counter.version < start + 500 and time.monotonic() < deadline:
                time.sleep(0.001)
            writer.send_signal(signal.SIGKILL)
            writer.wait(timeout=10)
            writer.stdout.close()
            # nothing is left locked and every published update is whole
            version = counter.update(lambda n: n + 1)
            assert counter.value == version - 1 and version > start + 500
    assert name not in segments()


def test_bad_names_and_closed_handles() -> None:
    for bad in ["", "a/b", "x" * 300, 7]:
        with pytest.raises(ValueError, match="Entangled name"):
            Entangled.create(bad, 0)  # type: ignore[arg-type]
    with pytest.raises(FileNotFoundError):
        Entangled.open(unique("missing"))
    handle = Entangled.create(unique("closed"), 0)
    handle.close()
    with pytest.raises(ValueError, match="is closed"):
        handle.read()


def test_handles_travel_between_processes_and_reopen(protocol: str) -> None:
    name = unique("handle")
    with Entangled.create(name, 5, protocol=protocol) as shared:
        assert pickle.loads(pickle.dumps(shared)).value == 5
        a, b = Channel.pair()
        with a, b:
            a.send(shared)
            reopened = b.recv()
            reopened.update(lambda n: n + 1)
            reopened.close()
        assert shared.value == 6 and name in segments()  # the creator still uses it
    assert name not in segments()


def test_four_processes_increment_one_counter_exactly(protocol: str) -> None:
    name = unique("counter")
    with Entangled.create(name, 0, protocol=protocol) as counter:
        workers = [child("""
            counter = Entangled.open(sys.argv[1])
            for _ in range(2500):
                counter.update(lambda n: n + 1)
            counter.close()
        """, name) for _ in range(4)]
        for worker in workers:
            assert worker.wait(timeout=120) == 0
        assert counter.value == 10_000 and counter.version == 10_001
    assert name not in segments()


def test_a_writer_killed_mid_write_leaves_old_or_new_never_torn(protocol: str) -> None:
    name = unique("torn")
    size = 1 << 20  # 8 MiB of float64: a write takes milliseconds
    with Entangled.create(name, np.zeros(size), protocol=protocol) as shared:
        for round_ in range(3):
            writer = child("""
                shared = Entangled.open(sys.argv[1])
                print("ready", flush=True)
                while True:
                    version = shared.version
                    try:
                        shared.write(np.full(shared.capacity // 8, float(version + 1)), version)
                    except Exception:
                        pass
            """, name)
            assert writer.stdout is not None and writer.stdout.readline() == b"ready\n"
            start_version, deadline = shared.version, time.monotonic() + 30
            while shared.version < start_version + 3 and time.monotonic() < deadline:
                time.sleep(0.001)  # the writer is up and writing
            deadline = time.monotonic() + 0.05 * (round_ + 1)
            while time.monotonic() < deadline:
                with shared.read() as snapshot:
                    values = snapshot.value
                    expected = 0.0 if snapshot.version == 1 else float(snapshot.version)
                    assert (values == expected).all()  # every element from one write
            writer.send_signal(signal.SIGKILL)
            writer.wait(timeout=10)
            writer.stdout.close()
            with shared.read() as snapshot:
                assert (snapshot.value == float(snapshot.version)).all()
                version = snapshot.version
            assert version >= start_version + 3
            # the dead writer's locks are gone: this write neither blocks nor conflicts
            assert shared.write(np.full(size, float(version + 1)), version) == version + 1
    assert name not in segments()


def test_no_leaked_segments_when_users_or_the_creator_crash() -> None:
    name = unique("crash")
    # a user that crashes does not keep the segment alive once the others close
    shared = Entangled.create(name, 1)
    user = child("""
        e = Entangled.open(sys.argv[1]); print("open", flush=True); time.sleep(60)
    """, name)
    assert user.stdout is not None and user.stdout.readline() == b"open\n"
    user.send_signal(signal.SIGKILL)
    user.wait(timeout=10)
    user.stdout.close()
    shared.close()
    assert name not in segments()

    # a creator killed with SIGKILL: its guardian removes the name
    name = unique("crash")
    creator = child("""
        e = Entangled.create(sys.argv[1], np.arange(10)); print("made", flush=True)
        time.sleep(60)
    """, name)
    assert creator.stdout is not None and creator.stdout.readline() == b"made\n"
    assert name in segments()
    creator.send_signal(signal.SIGKILL)
    creator.wait(timeout=10)
    creator.stdout.close()
    assert wait_gone(name)

    # a stale segment (every user gone, e.g. all SIGKILLed together) is replaced by create
    path = f"/dev/shm/dxpy-ent-{name}"
    with open(path, "wb") as stale:
        stale.write(b"\0" * 8192)
    with Entangled.create(name, 3) as fresh:
        assert fresh.value == 3
    assert not os.path.exists(path)
