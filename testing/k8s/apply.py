"""FakeKubeApply: a local Kubernetes API server (stdlib `http.server`) for what `--apply` writes.

It speaks the wire protocol, so the real `kubernetes` client talks to it through a real
kubeconfig: GET a Deployment and its `scale` subresource, PATCH the scale
(merge/strategic-merge/JSON patch) and PATCH the Deployment (strategic merge, what
`kubectl rollout restart` sends). Every request is kept with its method, path, content type
and body, so a test asserts on what arrived, not on which client method was called. A bearer
token is required; a wrong one gets a real 401 `Status`.
"""

from __future__ import annotations

import copy
import json
import re
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import yaml

from testing.servers.base import LocalServer

TOKEN = "fake-apply-token-5f1c"
_PATH = re.compile(r"^/apis/apps/v1/namespaces/(?P<ns>[^/]+)/deployments/(?P<name>[^/]+)(?P<scale>/scale)?$")


def deployment(name: str, namespace: str, replicas: int) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "generation": 1, "resourceVersion": "100",
                     "uid": f"00000000-0000-4000-8000-{abs(hash(name)) % 10**12:012d}",
                     "creationTimestamp": "2026-11-10T18:00:00Z", "labels": labels},
        "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels},
                              "spec": {"containers": [{"name": name, "image": f"registry.local/{name}:1.0"}]}}},
        "status": {"replicas": replicas, "availableReplicas": replicas, "readyReplicas": replicas,
                   "updatedReplicas": replicas, "observedGeneration": 1},
    }


def _status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "code": code}


def _merge(into: dict, patch: dict) -> None:
    for key, value in patch.items():
        if value is None:
            into.pop(key, None)
        elif isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = copy.deepcopy(value)


class FakeKubeApply(LocalServer):
    methods = ("GET", "PATCH", "POST", "PUT", "DELETE")
    protocol_version = "HTTP/1.1"
    thread_name = "fake-kube-apply"

    def __init__(self, deployments: list[dict[str, Any]]) -> None:
        self.objects = {(d["metadata"]["namespace"], d["metadata"]["name"]): copy.deepcopy(d) for d in deployments}
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        super().__init__()

    def dispatch(self, h: BaseHTTPRequestHandler, method: str) -> None:
        self._handle(h, method)

    def kubeconfig(self, path: Path, token: str = TOKEN) -> Path:
        path.write_text(yaml.safe_dump({
            "apiVersion": "v1", "kind": "Config", "current-context": "fake",
            "clusters": [{"name": "fake", "cluster": {"server": self.url}}],
            "users": [{"name": "fake", "user": {"token": token}}],
            "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "fake", "namespace": "default"}}],
        }))
        return path

    def writes(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.requests if r["method"] != "GET"]

    def _handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        path = h.path.split("?", 1)[0]
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        with self._lock:
            self.requests.append({"method": method, "path": path, "content_type": h.headers.get("Content-Type"),
                                  "body": body})
        if h.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self._send(h, 401, _status(401, "Unauthorized", "Unauthorized"))
        m = _PATH.match(path)
        if m is None:
            return self._send(h, 404, _status(404, "NotFound", f"the server could not find {path}"))
        key = (m.group("ns"), m.group("name"))
        with self._lock:
            obj = self.objects.get(key)
            if obj is None:
                return self._send(h, 404, _status(404, "NotFound", f'deployments.apps "{key[1]}" not found'))
            if method == "PATCH":
                ctype = (h.headers.get("Content-Type") or "").split(";")[0]
                if ctype not in ("application/merge-patch+json", "application/strategic-merge-patch+json"):
                    return self._send(h, 415, _status(415, "UnsupportedMediaType", f"unsupported patch {ctype}"))
                if not isinstance(body, dict):
                    return self._send(h, 400, _status(400, "BadRequest", "patch body must be a JSON object"))
                if m.group("scale"):
                    replicas = (body.get("spec") or {}).get("replicas")
                    if not isinstance(replicas, int) or replicas < 0:
                        return self._send(h, 422, _status(422, "Invalid", "spec.replicas must be a whole number"))
                    obj["spec"]["replicas"] = replicas
                else:
                    _merge(obj, body)
                obj["metadata"]["generation"] += 1
                obj["metadata"]["resourceVersion"] = str(int(obj["metadata"]["resourceVersion"]) + 1)
            elif method != "GET":
                return self._send(h, 405, _status(405, "MethodNotAllowed", f"{method} is not served"))
            answer = self._scale(obj) if m.group("scale") else copy.deepcopy(obj)
        self._send(h, 200, answer)

    @staticmethod
    def _scale(obj: dict[str, Any]) -> dict[str, Any]:
        meta = obj["metadata"]
        return {"apiVersion": "autoscaling/v1", "kind": "Scale",
                "metadata": {"name": meta["name"], "namespace": meta["namespace"],
                             "resourceVersion": meta["resourceVersion"], "uid": meta["uid"],
                             "creationTimestamp": meta["creationTimestamp"]},
                "spec": {"replicas": obj["spec"]["replicas"]},
                "status": {"replicas": obj["status"]["replicas"], "selector": f"app={meta['name']}"}}

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, code: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        h.send_response(code)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)
