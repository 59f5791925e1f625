"""triage.yaml + TRIAGE_* environment + flags → one typed, frozen Settings.

Flags beat environment, environment beats the file. Secrets are read from files or the
environment only, and are wrapped so that printing a Settings never shows them.
"""

from __future__ import annotations

import base64
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit, urlunsplit

from triage.errors import ConfigError, UsageError
from triage.timeutil import parse_duration
from triage.yamlschema import AnyMapOf, Choice, Field, IntRange, ListOf, OneOf, load_file, line_of

SIGNAL_NAMES = (
    "rps", "error_ratio", "latency_p95", "inflight", "cpu_usage_ratio", "cpu_throttle_ratio",
    "memory_usage_ratio", "restarts", "oom_kills", "db_latency_p95", "db_read_latency_p95",
    "db_write_latency_p95", "db_connect_share", "db_pool_usage_ratio", "db_pool_wait_p95",
    "db_connections_ratio", "db_lock_waits", "dependency_latency_p95", "dependency_error_ratio",
    "replicas", "replicas_max", "deploys",
)
# Added beyond CONTRACT's list (add-only): what capacity math needs.
EXTRA_SIGNALS = ("db_time_per_request", "db_pool_size", "db_max_connections", "db_pool_waiting",
                 "dependency_edge_latency_p95")

DEFAULT_TIER = 2
DEFAULT_TIMEOUT = 10.0
DEFAULT_RATE = "1m"
# Parallel range queries against one Prometheus: a shared backend on a few cores only stretches
# each query when asked for more at once (bench/load.py: 8 in flight made the slowest fleet
# query 73 s instead of 17 s for a 1.2-1.6x shorter pass).
DEFAULT_MAX_CONCURRENCY = 4
# A command's overall deadline against one backend, when prometheus.deadline is not given: this
# many request timeouts (300 s at the default 10 s).
DEADLINE_TIMEOUTS = 30
# The largest decoded answer read from Prometheus or Alertmanager. The biggest answer of the
# stress bench (bench/stress.py: 10,000 services, one fleet query a request) is 32 MB: 8x room.
DEFAULT_MAX_RESPONSE_BYTES = 256 * 1024 * 1024
MAX_TIMEOUT = 600.0
# Sensible ranges for values that parse but may make no sense: (low, high) seconds.
STEP_RANGE = (1.0, 86400.0)
RATE_RANGE = (1.0, 30 * 86400.0)
DEADLINE_RANGE = (1.0, 7 * 86400.0)
RESPONSE_BYTES_RANGE = (1024, 64 * 1024 ** 3)


class Secret:
    """A credential that refuses to be printed; everything it is written into is scrubbed."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value
        register_secret(value)

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


_SECRETS: set[str] = set()


def register_secret(value: str) -> None:
    if value and len(value) >= 4:
        _SECRETS.add(value)


def redact(text: str) -> str:
    """Remove every known secret and any URL userinfo from a message meant for humans."""
    for value in sorted(_SECRETS, key=len, reverse=True):
        if value in text:
            text = text.replace(value, "***")
    return re.sub(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@", r"\1***@", text)


def display_url(url: str) -> str:
    """A URL safe to print: credentials dropped, query string dropped."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<invalid url>"
    host = parts.hostname or ""
    try:
        port = parts.port
    except ValueError:
        port = None
    if port:
        host = f"{host}:{port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


@dataclass(frozen=True)
class BackendSettings:
    url: str
    bearer_token: Secret | None = None
    username: str | None = None
    password: Secret | None = None
    ca_file: str | None = None
    insecure_skip_verify: bool = False
    timeout: float = DEFAULT_TIMEOUT
    deadline: float | None = None
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES

    @property
    def display_url(self) -> str:
        return display_url(self.url)

    @property
    def run_deadline(self) -> float:
        """Seconds a whole command may spend on this backend: the configured deadline, else
        DEADLINE_TIMEOUTS request timeouts."""
        return self.deadline if self.deadline is not None else DEADLINE_TIMEOUTS * self.timeout


@dataclass(frozen=True)
class ServiceConfig:
    name: str
    namespace: str = "default"
    database: str | None = None
    tier: int = DEFAULT_TIER
    depends_on: tuple[str, ...] = ()
    health_urls: tuple[str, ...] = ()
    container: str | None = None
    deployment: str | None = None
    hpa: str | None = None
    signals: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    invariants: tuple[Mapping[str, Any], ...] = ()
    configured: bool = False

    def selector(self, key: str) -> str:
        """The label value that names this service under `key` (service, container, datname, ...)."""
        if key == "container":
            return self.container or self.name
        if key == "deployment":
            return self.deployment or self.name
        if key == "horizontalpodautoscaler":
            return self.hpa or self.deployment or self.name
        if key in ("datname", "database"):
            return self.database or self.name
        return self.name


@dataclass(frozen=True)
class Settings:
    config_path: Path | None = None
    prometheus: BackendSettings | None = None
    alertmanager: BackendSettings | None = None
    services: Mapping[str, ServiceConfig] = field(default_factory=dict)
    signals: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    rate_interval: str = DEFAULT_RATE
    step: float | None = None
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY
    queries_dirs: tuple[Path, ...] = ()
    playbooks_dirs: tuple[Path, ...] = ()
    templates_dirs: tuple[Path, ...] = ()
    default_namespace: str = "default"
    # `serve:` and `sinks:` as validated; triage/serve/settings.py gives them their types.
    serve: Mapping[str, Any] = field(default_factory=dict)
    sinks: tuple[Mapping[str, Any], ...] = ()

    def service(self, name: str, namespace: str | None = None) -> ServiceConfig:
        """The configured service, or one with the default selectors (any name can be triaged)."""
        svc = self.services.get(name)
        if svc is None:
            svc = ServiceConfig(name=name, namespace=namespace or self.default_namespace)
        elif namespace and namespace != svc.namespace:
            svc = ServiceConfig(**{**svc.__dict__, "namespace": namespace})
        return svc

    def signal_overrides(self, service: ServiceConfig) -> dict[str, tuple[str, ...]]:
        merged = dict(self.signals)
        merged.update(service.signals)
        return merged


def _check_signal_name(name: str) -> str | None:
    if name not in SIGNAL_NAMES + EXTRA_SIGNALS:
        return f"unknown signal (known: {', '.join(SIGNAL_NAMES)})"
    return None


def _check_service_name(name: str) -> str | None:
    if not name or len(name) > 253:
        return "service names are 1 to 253 characters"
    return None


_AUTH = {
    "url": Field(str, required=True),
    "bearer_token_file": Field(str),
    "bearer_token_env": Field(str),
    "basic_auth": Field({
        "username": Field(str, required=True),
        "password_file": Field(str),
        "password_env": Field(str),
    }),
    "ca_file": Field(str),
    "insecure_skip_verify": Field(bool),
    "timeout": Field(OneOf(float, str)),
    "deadline": Field(OneOf(float, str)),
    "max_response_bytes": Field(OneOf(int, str)),
}

_SERVE = {
    "listen": Field(str), "token_file": Field(str), "token_env": Field(str),
    "settle": Field(OneOf(float, str)), "workers": Field(IntRange(1, 64)), "spool_dir": Field(str),
    "records_dir": Field(str), "max_body_bytes": Field(OneOf(int, str)), "service_labels": Field(ListOf(str)),
    "retry_for": Field(OneOf(float, str)), "drain": Field(OneOf(float, str)), "public_url": Field(str),
    "window": Field(str), "baseline": Field(str),
}
_SINK = {
    "type": Field(Choice("slack", "webhook", "directory"), required=True), "name": Field(str),
    "url_file": Field(str), "url_env": Field(str), "path": Field(str),
    "timeout": Field(OneOf(float, str)), "retries": Field(IntRange(0, 10)),
}

_SIGNAL_OVERRIDES = AnyMapOf(OneOf(str, ListOf(str)), key_check=_check_signal_name)

SCHEMA = {
    "prometheus": Field({
        **_AUTH,
        "rate_interval": Field(str),
        "step": Field(OneOf(float, str)),
        "max_concurrency": Field(IntRange(1, 64)),
    }),
    "alertmanager": Field(_AUTH),
    "namespace": Field(str),
    "signals": Field(_SIGNAL_OVERRIDES),
    "queries_dir": Field(str),
    "playbooks_dir": Field(str),
    "templates_dir": Field(str),
    "serve": Field(_SERVE),
    "sinks": Field(ListOf(_SINK)),
    "services": Field(AnyMapOf({
        "namespace": Field(str),
        "database": Field(str),
        "tier": Field(IntRange(1, 3)),
        "depends_on": Field(ListOf(str)),
        "health_urls": Field(ListOf(str)),
        "container": Field(str),
        "deployment": Field(str),
        "hpa": Field(str),
        "signals": Field(_SIGNAL_OVERRIDES),
        "invariants": Field(ListOf({
            "name": Field(str, required=True),
            "query": Field(str, required=True),
            "min": Field(float),
            "max": Field(float),
        })),
    }, key_check=_check_service_name)),
}


def find_config(explicit: str | None, env: Mapping[str, str], cwd: Path) -> Path | None:
    """--config, then TRIAGE_CONFIG, then ./triage.yaml, then the XDG location; none is fine."""
    chosen = explicit or env.get("TRIAGE_CONFIG")
    if chosen:
        path = Path(chosen).expanduser()
        if not path.is_file():
            raise ConfigError(f"{path}: config file not found")
        return path
    xdg = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME", "~")).expanduser() / ".config")
    for candidate in (cwd / "triage.yaml", Path(xdg) / "triage" / "config.yaml"):
        try:
            if candidate.is_file():
                return candidate
        except OSError as exc:
            raise ConfigError(f"{candidate}: cannot read: {exc.strerror}") from None
    return None


def _read_secret_file(path: str, base: Path, what: str) -> Secret:
    file = (base / Path(path).expanduser()) if not Path(path).expanduser().is_absolute() else Path(path).expanduser()
    try:
        value = file.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"{what}: cannot read {file}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{what}: {file} is not UTF-8 text") from None
    if not value:
        raise ConfigError(f"{what}: {file} is empty")
    return Secret(value)


def _timeout(value: Any, where: str) -> float:
    if value is None:
        return DEFAULT_TIMEOUT
    seconds = _seconds(value, where)
    if not 0 < seconds <= MAX_TIMEOUT:
        raise ConfigError(f"{where}: timeout must be between 0 and {MAX_TIMEOUT:g} seconds, not {_shown(value)}")
    return seconds


def _shown(value: Any) -> str:
    return repr(value) if isinstance(value, str) else f"{value:g}" if isinstance(value, float) else str(value)


def _seconds(value: Any, where: str) -> float:
    """A number of seconds or a duration string, finite; `where` names file:line and key."""
    if isinstance(value, bool):
        raise ConfigError(f"{where}: must be a duration like 30s or a number of seconds, not {value!r}")
    if isinstance(value, (int, float)):
        seconds = float(value)
        if not math.isfinite(seconds):
            raise ConfigError(f"{where}: must be a finite number of seconds, not {_shown(value)}")
        return seconds
    try:
        return parse_duration(value, what=where).total_seconds()
    except UsageError as exc:
        raise ConfigError(str(exc)) from None


def _in_range(value: Any, where: str, bounds: tuple[float, float]) -> float:
    from triage.timeutil import format_duration

    seconds = _seconds(value, where)
    lo, hi = bounds
    if not lo <= seconds <= hi:
        raise ConfigError(f"{where}: must be from {format_duration(lo)} to {format_duration(hi)}, not {_shown(value)}")
    return seconds


_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*(B|KB|KiB|MB|MiB|GB|GiB|TB|TiB)?", re.ASCII)
_SIZE_UNITS = {None: 1, "B": 1, "KB": 1000, "KiB": 1 << 10, "MB": 1000 ** 2, "MiB": 1 << 20,
               "GB": 1000 ** 3, "GiB": 1 << 30, "TB": 1000 ** 4, "TiB": 1 << 40}


def parse_size(value: Any, where: str) -> int:
    """Bytes: a whole number, or a size like 256MiB / 64MB."""
    lo, hi = RESPONSE_BYTES_RANGE
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ConfigError(f"{where}: must be a size like 256MiB or a number of bytes, not {value!r}")
    if isinstance(value, int):
        size = value
    else:
        match = _SIZE.fullmatch(value.strip())
        if not match or len(match.group(1)) > 30:
            raise ConfigError(f"{where}: {value[:40]!r} is not a size (use e.g. 256MiB, 64MB or bytes)")
        size = int(float(match.group(1)) * _SIZE_UNITS[match.group(2)])
    if not lo <= size <= hi:
        raise ConfigError(f"{where}: must be from 1 KiB to 64 GiB, not {value!r}")
    return size


def _backend(raw: Mapping[str, Any] | None, *, name: str, env: Mapping[str, str], url_override: str | None,
             base: Path, source: str, node: Any = None) -> BackendSettings | None:
    upper = name.upper()
    url = url_override or env.get(f"TRIAGE_{upper}_URL") or (raw or {}).get("url")
    if not url:
        return None
    _check_url(url, f"{name} url")
    raw = raw or {}
    token: Secret | None = None
    if raw.get("bearer_token_file"):
        token = _read_secret_file(raw["bearer_token_file"], base, f"{source}: {name}.bearer_token_file")
    token_env = raw.get("bearer_token_env") or f"TRIAGE_{upper}_BEARER_TOKEN"
    if env.get(token_env):
        token = Secret(env[token_env])
    elif raw.get("bearer_token_env"):
        raise ConfigError(f"{source}: {name}.bearer_token_env names ${token_env}, which is not set")
    username = password = None
    auth = raw.get("basic_auth")
    if auth:
        username = auth["username"]
        if auth.get("password_file"):
            password = _read_secret_file(auth["password_file"], base, f"{source}: {name}.basic_auth.password_file")
        password_env = auth.get("password_env") or f"TRIAGE_{upper}_PASSWORD"
        if env.get(password_env):
            password = Secret(env[password_env])
        if password is None:
            raise ConfigError(
                f"{source}: {name}.basic_auth needs password_file, or the password in ${password_env}"
            )
    if username is not None and password is not None:
        # An error body that echoes the request's Authorization header must not leak it either.
        register_secret(base64.b64encode(f"{username}:{password.reveal()}".encode()).decode())
    parts = urlsplit(url)
    if parts.password:
        register_secret(parts.password)
        register_secret(base64.b64encode(f"{parts.username or ''}:{parts.password}".encode()).decode())
    if token and username:
        raise ConfigError(f"{source}: {name}: use either a bearer token or basic_auth, not both")
    ca_file = raw.get("ca_file")
    if ca_file:
        ca_path = Path(ca_file).expanduser()
        if not ca_path.is_absolute():
            ca_path = base / ca_path
        if not ca_path.is_file():
            raise ConfigError(f"{source}: {name}.ca_file {ca_path} not found")
        ca_file = str(ca_path)
    def at(key: str) -> str:
        return f"{source}:{line_of(node, name, key) or '?'}: {name}.{key}"

    timeout_env = env.get(f"TRIAGE_{upper}_TIMEOUT")
    timeout = _timeout(timeout_env, f"TRIAGE_{upper}_TIMEOUT") if timeout_env else \
        _timeout(raw.get("timeout"), at("timeout"))
    deadline = None
    if raw.get("deadline") is not None:
        deadline = _in_range(raw["deadline"], at("deadline"), DEADLINE_RANGE)
    max_bytes = DEFAULT_MAX_RESPONSE_BYTES
    if raw.get("max_response_bytes") is not None:
        max_bytes = parse_size(raw["max_response_bytes"], at("max_response_bytes"))
    return BackendSettings(
        url=url.rstrip("/"),
        bearer_token=token,
        username=username,
        password=password,
        ca_file=ca_file,
        insecure_skip_verify=bool(raw.get("insecure_skip_verify", False)),
        timeout=timeout,
        deadline=deadline,
        max_response_bytes=max_bytes,
    )


def _check_url(url: str, what: str) -> None:
    try:
        parts = urlsplit(url)
    except ValueError:
        raise UsageError(f"{what}: {display_url(url)!r} is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{what}: {display_url(url)!r} is not an http(s) URL")
    try:
        parts.port
    except ValueError:
        raise UsageError(f"{what}: {display_url(url)!r} has an invalid port") from None


def _queries(value: Any) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else list(value)
    return tuple(q for q in items if q.strip())


def load_settings(*, config: str | None = None, prometheus_url: str | None = None,
                  alertmanager_url: str | None = None, env: Mapping[str, str] | None = None,
                  cwd: Path | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    cwd = cwd or Path.cwd()
    path = find_config(config, env, cwd)
    raw: dict[str, Any] = {}
    node = None
    if path is not None:
        raw, node = load_file(path, SCHEMA)
    source = str(path) if path else "config"
    base = path.parent if path else cwd
    prom_raw = raw.get("prometheus") or {}
    default_ns = raw.get("namespace") or "default"
    services: dict[str, ServiceConfig] = {}
    for name, svc in (raw.get("services") or {}).items():
        services[name] = ServiceConfig(
            name=name,
            namespace=svc.get("namespace") or default_ns,
            database=svc.get("database"),
            tier=svc.get("tier", DEFAULT_TIER),
            depends_on=tuple(svc.get("depends_on") or ()),
            health_urls=tuple(svc.get("health_urls") or ()),
            container=svc.get("container"),
            deployment=svc.get("deployment"),
            hpa=svc.get("hpa"),
            signals={k: _queries(v) for k, v in (svc.get("signals") or {}).items()},
            invariants=tuple(svc.get("invariants") or ()),
            configured=True,
        )
    for name, svc in services.items():
        for dep in svc.depends_on:
            if dep == name:
                line = line_of(node, "services", name, "depends_on")
                raise ConfigError(f"{source}:{line}: service '{name}' depends on itself")
    def at(key: str) -> str:
        return f"{source}:{line_of(node, 'prometheus', key) or '?'}: prometheus.{key}"

    rate = prom_raw.get("rate_interval") or DEFAULT_RATE
    _in_range(rate, at("rate_interval"), RATE_RANGE)
    step = prom_raw.get("step")
    step_seconds = None
    if step is not None:
        step_seconds = _in_range(step, at("step"), STEP_RANGE)
    return Settings(
        config_path=path,
        prometheus=_backend(prom_raw if prom_raw else None, name="prometheus", env=env,
                            url_override=prometheus_url, base=base, source=source, node=node),
        alertmanager=_backend(raw.get("alertmanager"), name="alertmanager", env=env,
                              url_override=alertmanager_url, base=base, source=source, node=node),
        services=services,
        signals={k: _queries(v) for k, v in (raw.get("signals") or {}).items()},
        rate_interval=rate,
        step=step_seconds,
        max_concurrency=_concurrency(env.get("TRIAGE_MAX_CONCURRENCY"), prom_raw.get("max_concurrency")),
        queries_dirs=_dirs(raw.get("queries_dir"), env.get("TRIAGE_QUERIES_DIR"), base),
        playbooks_dirs=_dirs(raw.get("playbooks_dir"), env.get("TRIAGE_PLAYBOOKS_DIR"), base),
        templates_dirs=_dirs(raw.get("templates_dir"), env.get("TRIAGE_TEMPLATES_DIR"), base),
        default_namespace=default_ns,
        serve=raw.get("serve") or {},
        sinks=tuple(raw.get("sinks") or ()),
    )


def _concurrency(from_env: str | None, from_file: int | None) -> int:
    if from_env:
        # ASCII digits only: str.isdigit() also says yes to '٤' and '²', and int('²') raises
        if not (from_env.isascii() and from_env.isdigit() and len(from_env) <= 2) or not 1 <= int(from_env) <= 64:
            raise UsageError(f"TRIAGE_MAX_CONCURRENCY must be a whole number from 1 to 64, not {from_env!r}")
        return int(from_env)
    return from_file or DEFAULT_MAX_CONCURRENCY


def _dirs(from_file: str | None, from_env: str | None, base: Path) -> tuple[Path, ...]:
    out = []
    for value in (from_env, from_file):
        if value:
            p = Path(value).expanduser()
            out.append(p if p.is_absolute() else base / p)
    return tuple(out)


def config_line(settings: Settings, *keys: str) -> str:
    """`file:line` of a key in the loaded config, for errors found after loading."""
    if settings.config_path is None:
        return "config"
    try:
        from triage.yamlschema import compose, read_text

        node = compose(read_text(settings.config_path), str(settings.config_path))
    except ConfigError:
        return str(settings.config_path)
    line = line_of(node, *keys)
    return f"{settings.config_path}:{line}" if line else str(settings.config_path)
