"""FakeKubeAPI: a local Kubernetes API server (stdlib `http.server`, threaded) serving the
REST paths `triage health` and `kubectl get` read, from manifests.

It is not a mock of the client: it speaks the wire protocol, so the real `kubernetes`
Python client and the real `kubectl` both talk to it. It serves discovery (`/api`,
`/apis`, the resource lists), `/version`, lists (namespaced and cluster-wide) with
`limit`/`continue` pagination, `labelSelector` and a few `fieldSelector`s, single objects,
server-side printing (`Accept: ...;as=Table`, what `kubectl get` asks for), pod logs with
`container`/`previous`/`tailLines`/`limitBytes`, and bearer-token RBAC answering 401 and
403 with real `Status` bodies. Optionally TLS, for the in-cluster config path.
"""

from __future__ import annotations

import base64
import json
import re
import ssl
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterable, Mapping
from urllib.parse import parse_qs, urlsplit

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


# ---- label and field selectors ----------------------------------------------------------


def _split_terms(selector: str) -> list[str]:
    terms, depth, cur = [], 0, ""
    for ch in selector:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            terms.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        terms.append(cur.strip())
    return terms


def parse_label_selector(selector: str):
    """The selector grammar of the API server: =, ==, !=, in, notin, exists, !exists."""
    checks = []
    for term in _split_terms(selector):
        m = re.fullmatch(r"([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)", term)
        if m:
            key, op, values = m.group(1), m.group(2), {v.strip() for v in m.group(3).split(",") if v.strip()}
            if op == "in":
                checks.append(lambda labels, k=key, vs=values: labels.get(k) in vs)
            else:
                checks.append(lambda labels, k=key, vs=values: labels.get(k) not in vs)
            continue
        m = re.fullmatch(r"([\w./-]+)\s*(==|=|!=)\s*([\w.-]*)", term)
        if m:
            key, op, value = m.groups()
            if op == "!=":
                checks.append(lambda labels, k=key, v=value: labels.get(k) != v)
            else:
                checks.append(lambda labels, k=key, v=value: labels.get(k) == v)
            continue
        m = re.fullmatch(r"(!?)([\w./-]+)", term)
        if m:
            neg, key = m.groups()
            checks.append((lambda labels, k=key: k not in labels) if neg else (lambda labels, k=key: k in labels))
            continue
        raise ValueError(f"unable to parse requirement: {term!r}")
    return lambda labels: all(c(labels) for c in checks)


def _field(obj: dict, dotted: str) -> str:
    cur: Any = obj
    for part in dotted.split("."):
        if not isinstance(cur, dict):
            return ""
        cur = cur.get(part)
    return "" if cur is None else str(cur)


def parse_field_selector(selector: str):
    checks = []
    for term in _split_terms(selector):
        m = re.fullmatch(r"([\w.]+)\s*(==|=|!=)\s*(.*)", term)
        if not m:
            raise ValueError(f"invalid field selector: {term!r}")
        key, op, value = m.groups()
        if op == "!=":
            checks.append(lambda o, k=key, v=value: _field(o, k) != v)
        else:
            checks.append(lambda o, k=key, v=value: _field(o, k) == v)
    return lambda obj: all(c(obj) for c in checks)


# ---- the store --------------------------------------------------------------------------


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


class FakeKubeAPI:
    """A threaded local API server. `tokens` maps a bearer token to the rules it is granted:
    a set of (verb, resource, namespace) where namespace `*` is every namespace and
    cluster scope. With `tokens=None` every request is allowed (no authentication)."""

    def __init__(self, objects: Iterable[dict] = (), *, logs: Mapping[tuple[str, str, str, bool], str] | None = None,
                 tokens: Mapping[str, set[tuple[str, str, str]]] | None = None,
                 users: Mapping[str, str] | None = None, tls: tuple[str, str] | None = None,
                 delay: float = 0.0, log_delay: float = 0.0) -> None:
        self.logs = dict(logs or {})
        self.log_delay = log_delay
        self.logs_in_flight = 0
        self.max_logs_in_flight = 0
        self.tokens = tokens
        self.users = dict(users or {})
        self.delay = delay
        self.resource_version = 1000
        self.requests: list[tuple[str, dict[str, list[str]], dict[str, str]]] = []
        self._lock = threading.Lock()
        self.store: dict[str, list[Stored]] = {r.plural: [] for r in RESOURCES}
        for obj in objects:
            self.add(obj)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                fake._handle(self)

            def do_POST(self) -> None:
                fake._send(self, 405, status_body(405, "MethodNotAllowed", "this fake only reads"))

            do_PUT = do_PATCH = do_DELETE = do_POST

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        scheme = "http"
        if tls is not None:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(tls[0], tls[1])
            self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
            scheme = "https"
        self.port = self.server.server_address[1]
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, name="fake-kube-api", daemon=True)

    # ---- lifecycle ----
    def start(self) -> "FakeKubeAPI":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> "FakeKubeAPI":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- content ----
    def add(self, obj: dict) -> None:
        res = BY_KIND.get(obj.get("kind", ""))
        if res is None:
            raise ValueError(f"the fake does not serve kind {obj.get('kind')!r}")
        meta = obj.setdefault("metadata", {})
        self.resource_version += 1
        meta.setdefault("resourceVersion", str(self.resource_version))
        meta.setdefault("uid", f"00000000-0000-4000-8000-{self.resource_version:012d}")
        meta.setdefault("creationTimestamp", rfc3339(time.time() - 3600))
        obj.setdefault("apiVersion", res.group_version)
        ns = meta.get("namespace", "") if res.namespaced else ""
        if res.namespaced and not ns:
            meta["namespace"] = ns = "default"
        self.store[res.plural].append(Stored(ns, meta["name"], dict(meta.get("labels") or {}), obj,
                                             json.dumps(obj, separators=(",", ":")).encode()))
        if res.namespaced and not any(s.name == ns for s in self.store["namespaces"]):
            self.add({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns},
                      "status": {"phase": "Active"}})

    def count(self, path_prefix: str) -> int:
        with self._lock:
            return sum(1 for p, _, _ in self.requests if p.startswith(path_prefix))

    def paths(self) -> list[str]:
        with self._lock:
            return [p for p, _, _ in self.requests]

    def reset_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    # ---- HTTP ----
    def _send(self, h: BaseHTTPRequestHandler, code: int, body: Any, ctype: str = "application/json") -> None:
        if isinstance(body, (dict, list)):
            data = json.dumps(body).encode()
        elif isinstance(body, str):
            data = body.encode()
        else:
            data = body
        h.send_response(code)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(data)))
        h.send_header("Cache-Control", "no-cache, private")
        h.end_headers()
        try:
            h.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _user(self, h: BaseHTTPRequestHandler) -> tuple[str | None, set | None]:
        auth = h.headers.get("Authorization", "")
        scheme, _, token_text = auth.partition(" ")
        token = token_text.strip() if scheme.lower() == "bearer" and token_text.strip() else None
        if self.tokens is None:
            return "system:anonymous", None
        if token is None or token not in self.tokens:
            return None, None
        return self.users.get(token, "system:serviceaccount:ops:triage"), self.tokens[token]

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        with self._lock:
            self.requests.append((parts.path, query, dict(h.headers)))
        if self.delay:
            time.sleep(self.delay)
        user, rules = self._user(h)
        if user is None:
            self._send(h, 401, status_body(401, "Unauthorized", "Unauthorized"))
            return
        path = parts.path.rstrip("/") or "/"
        try:
            self._route(h, path, query, user, rules)
        except Forbidden as exc:
            verb, res, ns = exc.args
            where = f' in the namespace "{ns}"' if ns else " at the cluster scope"
            group = BY_PATH.get(res, None)
            plural = res[2] if isinstance(res, tuple) else res
            self._send(h, 403, status_body(
                403, "Forbidden",
                f'{plural} is forbidden: User "{user}" cannot {verb} resource "{plural}" in API group '
                f'"{group.group if group else ""}"{where}', {"kind": plural}))
        except ValueError as exc:
            self._send(h, 400, status_body(400, "BadRequest", str(exc)))

    def _allowed(self, rules: set | None, verb: str, plural: str, ns: str | None) -> bool:
        if rules is None:
            return True
        return any(v in (verb, "*") and r in (plural, "*") and (n == "*" or (ns is not None and n == ns))
                   for v, r, n in rules)

    def _route(self, h: BaseHTTPRequestHandler, path: str, query: dict, user: str, rules: set | None) -> None:
        if path == "/version":
            self._send(h, 200, {"major": "1", "minor": "30", "gitVersion": "v1.30.4-triage-fake",
                                "gitCommit": "0" * 40, "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z",
                                "goVersion": "go1.22.5", "compiler": "gc", "platform": "linux/amd64"})
            return
        if path == "/api":
            self._send(h, 200, {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
                {"clientCIDR": "0.0.0.0/0", "serverAddress": f"127.0.0.1:{self.port}"}]})
            return
        if path == "/apis":
            groups = []
            for group in sorted({r.group for r in RESOURCES if r.group}):
                versions = sorted({r.version for r in RESOURCES if r.group == group})
                gvs = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
                groups.append({"name": group, "versions": gvs, "preferredVersion": gvs[0]})
            self._send(h, 200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
            return
        m = re.fullmatch(r"/api/(v1)(/.*)?", path) or re.fullmatch(r"/apis/([\w.-]+/[\w]+)(/.*)?", path)
        if m is None:
            self._send(h, 404, status_body(404, "NotFound", "the server could not find the requested resource"))
            return
        gv, rest = m.group(1), (m.group(2) or "")
        group, version = (gv.split("/") if "/" in gv else ("", gv))
        if not rest:
            self._discovery(h, group, version)
            return
        segs = rest.strip("/").split("/")
        ns = None
        if segs[0] == "namespaces" and len(segs) >= 3:
            ns, segs = segs[1], segs[2:]
        res = BY_PATH.get((group, version, segs[0]))
        if res is None or (ns is not None and not res.namespaced):
            self._send(h, 404, status_body(404, "NotFound", "the server could not find the requested resource"))
            return
        if len(segs) == 1:
            if not self._allowed(rules, "list", res.plural, ns if res.namespaced else None):
                raise Forbidden("list", (res.group, res.version, res.plural), ns)
            self._list(h, res, ns, query)
            return
        name = segs[1]
        sub = segs[2] if len(segs) > 2 else None
        if sub is None:
            if not self._allowed(rules, "get", res.plural, ns):
                raise Forbidden("get", (res.group, res.version, res.plural), ns)
            self._get(h, res, ns, name, query)
            return
        if res.plural == "pods" and sub == "log":
            if not self._allowed(rules, "get", "pods/log", ns):
                raise Forbidden("get", ("", "v1", "pods/log"), ns)
            with self._lock:
                self.logs_in_flight += 1
                self.max_logs_in_flight = max(self.max_logs_in_flight, self.logs_in_flight)
            try:
                time.sleep(self.log_delay)
                self._log(h, ns or "default", name, query)
            finally:
                with self._lock:
                    self.logs_in_flight -= 1
            return
        self._send(h, 404, status_body(404, "NotFound", "the server could not find the requested resource"))

    def _discovery(self, h: BaseHTTPRequestHandler, group: str, version: str) -> None:
        served = [r for r in RESOURCES if r.group == group and r.version == version]
        if not served:
            self._send(h, 404, status_body(404, "NotFound", "the server could not find the requested resource"))
            return
        items = []
        for r in served:
            items.append({"name": r.plural, "singularName": r.singular, "namespaced": r.namespaced, "kind": r.kind,
                          "verbs": ["get", "list"], "shortNames": list(r.short),
                          **({"categories": ["all"]} if r.plural in ("pods", "deployments",
                                                                     "horizontalpodautoscalers") else {})})
            if r.plural == "pods":
                items.append({"name": "pods/log", "singularName": "", "namespaced": True, "kind": "Pod",
                              "verbs": ["get"]})
        self._send(h, 200, {"kind": "APIResourceList", "apiVersion": "v1",
                            "groupVersion": f"{group}/{version}" if group else version, "resources": items})

    def _selected(self, res: Resource, ns: str | None, query: dict) -> list[Stored]:
        items = self.store[res.plural]
        if ns is not None:
            items = [s for s in items if s.namespace == ns]
        label = (query.get("labelSelector") or [""])[0]
        if label:
            match = parse_label_selector(label)
            items = [s for s in items if match(s.labels)]
        field = (query.get("fieldSelector") or [""])[0]
        if field:
            fmatch = parse_field_selector(field)
            items = [s for s in items if fmatch(s.obj)]
        return sorted(items, key=lambda s: (s.namespace, s.name))

    def _list(self, h: BaseHTTPRequestHandler, res: Resource, ns: str | None, query: dict) -> None:
        items = self._selected(res, ns, query)
        limit = int((query.get("limit") or ["0"])[0] or 0)
        start = 0
        token = (query.get("continue") or [""])[0]
        if token:
            try:
                start = int(json.loads(base64.urlsafe_b64decode(token.encode()))["start"])
            except (ValueError, KeyError, TypeError):
                self._send(h, 400, status_body(400, "BadRequest", "continue key is not valid"))
                return
        end = len(items) if limit <= 0 else min(len(items), start + limit)
        page = items[start:end]
        meta: dict[str, Any] = {"resourceVersion": str(self.resource_version)}
        if end < len(items):
            meta["continue"] = base64.urlsafe_b64encode(json.dumps({"start": end, "rv": self.resource_version})
                                                        .encode()).decode()
            meta["remainingItemCount"] = len(items) - end
        accept = h.headers.get("Accept", "")
        if "as=Table" in accept:
            include = (query.get("includeObject") or ["Metadata"])[0]
            self._send(h, 200, self._table(res, page, meta, include))
            return
        head = json.dumps({"kind": f"{res.kind}List", "apiVersion": res.group_version, "metadata": meta},
                          separators=(",", ":")).encode()
        body = head[:-1] + b',"items":[' + b",".join(s.raw for s in page) + b"]}"
        self._send(h, 200, body)

    def _get(self, h: BaseHTTPRequestHandler, res: Resource, ns: str | None, name: str, query: dict) -> None:
        found = next((s for s in self.store[res.plural] if s.name == name and (ns is None or s.namespace == ns)), None)
        if found is None:
            self._send(h, 404, status_body(404, "NotFound", f'{res.plural} "{name}" not found',
                                           {"name": name, "kind": res.plural}))
            return
        if "as=Table" in h.headers.get("Accept", ""):
            self._send(h, 200, self._table(res, [found], {"resourceVersion": str(self.resource_version)},
                                           (query.get("includeObject") or ["Metadata"])[0]))
            return
        self._send(h, 200, found.raw)

    def _log(self, h: BaseHTTPRequestHandler, ns: str, pod: str, query: dict) -> None:
        stored = next((s for s in self.store["pods"] if s.namespace == ns and s.name == pod), None)
        if stored is None:
            self._send(h, 404, status_body(404, "NotFound", f'pods "{pod}" not found', {"name": pod, "kind": "pods"}))
            return
        names = [c["name"] for c in (stored.obj.get("spec") or {}).get("containers") or ()]
        container = (query.get("container") or [""])[0]
        if not container:
            if len(names) != 1:
                self._send(h, 400, status_body(400, "BadRequest", f"a container name must be specified for pod "
                                               f"{pod}, choose one of: {names}"))
                return
            container = names[0]
        previous = (query.get("previous") or ["false"])[0].lower() == "true"
        text = self.logs.get((ns, pod, container, previous))
        if text is None:
            if previous:
                self._send(h, 400, status_body(400, "BadRequest", f'previous terminated container "{container}" in '
                                               f'pod "{pod}" not found'))
                return
            text = ""
        lines = text.splitlines(keepends=True)
        tail = (query.get("tailLines") or [""])[0]
        if tail:
            lines = lines[-int(tail):] if int(tail) > 0 else []
        data = "".join(lines).encode()
        limit = (query.get("limitBytes") or [""])[0]
        if limit:
            data = data[: int(limit)]
        self._send(h, 200, data, "text/plain")

    # ---- server-side printing (what `kubectl get` shows) ----
    def _table(self, res: Resource, page: list[Stored], meta: dict, include: str) -> dict:
        columns, cells = _PRINTERS.get(res.plural, _PRINT_DEFAULT)
        rows = []
        for s in page:
            obj = s.obj if include == "Object" else {
                "kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": s.obj["metadata"]}
            rows.append({"cells": cells(s.obj), "object": obj})
        return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": meta,
                "columnDefinitions": [{"name": n, "type": t, "format": "name" if n == "Name" else "",
                                       "description": n, "priority": 0} for n, t in columns],
                "rows": rows}


def _age(obj: dict) -> str:
    created = (obj.get("metadata") or {}).get("creationTimestamp")
    if not created:
        return "<unknown>"
    secs = max(0, int(time.time() - datetime.fromisoformat(created.replace("Z", "+00:00")).timestamp()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if secs >= size:
            return f"{secs // size}{unit}"
    return f"{secs}s"


def _pod_cells(o: dict) -> list:
    st = o.get("status") or {}
    cs = st.get("containerStatuses") or []
    ready = sum(1 for c in cs if c.get("ready"))
    total = len((o.get("spec") or {}).get("containers") or cs)
    reason = st.get("reason") or st.get("phase") or "Unknown"
    for c in cs:
        waiting = (c.get("state") or {}).get("waiting")
        if waiting and waiting.get("reason"):
            reason = waiting["reason"]
    restarts = sum(int(c.get("restartCount") or 0) for c in cs)
    return [o["metadata"]["name"], f"{ready}/{total}", reason, restarts, _age(o)]


def _hpa_cells(o: dict) -> list:
    spec, st = o.get("spec") or {}, o.get("status") or {}
    ref = spec.get("scaleTargetRef") or {}
    targets = []
    current = {((m.get("resource") or {}).get("name")): (m.get("resource") or {}).get("current", {})
               for m in st.get("currentMetrics") or []}
    for m in spec.get("metrics") or []:
        r = m.get("resource") or {}
        want = (r.get("target") or {}).get("averageUtilization")
        have = (current.get(r.get("name")) or {}).get("averageUtilization")
        targets.append(f"{r.get('name', 'metric')}: {'<unknown>' if have is None else f'{have}%'}/{want}%")
    return [o["metadata"]["name"], f"{ref.get('kind')}/{ref.get('name')}", ", ".join(targets) or "<none>",
            spec.get("minReplicas", 1), spec.get("maxReplicas"), st.get("currentReplicas", 0), _age(o)]


def _deploy_cells(o: dict) -> list:
    spec, st = o.get("spec") or {}, o.get("status") or {}
    return [o["metadata"]["name"], f"{st.get('readyReplicas', 0)}/{spec.get('replicas', 1)}",
            st.get("updatedReplicas", 0), st.get("availableReplicas", 0), _age(o)]


def _node_cells(o: dict) -> list:
    conds = {c["type"]: c["status"] for c in (o.get("status") or {}).get("conditions") or []}
    status = "Ready" if conds.get("Ready") == "True" else "NotReady"
    return [o["metadata"]["name"], status, "<none>", _age(o), "v1.30.4"]


_PRINT_DEFAULT = ([("Name", "string"), ("Age", "string")], lambda o: [o["metadata"]["name"], _age(o)])
_PRINTERS = {
    "pods": ([("Name", "string"), ("Ready", "string"), ("Status", "string"), ("Restarts", "string"),
              ("Age", "string")], _pod_cells),
    "horizontalpodautoscalers": ([("Name", "string"), ("Reference", "string"), ("Targets", "string"),
                                  ("MinPods", "string"), ("MaxPods", "string"), ("Replicas", "string"),
                                  ("Age", "string")], _hpa_cells),
    "deployments": ([("Name", "string"), ("Ready", "string"), ("Up-to-date", "string"), ("Available", "string"),
                     ("Age", "string")], _deploy_cells),
    "nodes": ([("Name", "string"), ("Status", "string"), ("Roles", "string"), ("Age", "string"),
               ("Version", "string")], _node_cells),
}


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
