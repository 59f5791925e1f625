"""The template's context: every value from the record, escaped for markdown, computed once.

Every value that came from outside (label values, service names, log lines) is escaped for
markdown here, before it reaches the template."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from triage.postmortem.charts import charts
from triage.postmortem.notification import notification_context
from triage.postmortem.series import chart_points, clock, stamp, ts
from triage.postmortem.timeline import GOLDEN, Facts, durations, phases, signal_onset, timeline
from triage.render.escape import md, md_code
from triage.render.units import fmt as _unit_fmt

# RPS ≈ active users × actions per minute / 60, so active users ≈ RPS × 60 / actions per minute.
ACTIONS_PER_USER_PER_MINUTE = 10
# Hosts that only stand for a Prometheus (RFC 2606/6761): a link to them opens nothing.
PLACEHOLDER_SUFFIXES = (".example", ".invalid", ".test", "example.com", "example.org", "example.net")


def _fmt(value: Any, unit: str) -> str:
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        return "n/a"
    return _unit_fmt(float(value), unit)


def primary_rca(record: Mapping[str, Any]) -> dict[str, Any] | None:
    """The service the post-mortem is about: the only one, or the fleet's top-ranked one."""
    rca = record.get("rca")
    if not isinstance(rca, dict):
        return None
    if rca.get("schema") == "triage.fleet/v1":
        ranking = rca.get("ranking") or []
        services = rca.get("services") or {}
        for row in ranking:
            if row.get("service") in services:
                return services[row["service"]]
        return None
    return rca


def prometheus_base(url: Any) -> str | None:
    """A Prometheus a reader can open: http(s), a real host, no credentials in the link."""
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return None
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().rstrip(".")
    if not host or host.endswith(PLACEHOLDER_SUFFIXES) or host in ("example", "prometheus"):
        return None
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    if ":" in host and not host.startswith("["):
        netloc = f"[{host}]" if parts.port is None else f"[{host}]:{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))


def _prom_link(base: str | None, query: str, end: float | None, span: float) -> str | None:
    if not base:
        return None
    end_s = datetime.fromtimestamp(end, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S") if end else ""
    minutes = max(1, int(span // 60))
    return (f"{base}/graph?g0.expr={quote(query, safe='')}&g0.tab=0"
            f"&g0.range_input={minutes}m&g0.end_input={quote(end_s)}")


def _impact(f: Facts) -> dict[str, Any]:
    """User impact: when it started and ended, failed requests, peaks and active users at peak."""
    rps, err = chart_points(f.record, f.service, "rps"), chart_points(f.record, f.service, "error_ratio")
    w0 = f.w0
    in_window = (lambda pts: [(t, v) for t, v in pts if w0 is not None and t >= w0])  # noqa: E731
    failed = None
    if len(rps) > 1 and err:
        err_at = dict(err)
        failed = sum(v * err_at.get(t, 0.0) * (rps[1][0] - rps[0][0]) for t, v in in_window(rps))
    peak_rps = max((v for _, v in in_window(rps)), default=None)
    users = peak_rps * 60 / ACTIONS_PER_USER_PER_MINUTE if peak_rps else None
    start, end = f.impact_start(), f.impact_end()
    return {
        "start": stamp(start) if start else None,
        "end": stamp(end) if end else None,
        "record_end": stamp(f.w1) if f.w1 else "?",
        "failed_requests": round(failed) if failed is not None and math.isfinite(failed) else None,
        "peak_p95": _fmt(max((v for _, v in in_window(f.points("latency_p95"))), default=None), "s"),
        "peak_error_ratio": _fmt(max((v for _, v in in_window(err)), default=None), "ratio"),
        "peak_rps": _fmt(peak_rps, "req/s"),
        "active_users": round(users) if users and math.isfinite(users) else None,
        # The names earlier templates used (a template of one's own may still ask for them).
        "affected_users": round(users) if users and math.isfinite(users) else None,
        "duration_minutes": round((f.w1 - w0) / 60) if w0 and f.w1 else None,
        "actions_per_user_per_minute": ACTIONS_PER_USER_PER_MINUTE,
    }


def _slo(record: Mapping[str, Any], service: str) -> str | None:
    """The error budget the incident spent, when detect had an SLO for the service (None: no SLO)."""
    det = next((s for s in (record.get("detect") or {}).get("services") or []
                if isinstance(s, dict) and s.get("service") == service), {})
    slo = det.get("slo")
    if not isinstance(slo, dict):
        return None
    period = md(slo.get("period") or "?")
    objective = slo.get("objective")
    shown = f"{objective * 100:g} %" if isinstance(objective, (int, float)) else "?"
    what = f"objective {shown}, {md(slo.get('sli') or 'errors')} SLI"
    budget = slo.get("budget") or {}
    spent, left = budget.get("spent_in_window"), budget.get("remaining")
    if not isinstance(spent, (int, float)):
        return f"not computed ({what}): {md(slo.get('missing') or 'no data for the examined window')}"
    text = f"≈ {_fmt(spent, 'ratio')} of the {period} error budget in the examined window ({what})"
    if isinstance(left, (int, float)):
        text += f"; {_fmt(max(0.0, left), 'ratio')} of it left over {period} when the record ends"
        if left < 0:
            text += f" (overspent: {_fmt(1 - left, 'ratio')} used)"
    firing = [a for a in slo.get("alerts") or [] if isinstance(a, dict) and a.get("firing")]
    for a in firing:
        text += (f"; burning {a.get('burn_long', 0):.1f}× over {md(a.get('long'))} and "
                 f"{a.get('burn_short', 0):.1f}× over {md(a.get('short'))}, past the workbook's "
                 f"{md(a.get('severity'))} threshold of {a.get('threshold', 0):g}×")
    return text


def _detection(f: Facts) -> dict[str, Any]:
    first = f.alerts[0] if f.alerts else None
    at, start = f.first_alert(), f.impact_start()
    return {"first_alert": md(first.get("alertname")) if first else None,
            "first_alert_at": stamp(at) if first and at else None,
            "time_to_detect_minutes": round(max(0.0, at - start) / 60, 1) if at and start else None}


def _evidence(f: Facts, top: Mapping[str, Any], base: str | None, span: float) -> tuple[list[dict[str, Any]],
                                                                                       list[dict[str, Any]]]:
    """The top candidate's evidence, one row per signal (its findings joined), and each query once."""
    rows: dict[str, dict[str, Any]] = {}
    queries: list[dict[str, Any]] = []
    for ev in top.get("evidence") or []:
        name = str(ev.get("signal") or "")
        unit = f.unit(name)
        row = rows.setdefault(name, {"signal": md(name), "baseline": _fmt(ev.get("baseline"), unit),
                                     "window": _fmt(ev.get("window"), unit), "findings": []})
        if ev.get("summary") and md(ev["summary"]) not in row["findings"]:
            row["findings"].append(md(ev["summary"]))
    charted = [(name, (f.signals.get(name) or {}).get("query")) for name in GOLDEN]
    for name, q in [(str(ev.get("signal") or ""), ev.get("query")) for ev in top.get("evidence") or []] + charted:
        if q and q not in [x["raw"] for x in queries]:
            queries.append({"raw": q, "signal": md(name), "code": md_code(q), "link": _prom_link(base, q, f.w1, span)})
    return [{**r, "summary": "; ".join(r["findings"])} for r in rows.values()], queries


def _trigger(f: Facts, trigger: str) -> str:
    """The trigger, and when the data show it began (the surge's onset in the request rate)."""
    words = md(trigger.replace("_", " "))
    found = signal_onset(f, "rps") if trigger == "traffic_surge" else None
    if not found:
        return f"{words[:1].upper()}{words[1:]}."
    t, base, value = found
    return (f"{words[:1].upper()}{words[1:]}: requests rose from {_fmt(base, 'req/s')} (baseline) to "
            f"{_fmt(value, 'req/s')} at {stamp(t)} UTC, and peaked at {_impact(f)['peak_rps']}.")


def _action_items(record: Mapping[str, Any]) -> list[dict[str, str]]:
    """The playbooks' steps as action items: mitigations to finish, fixes that prevent, alerting as process."""
    pb = record.get("playbooks") or {}
    items = []
    for key in ("mitigations", "fixes"):
        for s in (pb.get(key) or []) if isinstance(pb, dict) else []:
            if not isinstance(s, dict):
                continue
            kind = "mitigate" if key == "mitigations" else \
                ("process" if "alert" in str(s.get("id") or "").split("/")[-1] else "prevent")
            items.append({"type": kind, "title": md(s.get("title", "")), "priority": md(s.get("priority") or ""),
                          "metric": md_code(s.get("success_metric")) if s.get("success_metric") else ""})
    return items


def _actions(record: Mapping[str, Any]) -> list[dict[str, str]]:
    return [{"time": md(a.get("time", "")), "what": md(a.get("what", a.get("action", ""))),
             "target": md(a.get("target", "")), "result": md(a.get("result", ""))}
            for a in record.get("actions") or [] if isinstance(a, dict)]


def _facts(record: Mapping[str, Any], rca: Mapping[str, Any], service: str) -> Facts:
    detect = record.get("detect") or {}
    det_svc: dict[str, Any] = next((s for s in detect.get("services") or [] if s.get("service") == service), {})
    alerts = sorted(det_svc.get("alerts") or [], key=lambda a: a.get("starts_at") or "")
    return Facts(record, service, det_svc, rca, alerts)


def _marks(f: Facts) -> str:
    if not f.w0:
        return ""
    text = f"The window starts at {clock(f.w0)} UTC (0 on the time axis; the baseline is before it)"
    first = f.first_alert()
    if first:
        text += f"; the first alert fired at {clock(first)} UTC ({(first - f.w0) / 60:+.2g} min)"
    return text + "."


def build_context(record: Mapping[str, Any], prometheus_url: str | None = None) -> dict[str, Any]:
    """The template's context. `prometheus_url` is the configured Prometheus; without one the
    record's own backend is linked, unless it is a placeholder host."""
    rca = primary_rca(record) or {}
    service = str(rca.get("service") or (record.get("services") or [{}])[0].get("name", "?"))
    window = record.get("window") or {}
    f = _facts(record, rca, service)
    b0 = ts((record.get("baseline") or {}).get("start"))
    span = (f.w1 - b0) if (f.w1 and b0) else 3600.0
    top = (rca.get("candidates") or [{}])[0] if rca.get("candidates") else {}
    base = prometheus_base(prometheus_url) or prometheus_base(record.get("backend"))
    evidence, queries = _evidence(f, top, base, span)
    bottleneck = str(rca.get("bottleneck") or "unknown")
    trigger = str(rca.get("trigger") or "unknown")
    return {
        "id": md(record.get("id", "")), "title": f"{md(service)}: {md(bottleneck.replace('_', ' '))}",
        "date": md(str(window.get("end") or "")[:10]), "status": "Draft", "service": md(service),
        "namespace": md(rca.get("namespace") or ""), "severity": md(rca.get("severity") or "none"),
        "summary": md(rca.get("summary") or "no root-cause analysis in this record"),
        "bottleneck": md(bottleneck),
        "confidence": rca.get("confidence") if isinstance(rca.get("confidence"), (int, float)) else 0.0,
        "trigger": md(trigger), "trigger_text": _trigger(f, trigger), "trigger_words": md(trigger.replace("_", " ")),
        "what": md(bottleneck.replace("_", " ")),
        "window": {"start": md(window.get("start", "")), "end": md(window.get("end", ""))},
        "impact": _impact(f), "slo": _slo(record, service), "detection": _detection(f), "durations": durations(f),
        "evidence": evidence, "queries": queries, "prometheus": md(base) if base else None,
        "capacity": [md(line) for line in (rca.get("capacity") or {}).get("lines", [])],
        "missing": [md(m) for m in rca.get("missing_signals") or []],
        "timeline": timeline(f), "charts": charts(f, _marks(f)), "actions": _actions(record),
        "action_items": _action_items(record), "phases": phases(record),
        "fixes": [{"title": a["title"], "priority": a["priority"], "metric": a["metric"]}
                  for a in _action_items(record) if a["type"] != "mitigate"],
        "tool_version": md((record.get("tool") or {}).get("version", "")),
        "notification": notification_context(record),
    }

