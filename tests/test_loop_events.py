"""Scheduling, tasks, executors, signals, readiness callbacks, debug and
closed-loop behaviour, modelled on CPython's ``test_asyncio/test_events.py``
and ``test_base_events.py`` (written anew), on both reactor backends."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import signal
import socket
import threading
import time

import pytest

import dxpy

from .conftest import URING_OK, URING_WHY


def test_is_a_complete_abstract_event_loop(loop: dxpy.Loop) -> None:
    assert isinstance(loop, asyncio.AbstractEventLoop)
    missing = [name for name in dir(asyncio.AbstractEventLoop)
               if not name.startswith("_") and getattr(type(loop), name)
               is getattr(asyncio.AbstractEventLoop, name)]
    assert missing == []


def test_call_soon_runs_in_fifo_order(loop: dxpy.Loop) -> None:
    order: list[int] = []
    for i in range(5):
        loop.call_soon(order.append, i)
    loop.call_soon(loop.stop)
    loop.run_forever()
    assert order == [0, 1, 2, 3, 4]


def test_call_later_and_call_at_order_by_time(loop: dxpy.Loop) -> None:
    order: list[str] = []
    loop.call_later(0.03, order.append, "late")
    loop.call_later(0.01, order.append, "early")
    loop.call_at(loop.time() + 0.02, order.append, "middle")
    handle = loop.call_later(0.015, order.append, "cancelled")
    handle.cancel()
    start = loop.time()
    loop.call_later(0.05, loop.stop)
    loop.run_forever()
    assert order == ["early", "middle", "late"]
    assert loop.time() - start >= 0.049


def test_call_soon_threadsafe_wakes_a_sleeping_loop(loop: dxpy.Loop) -> None:
    results: list[str] = []

    def from_thread() -> None:
        time.sleep(0.05)
        loop.call_soon_threadsafe(results.append, "hi")
        loop.call_soon_threadsafe(loop.stop)

    threading.Thread(target=from_thread).start()
    start = time.monotonic()
    loop.run_forever()
    assert results == ["hi"]
    assert time.monotonic() - start < 5


def test_tasks_gather_and_cancellation(loop: dxpy.Loop) -> None:
    async def child(n: int) -> int:
        await asyncio.sleep(0.001 * n)
        return n * n

    async def sleeper() -> None:
        await asyncio.sleep(10)

    async def main() -> tuple[list[int], bool]:
        results = await asyncio.gather(*(child(i) for i in range(10)))
        task = asyncio.create_task(sleeper())
        await asyncio.sleep(0)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            return results, task.cancelled()
        return results, False

    assert loop.run_until_complete(main()) == ([i * i for i in range(10)], True)


def test_wait_for_timeout_and_taskgroup(loop: dxpy.Loop) -> None:
    async def main() -> list[int]:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(asyncio.sleep(5), 0.01)
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(asyncio.sleep(0.001, result=i)) for i in range(3)]
        return [t.result() for t in tasks]

    assert loop.run_until_complete(main()) == [0, 1, 2]


def test_run_in_executor_and_shutdown_default_executor(loop: dxpy.Loop) -> None:
    async def main() -> tuple[int, int]:
        default = await loop.run_in_executor(None, sum, range(100))
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            own = await loop.run_in_executor(pool, pow, 2, 10)
        await loop.shutdown_default_executor()
        return default, own

    assert loop.run_until_complete(main()) == (4950, 1024)


def test_exception_handler_receives_callback_errors(loop: dxpy.Loop) -> None:
    seen: list[dict] = []
    loop.set_exception_handler(lambda lp, context: seen.append(context))
    assert loop.get_exception_handler() is not None

    def boom() -> None:
        raise ZeroDivisionError("in callback")

    loop.call_soon(boom)
    loop.call_soon(loop.stop)
    loop.run_forever()
    assert isinstance(seen[0]["exception"], ZeroDivisionError)
    loop.set_exception_handler(None)


def test_debug_mode_flags_slow_callbacks(loop: dxpy.Loop, caplog: pytest.LogCaptureFixture) -> None:
    loop.set_debug(True)
    loop.slow_callback_duration = 0.01
    assert loop.get_debug()
    loop.call_soon(time.sleep, 0.03)
    loop.call_soon(loop.stop)
    with caplog.at_level("WARNING", logger="asyncio"):
        loop.run_forever()
    assert any("took" in r.getMessage() for r in caplog.records)

    async def call_soon_from_another_thread() -> list[RuntimeError]:
        errors: list[RuntimeError] = []

        def other() -> None:
            try:
                loop.call_soon(print)
            except RuntimeError as exc:
                errors.append(exc)

        worker = threading.Thread(target=other)
        worker.start()
        await loop.run_in_executor(None, worker.join)
        return errors

    errors = loop.run_until_complete(call_soon_from_another_thread())
    assert errors and "Non-thread-safe" in str(errors[0])


def test_shutdown_asyncgens_finalises_generators(loop: dxpy.Loop) -> None:
    finalised: list[bool] = []

    async def agen():
        try:
            yield 1
            yield 2
        finally:
            finalised.append(True)

    async def main() -> int:
        gen = agen()
        return await gen.__anext__()

    assert loop.run_until_complete(main()) == 1
    loop.run_until_complete(loop.shutdown_asyncgens())
    assert finalised == [True]


def test_closed_loop_refuses_work(backend: str) -> None:
    loop = dxpy.new_event_loop(backend)
    loop.close()
    loop.close()  # idempotent
    assert loop.is_closed()
    with pytest.raises(RuntimeError, match="closed"):
        loop.call_soon(print)
    coro = asyncio.sleep(0)
    with pytest.raises(RuntimeError, match="closed"):
        loop.run_until_complete(coro)
    coro.close()


def test_close_running_loop_is_an_error(loop: dxpy.Loop) -> None:
    async def main() -> None:
        with pytest.raises(RuntimeError, match="running"):
            loop.close()

    loop.run_until_complete(main())


def test_signal_handler_runs_on_the_loop(loop: dxpy.Loop) -> None:
    got: list[int] = []

    def on_signal(n: int) -> None:
        got.append(n)
        loop.stop()

    loop.add_signal_handler(signal.SIGUSR1, on_signal, 42)
    loop.call_later(0.01, os.kill, os.getpid(), signal.SIGUSR1)
    loop.call_later(5, loop.stop)
    loop.run_forever()
    assert got == [42]
    assert loop.remove_signal_handler(signal.SIGUSR1)
    assert not loop.remove_signal_handler(signal.SIGUSR1)
    with pytest.raises(TypeError):
        loop.add_signal_handler(signal.SIGUSR1, asyncio.sleep)
    with pytest.raises((ValueError, RuntimeError)):
        loop.add_signal_handler(signal.SIGKILL, print)


def test_add_reader_and_writer(loop: dxpy.Loop) -> None:
    a, b = socket.socketpair()
    a.setblocking(False)
    b.setblocking(False)
    events: list[str] = []

    def on_readable() -> None:
        events.append(b.recv(100).decode())
        loop.remove_reader(b.fileno())
        loop.stop()

    def on_writable() -> None:
        a.send(b"ready")
        events.append("wrote")
        assert loop.remove_writer(a.fileno())

    loop.add_reader(b.fileno(), on_readable)
    loop.add_writer(a.fileno(), on_writable)
    loop.call_later(5, loop.stop)
    loop.run_forever()
    assert events == ["wrote", "ready"]
    assert not loop.remove_reader(b.fileno())
    a.close()
    b.close()


def test_add_reader_fires_repeatedly_while_readable(loop: dxpy.Loop) -> None:
    a, b = socket.socketpair()
    a.setblocking(False)
    b.setblocking(False)
    a.send(b"abc")
    chunks: list[bytes] = []

    def on_readable() -> None:
        chunks.append(b.recv(1))
        if len(chunks) == 3:
            loop.remove_reader(b.fileno())
            loop.stop()

    loop.add_reader(b.fileno(), on_readable)
    loop.call_later(5, loop.stop)
    loop.run_forever()
    assert chunks == [b"a", b"b", b"c"]
    a.close()
    b.close()


def test_getaddrinfo_and_getnameinfo(loop: dxpy.Loop) -> None:
    async def main():
        infos = await loop.getaddrinfo("localhost", 80, type=socket.SOCK_STREAM)
        name = await loop.getnameinfo(("127.0.0.1", 80))
        return infos, name

    infos, name = loop.run_until_complete(main())
    assert any(info[4][1] == 80 for info in infos)
    assert name[1] in ("80", "http")


def test_policy_and_run_entry_points(backend: str) -> None:
    async def which() -> str:
        return type(asyncio.get_running_loop()).__module__

    assert dxpy.run(which(), reactor=backend) == "dxpy.loop"
    old = asyncio.get_event_loop_policy()
    try:
        asyncio.set_event_loop_policy(dxpy.Policy(backend))
        assert asyncio.run(which()) == "dxpy.loop"
        dxpy.install(backend)
        assert isinstance(asyncio.get_event_loop_policy(), dxpy.Policy)
    finally:
        asyncio.set_event_loop_policy(old)


def test_loop_created_in_one_thread_runs_in_another(backend: str) -> None:
    """The common ``Thread(target=loop.run_forever)`` pattern works: an
    io_uring ring belongs to the thread that first runs it, not its creator."""
    loop = dxpy.new_event_loop(backend)
    names: list[str] = []

    async def job() -> None:
        await asyncio.sleep(0.01)
        names.append(threading.current_thread().name)

    worker = threading.Thread(target=loop.run_until_complete, args=(job(),), name="runner")
    worker.start()
    worker.join()
    loop.close()
    assert names == ["runner"]


@pytest.mark.skipif(not URING_OK, reason=f"io_uring unavailable: {URING_WHY}")
def test_single_issuer_ring_names_the_thread_rule() -> None:
    """Running one io_uring loop from a second thread is refused clearly
    (SINGLE_ISSUER mode), and a shared-mode reactor allows it."""
    from dxpy.reactor import ReactorError
    from dxpy.reactor.uring import IoUringReactor

    for single_issuer in (True, False):
        loop = dxpy.Loop(IoUringReactor(single_issuer=single_issuer))
        worker = threading.Thread(target=loop.run_until_complete, args=(asyncio.sleep(0),))
        worker.start()
        worker.join()
        coro = asyncio.sleep(0.001)
        try:
            if single_issuer:
                with pytest.raises(ReactorError, match="DXPY_URING_SHARED"):
                    loop.run_until_complete(coro)
            else:
                loop.run_until_complete(coro)
        finally:
            coro.close()
            loop.close()


def test_loop_attributes_fit_a_compact_instance_dict(loop: dxpy.Loop) -> None:
    """CPython 3.11 keeps an object's attributes in a compact shared-key dict
    only up to 30 of them; past that every attribute access in asyncio's
    Python code (call_soon, Handle, _run_once) on the loop is ~50% slower.
    The loop stays below the limit after serving, reading and timing."""
    async def work() -> None:
        server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
        reader, writer = await asyncio.open_connection(*server.sockets[0].getsockname())
        await reader.read()
        writer.close()
        server.close()
        await server.wait_closed()
        await loop.run_in_executor(None, time.sleep, 0)
        loop.call_later(0.001, lambda: None)
        await asyncio.sleep(0.002)

    loop.run_until_complete(work())
    assert len(vars(loop)) <= 30, sorted(vars(loop))
