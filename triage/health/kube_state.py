"""Pods as kube-state-metrics shows them, for when the Kubernetes API cannot be asked (no
kubeconfig on the on-call laptop, an API server down, RBAC that forbids it): phases, waiting
reasons, the last OOM kill and restarts in the window, from the metrics backend. Each finding
says where it came from; it is what the API would have said, only coarser (no events, no logs)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

from triage.config import ServiceConfig
from triage.errors import SourceError
from triage.models import Finding, RangeQuery, Series, Status
from triage.sources.interface import MetricsSource

FROM = "from kube-state-metrics"
WAITING_CRITICAL = {"CrashLoopBackOff": "CrashLoopBackOff", "ImagePullBackOff": "ImagePullBackOff",
                    "ErrImagePull": "ImagePullBackOff", "InvalidImageName": "ImagePullBackOff",
                    "ErrImageNeverPull": "ImagePullBackOff", "CreateContainerConfigError": "NotReady",
                    "CreateContainerError": "NotReady"}
PHASE_STATUS = {"Pending": (Status.WARNING, "Pending"), "Failed": (Status.CRITICAL, "Exited"),
                "Unknown": (Status.WARNING, "NotReady")}


def _re(values: Sequence[str]) -> str:
    return "|".join(re.escape(v) for v in values) or ".+"


def queries(namespaces: Sequence[str] | None, containers: Sequence[str], window: float) -> dict[str, str]:
    """What is asked: one instant query per fact, scoped to the namespaces and containers."""
    ns = f'namespace=~"{_re(namespaces or ())}"'
    ct = f', container=~"{_re(containers)}"' if containers else ""
    pods = (f" * on (namespace, pod) group_left () max by (namespace, pod) (kube_pod_container_info{{{ns}{ct}}})"
            if containers else "")
    return {
        "phase": f"max by (namespace, pod, phase) (kube_pod_status_phase{{{ns}}} == 1){pods}",
        "waiting": f"kube_pod_container_status_waiting_reason{{{ns}{ct}}} == 1",
        "oom": f'kube_pod_container_status_last_terminated_reason{{{ns}{ct}, reason="OOMKilled"}} == 1',
        "restarts": f"increase(kube_pod_container_status_restarts_total{{{ns}{ct}}}[{int(window)}s])",
    }


def pod_findings(metrics: MetricsSource, *, namespaces: Sequence[str] | None, services: Sequence[ServiceConfig],
                 window: float, now: float) -> list[Finding]:
    """The pods' findings; a failed query is a SourceError (the caller says both sources failed)."""
    containers = [s.selector("container") for s in services]
    asked = queries(namespaces, containers, window)
    answers = metrics.query_range_many([RangeQuery(q, now, now, 60.0) for q in asked.values()])
    got: dict[str, list[Series]] = {}
    for name, answer in zip(asked, answers):
        if isinstance(answer, SourceError):
            raise answer
        got[name] = answer
    return findings_from(got)


def _last(series: Series) -> float:
    values = [v for _, v in series.points if math.isfinite(v)]
    return values[-1] if values else math.nan


def findings_from(got: Mapping[str, Sequence[Series]]) -> list[Finding]:
    pods: dict[tuple[str, str], list[Finding]] = {}
    for s in got.get("phase", ()):
        ns, pod, phase = s.labels.get("namespace", ""), s.labels.get("pod", ""), s.labels.get("phase", "")
        status, reason = PHASE_STATUS.get(phase, (Status.OK, None))
        detail = f"phase {phase} ({FROM})"
        pods.setdefault((ns, pod), []).append(Finding("pod", pod, ns or None, "phase", status, reason, detail))
    for s in got.get("waiting", ()):
        ns, pod, why = s.labels.get("namespace", ""), s.labels.get("pod", ""), s.labels.get("reason", "")
        reason = WAITING_CRITICAL.get(why)
        status = Status.CRITICAL if reason else Status.WARNING
        detail = f"container {s.labels.get('container', '?')} waiting: {why} ({FROM})"
        pods.setdefault((ns, pod), []).append(Finding("pod", pod, ns or None, "container", status,
                                                      reason or "NotReady", detail))
    oom = {(s.labels.get("namespace", ""), s.labels.get("pod", ""), s.labels.get("container", ""))
           for s in got.get("oom", ())}
    for s in got.get("restarts", ()):
        n = _last(s)
        if not math.isfinite(n) or n < 0.5:
            continue
        ns, pod, ctr = s.labels.get("namespace", ""), s.labels.get("pod", ""), s.labels.get("container", "?")
        killed = (ns, pod, ctr) in oom
        detail = (f"container {ctr} restarted {n:.0f} time{'s' if round(n) != 1 else ''} in the window"
                  + (", last killed for memory (OOMKilled)" if killed else "") + f" ({FROM})")
        pods.setdefault((ns, pod), []).append(Finding(
            "pod", pod, ns or None, "restarts", Status.CRITICAL if killed or n >= 2.5 else Status.WARNING,
            "OOMKilled" if killed else "Restarting", detail))
    out: list[Finding] = []
    for found in pods.values():
        bad = [f for f in found if f.status is not Status.OK]
        out.extend(bad or found[:1])
    return out
