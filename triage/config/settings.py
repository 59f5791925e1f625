"""triage.yaml + TRIAGE_* environment + flags → one typed, frozen Settings.

Flags beat environment, environment beats the file. How a backend is reached (URL,
credentials, timeouts) is `backend.py`; durations and sizes are read by `values.py`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from triage.config.backend import AUTH_SCHEMA, BackendSettings, load_backend
from triage.config.slo import SLO_SCHEMA, SloConfig, load_slo
from triage.config.values import RATE_RANGE, STEP_RANGE, in_range
from triage.errors import ConfigError, UsageError
from triage.models import EXTRA_SIGNALS, SIGNAL_NAMES
from triage.yamlschema import (
    AnyMapOf,
    Choice,
    Field,
    IntRange,
    ListOf,
    OneOf,
    line_of,
    load_file,
)

DEFAULT_TIER = 2
DEFAULT_RATE = "1m"
# Parallel range queries against one Prometheus: a shared backend on a few cores only stretches
# each query when asked for more at once (bench/load.py: 8 in flight made the slowest fleet
# query 73 s instead of 17 s for a 1.2-1.6x shorter pass).
DEFAULT_MAX_CONCURRENCY = 4


@dataclass(frozen=True)
class ServiceConfig:
    """One service as the config describes it (or the defaults, for a service it does not name)."""

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
    slo: SloConfig | None = None

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
    """The whole configuration: the file's, the environment's and the flags' values merged."""

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


# `triage serve`: the receiver and where its messages go (typed by triage/serve/settings.py).
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
        **AUTH_SCHEMA,
        "rate_interval": Field(str),
        "step": Field(OneOf(float, str)),
        "max_concurrency": Field(IntRange(1, 64)),
    }),
    "alertmanager": Field(AUTH_SCHEMA),
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
        "slo": Field(SLO_SCHEMA),
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


def _queries(value: Any) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else list(value)
    return tuple(q for q in items if q.strip())


def _services(raw: Mapping[str, Any], default_ns: str, *, source: str, node: Any) -> dict[str, ServiceConfig]:
    services: dict[str, ServiceConfig] = {}
    for name, svc in raw.items():
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
            slo=load_slo(svc.get("slo"), f"{source}:{line_of(node, 'services', name, 'slo') or '?'}: "
                                         f"services.{name}.slo"),
        )
    for name, svc in services.items():
        for dep in svc.depends_on:
            if dep == name:
                line = line_of(node, "services", name, "depends_on")
                raise ConfigError(f"{source}:{line}: service '{name}' depends on itself")
    return services


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
    services = _services(raw.get("services") or {}, default_ns, source=source, node=node)

    def at(key: str) -> str:
        return f"{source}:{line_of(node, 'prometheus', key) or '?'}: prometheus.{key}"

    rate = prom_raw.get("rate_interval") or DEFAULT_RATE
    in_range(rate, at("rate_interval"), RATE_RANGE)
    step = prom_raw.get("step")
    step_seconds = None
    if step is not None:
        step_seconds = in_range(step, at("step"), STEP_RANGE)
    prometheus = load_backend(prom_raw if prom_raw else None, name="prometheus", env=env,
                              url_override=prometheus_url, base=base, source=source, node=node)
    alertmanager = load_backend(raw.get("alertmanager"), name="alertmanager", env=env,
                                url_override=alertmanager_url, base=base, source=source, node=node)
    if alertmanager is not None and prometheus is not None and prometheus.headers and not alertmanager.headers:
        # Each backend has its own headers, as its own credentials: a tenant set for Prometheus is
        # never sent to another server unasked; a refusal says where to set it.
        names = ", ".join(sorted({k for k, _ in prometheus.headers}))
        alertmanager = replace(alertmanager, auth_hint=f"prometheus.headers ({names}) are not sent to Alertmanager: "
                                                       "set alertmanager.headers or alertmanager.headers_env")
    return Settings(
        config_path=path,
        prometheus=prometheus,
        alertmanager=alertmanager,
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
