"""HTTP health/readiness answers → Findings. Understands seed 003's readiness body
(`{"status": false|"unhealthy", "checks": {"database": "unhealthy: ..."}}`), Spring Boot
actuator's `components` and the IETF health-check draft's `checks` lists, so a 503 that
says *which* dependency is down becomes `DependencyDown` naming it."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from typing import Any

from triage.health.text import clip
from triage.models import Finding, Status
from triage.models.health import EndpointProbe

SLOW_WARNING = 1.0
SLOW_CRITICAL = 3.0

_GOOD = ("healthy", "ok", "up", "pass", "ready", "true", "green", "available", "alive", "serving")
_BAD = ("unhealthy", "down", "fail", "failed", "failure", "error", "critical", "false", "not_ready", "notready",
        "not ready", "red", "unavailable", "out_of_service", "dead", "degraded", "warn", "warning")


def _state_of(value: Any) -> str | None:
    """'good', 'bad' or None (cannot tell) for one status value."""
    if isinstance(value, bool):
        return "good" if value else "bad"
    if isinstance(value, str):
        word = value.strip().lower()
        head = word.split(":", 1)[0].strip()
        if head in _GOOD or word in _GOOD:
            return "good"
        if head in _BAD or word in _BAD:
            return "bad"
        if "unhealthy" in word or "refused" in word or "timeout" in word or "timed out" in word:
            return "bad"
    return None


def _describe(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "healthy" if value else "unhealthy"
    if isinstance(value, dict):
        status = value.get("status")
        detail = value.get("output") or value.get("error") or value.get("message") or value.get("details")
        text = str(status) if status is not None else ""
        if detail:
            text = f"{text}: {detail}" if text else str(detail)
        return text or "unhealthy"
    if isinstance(value, list):
        return "; ".join(_describe(v) for v in value[:3])
    return str(value)


def failing_dependencies(body: Any) -> list[tuple[str, str]]:
    """(dependency, what it said) for every check in the body that reports a failure."""
    if not isinstance(body, dict):
        return []
    out: list[tuple[str, str]] = []
    for key in ("checks", "components", "details", "dependencies"):
        group = body.get(key)
        items: Iterable[tuple[str, Any]]
        if isinstance(group, dict):
            items = group.items()
        elif isinstance(group, list):
            items = ((str(g.get("name") or g.get("componentId") or i), g) for i, g in enumerate(group)
                     if isinstance(g, dict))
        else:
            continue
        for name, value in items:
            if isinstance(value, dict):
                state = _state_of(value.get("status", value.get("healthy")))
            elif isinstance(value, list):
                states = [_state_of(v.get("status")) for v in value if isinstance(v, dict)]
                state = "bad" if "bad" in states else ("good" if states else None)
            else:
                state = _state_of(value)
            if state == "bad":
                out.append((str(name), _describe(value)))
        if out:
            break
    return out


def _body_status(body: Any) -> str | None:
    if isinstance(body, dict) and "status" in body:
        return _state_of(body["status"])
    return None


def check_endpoints(probes: Iterable[EndpointProbe]) -> list[Finding]:
    return [check_endpoint(p) for p in probes]


def _f(p: EndpointProbe, check: str, status: Status, reason: str | None, detail: str,
       evidence: tuple[str, ...] = ()) -> Finding:
    return Finding(kind="endpoint", name=p.url, namespace=None, check=check, status=status, reason=reason,
                   detail=clip(detail), evidence=evidence)


def check_endpoint(p: EndpointProbe) -> Finding:
    if p.status_code is None:
        if p.timed_out:
            return _f(p, "endpoint.http", Status.CRITICAL, "EndpointDown", f"no answer within {p.timeout:g}s")
        return _f(p, "endpoint.http", Status.CRITICAL, "EndpointDown", p.error or "no answer")
    took = f"{p.latency * 1000:.0f} ms" if p.latency is not None else "?"
    deps = failing_dependencies(p.body)
    evidence = tuple(clip(f"{name}: {what}", 200) for name, what in deps)
    said = _body_status(p.body)
    if deps:
        names = ", ".join(clip(n, 60) for n, _ in deps)
        first = clip(deps[0][1], 160)
        status = Status.CRITICAL if p.status_code >= 500 else Status.WARNING
        return _f(p, "endpoint.dependency", status, "DependencyDown",
                  f"HTTP {p.status_code} in {took}: dependency {names} down ({first})", evidence)
    if p.status_code >= 400:
        status = Status.CRITICAL if p.status_code >= 500 else Status.WARNING
        text = _say(p)
        return _f(p, "endpoint.http", status, "EndpointDown", f"HTTP {p.status_code} in {took}{text}")
    if said == "bad":
        return _f(p, "endpoint.http", Status.WARNING, "EndpointDown",
                  f"HTTP {p.status_code} in {took} but the body says {_say(p).lstrip(': ')}")
    if p.latency is not None and p.latency >= SLOW_WARNING:
        status = Status.CRITICAL if p.latency >= SLOW_CRITICAL else Status.WARNING
        return _f(p, "endpoint.latency", status, "EndpointSlow",
                  f"HTTP {p.status_code} in {took} (warning at {SLOW_WARNING:g}s, critical at {SLOW_CRITICAL:g}s)")
    return _f(p, "endpoint.http", Status.OK, None, f"HTTP {p.status_code} in {took}")


def _say(p: EndpointProbe) -> str:
    if isinstance(p.body, dict):
        parts = [f"{k}: {_describe(p.body[k])}" for k in ("status", "error", "message") if k in p.body]
        return ": " + clip("; ".join(parts), 200) if parts else ""
    text = _readable(p.text)
    return ": " + clip(text, 160) if text else ""


_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)
_TAG = re.compile(r"<[^>]+>")


def _readable(text: str) -> str:
    """A body as a person reads it: an HTML error page by its <title> (else its text without the
    markup), anything else as it is, on one line."""
    if "<" in text and re.search(r"<(!doctype|html|head|body|title|h1|p)\b", text, re.I):
        title = _TITLE.search(text)
        text = title.group(1) if title and title.group(1).strip() else _TAG.sub(" ", text)
    return " ".join(html.unescape(text).split())
