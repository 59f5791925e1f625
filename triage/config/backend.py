"""How triage reaches a Prometheus or an Alertmanager: URL, credentials, TLS, timeouts, caps.

Credentials come from files or the environment only (`triage.secrets` wraps and registers
them); flags and environment beat the file, as everywhere in the config.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from triage.config.values import DEADLINE_RANGE, in_range, parse_size, shown, to_seconds
from triage.errors import ConfigError, UsageError
from triage.secrets import (
    Secret,
    display_url,
    read_secret_file,
    register_basic_auth,
    register_url_credentials,
)
from triage.yamlschema import AnyMapOf, Field, OneOf, line_of

DEFAULT_TIMEOUT = 10.0
# A command's overall deadline against one backend, when prometheus.deadline is not given: this
# many request timeouts (300 s at the default 10 s).
DEADLINE_TIMEOUTS = 30
# The largest decoded answer read from Prometheus or Alertmanager. The biggest answer of the
# stress bench (bench/stress.py: 10,000 services, one fleet query a request) is 32 MB: 8x room.
DEFAULT_MAX_RESPONSE_BYTES = 256 * 1024 * 1024
MAX_TIMEOUT = 600.0


@dataclass(frozen=True)
class BackendSettings:
    """One backend (Prometheus, Alertmanager) as the config, environment and flags set it."""

    url: str
    bearer_token: Secret | None = None
    username: str | None = None
    password: Secret | None = None
    ca_file: str | None = None
    insecure_skip_verify: bool = False
    timeout: float = DEFAULT_TIMEOUT
    deadline: float | None = None
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    # Sent with every request: a tenant (`X-Scope-OrgID` for Mimir, Cortex, Loki), a proxy's
    # routing header; values from `headers_env` are secrets (redacted wherever they could show).
    headers: tuple[tuple[str, str | Secret], ...] = ()
    # Added to every query: Thanos' `dedup`, `partial_response`, `max_source_resolution`; a
    # VictoriaMetrics cluster's `extra_label`.
    query_params: tuple[tuple[str, str], ...] = ()
    # Said after a 401/403 of this backend: a setting that may be missing (not a secret).
    auth_hint: str = ""

    @property
    def display_url(self) -> str:
        return display_url(self.url)

    @property
    def run_deadline(self) -> float:
        """Seconds a whole command may spend on this backend: the configured deadline, else
        DEADLINE_TIMEOUTS request timeouts."""
        return self.deadline if self.deadline is not None else DEADLINE_TIMEOUTS * self.timeout


AUTH_SCHEMA = {
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
    "headers": Field(AnyMapOf(OneOf(str, int))),
    "headers_env": Field(AnyMapOf(str)),
    "query_params": Field(AnyMapOf(OneOf(str, int, bool))),
}
# Set by triage itself (or by `bearer_token_*` / `basic_auth`): a header of these names is refused.
OWN_HEADERS = ("authorization", "user-agent", "accept-encoding", "content-length", "host")
HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
OWN_PARAMS = ("query", "start", "end", "step", "time", "timeout")


def _timeout(value: Any, where: str) -> float:
    if value is None:
        return DEFAULT_TIMEOUT
    seconds = to_seconds(value, where)
    if not 0 < seconds <= MAX_TIMEOUT:
        raise ConfigError(f"{where}: timeout must be between 0 and {MAX_TIMEOUT:g} seconds, not {shown(value)}")
    return seconds


def _bearer_token(raw: Mapping[str, Any], *, name: str, env: Mapping[str, str], base: Path,
                  source: str) -> Secret | None:
    token: Secret | None = None
    if raw.get("bearer_token_file"):
        token = read_secret_file(raw["bearer_token_file"], base, f"{source}: {name}.bearer_token_file")
    token_env = raw.get("bearer_token_env") or f"TRIAGE_{name.upper()}_BEARER_TOKEN"
    if env.get(token_env):
        token = Secret(env[token_env])
    elif raw.get("bearer_token_env"):
        raise ConfigError(f"{source}: {name}.bearer_token_env names ${token_env}, which is not set")
    return token


def _basic_auth(raw: Mapping[str, Any], *, name: str, env: Mapping[str, str], base: Path,
                source: str) -> tuple[str | None, Secret | None]:
    auth = raw.get("basic_auth")
    if not auth:
        return None, None
    password = None
    if auth.get("password_file"):
        password = read_secret_file(auth["password_file"], base, f"{source}: {name}.basic_auth.password_file")
    password_env = auth.get("password_env") or f"TRIAGE_{name.upper()}_PASSWORD"
    if env.get(password_env):
        password = Secret(env[password_env])
    if password is None:
        raise ConfigError(
            f"{source}: {name}.basic_auth needs password_file, or the password in ${password_env}"
        )
    return auth["username"], password


def _ca_file(raw: Mapping[str, Any], *, name: str, base: Path, source: str) -> str | None:
    ca_file = raw.get("ca_file")
    if ca_file:
        ca_path = Path(ca_file).expanduser()
        if not ca_path.is_absolute():
            ca_path = base / ca_path
        if not ca_path.is_file():
            raise ConfigError(f"{source}: {name}.ca_file {ca_path} not found")
        ca_file = str(ca_path)
    return ca_file


def _headers(raw: Mapping[str, Any], *, name: str, env: Mapping[str, str],
             at: Any) -> tuple[tuple[str, str | Secret], ...]:
    """`headers` as written (a tenant name is not a secret), `headers_env` as secrets."""
    out: dict[str, str | Secret] = {}
    plain = raw.get("headers") or {}
    from_env = raw.get("headers_env") or {}
    for key in (*plain, *from_env):
        if not HEADER_NAME.match(str(key)):
            raise ConfigError(f"{at('headers')}: {key!r} is not an HTTP header name")
        if str(key).lower() in OWN_HEADERS:
            raise ConfigError(f"{at('headers')}: {key} is set by triage itself (use bearer_token_* or basic_auth "
                              "for credentials)")
    for key, value in plain.items():
        text = str(value)
        if "\n" in text or "\r" in text:
            raise ConfigError(f"{at('headers')}: {key}'s value has a line break")
        out[str(key)] = text
    for key, var in from_env.items():
        if not env.get(var):
            raise ConfigError(f"{at('headers_env')}: {key} names ${var}, which is not set")
        out[str(key)] = Secret(env[var])
    return tuple(out.items())


def _query_params(raw: Mapping[str, Any], at: Any) -> tuple[tuple[str, str], ...]:
    out = []
    for key, value in (raw.get("query_params") or {}).items():
        if str(key) in OWN_PARAMS:
            raise ConfigError(f"{at('query_params')}: {key} is set by triage itself for each query")
        out.append((str(key), str(value).lower() if isinstance(value, bool) else str(value)))
    return tuple(out)


def load_backend(raw: Mapping[str, Any] | None, *, name: str, env: Mapping[str, str], url_override: str | None,
                  base: Path, source: str, node: Any = None) -> BackendSettings | None:
    upper = name.upper()
    url = url_override or env.get(f"TRIAGE_{upper}_URL") or (raw or {}).get("url")
    if not url:
        return None
    check_url(url, f"{name} url")
    raw = raw or {}
    token = _bearer_token(raw, name=name, env=env, base=base, source=source)
    username, password = _basic_auth(raw, name=name, env=env, base=base, source=source)
    if username is not None and password is not None:
        register_basic_auth(username, password.reveal())
    register_url_credentials(url)
    if token and username:
        raise ConfigError(f"{source}: {name}: use either a bearer token or basic_auth, not both")
    ca_file = _ca_file(raw, name=name, base=base, source=source)

    def at(key: str) -> str:
        return f"{source}:{line_of(node, name, key) or '?'}: {name}.{key}"

    timeout_env = env.get(f"TRIAGE_{upper}_TIMEOUT")
    timeout = _timeout(timeout_env, f"TRIAGE_{upper}_TIMEOUT") if timeout_env else \
        _timeout(raw.get("timeout"), at("timeout"))
    deadline = None
    if raw.get("deadline") is not None:
        deadline = in_range(raw["deadline"], at("deadline"), DEADLINE_RANGE)
    max_bytes = DEFAULT_MAX_RESPONSE_BYTES
    if raw.get("max_response_bytes") is not None:
        max_bytes = parse_size(raw["max_response_bytes"], at("max_response_bytes"))
    headers = _headers(raw, name=name, env=env, at=at)
    return BackendSettings(
        url=url.rstrip("/"),
        headers=headers,
        query_params=_query_params(raw, at),
        bearer_token=token,
        username=username,
        password=password,
        ca_file=ca_file,
        insecure_skip_verify=bool(raw.get("insecure_skip_verify", False)),
        timeout=timeout,
        deadline=deadline,
        max_response_bytes=max_bytes,
    )


def check_url(url: str, what: str) -> None:
    try:
        parts = urlsplit(url)
    except ValueError:
        raise UsageError(f"{what}: {display_url(url)!r} is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{what}: {display_url(url)!r} is not an http(s) URL")
    try:
        _ = parts.port  # read only for its ValueError: urlsplit checks the port when it is asked for
    except ValueError:
        raise UsageError(f"{what}: {display_url(url)!r} has an invalid port") from None
