"""Options, app loading and the other listeners (--uds, --fd, TLS, --factory)."""

from __future__ import annotations

import socket
import ssl
import subprocess
import sys

import httpx
import pytest
import trustme

from dxpy.serve import AppLoadError, Config, ConfigError
from dxpy.serve.config import TrustedProxies, import_from_string
from dxpy.serve.main import build_parser

from .serve_support import ROOT, read_until_closed, status_of, thread_server


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": scope["scheme"].encode()})


def make_app():
    """For --factory."""
    return app


@pytest.mark.parametrize("options, flag", [
    ({"lifespan": "sometimes"}, "--lifespan"),
    ({"http": "h2"}, "--http"),
    ({"workers": -1}, "--workers"),
    ({"workers": "many"}, "--workers"),
    ({"port": 70000}, "--port"),
    ({"backlog": 0}, "--backlog"),
    ({"limit_request_body": 0}, "--limit-request-body"),
    ({"timeout_keep_alive": 0}, "--timeout-keep-alive"),
    ({"ssl_certfile": "cert.pem"}, "--ssl-keyfile"),
    ({"forwarded_allow_ips": "10.0.0.0/99"}, "--forwarded-allow-ips"),
    ({"uds": "/tmp/x.sock", "fd": 3}, "--uds"),
    ({"log_level": "loud"}, "--log-level"),
])
def test_bad_options_name_their_flag(options, flag):
    with pytest.raises(ConfigError, match=flag):
        Config("m:app", **options)


def test_object_app_cannot_go_to_workers():
    with pytest.raises(ConfigError, match="import string"):
        Config(app, workers=2)


def test_json_round_trip_and_auto_workers():
    config = Config("examples.hello:app", workers="auto", port=0, root_path="/x")
    again = Config.from_json(config.to_json())
    assert again == config and again.workers >= 1


def test_import_errors_are_precise():
    with pytest.raises(AppLoadError, match="module:attribute"):
        import_from_string("no_colon")
    with pytest.raises(AppLoadError, match="could not import module 'no_such_module_xyz'"):
        import_from_string("no_such_module_xyz:app")
    with pytest.raises(AppLoadError, match="attribute 'nope' not found"):
        import_from_string("tests.test_serve_config:nope")
    with pytest.raises(AppLoadError, match="not callable"):
        Config("tests.test_serve_config:__doc__").load_app()
    assert Config("tests.test_serve_config:make_app", factory=True).load_app() is app


def test_trusted_proxies():
    trusted = TrustedProxies.parse("127.0.0.1, 10.0.0.0/8, unix:")
    assert trusted.trusts("10.2.3.4") and trusted.trusts("127.0.0.1") and trusted.trusts(None)
    assert not trusted.trusts("192.168.0.1")
    assert TrustedProxies.parse("*").trusts("8.8.8.8")


def test_parser_spells_flags_as_uvicorn():
    options = build_parser().parse_args([
        "m:app", "--host", "0.0.0.0", "--port", "9", "--workers", "4", "--no-access-log",
        "--root-path", "/r", "--no-proxy-headers", "--forwarded-allow-ips", "*",
        "--limit-concurrency", "5", "--backlog", "10", "--timeout-keep-alive", "2",
        "--timeout-graceful-shutdown", "3", "--factory", "--app-dir", "src",
        "--h11-max-incomplete-event-size", "1000", "--lifespan", "off", "--log-level", "debug"])
    assert (options.host, options.port, options.workers, options.access_log) == (
        "0.0.0.0", 9, "4", False)
    assert options.proxy_headers is False and options.factory is True
    assert options.h11_max_incomplete_event_size == 1000 and options.lifespan == "off"


@pytest.mark.parametrize("flags, pinned", [((), False), (("--pin-workers",), True),
                                           (("--no-pin-workers",), False),
                                           (("--pin-workers", "--no-pin-workers"), False)])
def test_workers_float_unless_pinned(flags, pinned):
    """Unpinned is the default: a pinned worker on a shared core held the p99."""
    assert build_parser().parse_args(["m:app", "--workers", "2", *flags]).pin_workers is pinned
    assert Config(app="m:app").pin_workers is False


def run_python(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return run_python("-m", "dxpy", *args)


def test_command_line_errors():
    listed = run_cli("--help")
    assert listed.returncode == 0 and "serve" in listed.stdout
    helped = run_cli("serve", "--help")
    assert helped.returncode == 0 and "--timeout-graceful-shutdown" in helped.stdout
    missing = run_cli("serve", "no_such_module_xyz:app", "--port", "0")
    assert missing.returncode == 3 and "could not import module" in missing.stderr
    bad = run_cli("serve", "m:app", "--workers", "zero")
    assert bad.returncode == 2 and "--workers" in bad.stderr


def test_unix_socket(tmp_path):
    path = str(tmp_path / "serve.sock")
    with thread_server(app, uds=path):
        transport = httpx.HTTPTransport(uds=path)
        with httpx.Client(transport=transport, base_url="http://localhost") as client:
            assert client.get("/").text == "http"


def test_inherited_fd():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    port = listener.getsockname()[1]
    try:
        with thread_server(app, fd=listener.fileno()):
            with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                response = read_until_closed(sock)
        assert status_of(response) == 200 and response.endswith(b"http")
    finally:
        listener.close()


def test_tls(tmp_path):
    authority = trustme.CA()
    cert = authority.issue_cert("127.0.0.1")
    certfile, keyfile = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(certfile))
    cert.private_key_pem.write_to_path(str(keyfile))
    context = ssl.create_default_context()
    authority.configure_trust(context)
    with thread_server(app, ssl_certfile=str(certfile), ssl_keyfile=str(keyfile)) as s:
        with httpx.Client(verify=context) as client:
            assert client.get(f"https://127.0.0.1:{s.port}/").text == "https"
    with pytest.raises(ConfigError, match="cannot load"):
        Config(app, ssl_certfile=str(tmp_path / "absent.pem"), ssl_keyfile=str(keyfile)).ssl_context()


def test_missing_parsers_fall_back_then_fail_clearly():
    fallback = ("import sys\n"
                "sys.modules['httptools'] = None\n"
                "from dxpy.serve.server import protocol_class\n"
                "print(protocol_class('auto').__name__)\n")
    assert run_python("-c", fallback).stdout.strip() == "H11Protocol"
    neither = ("import sys\n"
               "sys.modules['httptools'] = sys.modules['h11'] = None\n"
               "from dxpy.serve.main import main\n"
               "sys.exit(main(['examples.hello:app', '--port', '0']))\n")
    result = run_python("-c", neither)
    assert result.returncode == 3 and "pip install 'dxpy[serve]'" in result.stderr
