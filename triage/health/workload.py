"""Deployments, HPAs and nodes → Findings (seed 000: the HPA at max that scales on CPU only,
metrics-server errors that leave it blind, nodes under pressure)."""

from __future__ import annotations

from collections.abc import Iterable

from triage.health.text import clip
from triage.models import Finding, Status
from triage.models.health import Deployment, Hpa, KubeEvent, Node

HPA_METRIC_EVENTS = {"FailedGetResourceMetric", "FailedComputeMetricsReplicas", "FailedGetPodsMetric",
                     "FailedGetObjectMetric", "FailedGetExternalMetric", "FailedGetContainerResourceMetric"}
PRESSURES = ("MemoryPressure", "DiskPressure", "PIDPressure")


def _f(kind: str, ns: str | None, name: str, check: str, status: Status, reason: str | None, detail: str) -> Finding:
    return Finding(kind=kind, name=name, namespace=ns, check=check, status=status, reason=reason, detail=clip(detail))


def check_deployments(deployments: Iterable[Deployment]) -> list[Finding]:
    out: list[Finding] = []
    for d in deployments:
        found: list[Finding] = []
        progressing = d.condition("Progressing")
        counts = f"{d.available}/{d.replicas} available, {d.updated}/{d.replicas} updated"
        if progressing is not None and progressing.false:
            found.append(_f("deployment", d.namespace, d.name, "deployment.rollout", Status.CRITICAL, "RolloutStuck",
                            f"rollout stuck ({progressing.reason or 'Progressing=False'}): "
                            f"{progressing.message or 'no progress'}; {counts}"))
        if d.replicas > 0 and d.available < d.replicas:
            status = Status.CRITICAL if d.available == 0 else Status.WARNING
            available = d.condition("Available")
            why = f": {available.message}" if available is not None and available.false and available.message else ""
            found.append(_f("deployment", d.namespace, d.name, "deployment.available", status, "Unavailable",
                            f"{d.available}/{d.replicas} replicas available "
                            f"({max(d.unavailable, d.replicas - d.available)} unavailable){why}"))
        if not found:
            detail = "scaled to zero" if d.replicas == 0 else counts
            found.append(_f("deployment", d.namespace, d.name, "deployment.status", Status.OK, None, detail))
        out.extend(found)
    return out


def check_hpas(hpas: Iterable[Hpa], events: Iterable[KubeEvent], *, since: float) -> list[Finding]:
    metric_events: dict[tuple[str, str], KubeEvent] = {}
    for ev in events:
        if ev.object_kind == "HorizontalPodAutoscaler" and ev.reason in HPA_METRIC_EVENTS:
            if ev.last_seen is None or ev.last_seen >= since:
                metric_events[(ev.namespace, ev.object_name)] = ev
    out: list[Finding] = []
    for h in hpas:
        found: list[Finding] = []
        scaling = f"scales on {', '.join(h.metrics)}" if h.metrics else "no metrics in spec"
        active = h.condition("ScalingActive")
        event = metric_events.get((h.namespace, h.name))
        if active is not None and active.false:
            found.append(_f("hpa", h.namespace, h.name, "hpa.metrics", Status.WARNING, "HPAMetricsUnavailable",
                            f"cannot scale, ScalingActive=False ({active.reason or 'no reason'}): "
                            f"{active.message or 'no message'}"))
        elif event is not None:
            found.append(_f("hpa", h.namespace, h.name, "hpa.metrics", Status.WARNING, "HPAMetricsUnavailable",
                            f"{event.reason} ×{event.count} in the window: {event.message}"))
        if h.max_replicas > 0 and h.current_replicas >= h.max_replicas:
            limited = h.condition("ScalingLimited")
            wants_more = limited is not None and limited.true and limited.reason == "TooManyReplicas"
            status = Status.CRITICAL if wants_more else Status.WARNING
            more = "; it wants more than the maximum" if wants_more else ""
            found.append(_f("hpa", h.namespace, h.name, "hpa.max", status, "HPAAtMax",
                            f"at max: {h.current_replicas}/{h.max_replicas} replicas (min {h.min_replicas}) of "
                            f"{h.target_kind}/{h.target_name}, {scaling}{more}"))
        if not found:
            found.append(_f("hpa", h.namespace, h.name, "hpa.status", Status.OK, None,
                            f"{h.current_replicas} replicas (min {h.min_replicas}, max {h.max_replicas}), {scaling}"))
        out.extend(found)
    return out


def check_nodes(nodes: Iterable[Node]) -> list[Finding]:
    out: list[Finding] = []
    for n in nodes:
        found: list[Finding] = []
        ready = n.condition("Ready")
        if ready is None or not ready.true:
            state = ready.status if ready else "missing"
            why = f"{ready.reason}: {ready.message}" if ready and (ready.reason or ready.message) else "no status"
            found.append(_f("node", None, n.name, "node.ready", Status.CRITICAL, "NodeNotReady",
                            f"Ready={state}, {why}"))
        pressed = [c for c in (n.condition(p) for p in PRESSURES) if c is not None and c.true]
        if pressed:
            found.append(_f("node", None, n.name, "node.pressure", Status.WARNING, "NodePressure",
                            "; ".join(f"{c.type}: {c.message or c.reason or 'True'}" for c in pressed)))
        if not found:
            found.append(_f("node", None, n.name, "node.status", Status.OK, None,
                            "Ready" + (", cordoned (unschedulable)" if n.unschedulable else "")))
        out.extend(found)
    return out
