"""The cluster's kubeconfig (or the pod's service account) read without the Kubernetes SDK (issue 17).

Importing `kubernetes.config` and `kubernetes.client.ApiClient` (oauthlib, dateutil, pydantic,
urllib3) costs 95-140 ms, most of what `health` spends beyond its floor. What nearly every
kubeconfig says (a server, its CA, a token, a client certificate, a user and password) is read
here with PyYAML, and the reads go over `http.client` + `ssl` (`triage.sources.plainhttp.Pool`).

`load()` answers None for anything it does not handle the way the SDK's loader would, and
`connect.connect` (the SDK) is used instead: exec credential plugins, auth-provider, a proxy
(proxy-url or in the environment), impersonation, a field not known here, a file that does not
parse, a context or cluster that is missing (the SDK's loader says what is wrong). The errors
said here are the ones `connect` says, word for word.
"""

from __future__ import annotations

import base64
import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from triage.errors import UsageError
from triage.secrets import redact, register_secret
from triage.sources.kubernetes.connect import NO_KUBECONFIG, KubeconfigError, kubeconfig_paths, kubeconfig_problem

_CONTEXT_KEYS = {"cluster", "user", "namespace", "extensions"}
_CLUSTER_KEYS = {"server", "certificate-authority", "certificate-authority-data", "insecure-skip-tls-verify",
                 "tls-server-name", "extensions"}
_USER_KEYS = {"token", "tokenFile", "client-certificate", "client-certificate-data", "client-key",
              "client-key-data", "username", "password", "extensions"}
_PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy")


class _FallBack(Exception):
    """Something the direct reading does not handle: the SDK's loader is used."""


@dataclass
class Direct:
    """Where the API server is, how to authenticate to it and how to trust it."""

    server: str                     # scheme://host:port[/path], no trailing slash
    namespace: str
    headers: dict[str, str] = field(default_factory=dict)
    context: ssl.SSLContext | None = None
    server_hostname: str | None = None

    @property
    def where(self) -> str:
        return f"the Kubernetes API at {redact(self.server)}"


def load(*, context: str | None, kubeconfig: str | None, env: Mapping[str, str],
         service_account_dir: str) -> Direct | None:
    """The connection `connect.connect` would make, or None where the SDK's loader must be used.
    Raises `UsageError` / `KubeconfigError` as `connect` does, for the cases decided here."""
    if any(key.lower() in _PROXY_VARS and value for key, value in env.items()):
        return None  # the client resolves proxies (and no_proxy) from the environment
    paths = kubeconfig_paths(kubeconfig, env)
    try:
        if paths is None and context is None and env.get("KUBERNETES_SERVICE_HOST"):
            return _in_cluster(env, Path(service_account_dir))
        if paths is None:
            raise KubeconfigError(NO_KUBECONFIG)
        problem = kubeconfig_problem(paths)
        if problem:
            raise KubeconfigError(problem)
        return _from_kubeconfig(paths, context)
    except _FallBack:
        return None


# ---- in a pod ----------------------------------------------------------------------------------

def _in_cluster(env: Mapping[str, str], sa_dir: Path) -> Direct:
    host, port = env.get("KUBERNETES_SERVICE_HOST") or "", env.get("KUBERNETES_SERVICE_PORT") or ""
    if not host or not port:
        raise _FallBack
    try:
        token = (sa_dir / "token").read_text()
        ca = sa_dir / "ca.crt"
        if not token or token != token.strip() or not ca.is_file() or not ca.read_text():
            raise _FallBack
    except (OSError, UnicodeDecodeError):
        raise _FallBack from None
    try:
        namespace = (sa_dir / "namespace").read_text().strip() or "default"
    except OSError:
        namespace = "default"
    netloc = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    out = Direct(server=f"https://{netloc}", namespace=namespace)
    out.headers["Authorization"] = _bearer(token)
    out.context = _tls(ca_file=str(ca), ca_data=None, insecure=False, cert=None, key=None)
    return out


# ---- a kubeconfig ------------------------------------------------------------------------------

@dataclass
class _Entry:
    body: dict[str, Any]
    base: str  # the directory of the file it came from: relative paths in it resolve there


def _from_kubeconfig(paths: str, context: str | None) -> Direct:
    merged, current = _merge(paths)
    contexts = merged["contexts"]
    name = current if context is None else context
    if name is None or name not in contexts:
        if context is not None and current is not None and current in contexts:
            names = ", ".join(sorted(contexts)) or "none"
            raise UsageError(f"--context {context}: no such context in {paths} (contexts: {names})")
        raise _FallBack  # no current-context, or one that names nothing: the SDK's loader says so
    ctx = contexts[name].body
    if set(ctx) - _CONTEXT_KEYS or not isinstance(ctx.get("cluster"), str) or ctx["cluster"] not in merged["clusters"]:
        raise _FallBack
    user_entry: _Entry | None = None
    if ctx.get("user") is not None:
        if not isinstance(ctx["user"], str) or ctx["user"] not in merged["users"]:
            raise _FallBack
        user_entry = merged["users"][ctx["user"]]
    namespace = ctx.get("namespace") or "default"
    if not isinstance(namespace, str):
        raise _FallBack
    return _connection(merged["clusters"][ctx["cluster"]], user_entry, namespace)


def _merge(paths: str) -> tuple[dict[str, dict[str, _Entry]], str | None]:
    """The files of a $KUBECONFIG list as kubectl merges them: each cluster, context and user from
    the first file that names it, current-context from the first file that sets one."""
    merged: dict[str, dict[str, _Entry]] = {"clusters": {}, "contexts": {}, "users": {}}
    current: str | None = None
    loaded = False
    for part in paths.split(os.pathsep):
        if not part:
            continue
        try:
            text = Path(part).read_text(encoding="utf-8")
        except FileNotFoundError:
            continue  # the SDK skips a missing file of a list
        except (OSError, UnicodeDecodeError):
            raise _FallBack from None
        doc = _yaml(text)
        if not isinstance(doc, dict):
            raise _FallBack
        loaded = True
        base = os.path.abspath(os.path.dirname(part))
        for key, kind in (("clusters", "cluster"), ("contexts", "context"), ("users", "user")):
            for name, body in _named(doc.get(key), kind):
                merged[key].setdefault(name, _Entry(body, base))
        if current is None and doc.get("current-context"):
            current = doc["current-context"]
    if not loaded or (current is not None and not isinstance(current, str)):
        raise _FallBack
    return merged, current


def _named(items: Any, kind: str) -> list[tuple[str, dict[str, Any]]]:
    if items is None:
        return []
    if not isinstance(items, list):
        raise _FallBack
    out = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not isinstance(item.get(kind), dict):
            raise _FallBack
        out.append((item["name"], item[kind]))
    return out


def _yaml(text: str) -> Any:
    import yaml

    try:
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        raise _FallBack from None


def _connection(cluster_entry: _Entry, user_entry: _Entry | None, namespace: str) -> Direct:
    cluster, user = cluster_entry.body, (user_entry.body if user_entry else {})
    if set(cluster) - _CLUSTER_KEYS or set(user) - _USER_KEYS:
        raise _FallBack  # exec, auth-provider, proxy-url, impersonation, anything not read here
    server = cluster.get("server")
    if not isinstance(server, str) or not server.startswith(("http://", "https://")):
        raise _FallBack
    out = Direct(server=server.rstrip("/"), namespace=namespace)
    ubase = user_entry.base if user_entry else cluster_entry.base
    token = _text(user, "token", "tokenFile", ubase)
    if token is not None:
        if not token or token != token.strip():
            raise _FallBack
        out.headers["Authorization"] = _bearer(token)
    elif "username" in user or "password" in user:
        username, password = user.get("username"), user.get("password")
        if not isinstance(username, str) or not isinstance(password, str):
            raise _FallBack
        register_secret(password)
        out.headers["Authorization"] = _basic(username, password)
    if not out.server.startswith("https"):
        return out  # the SDK reads no CA or client certificate for a plain-http server
    insecure = cluster.get("insecure-skip-tls-verify", False)
    server_name = cluster.get("tls-server-name")
    if not isinstance(insecure, bool) or (server_name is not None and not isinstance(server_name, str)):
        raise _FallBack
    ca_data = _b64(cluster, "certificate-authority-data")
    ca_file = None if ca_data is not None else _path(cluster, "certificate-authority", cluster_entry.base)
    cert = _pem(user, "client-certificate", ubase)
    key = _pem(user, "client-key", ubase)
    if (cert is None) != (key is None):
        raise _FallBack
    out.context = _tls(ca_file=ca_file, ca_data=ca_data, insecure=insecure, cert=cert, key=key)
    out.server_hostname = server_name or None
    return out


def _path(obj: Mapping[str, Any], key: str, base: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise _FallBack
    path = os.path.normpath(os.path.join(base, value))
    if not os.path.isfile(path):
        raise _FallBack  # the SDK's "File does not exist" message
    return path


def _b64(obj: Mapping[str, Any], key: str) -> bytes | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise _FallBack
    try:
        return base64.standard_b64decode(value.encode())
    except ValueError:
        raise _FallBack from None


def _text(obj: Mapping[str, Any], data_key: str, file_key: str, base: str) -> str | None:
    """`data_key`'s value, else the content of the file `file_key` names (the data wins, as in the SDK)."""
    if data_key in obj:
        value = obj[data_key]
        if not isinstance(value, str):
            raise _FallBack
        return value
    path = _path(obj, file_key, base)
    if path is None:
        return None
    try:
        return Path(path).read_text()
    except (OSError, UnicodeDecodeError):
        raise _FallBack from None


def _pem(obj: Mapping[str, Any], key: str, base: str) -> bytes | str | None:
    """A certificate or key: the decoded `key-data` (bytes) or the path `key` names (str)."""
    data = _b64(obj, f"{key}-data")
    return data if data is not None else _path(obj, key, base)


def _bearer(token: str) -> str:
    header = f"Bearer {token}"
    register_secret(header)
    register_secret(token)
    return header


def _basic(username: str, password: str) -> str:
    try:
        encoded = base64.b64encode(f"{username}:{password}".encode("latin-1")).decode()  # as urllib3 writes it
    except UnicodeEncodeError:
        raise _FallBack from None
    header = f"Basic {encoded}"
    register_secret(header)
    register_secret(encoded)
    return header


def _tls(*, ca_file: str | None, ca_data: bytes | None, insecure: bool, cert: bytes | str | None,
         key: bytes | str | None) -> ssl.SSLContext:
    """The context urllib3 would build from the SDK's Configuration: the CA given (else the system's),
    the hostname checked unless insecure, the client certificate and key."""
    if insecure:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    else:
        cadata = None
        if ca_data is not None:
            try:
                cadata = ca_data.decode("ascii")
            except UnicodeDecodeError:
                raise _FallBack from None
        try:
            context = ssl.create_default_context(cafile=ca_file, cadata=cadata)
        except (ssl.SSLError, OSError, ValueError):
            raise _FallBack from None  # the SDK's path says what is wrong with the CA
        # urllib3 2 (the SDK's transport) checks as Python 3.13's default context does: strictly
        # (RFC 5280), and a CA of the bundle may be an intermediate; so does this path.
        context.verify_flags |= ssl.VERIFY_X509_STRICT | ssl.VERIFY_X509_PARTIAL_CHAIN
    if cert is not None and key is not None:
        _load_pair(context, cert, key)
    return context


def _load_pair(context: ssl.SSLContext, cert: bytes | str, key: bytes | str) -> None:
    """ssl reads a client certificate and key only from files: data goes to a private temporary
    file (0600, in a 0700 directory) for as long as `load_cert_chain` reads it."""
    import tempfile  # only here (it imports random, bisect, _sha512): most kubeconfigs hold a token

    with tempfile.TemporaryDirectory(prefix="triage-kube-") as tmp:
        paths = []
        for name, value in (("client.crt", cert), ("client.key", key)):
            if isinstance(value, str):
                paths.append(value)
                continue
            path = os.path.join(tmp, name)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(value)
            paths.append(path)
        try:
            context.load_cert_chain(paths[0], paths[1])
        except (ssl.SSLError, OSError, ValueError):
            raise _FallBack from None


# ---- the requests ------------------------------------------------------------------------------

class DirectApiError(Exception):
    """The API server answered a status outside 2xx: what `_api_error` reads of an SDK
    `ApiException` (`status`, and `body` as the SDK decodes it: UTF-8 or None)."""

    def __init__(self, status: int, data: bytes) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.body: str | None
        try:
            self.body = data.decode("utf-8")
        except UnicodeDecodeError:
            self.body = None


class TLSError(ConnectionError):
    """The TLS handshake failed (`network_reason` words it from the `ssl` error it wraps)."""

    def __init__(self, cause: ssl.SSLError) -> None:
        super().__init__(f"SSLError({cause!r}) {cause}")


class DirectClient:
    """GETs to the API server over a keep-alive pool of `size` connections (thread-safe)."""

    def __init__(self, direct: Direct, size: int) -> None:
        from triage.sources.plainhttp import Pool

        self.direct = direct
        self.pool = Pool(direct.server, size, context=direct.context, server_hostname=direct.server_hostname)
        self.headers = {"User-Agent": "triage", **direct.headers}

    def get(self, path: str, query: list[tuple[str, Any]], *, accept: str, cap: int, error_cap: int,
            connect_timeout: float, read_timeout: float, deadline: float) -> bytes:
        """The body of a 2xx answer within `cap` decoded bytes and `deadline`; `DirectApiError` for
        another status (its body read within `error_cap`); OSError / TransportError on the wire."""
        from triage.sources.bounded import read_bounded

        try:
            response = self.pool.get(path, dict(query), {**self.headers, "Accept": accept}, connect_timeout,
                                     read_timeout)
        except ssl.SSLError as exc:  # SSLCertVerificationError is a ValueError too: not "not JSON"
            raise TLSError(exc) from exc
        try:
            if not 200 <= response.status_code <= 299:
                raise DirectApiError(response.status_code,
                                     read_bounded(response, cap=error_cap, deadline=deadline, truncate=True))
            return read_bounded(response, cap=cap, deadline=deadline)
        finally:
            response.close()  # back to the pool only when read to its end

    def close(self) -> None:
        self.pool.close()
