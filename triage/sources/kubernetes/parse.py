"""Kubernetes API objects (the JSON of a list answer) → `triage.models.health` values.

Only the fields the checks read are taken, each defaulted when absent, so an object of an
older or newer API version still reads; one that cannot be read raises, and the caller
leaves it out and says so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from triage.models.health import (
    Condition,
    Deployment,
    Hpa,
    KubeContainer,
    KubeEvent,
    Node,
    Pod,
    builder,
)

# Built without their dataclass __init__ (issue 17): thousands of each a namespace.
_condition = builder(Condition)
_kube_container = builder(KubeContainer)
_kube_pod = builder(Pod)
_kube_event = builder(KubeEvent)
_deployment_of = builder(Deployment)
_hpa_of = builder(Hpa)
_node_of = builder(Node)


def _ts(raw: Any) -> float | None:
    if not raw or not isinstance(raw, str):
        return None
    return _parsed_ts(raw)


@lru_cache(maxsize=4096)
def _parsed_ts(raw: str) -> float | None:
    """A timestamp's seconds; cached, as the pods of one rollout (and the conditions of one pod)
    share their timestamps, and parsing them was a third of a pod's reading."""
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _conditions(raw: Any) -> tuple[Condition, ...]:
    out = []
    for c in raw or ():
        if isinstance(c, dict) and c.get("type"):
            get = c.get
            out.append(_condition(str(c["type"]), str(get("status", "Unknown")), str(get("reason") or ""),
                                  str(get("message") or ""), _ts(get("lastTransitionTime"))))
    return tuple(out)


_EMPTY: dict = {}


def _container(raw: dict, init: bool) -> KubeContainer:
    get = raw.get
    state = get("state") or _EMPTY
    last = (get("lastState") or _EMPTY).get("terminated") or _EMPTY
    if "running" in state and state["running"] is not None:
        kind, detail = "running", state["running"] or _EMPTY
    elif state.get("waiting") is not None:
        kind, detail = "waiting", state["waiting"] or _EMPTY
    elif state.get("terminated") is not None:
        kind, detail = "terminated", state["terminated"] or _EMPTY
    else:
        kind, detail = "unknown", _EMPTY
    # In the order the fields were always read: an object that cannot be read says the same error.
    name, ready, restarts = str(get("name", "")), bool(get("ready")), int(get("restartCount") or 0)
    if detail:
        dget = detail.get
        reason, message, exit_code = str(dget("reason") or ""), str(dget("message") or ""), dget("exitCode")
        started, finished = _ts(dget("startedAt")), _ts(dget("finishedAt"))
    else:
        reason, message, exit_code, started, finished = "", "", None, None, None
    if last:
        lget = last.get
        last_reason, last_exit, last_finished = str(lget("reason") or ""), lget("exitCode"), _ts(lget("finishedAt"))
        last_message = str(lget("message") or "")
    else:
        last_reason, last_exit, last_finished, last_message = "", None, None, ""
    return _kube_container(name, ready, restarts, kind, reason, message, exit_code, started, finished, last_reason,
                           last_exit, last_finished, last_message, init)


def _pod(raw: dict) -> Pod:
    meta = raw.get("metadata") or {}
    spec = raw.get("spec") or {}
    status = raw.get("status") or {}
    owner = ""
    for o in meta.get("ownerReferences") or ():
        if o.get("controller"):
            owner = f"{o.get('kind')}/{o.get('name')}"
            break
    init = status.get("initContainerStatuses")
    containers = tuple([_container(c, True) for c in init or ()] + [
        _container(c, False) for c in status.get("containerStatuses") or ()]) if init else tuple(
        [_container(c, False) for c in status.get("containerStatuses") or ()])
    namespace, name = str(meta.get("namespace", "")), str(meta.get("name", ""))
    phase, reason = str(status.get("phase") or "Unknown"), str(status.get("reason") or "")
    message, node = str(status.get("message") or ""), str(spec.get("nodeName") or "")
    created, labels = _ts(meta.get("creationTimestamp")), dict(meta.get("labels") or {})
    conditions = _conditions(status.get("conditions"))
    return _kube_pod(namespace, name, phase, reason, message, node, created, labels, owner, conditions, containers,
                     tuple([str(c.get("name")) for c in spec.get("containers") or ()]))


def _event(raw: dict) -> KubeEvent:
    meta = raw.get("metadata") or {}
    obj = raw.get("involvedObject") or raw.get("regarding") or {}
    series = raw.get("series") or {}
    seen = (_ts(raw.get("lastTimestamp")) or _ts(series.get("lastObservedTime")) or _ts(raw.get("eventTime"))
            or _ts(raw.get("firstTimestamp")) or _ts(meta.get("creationTimestamp")))
    return _kube_event(str(obj.get("namespace") or meta.get("namespace") or ""), str(obj.get("kind") or ""),
                       str(obj.get("name") or ""), str(raw.get("reason") or ""),
                       str(raw.get("message") or raw.get("note") or ""), str(raw.get("type") or "Normal"),
                       int(raw.get("count") or series.get("count") or 1), seen)


def _deployment(raw: dict) -> Deployment:
    meta = raw.get("metadata") or {}
    spec = raw.get("spec") or {}
    status = raw.get("status") or {}
    replicas = spec.get("replicas")
    return _deployment_of(str(meta.get("namespace", "")), str(meta.get("name", "")),
                          int(1 if replicas is None else replicas), int(status.get("readyReplicas") or 0),
                          int(status.get("availableReplicas") or 0), int(status.get("unavailableReplicas") or 0),
                          int(status.get("updatedReplicas") or 0), int(meta.get("generation") or 0),
                          int(status.get("observedGeneration") or 0),
                          dict((spec.get("selector") or {}).get("matchLabels") or {}),
                          _conditions(status.get("conditions")))


# autoscaling/v2: a metric's type -> the key of its body
_METRIC_BODY = {"Resource": "resource", "ContainerResource": "containerResource", "Pods": "pods", "Object": "object",
                "External": "external"}


def _metric_text(spec: dict, current: Sequence[dict]) -> str:
    """`cpu 55% (target 70%)`, `http_requests_per_second 12 (target 10)` from autoscaling/v2."""
    kind = spec.get("type", "")
    body = spec.get(_METRIC_BODY.get(kind, ""), {}) or {}
    name = body.get("name") or (body.get("metric") or {}).get("name") or kind.lower() or "metric"
    target = body.get("target") or {}
    want = target.get("averageUtilization")
    unit = "%" if want is not None else ""
    if want is None:
        want = target.get("averageValue", target.get("value"))
    now = None
    for cur in current:
        cbody = cur.get(_METRIC_BODY.get(cur.get("type", ""), ""), {}) or {}
        cname = cbody.get("name") or (cbody.get("metric") or {}).get("name")
        if cur.get("type") == kind and cname == name:
            c = cbody.get("current") or {}
            now = c.get("averageUtilization") if unit else c.get("averageValue", c.get("value"))
    shown = f"{name} {now}{unit}" if now is not None else f"{name} unknown"
    return f"{shown} (target {want}{unit})" if want is not None else shown


def _hpa(raw: dict) -> Hpa:
    meta = raw.get("metadata") or {}
    spec = raw.get("spec") or {}
    status = raw.get("status") or {}
    ref = spec.get("scaleTargetRef") or {}
    current = status.get("currentMetrics") or []
    return _hpa_of(str(meta.get("namespace", "")), str(meta.get("name", "")), str(ref.get("kind") or ""),
                   str(ref.get("name") or ""), int(spec.get("minReplicas") or 1), int(spec.get("maxReplicas") or 0),
                   int(status.get("currentReplicas") or 0), int(status.get("desiredReplicas") or 0),
                   tuple([_metric_text(m, current) for m in spec.get("metrics") or ()]),
                   _conditions(status.get("conditions")))


def _node(raw: dict) -> Node:
    meta = raw.get("metadata") or {}
    return _node_of(str(meta.get("name", "")), _conditions((raw.get("status") or {}).get("conditions")),
                    bool((raw.get("spec") or {}).get("unschedulable")))


PARSE: dict[str, Callable[[dict], Any]] = {
    "pods": _pod, "events": _event, "deployments": _deployment, "horizontalpodautoscalers": _hpa, "nodes": _node,
}
