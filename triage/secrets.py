"""What must never be printed, and the scrubbing of every message meant for humans.

A credential is wrapped in `Secret` where it is read (config files, the environment, a
kubeconfig, an exec plugin's answer) and registered here; `redact` then removes it, and any
URL userinfo, from whatever text reaches stderr, a JSON document or the incident record.
Keeping the one registry here means a new source only has to register what it reads.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from triage.errors import ConfigError

_SECRETS: set[str] = set()


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


def read_secret_file(path: str, base: Path, what: str) -> Secret:
    """A credential kept in a file (`bearer_token_file`, `password_file`; relative to `base`, the
    config's directory), wrapped as it is read so no unregistered copy is ever held."""
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


def register_secret(value: str) -> None:
    # Shorter strings would scrub ordinary words out of every message.
    if value and len(value) >= 4:
        _SECRETS.add(value)


def register_basic_auth(username: str, password: str) -> None:
    """An error body that echoes the request's Authorization header must not leak it either."""
    register_secret(base64.b64encode(f"{username}:{password}".encode()).decode())


def register_url_credentials(url: str) -> None:
    """A password written into a URL (`https://user:pw@host`), and the header it becomes."""
    parts = urlsplit(url)
    if parts.password:
        register_secret(parts.password)
        register_basic_auth(parts.username or "", parts.password)


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
