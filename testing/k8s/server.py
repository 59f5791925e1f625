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
import threading
import time
from collections.abc import Iterable, Mapping
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from testing.k8s.objects import BY_KIND, BY_PATH, RESOURCES, Forbidden, Resource, Stored, rfc3339, status_body
from testing.k8s.printing import table
from testing.k8s.selectors import parse_field_selector, parse_label_selector
from testing.servers.base import LocalServer


class FakeKubeAPI(LocalServer):
    """A threaded local API server. `tokens` maps a bearer token to the rules it is granted:
    a set of (verb, resource, namespace) where namespace `*` is every namespace and
    cluster scope. With `tokens=None` every request is allowed (no authentication)."""

    methods = ("GET", "POST", "PUT", "PATCH", "DELETE")
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    thread_name = "fake-kube-api"

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
        super().__init__(tls=tls)

    def dispatch(self, h: BaseHTTPRequestHandler, method: str) -> None:
        if method == "GET":
            self._handle(h)
        else:
            self._send(h, 405, status_body(405, "MethodNotAllowed", "this fake only reads"))

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
            self._send(h, 200, table(res, page, meta, include))
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
            self._send(h, 200, table(res, [found], {"resourceVersion": str(self.resource_version)},
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
