"""Docker containers → Findings: OOM kills, restart loops, failing HEALTHCHECKs, non-zero exits,
with memory and CPU against the limit from one-shot stats."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from triage.health.text import ago, clip, size
from triage.models import Finding, Status
from triage.models.health import DockerContainer, LogRequest

# This many restarts with the last start inside the window is a loop, not a blip.
LOOP_RESTARTS = 3


@dataclass(frozen=True)
class ContainerResult:
    findings: tuple[Finding, ...]
    logs: tuple[LogRequest, ...]


def usage(c: DockerContainer, now: float) -> str:
    """`mem 12.0 MiB of 64.0 MiB (19%), cpu 0.02 cores avg`: what one-shot stats can say."""
    s = c.stats
    if s is None:
        return ""
    parts = []
    limit = s.memory_limit or c.memory_limit
    if s.memory_usage is not None:
        if limit:
            parts.append(f"mem {size(s.memory_usage)} of {size(limit)} ({100 * s.memory_usage / limit:.0f}%)")
        else:
            parts.append(f"mem {size(s.memory_usage)} (no limit)")
    if s.cpu_seconds is not None and c.started_at and now > c.started_at:
        cores = s.cpu_seconds / max(1.0, now - c.started_at)
        cpu = f"cpu {cores:.2f} cores avg"
        if c.nano_cpus:
            cpu += f" of {c.nano_cpus / 1e9:g}"
        parts.append(cpu)
    if s.periods:
        share = s.throttled_periods / s.periods
        if share >= 0.01:
            parts.append(f"throttled {share:.0%} of periods")
    return ", ".join(parts)


def check_containers(containers: Iterable[DockerContainer], *, now: float, window: float) -> ContainerResult:
    since = now - window
    findings: list[Finding] = []
    logs: list[LogRequest] = []
    for c in containers:
        found = _check(c, now=now, since=since)
        findings.extend(found)
        if any(f.status is not Status.OK for f in found) and c.state != "created":
            logs.append(LogRequest(namespace=None, owner=c.id, container=c.name))
    return ContainerResult(tuple(findings), tuple(logs))


def _f(c: DockerContainer, check: str, status: Status, reason: str | None, detail: str,
       evidence: tuple[str, ...] = ()) -> Finding:
    return Finding(kind="container", name=c.name, namespace=None, check=check, status=status, reason=reason,
                   detail=clip(detail), evidence=evidence)


def _check(c: DockerContainer, *, now: float, since: float) -> list[Finding]:
    out: list[Finding] = []
    recent_exit = c.finished_at is None or c.finished_at >= since
    recent_start = c.started_at is not None and c.started_at >= since
    looping = c.state == "restarting" or (c.restart_count >= LOOP_RESTARTS and recent_start)
    restarts = f"{c.restart_count} restart{'s' if c.restart_count != 1 else ''}"
    limit = f", memory limit {size(c.memory_limit)}" if c.memory_limit else ""

    if c.oom_killed:
        status = Status.CRITICAL if (recent_exit or looping) else Status.WARNING
        how = "restart loop, " if looping else ""
        after = f" after {restarts}" if c.restart_count else ""
        out.append(_f(c, "container.oom", status, "OOMKilled",
                      f"{how}exit {c.exit_code if c.exit_code is not None else 137}{after}{limit}"
                      f"{', ' + ago(c.finished_at, now) if c.finished_at else ''}"))
    elif looping:
        policy = f" (restart policy {c.restart_policy})" if c.restart_policy else ""
        # While it runs between two crashes Docker reports exit code 0: only the restart is news.
        last = (f"started again {ago(c.started_at, now)}" if c.state == "running"
                else f"last exit {c.exit_code} {ago(c.finished_at, now)}".strip())
        out.append(_f(c, "container.restarts", Status.CRITICAL, "Restarting",
                      f"restart loop{policy}: {restarts}, {last}"))
    elif c.state in ("exited", "dead") and (c.exit_code or c.state == "dead"):
        status = Status.CRITICAL if recent_exit else Status.WARNING
        err = f": {c.error}" if c.error else ""
        out.append(_f(c, "container.exit", status, "Exited",
                      f"{c.state} with code {c.exit_code} {ago(c.finished_at, now)}{err}".replace("  ", " ")))
    elif c.state == "running" and c.restart_count > 0 and recent_start:
        out.append(_f(c, "container.restarts", Status.WARNING, "Restarting",
                      f"{restarts}, running again since {ago(c.started_at, now)} (last exit {c.exit_code})"))

    if c.health == "unhealthy" and c.state == "running":
        probe = c.health_log[-1] if c.health_log else None
        output = clip(probe.output, 200) if probe and probe.output.strip() else "no output"
        evidence = tuple(clip(p.output, 200) for p in c.health_log[-3:] if p.output.strip())
        out.append(_f(c, "container.health", Status.CRITICAL, "Unhealthy",
                      f"HEALTHCHECK failing ({c.failing_streak} in a row), last exit "
                      f"{probe.exit_code if probe else '?'}: {output}", evidence))

    extra = usage(c, now)
    if out and extra and c.state == "running":
        out[0] = replace(out[0], detail=clip(f"{out[0].detail}; {extra}"))
    if not out:
        if c.state == "running":
            state = f"running {ago(c.started_at, now, suffix='')}".strip()
            if c.health:
                state += f", {c.health}"
        elif c.state == "exited":
            state = f"exited 0 {ago(c.finished_at, now)}".strip()
        else:
            state = c.state
        out.append(_f(c, "container.status", Status.OK, None, f"{state}{', ' + extra if extra else ''}"))
    return out
