"""``Config``: every ``dxpy serve`` option, validated once, and how the app is found.

Option names and defaults are uvicorn's (``--host``, ``--timeout-keep-alive``,
``--h11-max-incomplete-event-size``, ...) so that switching servers is a change
of command name.  A ``Config`` is plain data: the supervisor sends it to worker
processes as JSON (``to_json``/``from_json``), which is why the app travels as
an import string when there is more than one process.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import ipaddress
import json
import logging
import os
import sys
from dataclasses import dataclass, field
from typing import Any, Callable

from ..cores import resolve_workers

LIFESPAN_MODES = ("auto", "on", "off")
HTTP_PARSERS = ("auto", "httptools", "h11")
WS_MODES = ("auto", "wsproto", "none")
LOG_LEVELS = {"critical": logging.CRITICAL, "error": logging.ERROR, "warning": logging.WARNING,
              "info": logging.INFO, "debug": logging.DEBUG, "trace": 5}


class ConfigError(ValueError):
    """An option value ``dxpy serve`` cannot run with (the message names the option)."""


class AppLoadError(ImportError):
    """``module:attribute`` did not lead to an ASGI application."""


@dataclass
class Config:
    """The options of one ``dxpy serve`` run (see ``dxpy serve --help``)."""

    app: Any
    host: str = "127.0.0.1"
    port: int = 8000
    uds: str | None = None
    fd: int | None = None
    workers: int | str | None = 1
    reload: bool = False
    reload_dirs: list[str] = field(default_factory=list)
    reload_delay: float = 0.25
    log_level: str = "info"
    access_log: bool = True
    root_path: str = ""
    proxy_headers: bool = True
    forwarded_allow_ips: str = "127.0.0.1"
    server_header: bool = True
    date_header: bool = True
    limit_concurrency: int | None = None
    limit_request_body: int | None = None
    backlog: int = 2048
    timeout_keep_alive: float = 5.0
    timeout_request_header: float = 10.0
    timeout_graceful_shutdown: float | None = None
    timeout_worker_healthcheck: float = 5.0
    ssl_keyfile: str | None = None
    ssl_certfile: str | None = None
    ssl_keyfile_password: str | None = None
    factory: bool = False
    app_dir: str = "."
    h11_max_incomplete_event_size: int = 16 * 1024
    lifespan: str = "auto"
    http: str = "auto"
    ws: str = "auto"
    ws_max_size: int = 16 * 1024 * 1024
    ws_max_queue: int = 32
    ws_ping_interval: float | None = 20.0
    ws_ping_timeout: float | None = 20.0
    gc_control: bool = True
    pin_workers: bool = False
    stats: bool = False
    stats_interval: float = 10.0
    stats_path: str = "/_dxpy/stats"
    reactor: str | None = None

    def __post_init__(self) -> None:
        self.validate()

    # ---- checks -----------------------------------------------------------
    def validate(self) -> None:
        """Raise ``ConfigError`` for a value that cannot work, naming the flag."""
        _choice("--lifespan", self.lifespan, LIFESPAN_MODES)
        _choice("--http", self.http, HTTP_PARSERS)
        _choice("--ws", self.ws, WS_MODES)
        _choice("--log-level", self.log_level, tuple(LOG_LEVELS))
        if self.reactor is not None:
            _choice("--reactor", self.reactor, ("uring", "epoll"))
        try:
            self.workers = resolve_workers(self.workers)
        except ValueError as exc:
            raise ConfigError(f"--workers: {exc}") from None
        if sum(x is not None for x in (self.uds, self.fd)) > 1:
            raise ConfigError("--uds and --fd are exclusive")
        if not 0 <= int(self.port) <= 65535:
            raise ConfigError(f"--port must be 0..65535, not {self.port}")
        for name in ("backlog", "h11_max_incomplete_event_size", "ws_max_size", "ws_max_queue"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"--{name.replace('_', '-')} must be positive")
        for name in ("limit_concurrency", "limit_request_body"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ConfigError(f"--{name.replace('_', '-')} must be positive")
        for name in ("timeout_keep_alive", "timeout_request_header", "stats_interval"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"--{name.replace('_', '-')} must be positive")
        if not self.stats_path.startswith("/"):
            raise ConfigError(f"--stats-path must start with '/', not {self.stats_path!r}")
        if (self.ssl_keyfile is None) != (self.ssl_certfile is None):
            raise ConfigError("--ssl-keyfile and --ssl-certfile go together")
        if not isinstance(self.app, str) and (self.workers > 1 or self.reload):
            raise ConfigError("--workers and --reload need the app as an import string "
                              "('module:attribute'), because each process imports it")
        self.trusted_proxies()  # raises for a malformed --forwarded-allow-ips

    # ---- derived values ---------------------------------------------------
    @property
    def log_level_number(self) -> int:
        return LOG_LEVELS[self.log_level]

    @property
    def is_ssl(self) -> bool:
        return self.ssl_certfile is not None

    def ssl_context(self) -> Any:
        """The server-side ``ssl.SSLContext`` for ``--ssl-certfile``/``--ssl-keyfile``."""
        if not self.is_ssl:
            return None
        import ssl  # only TLS servers pay for the import
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        try:
            context.load_cert_chain(self.ssl_certfile, self.ssl_keyfile, self.ssl_keyfile_password)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"--ssl-certfile/--ssl-keyfile: cannot load "
                              f"{self.ssl_certfile!r}: {exc}") from None
        context.set_alpn_protocols(["http/1.1"])
        return context

    def trusted_proxies(self) -> "TrustedProxies":
        return TrustedProxies.parse(self.forwarded_allow_ips)

    # ---- transport between processes ---------------------------------------
    def to_json(self) -> str:
        """The options as JSON (the app must be an import string)."""
        if not isinstance(self.app, str):
            raise ConfigError("only an import-string app can be sent to another process")
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str, **overrides: Any) -> "Config":
        values = json.loads(text)
        values.update(overrides)
        return cls(**values)

    # ---- finding the application ----------------------------------------------
    def load_app(self) -> Callable[..., Any]:
        """Import ``module:attribute`` (after putting ``--app-dir`` on sys.path),
        call it if ``--factory``, and check that the result is an ASGI 3 app."""
        app = self.app
        if isinstance(app, str):
            app = import_from_string(app, self.app_dir)
        if self.factory:
            try:
                app = app()
            except Exception as exc:
                raise AppLoadError(f"--factory: calling {self.app!r} failed: {exc!r}") from exc
        if not callable(app):
            raise AppLoadError(f"{self.app!r} is not callable, so it is not an ASGI app")
        if inspect.isclass(app) and not self.factory:
            raise AppLoadError(f"{self.app!r} is a class; pass --factory if it builds the app")
        return app


def _choice(flag: str, value: Any, allowed: tuple) -> None:
    if value not in allowed:
        raise ConfigError(f"{flag} must be one of {', '.join(map(str, allowed))}, not {value!r}")


def import_from_string(target: str, app_dir: str = ".") -> Any:
    """``"package.module:attr.sub"`` -> the object, with precise errors."""
    module_name, sep, attrs = target.partition(":")
    if not sep or not module_name or not attrs:
        raise AppLoadError(f"app must be given as 'module:attribute', not {target!r}")
    directory = os.path.abspath(app_dir)
    if directory not in sys.path:
        sys.path.insert(0, directory)
    try:
        obj = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name and not module_name.startswith(f"{exc.name}."):
            raise  # the module exists, one of its own imports failed: show that
        raise AppLoadError(f"could not import module {module_name!r} "
                           f"(searched from {directory})") from None
    for attr in attrs.split("."):
        try:
            obj = getattr(obj, attr)
        except AttributeError:
            raise AppLoadError(f"attribute {attrs!r} not found in module {module_name!r}") from None
    return obj


@dataclass(frozen=True)
class TrustedProxies:
    """``--forwarded-allow-ips``: which peers may set ``X-Forwarded-*``."""

    everyone: bool
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
    names: frozenset[str]

    @classmethod
    def parse(cls, spec: str | list[str] | None) -> "TrustedProxies":
        items = spec if isinstance(spec, list) else (spec or "").split(",")
        items = [item.strip() for item in items if item.strip()]
        networks, names = [], set()
        for item in items:
            if item == "*":
                continue
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                if "/" in item or item[:1].isdigit():
                    raise ConfigError(f"--forwarded-allow-ips: {item!r} is not an address "
                                      f"or network") from None
                names.add(item)  # e.g. "unix:" for Unix-socket peers
        return cls("*" in items, tuple(networks), frozenset(names))

    def trusts(self, host: str | None) -> bool:
        if self.everyone:
            return True
        if host is None:
            return "unix:" in self.names
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return host in self.names
        return any(address in network for network in self.networks)
