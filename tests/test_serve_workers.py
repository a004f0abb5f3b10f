"""``--workers`` (start, share the port, restart on crash, stop) and ``--reload``."""

from __future__ import annotations

import os
import signal
import socket
import time

import httpx
import pytest

from dxpy.cores import available_cores, core_for

from .serve_support import cli_server, read_until_closed


async def pid_app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": str(os.getpid()).encode()})


def pids_answering(port: int, attempts: int = 200) -> tuple[set[int], int]:
    """Worker pids seen over many new connections (SO_REUSEPORT hashes the 4-tuple),
    and how many connections got no answer."""
    seen, failed = set(), 0
    for _ in range(attempts):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            response = read_until_closed(sock)
        if response.startswith(b"HTTP/1.1 200"):
            seen.add(int(response.rsplit(b"\r\n\r\n", 1)[1]))
        else:
            failed += 1
    return seen, failed


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_two_workers_share_the_port_and_restart_on_crash():
    with cli_server("tests.test_serve_workers:pid_app", "--workers", "2", "--port", "0",
                    "--no-access-log", wait=r"on port (\d+)") as child:
        worker_pids(child)
        workers, failed = pids_answering(child.port)
        assert len(workers) == 2 and child.process.pid not in workers and not failed
        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        child.wait_for(r"exited with status -9: restarting")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            # Connections queued on the dead worker's listener are reset by the
            # kernel (unless net.ipv4.tcp_migrate_req=1): tolerated here.
            now, _ = pids_answering(child.port, attempts=40)
            if len(now) == 2 and victim not in now:
                break
            time.sleep(0.2)
        assert len(now) == 2 and victim not in now
        assert child.stop() == 0
        assert not any(alive(pid) for pid in now)


def worker_pids(child) -> list[int]:
    first = int(child.wait_for(r"\(pid (\d+)\) listening").group(1))
    second = int(child.wait_for(rf"\(pid (?!{first}\))(\d+)\) listening").group(1))
    return [first, second]


@pytest.mark.parametrize("pinned", [True, False], ids=["pin-workers", "default"])
def test_examples_hello_with_two_workers(pinned):
    flags = ("--pin-workers",) if pinned else ()
    with cli_server("examples.hello:app", "--workers", "2", "--port", "0", *flags,
                    wait=r"on port (\d+)") as child:
        affinities = [os.sched_getaffinity(pid) for pid in worker_pids(child)]
        with httpx.Client(base_url=f"http://127.0.0.1:{child.port}") as client:
            assert client.get("/").text == "Hello, world!"
        assert child.stop(signal.SIGINT) == 0
    cores = set(available_cores())
    if not pinned or len(cores) == 1:
        assert affinities == [cores, cores]
    else:
        assert sorted(map(sorted, affinities)) == sorted([[core_for(0)], [core_for(1)]])


def test_reload_sees_an_edit(tmp_path):
    module = tmp_path / "reloadme.py"
    template = ("async def app(scope, receive, send):\n"
                "    if scope['type'] != 'http':\n        return\n"
                "    await send({'type': 'http.response.start', 'status': 200, 'headers': []})\n"
                "    await send({'type': 'http.response.body', 'body': b'%s'})\n")
    module.write_text(template % "version one")
    with cli_server("reloadme:app", "--reload", "--app-dir", str(tmp_path), "--port", "0",
                    "--reload-delay", "0.1", wait=r"on port (\d+)") as child:
        child.wait_for("listening on")
        url = f"http://127.0.0.1:{child.port}/"
        assert httpx.get(url, timeout=10).text == "version one"
        time.sleep(0.3)
        module.write_text(template % "version two")
        child.wait_for("sources changed")
        deadline = time.monotonic() + 20
        text = ""
        while time.monotonic() < deadline and text != "version two":
            try:
                text = httpx.get(url, timeout=10).text
            except httpx.TransportError:
                time.sleep(0.1)  # between the old worker and the new one
        assert text == "version two"
        assert child.stop() == 0
