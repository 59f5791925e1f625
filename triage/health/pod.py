"""Pods → Findings: crash loops, OOM kills, image pulls, config errors, pending, evicted,
readiness and probe failures (from Events), restarts in the window.

Severity rule for every Kubernetes check: critical when the object cannot serve now
(a pod that is not running or not ready, a deployment with nothing available, a node
that is NotReady); warning when it serves but is degraded or at risk (restarts, probe
failures while still ready, pressure, an HPA that cannot grow).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from triage.health.text import ago, clip
from triage.models import Finding, Status
from triage.models.health import KubeContainer, KubeEvent, LogRequest, Pod, builder

IMAGE_REASONS = {"ImagePullBackOff", "ErrImagePull", "InvalidImageName", "ErrImageNeverPull", "RegistryUnavailable"}
CONFIG_REASONS = {"CreateContainerConfigError", "CreateContainerError", "RunContainerError", "PreCreateHookError",
                  "PostStartHookError"}
PROBE_EVENT = "Unhealthy"
# A pod may sit in ContainerCreating this long before that is worth a look.
PENDING_GRACE = 300.0


@dataclass(frozen=True)
class PodResult:
    findings: tuple[Finding, ...]
    logs: tuple[LogRequest, ...]


def _events_by_pod(events: Iterable[KubeEvent], since: float) -> dict[tuple[str, str], list[KubeEvent]]:
    out: dict[tuple[str, str], list[KubeEvent]] = {}
    for ev in events:
        if ev.object_kind != "Pod":
            continue
        if ev.last_seen is not None and ev.last_seen < since:
            continue
        out.setdefault((ev.namespace, ev.object_name), []).append(ev)
    return out


def _last_exit(c: KubeContainer, now: float | None = None) -> str:
    """`exit 1 (Error) 2m ago` of the previous instance; without `now`, no time."""
    parts = []
    if c.last_exit_code is not None:
        parts.append(f"exit {c.last_exit_code}")
    if c.last_reason:
        parts.append(f"({c.last_reason})" if parts else c.last_reason)
    text = " ".join(parts) or "exit unknown"
    when = ago(c.last_finished_at, now) if now is not None else ""
    return f"{text} {when}".strip()


def _what(c: KubeContainer) -> str:
    return f"init container {c.name}" if c.init else f"container {c.name}"


def check_pods(pods: Iterable[Pod], events: Iterable[KubeEvent], *, now: float, window: float) -> PodResult:
    since = now - window
    by_pod = _events_by_pod(events, since)
    findings: list[Finding] = []
    logs: list[LogRequest] = []
    for pod in pods:
        found, wanted = _check_pod(pod, by_pod.get((pod.namespace, pod.name), []), now=now, since=since,
                                   window=window)
        findings.extend(found)
        logs.extend(wanted)
    return PodResult(tuple(findings), tuple(logs))


_build_finding = builder(Finding)  # one a pod at least (issue 17)


def _finding(pod: Pod, check: str, status: Status, reason: str | None, detail: str,
             evidence: tuple[str, ...] = ()) -> Finding:
    return _build_finding("pod", pod.name, pod.namespace, check, status, reason, clip(detail), evidence)


def _check_pod(pod: Pod, events: list[KubeEvent], *, now: float, since: float,
               window: float) -> tuple[list[Finding], list[LogRequest]]:
    check = _PodCheck(pod, events, now=now, since=since, window=window)
    if not check.settled():
        for c in pod.containers:
            check.container(c)
        check.probes_and_readiness()
        check.failed_or_pending()
        check.healthy()
    return check.out, check.logs


class _PodCheck:
    """One pod's findings, in the order an engineer reads them: a pod that is gone or cannot be
    scheduled says only that; then each container's state; then probes and readiness; a plain
    failure or a long pending only when nothing else explains it; else one OK line."""

    def __init__(self, pod: Pod, events: list[KubeEvent], *, now: float, since: float, window: float) -> None:
        self.pod, self.events, self.now, self.since, self.window = pod, events, now, since, window
        self.out: list[Finding] = []
        self.logs: list[LogRequest] = []

    def add(self, check: str, status: Status, reason: str | None, detail: str) -> None:
        self.out.append(_finding(self.pod, check, status, reason, detail))

    def want_log(self, c: KubeContainer, previous: bool) -> None:
        since_s = None if previous else int(self.window)
        req = LogRequest(namespace=self.pod.namespace, owner=self.pod.name, container=c.name, previous=previous,
                         since_seconds=since_s)
        if req not in self.logs:
            self.logs.append(req)

    def settled(self) -> bool:
        """Evicted, completed or unschedulable: the one thing to say about the pod."""
        pod, now = self.pod, self.now
        if pod.phase == "Failed" and pod.reason == "Evicted":
            self.add("pod.evicted", Status.WARNING, "Evicted",
                     f"evicted from {pod.node or 'its node'}: {pod.message or 'no message'}")
            return True
        if pod.phase == "Succeeded":
            self.add("pod.status", Status.OK, None, "Succeeded (completed)")
            return True
        sched = pod.condition("PodScheduled") if pod.phase == "Pending" else None
        if sched is not None and sched.false:
            message = sched.message or next(
                (e.message for e in reversed(self.events) if e.reason == "FailedScheduling"), "") or "no reason given"
            self.add("pod.pending", Status.CRITICAL, "Pending",
                     f"unschedulable for {ago(pod.created_at, now, suffix='') or 'a while'}: {message}")
            return True
        return False

    def container(self, c: KubeContainer) -> None:
        now = self.now
        if c.state == "waiting" and c.reason == "CrashLoopBackOff":
            last = _last_exit(c, now)
            if c.last_reason == "OOMKilled":
                self.add("pod.oom", Status.CRITICAL, "OOMKilled",
                         f"{_what(c)} OOM-killed and in CrashLoopBackOff: {c.restarts} restarts, last {last}")
            else:
                self.add("pod.crashloop", Status.CRITICAL, "CrashLoopBackOff",
                         f"{_what(c)} in CrashLoopBackOff: {c.restarts} restarts, last {last}")
            self.want_log(c, previous=True)
        elif c.state == "waiting" and c.reason in IMAGE_REASONS:
            self.add("pod.image", Status.CRITICAL, "ImagePullBackOff",
                     f"{_what(c)} {c.reason}: {c.message or 'image cannot be pulled'}")
        elif c.state == "waiting" and c.reason in CONFIG_REASONS:
            self.add("pod.config", Status.CRITICAL, "NotReady",
                     f"{_what(c)} cannot start, {c.reason}: {c.message or 'no message'}")
        elif c.state == "terminated" and c.reason == "OOMKilled":
            self.add("pod.oom", Status.CRITICAL, "OOMKilled",
                     f"{_what(c)} OOM-killed (exit {c.exit_code}) {ago(c.finished_at, now)}".strip())
            self.want_log(c, previous=False)
        elif c.last_reason == "OOMKilled" and (c.last_finished_at is None or c.last_finished_at >= self.since):
            self.add("pod.oom", Status.CRITICAL, "OOMKilled",
                     f"{_what(c)} OOM-killed {ago(c.last_finished_at, now)} (exit "
                     f"{c.last_exit_code if c.last_exit_code is not None else 137}), "
                     f"{c.restarts} restarts".replace("  ", " "))
            self.want_log(c, previous=True)
        elif c.restarts > 0 and c.last_finished_at is not None and c.last_finished_at >= self.since:
            total = f"{c.restarts} restart{'s' if c.restarts != 1 else ''} in total"
            self.add("pod.restarts", Status.WARNING, "Restarting",
                     f"{_what(c)} restarted {ago(c.last_finished_at, now)} after {_last_exit(c)}, {total}")
            self.want_log(c, previous=True)

    def probes_and_readiness(self) -> None:
        pod = self.pod
        blocking = bool(self.out) and any(f.status is Status.CRITICAL for f in self.out)
        probes = [e for e in self.events if e.reason == PROBE_EVENT] if self.events else []
        ready = pod.condition("Ready")
        not_ready = pod.phase == "Running" and ready is not None and not ready.true
        if probes:
            latest = probes[-1]
            failures = sum(max(1, e.count) for e in probes)
            kinds = sorted({e.message.split(" ", 1)[0] for e in probes if e.message})
            if not_ready and not blocking:
                self.add("pod.probe", Status.CRITICAL, "Unhealthy",
                         f"not ready: {latest.message} (×{failures} in the window)")
            else:
                self.add("pod.probe", Status.WARNING, "Unhealthy",
                         f"{'/'.join(kinds) or 'probe'} failures ×{failures} in the window: {latest.message}")
        elif not_ready and not blocking:
            unready = [c.name for c in pod.containers if not c.ready and not c.init]
            if unready:
                why = (f"not ready ({', '.join(unready)}): "
                       f"{ready.message if ready and ready.message else 'Ready=False'}")
            else:
                why = (f"Ready=False although its containers last reported ready: is node {pod.node or '?'} "
                       "reachable?")
            self.add("pod.ready", Status.CRITICAL, "NotReady", f"running but {why}")
        else:
            return
        for c in pod.containers:
            if not c.ready and c.state == "running":
                self.want_log(c, previous=False)

    def failed_or_pending(self) -> None:
        pod, now = self.pod, self.now
        if pod.phase == "Failed" and not self.out:
            term = next((c for c in pod.containers if c.state == "terminated"), None)
            detail = pod.message or pod.reason or "pod failed"
            if term is not None:
                detail = f"{_what(term)} exited {term.exit_code} ({term.reason or 'Error'}); {detail}"
            self.add("pod.failed", Status.WARNING, "Exited", detail)
            if term is not None:
                self.want_log(term, previous=False)
        if (pod.phase == "Pending" and not self.out and pod.created_at is not None
                and now - pod.created_at > PENDING_GRACE):
            waiting = next((c for c in pod.containers if c.state == "waiting"), None)
            why = f"{waiting.name} {waiting.reason}" if waiting and waiting.reason else (pod.reason or "not started")
            self.add("pod.pending", Status.WARNING, "Pending",
                     f"pending for {ago(pod.created_at, now, suffix='')}: {why}")

    def healthy(self) -> None:
        if self.out:
            return
        pod = self.pod
        ready_c = restarts = regular = 0
        last: KubeContainer | None = None  # the first that restarted and said why
        for c in pod.containers:  # one pass (issue 17: most of the pods of a big namespace end here)
            restarts += c.restarts
            if not c.init:
                regular += 1
                if c.ready:
                    ready_c += 1
            if last is None and c.restarts and c.last_reason:
                last = c
        regular = regular or len(pod.containers) or len(pod.spec_containers)
        note = ""
        if last is not None:
            note = f", last restart {ago(last.last_finished_at, self.now)} ({last.last_reason})".replace(" ()", "")
        self.add("pod.status", Status.OK, None, f"{pod.phase}, {ready_c}/{regular} ready, {restarts} restarts{note}")
