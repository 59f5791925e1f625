"""Phase 2 quick checks wired together: scope → sources → checks → one HealthReport.

Sources come in as parameters (anything with the methods of the Protocols in
`triage.sources.interface`), so the tests drive this with the real Docker Engine and the
local API server, and nothing here builds a client or imports an SDK. A source that fails becomes a `Skipped` entry; the
others still run.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from triage.config import ServiceConfig, Settings
from triage.errors import SourceError, UsageError
from triage.health.logs import scan
from triage.health.pod import check_pods
from triage.health.text import clip
from triage.health.workload import check_deployments, check_hpas, check_nodes
from triage.models import Finding, HealthReport, Skipped, Status
from triage.models.health import (
    Deployment,
    KubeSnapshot,
    LogRequest,
)
from triage.secrets import display_url, redact
from triage.sources.interface import DockerSource, HttpProber, KubeSource, MetricsSource

# Logs of at most this many failing containers per source: the quick check stays quick on
# a cluster where hundreds of pods crash for the same reason.
MAX_LOG_CONTAINERS = 20
NAME_LABELS = ("app.kubernetes.io/name", "app", "k8s-app", "app.kubernetes.io/instance")
COMPOSE_SERVICE = "com.docker.compose.service"

Progress = Callable[[str], None]


@dataclass(frozen=True)
class HealthPlan:
    """What to check. `namespaces` empty with `all_namespaces` False means the context's namespace."""

    services: tuple[ServiceConfig, ...] = ()
    namespaces: tuple[str, ...] = ()
    all_namespaces: bool = False
    kubernetes: bool = True
    docker: bool = True
    urls: tuple[str, ...] = ()
    window: float = 900.0
    skipped: tuple[Skipped, ...] = field(default_factory=tuple)


def plan_health(settings: Settings, *, service: str | None = None, all_services: bool = False,
                namespace: str | None = None, all_namespaces: bool = False, kubernetes: bool = True,
                docker: bool = True, urls: Sequence[str] = (), window: float = 900.0) -> HealthPlan:
    if service and all_services:
        raise UsageError("give either --service NAME or --all-services, not both")
    if namespace and all_namespaces:
        raise UsageError("give either --namespace NS or --all-namespaces, not both")
    for url in urls:
        _check_url(url)
    services: tuple[ServiceConfig, ...] = ()
    if service:
        services = (settings.service(service, namespace),)
    elif all_services:
        services = tuple(s for s in settings.services.values() if not namespace or s.namespace == namespace)
        if settings.services and not services:
            raise UsageError(f"--all-services: no service in namespace '{namespace}'")
    if services:
        return plan_for_services(services, kubernetes=kubernetes, docker=docker, urls=urls, window=window)
    namespaces: tuple[str, ...] = ()
    if namespace:
        namespaces = (namespace,)
    elif settings.default_namespace != "default":
        namespaces = (settings.default_namespace,)
    return HealthPlan(namespaces=namespaces, all_namespaces=all_namespaces or (all_services and not namespace),
                      kubernetes=kubernetes,
                      docker=docker, urls=tuple(dict.fromkeys(urls)), window=window,
                      skipped=_disabled(kubernetes, docker))


def plan_for_services(services: Sequence[ServiceConfig], *, kubernetes: bool = True, docker: bool = True,
                      urls: Sequence[str] = (), window: float = 900.0) -> HealthPlan:
    """The checks of these services: their namespaces and label selectors, their containers,
    their `health_urls` after the extra `urls`. No service at all means the context's namespace."""
    for url in urls:
        _check_url(url)
    wanted = list(urls) + [u for svc in services for u in svc.health_urls]
    return HealthPlan(services=tuple(services), namespaces=tuple(sorted({s.namespace for s in services})),
                      kubernetes=kubernetes, docker=docker, urls=tuple(dict.fromkeys(wanted)), window=window,
                      skipped=_disabled(kubernetes, docker))


def _disabled(kubernetes: bool, docker: bool) -> tuple[Skipped, ...]:
    skipped = []
    if not kubernetes:
        skipped.append(Skipped("kubernetes", "disabled by --no-kubernetes"))
    if not docker:
        skipped.append(Skipped("docker", "disabled by --no-docker"))
    return tuple(skipped)


def _check_url(url: str) -> None:
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises on a port that is not a number
    except ValueError:
        raise UsageError(f"--url: {display_url(url)!r} is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--url: {display_url(url)!r} is not an http(s) URL")


def run_health(plan: HealthPlan, *, kube: KubeSource | None = None, docker: DockerSource | None = None,
               http: HttpProber | None = None, metrics: MetricsSource | None = None, now: float | None = None,
               progress: Progress = lambda _: None) -> HealthReport:
    """`metrics`, when given, stands in for the Kubernetes API when that cannot be asked: the pods
    are then read from kube-state-metrics, and the report says so."""
    now = time.time() if now is None else now
    jobs: list[tuple[str, Callable[[], tuple[list[Finding], list[Skipped]]]]] = []
    if plan.kubernetes and kube is not None:
        jobs.append(("kubernetes", lambda: _kubernetes_or_metrics(plan, kube, metrics, now)))
    if plan.docker and docker is not None:
        jobs.append(("docker", lambda: _docker(plan, docker, now)))
    if plan.urls and http is not None:
        jobs.append(("http", lambda: _endpoints(plan, http)))
    progress("checking " + ", ".join(name for name, _ in jobs) if jobs else "nothing to check")
    findings: list[Finding] = []
    skipped: list[Skipped] = list(plan.skipped)
    with ThreadPoolExecutor(max_workers=max(1, len(jobs))) as pool:
        futures = [(name, pool.submit(job)) for name, job in jobs]
        for name, future in futures:
            try:
                found, skips = future.result()
            except SourceError as exc:
                found, skips = [], [Skipped(name, clip(exc.message))]
            except UsageError:
                raise
            except Exception as exc:  # a bug or an answer nobody foresaw: report it, keep the rest
                found, skips = [], [Skipped(name, clip(redact(f"internal error: {type(exc).__name__}: {exc}")))]
            findings.extend(found)
            skipped.extend(skips)
    return HealthReport(findings=tuple(sort_findings(findings)), skipped=tuple(skipped))


def _endpoints(plan: HealthPlan, http: HttpProber) -> tuple[list[Finding], list[Skipped]]:
    from triage.health.endpoint import check_endpoints  # the checks of a source not asked are not imported

    return check_endpoints(http.probe(plan.urls)), []


_ORDER = {Status.CRITICAL: 0, Status.WARNING: 1, Status.UNKNOWN: 2, Status.OK: 3}
_KIND_ORDER = {k: i for i, k in enumerate(("endpoint", "deployment", "hpa", "pod", "container", "node"))}


def sort_findings(findings: Sequence[Finding]) -> list[Finding]:
    """Worst first; within a severity, by kind, namespace and name so runs diff cleanly."""
    return sorted(findings, key=lambda f: (_ORDER[f.status], _KIND_ORDER.get(f.kind, 9), f.namespace or "",
                                           f.name, f.check))


def exit_status(report: HealthReport) -> Status:
    """Worst finding; UNKNOWN when nothing at all could be checked (every source skipped or empty)."""
    if not report.findings:
        return Status.UNKNOWN
    return report.status


# ---- Kubernetes -------------------------------------------------------------------------


def _matches(labels: Mapping[str, str], selector: Mapping[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def _selectors_for(service: ServiceConfig) -> Callable[[str, Sequence[Deployment]], Sequence[str]]:
    """Server-side label selectors for one service's pods: its deployment's, else the usual name labels."""
    def choose(namespace: str, deployments: Sequence[Deployment]) -> Sequence[str]:
        name = service.selector("deployment")
        dep = next((d for d in deployments if d.name == name and d.namespace == namespace), None)
        if dep is not None and dep.selector:
            return [",".join(f"{k}={v}" for k, v in sorted(dep.selector.items()))]
        return [f"{NAME_LABELS[0]}={service.name}", f"app={service.name}"]
    return choose


def scope_to_service(snap: KubeSnapshot, svc: ServiceConfig) -> KubeSnapshot:
    """The part of a namespace snapshot that belongs to one service (models only, client side)."""
    dep_name = svc.selector("deployment")
    hpa_name = svc.selector("horizontalpodautoscaler")
    deployments = tuple(d for d in snap.deployments if d.namespace == svc.namespace and d.name == dep_name)
    in_ns = [p for p in snap.pods if p.namespace == svc.namespace]
    if deployments and deployments[0].selector:
        pods = tuple(p for p in in_ns if _matches(p.labels, deployments[0].selector))
    else:
        pods = tuple(p for p in in_ns if any(p.labels.get(k) == svc.name for k in NAME_LABELS))
    hpas = tuple(h for h in snap.hpas if h.namespace == svc.namespace and (
        h.name == hpa_name or (h.target_kind == "Deployment" and h.target_name == dep_name)))
    pod_names = {p.name for p in pods}
    hpa_names = {h.name for h in hpas}
    events = tuple(e for e in snap.events if e.namespace == svc.namespace and (
        (e.object_kind == "Pod" and e.object_name in pod_names)
        or (e.object_kind == "Deployment" and e.object_name == dep_name)
        or (e.object_kind == "HorizontalPodAutoscaler" and e.object_name in hpa_names)
        or (e.object_kind == "ReplicaSet" and e.object_name.startswith(dep_name + "-"))))
    hosts = {p.node for p in pods if p.node}
    nodes = tuple(n for n in snap.nodes if n.name in hosts)
    return KubeSnapshot(pods=pods, events=events, deployments=deployments, hpas=hpas, nodes=nodes,
                        nodes_read=snap.nodes_read, problems=snap.problems, requests=snap.requests)


def _merge(parts: Sequence[KubeSnapshot], base: KubeSnapshot) -> KubeSnapshot:
    def uniq(items):  # a pod can belong to two configured services; report it once
        return tuple({id(i): i for i in items}.values())
    return KubeSnapshot(
        pods=uniq(p for s in parts for p in s.pods), events=uniq(e for s in parts for e in s.events),
        deployments=uniq(d for s in parts for d in s.deployments), hpas=uniq(h for s in parts for h in s.hpas),
        nodes=uniq(n for s in parts for n in s.nodes), nodes_read=base.nodes_read, problems=base.problems,
        requests=base.requests)


def _kubernetes_or_metrics(plan: HealthPlan, kube: KubeSource, metrics: MetricsSource | None,
                           now: float) -> tuple[list[Finding], list[Skipped]]:
    try:
        return _kubernetes(plan, kube, now)
    except SourceError as exc:
        if metrics is None:
            raise
        from triage.health.kube_state import pod_findings

        namespaces = None if plan.all_namespaces else list(plan.namespaces) or None
        try:
            found = pod_findings(metrics, namespaces=namespaces, services=plan.services, window=plan.window, now=now)
        except SourceError as second:
            raise SourceError(f"{exc.message}; kube-state-metrics in {metrics.name} could not stand in: "
                              f"{second.message}", backend=exc.backend) from None
        why = f"{exc.message}; pods read from kube-state-metrics in {metrics.name} instead (no events, no logs)"
        if not found:
            why += ": it has no pods in scope"
        return found, [Skipped("kubernetes", clip(why))]


def _kubernetes(plan: HealthPlan, kube: KubeSource, now: float) -> tuple[list[Finding], list[Skipped]]:
    if plan.all_namespaces:
        namespaces = None
    else:
        namespaces = list(plan.namespaces) or [kube.default_namespace()]
    single = plan.services[0] if len(plan.services) == 1 else None
    snap = kube.snapshot(namespaces, pod_selectors=_selectors_for(single) if single else None)
    if plan.services:
        snap = _merge([scope_to_service(snap, s) for s in plan.services], snap)
    elif not plan.all_namespaces:
        hosts = {p.node for p in snap.pods if p.node}
        snap = KubeSnapshot(pods=snap.pods, events=snap.events, deployments=snap.deployments, hpas=snap.hpas,
                            nodes=tuple(n for n in snap.nodes if n.name in hosts), nodes_read=snap.nodes_read,
                            problems=snap.problems, requests=snap.requests)
    skipped = [Skipped("kubernetes", clip(why)) for _, why in snap.problems]
    pods = check_pods(snap.pods, snap.events, now=now, window=plan.window)
    findings = list(pods.findings)
    findings += check_deployments(snap.deployments)
    findings += check_hpas(snap.hpas, snap.events, since=now - plan.window)
    findings += check_nodes(snap.nodes)
    logs, log_skips = _log_findings(kube, pods.logs, findings, kind="pod", source="kubernetes")
    findings += logs
    skipped += log_skips
    if not findings and not skipped:
        where = "any namespace" if namespaces is None else "namespace " + ", ".join(namespaces)
        what = f"service {', '.join(s.name for s in plan.services)}" if plan.services else "anything"
        skipped.append(Skipped("kubernetes", f"no pods, deployments or HPAs of {what} in {where}"))
    return findings, skipped


# ---- Docker -----------------------------------------------------------------------------


def docker_selector(services: Sequence[ServiceConfig]) -> Callable[[str, Mapping[str, str]], bool] | None:
    """Containers of the services in scope: compose's service label, or the name (`shop-checkout-1`)."""
    if not services:
        return None
    names = [s.container or s.name for s in services]
    pattern = re.compile(r"^(?:[\w.-]+[-_])?(?:" + "|".join(re.escape(n) for n in names) + r")(?:[-_.]\d+)?$")

    def select(name: str, labels: Mapping[str, str]) -> bool:
        return labels.get(COMPOSE_SERVICE) in names or bool(pattern.match(name))
    return select


def _docker(plan: HealthPlan, docker: DockerSource, now: float) -> tuple[list[Finding], list[Skipped]]:
    from triage.health.container import check_containers

    containers = docker.containers(docker_selector(plan.services))
    result = check_containers(containers, now=now, window=plan.window)
    findings = list(result.findings)
    logs, skipped = _log_findings(docker, result.logs, findings, kind="container", source="docker")
    findings += logs
    if not containers:
        what = f" of service {', '.join(s.name for s in plan.services)}" if plan.services else ""
        skipped.append(Skipped("docker", f"no containers{what}"))
    return findings, skipped


# ---- Logs -------------------------------------------------------------------------------


def _log_findings(reader: KubeSource | DockerSource, wanted: Sequence[LogRequest], findings: Sequence[Finding],
                  *, kind: str, source: str) -> tuple[list[Finding], list[Skipped]]:
    """ErrorLogs for the failing containers, worst first, at most MAX_LOG_CONTAINERS of them; a log
    past the source's cap is one skipped line (it was not read), not a silent gap."""
    if not wanted:
        return [], []
    rank: dict[tuple[str | None, str], int] = {}
    for f in findings:
        key = (f.namespace, f.name)
        rank[key] = min(rank.get(key, 9), _ORDER[f.status])
    ordered = sorted(wanted, key=lambda r: rank.get((r.namespace, r.owner), rank.get((None, r.container), 9)))
    texts = reader.logs(ordered[:MAX_LOG_CONTAINERS])
    out = []
    large = [t.error for t in texts if t.too_large and t.error]
    skipped = [Skipped(source, clip(large[0] if len(large) == 1 else
                                         f"{len(large)} logs were larger than the cap and not read: {large[0]}"))
               ] if large else []
    for text in texts:
        if text.error or not text.lines:
            continue
        found = scan(text.lines)
        if not found.matched:
            continue
        req = text.request
        which = f"{req.container} (previous instance)" if req.previous else req.container
        where = f"container {which}" if kind == "pod" else "the log"
        name = req.owner if kind == "pod" else req.container
        out.append(Finding(
            kind=kind, name=name, namespace=req.namespace, check=f"{kind}.logs", status=Status.WARNING,
            reason="ErrorLogs",
            detail=clip(f"{found.matched} error line{'s' if found.matched != 1 else ''} ({', '.join(found.kinds)}) "
                        f"in the last {found.scanned} lines of {where}: {found.quoted[0]}"),
            evidence=found.quoted))
    return out, skipped
