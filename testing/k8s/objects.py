"""What the fake API server serves, as data: the resource kinds, manifests read from YAML
(with `${ago:5m}` times made current), pod logs from files, `Status` bodies and kubeconfigs."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

MANIFESTS = Path(__file__).parent / "manifests"


@dataclass(frozen=True)
class Resource:
    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    short: tuple[str, ...] = ()
    singular: str = ""

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


RESOURCES = (
    Resource("", "v1", "pods", "Pod", True, ("po",), "pod"),
    Resource("", "v1", "events", "Event", True, ("ev",), "event"),
    Resource("", "v1", "nodes", "Node", False, ("no",), "node"),
    Resource("", "v1", "namespaces", "Namespace", False, ("ns",), "namespace"),
    Resource("apps", "v1", "deployments", "Deployment", True, ("deploy",), "deployment"),
    Resource("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", True, ("hpa",),
             "horizontalpodautoscaler"),
)
BY_KIND = {r.kind: r for r in RESOURCES}
BY_PATH = {(r.group, r.version, r.plural): r for r in RESOURCES}

_AGO = re.compile(r"\$\{ago:(\d+)([smhd])\}")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def rfc3339(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def render_times(text: str, now: float) -> str:
    """`${ago:5m}` → the RFC 3339 time five minutes before `now` (manifests stay realistic and current)."""
    return _AGO.sub(lambda m: rfc3339(now - int(m.group(1)) * _UNIT[m.group(2)]), text)


class _Loader(yaml.SafeLoader):
    """YAML as the API server sees it: timestamps stay strings (RFC 3339 on the wire)."""


_Loader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_manifests(paths: Iterable[Path] | None = None, *, now: float | None = None) -> list[dict]:
    now = time.time() if now is None else now
    out: list[dict] = []
    for path in paths or sorted(MANIFESTS.glob("*.yaml")):
        for doc in yaml.load_all(render_times(Path(path).read_text(), now), Loader=_Loader):
            if not doc:
                continue
            if doc.get("kind") == "List":
                out.extend(doc.get("items") or [])
            else:
                out.append(doc)
    return out


def load_logs(root: Path | None = None) -> dict[tuple[str, str, str, bool], str]:
    """logs/<ns>/<pod>/<container>.log and <container>.previous.log."""
    root = root or MANIFESTS / "logs"
    out = {}
    for file in root.glob("*/*/*.log"):
        ns, pod = file.parent.parent.name, file.parent.name
        name = file.name[: -len(".log")]
        previous = name.endswith(".previous")
        container = name[: -len(".previous")] if previous else name
        out[(ns, pod, container, previous)] = file.read_text()
    return out


@dataclass
class Stored:
    namespace: str
    name: str
    labels: Mapping[str, str]
    obj: dict
    raw: bytes


class Forbidden(Exception):
    pass


def status_body(code: int, reason: str, message: str, details: dict | None = None) -> dict:
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "code": code}
    if details:
        body["details"] = details
    return body


def kubeconfig(server: str, *, token: str | None = None, context: str = "fake", namespace: str | None = None,
               extra_contexts: Mapping[str, str] | None = None, ca_file: str | None = None) -> str:
    """A kubeconfig (YAML text) pointing at `server`; `extra_contexts` maps more context names to servers."""
    contexts = {context: server, **(extra_contexts or {})}
    cfg: dict[str, Any] = {"apiVersion": "v1", "kind": "Config", "current-context": context, "preferences": {},
                           "clusters": [], "contexts": [], "users": []}
    for name, url in contexts.items():
        cluster: dict[str, Any] = {"server": url}
        if ca_file:
            cluster["certificate-authority"] = ca_file
        cfg["clusters"].append({"name": name, "cluster": cluster})
        ctx: dict[str, Any] = {"cluster": name, "user": name}
        if namespace:
            ctx["namespace"] = namespace
        cfg["contexts"].append({"name": name, "context": ctx})
        cfg["users"].append({"name": name, "user": {"token": token} if token else {}})
    return yaml.safe_dump(cfg, sort_keys=False)
