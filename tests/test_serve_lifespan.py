"""Lifespan (startup, shutdown, state, failures) and graceful shutdown with requests in flight."""

from __future__ import annotations

import asyncio
import signal
import socket
import threading
import time

import httpx
import pytest

from dxpy.serve.lifespan import LifespanError

from .serve_support import cli_server, read_until_closed, status_of, thread_server

EVENTS: list[str] = []


async def stateful_app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                scope["state"]["db"] = "connected"
                EVENTS.append("startup")
                await send({"type": "lifespan.startup.complete"})
            else:
                EVENTS.append("shutdown")
                await send({"type": "lifespan.shutdown.complete"})
                return
    scope["state"]["db"] += "!"  # a per-request shallow copy: never seen by the next request
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": scope["state"]["db"].encode()})


async def failing_startup(scope, receive, send):
    if scope["type"] == "lifespan":
        await receive()
        await send({"type": "lifespan.startup.failed", "message": "no database"})
        return


async def no_lifespan(scope, receive, send):
    if scope["type"] != "http":
        raise ValueError(f"unsupported scope {scope['type']}")
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"state" if "state" in scope else b"none"})


async def slow_app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                print("lifespan shutdown ran", flush=True)
                return
    print("request started", flush=True)
    await asyncio.sleep(float(scope["query_string"] or b"1"))
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"finished"})


def test_startup_shutdown_and_state():
    EVENTS.clear()
    with thread_server(stateful_app) as s:
        assert EVENTS == ["startup"]
        with httpx.Client(base_url=s.url) as client:
            assert client.get("/").text == "connected!"
            assert client.get("/").text == "connected!"
    assert EVENTS == ["startup", "shutdown"]


def test_startup_failure_is_fatal():
    with pytest.raises(LifespanError, match="no database"):
        with thread_server(failing_startup):
            pass


def test_auto_mode_serves_apps_without_lifespan():
    with thread_server(no_lifespan) as s:
        assert httpx.get(s.url).text == "none"
    with pytest.raises(LifespanError):
        with thread_server(no_lifespan, lifespan="on"):
            pass
    with thread_server(stateful_app, lifespan="off") as s:
        assert s.state.lifespan_state is None


def test_startup_failure_exit_status_from_the_command():
    with cli_server("tests.test_serve_lifespan:failing_startup", "--port", "0",
                    wait=None) as child:
        assert child.process.wait(30) == 3
    assert "no database" in child.drain()


def test_sigterm_finishes_in_flight_requests():
    with cli_server("tests.test_serve_lifespan:slow_app", "--port", "0") as child:
        results: list[bytes] = []

        def request() -> None:
            with socket.create_connection(("127.0.0.1", child.port), timeout=20) as sock:
                sock.sendall(b"GET /?1.0 HTTP/1.1\r\nHost: x\r\n\r\n")
                results.append(read_until_closed(sock))

        client = threading.Thread(target=request)
        client.start()
        child.wait_for("request started")
        child.process.send_signal(signal.SIGTERM)
        client.join(20)
        assert child.process.wait(20) == 0
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", child.port), timeout=2).close()
    (response,) = results
    assert status_of(response) == 200 and response.endswith(b"finished")
    assert b"connection: close" in response
    output = child.drain()
    assert "lifespan shutdown ran" in output


def test_graceful_timeout_cancels_stragglers():
    with cli_server("tests.test_serve_lifespan:slow_app", "--port", "0",
                    "--timeout-graceful-shutdown", "0.5") as child:
        with socket.create_connection(("127.0.0.1", child.port), timeout=20) as sock:
            sock.sendall(b"GET /?30 HTTP/1.1\r\nHost: x\r\n\r\n")
            child.wait_for("request started")
            start = time.monotonic()
            child.process.send_signal(signal.SIGINT)
            assert read_until_closed(sock) == b""  # cancelled: closed without a response
        assert child.process.wait(20) == 0
        assert time.monotonic() - start < 10
    assert "lifespan shutdown ran" in child.drain()
