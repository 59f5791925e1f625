"""Incident record + Jinja template → a post-mortem draft (seed 001 phase 5).

Every value that came from outside (label values, service names, log lines) is escaped
for markdown in the context before it reaches the template; Jinja runs with
StrictUndefined so a template that asks for something the record lacks fails loudly.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

from triage.catalog import search_dirs
from triage.errors import ConfigError
from triage.render.escape import md, md_code, strip_control

# Seed 004: RPS ≈ users × actions per minute / 60, so users ≈ RPS × 60 / actions.
ACTIONS_PER_USER_PER_MINUTE = 10
MAX_TEMPLATE_BYTES = 1024 * 1024


def _ts(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _hhmm(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%H:%M")


def _fmt(value: Any, unit: str) -> str:
    from triage.render.units import fmt

    if not isinstance(value, (int, float)) or not math.isfinite(value):
        return "n/a"
    return fmt(float(value), unit)


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


_YEAR_10000 = 253402300800  # a point's time past what a date can show is not a point of this incident


def _points(record: Mapping[str, Any], service: str, signal: str) -> list[tuple[float, float]]:
    raw = ((record.get("series") or {}).get(service) or {}).get(signal) or {}
    out = []
    for p in raw.get("points") or []:
        if (isinstance(p, list) and len(p) == 2 and isinstance(p[0], (int, float)) and 0 <= p[0] < _YEAR_10000
                and isinstance(p[1], (int, float)) and math.isfinite(p[1])):
            out.append((float(p[0]), float(p[1])))
    return out


def _chart(title: str, axis: str, points: Sequence[tuple[float, float]], scale: float = 1.0) -> str | None:
    """A mermaid xychart-beta block (renders on GitHub and GitLab)."""
    if len(points) < 2:
        return None
    labels = ", ".join(f'"{_hhmm(t)}"' for t, _ in points)
    values = [v * scale for _, v in points]
    top = max(values) * 1.15 or 1.0
    data = ", ".join(f"{v:.4g}" for v in values)
    safe_title = "".join(ch for ch in strip_control(title) if ch not in '"`\\{}[]<>')
    return (f"```mermaid\nxychart-beta\n    title \"{safe_title}\"\n    x-axis [{labels}]\n"
            f"    y-axis \"{axis}\" 0 --> {top:.4g}\n    line [{data}]\n```")


def _prom_link(base: str | None, query: str, end: float | None, span: float) -> str | None:
    if not base or not base.startswith("http"):
        return None
    end_s = datetime.fromtimestamp(end, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S") if end else ""
    minutes = max(1, int(span // 60))
    return (f"{base.rstrip('/')}/graph?g0.expr={quote(query, safe='')}&g0.tab=0"
            f"&g0.range_input={minutes}m&g0.end_input={quote(end_s)}")


def _crossings(points: Sequence[tuple[float, float]], bound: float | None, label: str) -> Iterable[tuple[float, str]]:
    if bound is None:
        return []
    for t, v in points:
        if v > bound:
            return [(t, label)]
    return []


def _impact(record: Mapping[str, Any], service: str, w0: float | None, w1: float | None) -> dict[str, Any]:
    """Duration, failed requests, peaks and affected users, from the chart series of the window."""
    rps = _points(record, service, "rps")
    p95 = _points(record, service, "latency_p95")
    err = _points(record, service, "error_ratio")
    in_window = (lambda pts: [(t, v) for t, v in pts if w0 is not None and t >= w0])  # noqa: E731
    step = float(record.get("step") or 15)
    failed = None
    if rps and err:
        err_at = dict(err)
        # increase() over the window: Σ rate × step, with the chart's own step.
        chart_step = (rps[1][0] - rps[0][0]) if len(rps) > 1 else step
        failed = sum(v * err_at.get(t, 0.0) * chart_step for t, v in in_window(rps))
    peak_p95 = max((v for _, v in in_window(p95)), default=None)
    peak_err = max((v for _, v in in_window(err)), default=None)
    peak_rps = max((v for _, v in in_window(rps)), default=None)
    users = peak_rps * 60 / ACTIONS_PER_USER_PER_MINUTE if peak_rps else None
    return {
        "duration_minutes": round(((w1 or 0) - (w0 or 0)) / 60) if w0 and w1 else None,
        "failed_requests": round(failed) if failed is not None and math.isfinite(failed) else None,
        "peak_p95": _fmt(peak_p95, "s"),
        "peak_error_ratio": _fmt(peak_err, "ratio"),
        "peak_rps": _fmt(peak_rps, "req/s"),
        "affected_users": round(users) if users and math.isfinite(users) else None,
        "actions_per_user_per_minute": ACTIONS_PER_USER_PER_MINUTE,
    }


def _timeline(record: Mapping[str, Any], service: str, alerts: Sequence[Mapping[str, Any]],
              thresholds: Mapping[str, tuple[Any, Any]], w0: float | None) -> list[dict[str, str]]:
    """What happened when: the window, alerts, threshold crossings, rollouts, replicas, triage's phases."""
    p95 = _points(record, service, "latency_p95")
    err = _points(record, service, "error_ratio")
    events: list[tuple[float, str]] = []
    if w0:
        events.append((w0, "incident window opens"))
    for a in alerts:
        t = _ts(a.get("starts_at"))
        if t:
            events.append((t, f"alert {md(a.get('alertname'))} ({md(a.get('severity') or 'no severity')}) firing"))
    lw, lc = thresholds.get("latency_p95", (None, None))
    events += _crossings(p95, lw, f"p95 latency above the warning {_fmt(lw, 's')}")
    events += _crossings(p95, lc, f"p95 latency above the critical {_fmt(lc, 's')}")
    ew, ec = thresholds.get("error_ratio", (None, None))
    events += _crossings(err, ew, f"error ratio above {_fmt(ew, 'ratio')}")
    events += _crossings(err, ec, f"error ratio above {_fmt(ec, 'ratio')}")
    deploys = _points(record, service, "deploys")
    for (_, old), (t, new) in zip(deploys, deploys[1:]):
        if new > old:
            events.append((t, f"rollout: deployment generation {old:.0f} → {new:.0f}"))
    replicas = _points(record, service, "replicas")
    for (_, old), (t, new) in zip(replicas, replicas[1:]):
        if new != old:
            events.append((t, f"replicas {old:.0f} → {new:.0f}"))
    for name, ph in (record.get("phases") or {}).items():
        t = _ts(ph.get("started"))
        if t:
            events.append((t, f"triage {md(name)}: {md(ph.get('status'))}"))
    events.sort(key=lambda e: e[0])
    return [{"time": datetime.fromtimestamp(t, tz=timezone.utc).strftime("%Y-%m-%d %H:%M"), "event": e}
            for t, e in events]


def _detection(record: Mapping[str, Any], service: str, alerts: Sequence[Mapping[str, Any]],
               latency_warning: Any) -> dict[str, Any]:
    """The first alert, and how long after p95 crossed its warning it fired."""
    p95 = _points(record, service, "latency_p95")
    first_alert = alerts[0] if alerts else None
    onset = next((t for t, v in p95 if latency_warning is not None and v > latency_warning), None)
    ttd = None
    if first_alert and onset:
        ta = _ts(first_alert.get("starts_at"))
        if ta:
            ttd = max(0.0, (ta - onset) / 60)
    return {
        "first_alert": md(first_alert.get("alertname")) if first_alert else None,
        "first_alert_at": md(first_alert.get("starts_at")) if first_alert else None,
        "time_to_detect_minutes": round(ttd, 1) if ttd is not None else None,
    }


def _evidence(rca: Mapping[str, Any], top: Mapping[str, Any], backend: str | None, end: float | None,
              span: float) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The top candidate's evidence rows, and each distinct query once, with a link to the backend."""
    evidence = []
    queries: list[dict[str, Any]] = []
    for ev in top.get("evidence") or []:
        evidence.append({"signal": md(ev.get("signal") or ""), "baseline": _fmt(ev.get("baseline"), _unit(rca, ev)),
                         "window": _fmt(ev.get("window"), _unit(rca, ev)), "summary": md(ev.get("summary") or "")})
        q = ev.get("query")
        if q and q not in [x["raw"] for x in queries]:
            queries.append({"raw": q, "code": md_code(q), "link": _prom_link(backend, q, end, span)})
    return evidence, queries


def _charts(record: Mapping[str, Any], service: str, top: Mapping[str, Any]) -> list[dict[str, str]]:
    """The golden signals, and the bottleneck's own signal when it is another one."""
    charts = []
    for signal, title, axis, scale in (("latency_p95", "p95 latency", "seconds", 1.0),
                                       ("rps", "requests per second", "req/s", 1.0),
                                       ("error_ratio", "error ratio", "percent", 100.0)):
        block = _chart(f"{service} {title}", axis, _points(record, service, signal), scale)
        if block:
            charts.append({"title": title, "block": block})
    lead = next((ev.get("signal") for ev in top.get("evidence") or [] if ev.get("signal")), None)
    if lead and lead not in ("latency_p95", "rps", "error_ratio"):
        pts = _points(record, service, lead)
        unit = ((record.get("series") or {}).get(service, {}).get(lead) or {}).get("unit", "")
        block = _chart(f"{service} {lead}", unit or lead, pts, 100.0 if unit == "ratio" else 1.0)
        if block:
            charts.append({"title": f"{lead} (the bottleneck's signal)", "block": block})
    return charts


def _fixes_and_actions(record: Mapping[str, Any]) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    fixes = []
    pb = record.get("playbooks") or {}
    for step_ in (pb.get("fixes") or []) if isinstance(pb, dict) else []:
        if isinstance(step_, dict):
            fixes.append({"title": md(step_.get("title", "")), "priority": md(step_.get("priority") or
                                                                              step_.get("risk") or ""),
                          "metric": md_code(step_.get("success_metric")) if step_.get("success_metric") else ""})
    actions = []
    for a in record.get("actions") or []:
        if isinstance(a, dict):
            actions.append({"time": md(a.get("time", "")), "what": md(a.get("what", a.get("action", ""))),
                            "target": md(a.get("target", "")), "result": md(a.get("result", ""))})
    return fixes, actions


def build_context(record: Mapping[str, Any]) -> dict[str, Any]:
    """The template's context: every value from the record, escaped for markdown, computed once."""
    rca = primary_rca(record) or {}
    service = str(rca.get("service") or (record.get("services") or [{}])[0].get("name", "?"))
    window = record.get("window") or {}
    baseline = record.get("baseline") or {}
    w0, w1 = _ts(window.get("start")), _ts(window.get("end"))
    b0 = _ts(baseline.get("start"))
    span = (w1 - b0) if (w1 and b0) else 3600.0

    detect = record.get("detect") or {}
    det_svc: dict[str, Any] = next((s for s in detect.get("services") or [] if s.get("service") == service), {})
    alerts = sorted(det_svc.get("alerts") or [], key=lambda a: a.get("starts_at") or "")
    thresholds = {name: (sig.get("warning"), sig.get("critical"))
                  for name, sig in (det_svc.get("signals") or {}).items()}
    top = (rca.get("candidates") or [{}])[0] if rca.get("candidates") else {}
    evidence, queries = _evidence(rca, top, record.get("backend") or None, w1, span)
    fixes, actions = _fixes_and_actions(record)
    bottleneck = str(rca.get("bottleneck") or "unknown")
    return {
        "id": md(record.get("id", "")),
        "title": f"{md(service)}: {md(bottleneck.replace('_', ' '))}",
        "date": md(str(window.get("end") or "")[:10]),
        "status": "Draft",
        "service": md(service),
        "namespace": md(rca.get("namespace") or ""),
        "severity": md(rca.get("severity") or "none"),
        "summary": md(rca.get("summary") or "no root-cause analysis in this record"),
        "bottleneck": md(bottleneck),
        "confidence": rca.get("confidence") if isinstance(rca.get("confidence"), (int, float)) else 0.0,
        "trigger": md(rca.get("trigger") or "unknown"),
        "window": {"start": md(window.get("start", "")), "end": md(window.get("end", ""))},
        "impact": _impact(record, service, w0, w1),
        "detection": _detection(record, service, alerts, thresholds.get("latency_p95", (None, None))[0]),
        "evidence": evidence,
        "queries": queries,
        "capacity": [md(line) for line in (rca.get("capacity") or {}).get("lines", [])],
        "missing": [md(m) for m in rca.get("missing_signals") or []],
        "timeline": _timeline(record, service, alerts, thresholds, w0),
        "charts": _charts(record, service, top),
        "actions": actions,
        "fixes": fixes,
        "tool_version": md((record.get("tool") or {}).get("version", "")),
        "notification": notification_context(record),
    }


def notification_context(record: Mapping[str, Any]) -> dict[str, Any] | None:
    """The alert that started a `triage serve` run: its annotations and, once resolved, when it
    ended; None for a record written by `triage run`."""
    note = record.get("notification")
    if not isinstance(note, dict):
        return None
    first = next((a for a in note.get("alerts") or [] if isinstance(a, dict)), {})
    started, resolved = _ts(note.get("started")), _ts(note.get("resolved"))
    return {
        "alertname": md(first.get("alertname") or ""), "summary": md(first.get("summary") or ""),
        "description": md(first.get("description") or ""), "runbook_url": md(first.get("runbook_url") or ""),
        "source": md(note.get("source") or "alertmanager"), "alerts": int(note.get("alert_count") or 0),
        "started": md(note.get("started") or ""), "resolved": md(note.get("resolved") or ""),
        "duration_minutes": round((resolved - started) / 60) if started and resolved else None,
    }


def _unit(rca: Mapping[str, Any], ev: Mapping[str, Any]) -> str:
    sig = (rca.get("signals") or {}).get(ev.get("signal") or "") or {}
    return str(sig.get("unit") or "")


def find_template(name: str, user_dirs: Sequence[Path]) -> Path:
    """A path, or a name looked up in the user's template dirs first, then the bundled ones."""
    candidate = Path(name).expanduser()
    if candidate.suffix and (candidate.is_file() or "/" in name):
        if not candidate.is_file():
            raise ConfigError(f"{candidate}: template not found")
        return candidate
    for directory in search_dirs("templates", user_dirs):
        for fname in (name, f"{name}.md.j2", f"{name}.j2"):
            path = directory / fname
            if path.is_file():
                return path
    raise ConfigError(f"template {name!r} not found in "
                      f"{', '.join(str(d) for d in search_dirs('templates', user_dirs))}")


def render(record: Mapping[str, Any], template: Path) -> str:
    import jinja2

    try:
        size = template.stat().st_size
        if size > MAX_TEMPLATE_BYTES:
            raise ConfigError(f"{template}: {size} bytes is too large for a template")
        source = template.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{template}: not UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"{template}: cannot read: {exc.strerror}") from None
    # Sandboxed: a template from a user's directory is text to fill, not code to run.
    env = _bounded_sandbox()(loader=jinja2.FileSystemLoader(str(template.parent)),
                               undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True,
                               trim_blocks=True, lstrip_blocks=True)
    try:
        compiled = env.from_string(source)
    except jinja2.TemplateSyntaxError as exc:
        raise ConfigError(f"{template}:{exc.lineno}: template syntax error: {exc.message}") from None
    try:
        return compiled.render(**build_context(record))
    except jinja2.UndefinedError as exc:
        raise ConfigError(f"{template}: {exc.message} (the record has no such value)") from None
    except jinja2.TemplateError as exc:
        raise ConfigError(f"{template}: {type(exc).__name__}: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{template}: the template recurses without end (an include or macro loop)") from None
    except MemoryError:
        raise ConfigError(f"{template}: rendering needs more memory than there is") from None


MAX_RENDERED = 16 * 1024 * 1024   # characters one `*` may make: far above any post-mortem
MAX_EXPONENT = 4096


def _bounded_sandbox():
    """The sandbox, with `'x' * 10**12` and `9 ** 10**9` refused in one line instead of taking every
    byte of memory or a core for minutes (the sandbox already bounds range())."""
    from jinja2.exceptions import SecurityError
    from jinja2.sandbox import SandboxedEnvironment

    class Bounded(SandboxedEnvironment):
        intercepted_binops = frozenset({"*", "**"})

        def call_binop(self, context, operator, left, right):  # type: ignore[no-untyped-def]
            if operator == "*":
                for seq, times in ((left, right), (right, left)):
                    if (isinstance(seq, (str, list, tuple)) and isinstance(times, int)
                            and len(seq) * times > MAX_RENDERED):
                        raise SecurityError(f"a repetition of {len(seq) * times} items is too large for a template")
            if (operator == "**" and isinstance(left, int) and isinstance(right, int)
                    and abs(left) > 1 and right > MAX_EXPONENT):
                raise SecurityError(f"an exponent of {right} is too large for a template")
            return super().call_binop(context, operator, left, right)

    return Bounded
