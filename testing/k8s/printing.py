"""Server-side printing (`Accept: ...;as=Table`): the columns `kubectl get` shows per kind."""

from __future__ import annotations

import time
from datetime import datetime

from testing.k8s.objects import Resource, Stored


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



def table(res: Resource, page: list[Stored], meta: dict, include: str) -> dict:
    """A `meta.k8s.io/v1` Table of `page`, each row with the object or only its metadata."""
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
