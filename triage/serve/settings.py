"""The `serve:` and `sinks:` sections of triage.yaml, typed. Flags beat environment, environment
beats the file (CONTRACT.md); the receiver's token and the sinks' URLs are secrets, read from a
file or the environment only."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from triage.config import Settings, config_line, parse_size
from triage.errors import ConfigError, UsageError
from triage.secrets import Secret
from triage.timeutil import parse_duration

DEFAULT_LISTEN = "127.0.0.1:8080"
DEFAULT_TOKEN_ENV = "TRIAGE_SERVE_TOKEN"
DEFAULT_LABELS = ("service", "app.kubernetes.io/name", "container", "job")
# Alertmanager's own notifications are a few KiB; a group of 1,000 alerts with annotations stays
# well under this.
DEFAULT_MAX_BODY = 1024 * 1024
DEFAULT_SETTLE = 120.0
DEFAULT_WORKERS = 2
DEFAULT_RETRY_FOR = 300.0
# Kubernetes gives a pod 30 s between SIGTERM and SIGKILL: drain within that.
DEFAULT_DRAIN = 25.0
DEFAULT_SINK_TIMEOUT = 5.0
DEFAULT_SINK_RETRIES = 2


@dataclass(frozen=True)
class SinkSettings:
    kind: str
    name: str
    url: Secret | None = None
    path: Path | None = None
    timeout: float = DEFAULT_SINK_TIMEOUT
    retries: int = DEFAULT_SINK_RETRIES


@dataclass(frozen=True)
class ServeSettings:
    host: str
    port: int
    token: Secret | None
    settle: float = DEFAULT_SETTLE
    workers: int = DEFAULT_WORKERS
    spool_dir: Path = Path("triage-spool")
    records_dir: Path = Path("incidents")
    max_body_bytes: int = DEFAULT_MAX_BODY
    service_labels: tuple[str, ...] = DEFAULT_LABELS
    retry_for: float = DEFAULT_RETRY_FOR
    drain: float = DEFAULT_DRAIN
    public_url: str | None = None
    window: float = 900.0
    baseline: float = 3600.0
    sinks: tuple[SinkSettings, ...] = field(default_factory=tuple)

    @property
    def loopback(self) -> bool:
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return self.host == "localhost"


def parse_listen(text: str, what: str = "--listen") -> tuple[str, int]:
    """HOST:PORT (IPv6 as [::1]:8080); a bare :PORT listens on every address."""
    raw = text.strip()
    host, sep, port = raw.rpartition(":")
    if not sep or not port.isascii() or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"{what}: {raw!r} is not HOST:PORT (e.g. 127.0.0.1:8080)")
    host = host.strip("[]") or "0.0.0.0"
    return host, int(port)


def _resolve(base: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path


def _secret_file(path: Path, where: str) -> Secret:
    try:
        value = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{where}: {path} is not UTF-8 text") from None
    if not value:
        raise ConfigError(f"{where}: {path} is empty")
    return Secret(value)


def _seconds(value: Any, where: str, *, zero: bool = False) -> float:
    if isinstance(value, bool):
        raise ConfigError(f"{where}: must be a duration like 30s, not {value!r}")
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif zero and str(value).strip() in ("0", "0s"):
        seconds = 0.0
    else:
        try:
            seconds = parse_duration(str(value), what=where).total_seconds()
        except UsageError as exc:
            raise ConfigError(str(exc)) from None
    if not (0.0 if zero else 0.001) <= seconds <= 7 * 86400:
        raise ConfigError(f"{where}: must be from {'0s' if zero else '1ms'} to 7d, not {value!r}")
    return seconds


def _token(raw: Mapping[str, Any], env: Mapping[str, str], base: Path, settings: Settings) -> Secret | None:
    if raw.get("token_file"):
        return _secret_file(_resolve(base, raw["token_file"]), f"{config_line(settings, 'serve', 'token_file')}: "
                                                                "serve.token_file")
    name = raw.get("token_env") or DEFAULT_TOKEN_ENV
    if env.get(name):
        return Secret(env[name])
    if raw.get("token_env"):
        raise ConfigError(f"{config_line(settings, 'serve', 'token_env')}: serve.token_env names ${name}, "
                          "which is not set")
    return None


def _sink(raw: Mapping[str, Any], index: int, env: Mapping[str, str], base: Path, settings: Settings) -> SinkSettings:
    where = f"{settings.config_path or 'config'}: sinks[{index}]"
    kind = str(raw["type"])
    name = str(raw.get("name") or f"{kind}-{index}")
    url = path = None
    if kind == "directory":
        if not raw.get("path"):
            raise ConfigError(f"{where}: a directory sink needs path")
        path = _resolve(base, raw["path"])
    elif raw.get("url_file"):
        url = _secret_file(_resolve(base, raw["url_file"]), f"{where}.url_file")
    elif raw.get("url_env"):
        if not env.get(raw["url_env"]):
            raise ConfigError(f"{where}.url_env names ${raw['url_env']}, which is not set")
        url = Secret(env[raw["url_env"]])
    else:
        raise ConfigError(f"{where}: a {kind} sink needs url_file or url_env (its URL is a secret)")
    if url is not None and not url.reveal().startswith(("http://", "https://")):
        raise ConfigError(f"{where}: the {kind} sink's URL is not an http(s) URL")
    timeout = _seconds(raw["timeout"], f"{where}.timeout") if raw.get("timeout") is not None else DEFAULT_SINK_TIMEOUT
    retries = int(raw["retries"]) if raw.get("retries") is not None else DEFAULT_SINK_RETRIES
    return SinkSettings(kind=kind, name=name, url=url, path=path, timeout=timeout, retries=retries)


def service_labels(settings: Settings) -> tuple[str, ...]:
    """The alert labels that name a service, in order (serve.service_labels; `triage alerts` too)."""
    return tuple(settings.serve.get("service_labels") or DEFAULT_LABELS)


def settle_of(settings: Settings) -> float:
    """serve.settle: how long after an alert starts its incident's window ends (`run --alerts` too)."""
    raw = settings.serve.get("settle")
    return DEFAULT_SETTLE if raw is None else _seconds(raw, f"{config_line(settings, 'serve', 'settle')}: serve.settle",
                                                        zero=True)


def serve_settings(settings: Settings, *, listen: str | None = None, env: Mapping[str, str] | None = None,
                   cwd: Path | None = None) -> ServeSettings:
    env = dict(os.environ if env is None else env)
    raw = settings.serve
    base = settings.config_path.parent if settings.config_path else (cwd or Path.cwd())

    def at(key: str) -> str:
        return f"{config_line(settings, 'serve', key)}: serve.{key}"

    chosen = listen or env.get("TRIAGE_SERVE_LISTEN")
    host, port = parse_listen(chosen) if chosen else parse_listen(raw.get("listen") or DEFAULT_LISTEN, at("listen"))
    labels = service_labels(settings)
    if not labels or any(not label.strip() for label in labels):
        raise ConfigError(f"{at('service_labels')}: give at least one label name, none empty")
    durations = {key: _seconds(raw[key], at(key), zero=key == "settle") for key in
                 ("settle", "retry_for", "drain", "window", "baseline") if raw.get(key) is not None}
    return ServeSettings(
        host=host, port=port, token=_token(raw, env, base, settings),
        settle=durations.get("settle", DEFAULT_SETTLE),
        workers=int(raw.get("workers") or DEFAULT_WORKERS),
        spool_dir=_resolve(base, raw.get("spool_dir") or "triage-spool"),
        records_dir=_resolve(base, raw.get("records_dir") or "incidents"),
        max_body_bytes=parse_size(raw["max_body_bytes"], at("max_body_bytes"))
        if raw.get("max_body_bytes") is not None else DEFAULT_MAX_BODY,
        service_labels=labels,
        retry_for=durations.get("retry_for", DEFAULT_RETRY_FOR),
        drain=durations.get("drain", DEFAULT_DRAIN),
        public_url=(raw.get("public_url") or "").rstrip("/") or None,
        window=durations.get("window", 900.0),
        baseline=durations.get("baseline", 3600.0),
        sinks=tuple(_sink(s, i, env, base, settings) for i, s in enumerate(settings.sinks)),
    )
