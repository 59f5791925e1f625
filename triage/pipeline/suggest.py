"""`triage queries check` on a new cluster: which families answered, what will be missing, and
the `signals:` override to write for it.

The families come from the check's own rows. For the request signals no family answered, the
cluster's metric names are read (one query for the names that look like HTTP or request
metrics, one per candidate for its status and identity labels) and an override is written from
what is there: a single-service query with `$service` and `$rate`, as `signals:` in triage.yaml
takes it. It is a suggestion from names, and says so; signals of other exporters (cAdvisor,
kube-state-metrics, postgres_exporter) get a line naming what to scrape instead.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from triage.catalog import Catalog
from triage.errors import SourceError
from triage.models import RangeQuery, Series
from triage.promql import escape_label_value, regex_literal
from triage.signals import Windows
from triage.sources.interface import MetricsSource

_METRIC = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_WORDS = "(?i).*(http|request|rpc|server|client).*"
NAME_PROBE = f'count by (__name__) ({{__name__=~"{_WORDS}"}})'
STATUS_LABELS = ("http_response_status_code", "http_status_code", "status_code", "status", "code", "response_code")
IDENTITY_LABELS = ("service", "job", "app", "application", "service_name")
REQUEST_SIGNALS = ("rps", "error_ratio", "latency_p95", "inflight")
CLIENT_SIGNALS = ("dependency_latency_p95", "dependency_edge_latency_p95", "dependency_error_ratio")

# What to scrape when a non-request family is missing (the catalog's family names).
EXPORTERS = {
    "cadvisor": "the kubelet's cAdvisor endpoint (container_* series)",
    "kube-state-metrics": "kube-state-metrics (kube_* series)",
    "cadvisor+kube-state-metrics": "cAdvisor and kube-state-metrics",
    "postgres_exporter": "postgres_exporter (pg_* series)",
    "pgbouncer_exporter": "pgbouncer_exporter (pgbouncer_* series)",
    "application": "the service's own client library (db_*, process_* series)",
}


@dataclass(frozen=True)
class Candidates:
    histogram: str | None = None          # a request-duration histogram's name (without _bucket)
    millis: bool = False
    counter: str | None = None            # a request counter (…_total), else the histogram's _count
    inflight: str | None = None
    client_histogram: str | None = None
    status: str | None = None             # the counter's status label
    identity: str = "service"             # the label naming the service


def families(results: Sequence[Mapping[str, Any]], catalog: Catalog) -> dict[str, Any]:
    """Every family of the catalog: which signals it answered, for which services, or none."""
    rows: dict[str, dict[str, Any]] = {}
    for spec in catalog.signals.values():
        for alt in spec.alternatives:
            rows.setdefault(alt.family or "(unnamed)", {"found": False, "signals": [], "services": []})
    for r in results:
        row = rows.setdefault(r["family"] or "(unnamed)", {"found": False, "signals": [], "services": []})
        if r["status"] == "data":
            row["found"] = True
            if r["signal"] not in row["signals"]:
                row["signals"].append(r["signal"])
            row["services"] = sorted(set(row["services"]) | set(r["services"]))[:50]
    return rows


def _names(answer: list[Series] | SourceError) -> list[str]:
    if isinstance(answer, SourceError):
        return []
    return sorted({s.labels.get("__name__", "") for s in answer
                   if any(math.isfinite(v) for _, v in s.points)} - {""})


def _pick(names: Sequence[str], suffix: str, words: str, avoid: str = "client|outbound") -> str | None:
    pattern, skip = re.compile(words), re.compile(avoid)
    found = [n for n in names if n.endswith(suffix) and _METRIC.match(n) and pattern.search(n) and not skip.search(n)]
    return min(found, key=len) if found else None


def candidates_from(names: Sequence[str]) -> Candidates:
    """The names that look like a request histogram, counter, in-flight gauge and client histogram."""
    hist = _pick(names, "_bucket", r"(request|server|http).*(duration|latency|time|seconds|milliseconds)")
    counter = _pick(names, "_total", r"(request|http)")
    inflight = next((n for n in names if _METRIC.match(n) and re.search(
        r"(in_?flight|in_?progress|active_requests|concurrent)", n) and not n.endswith(("_bucket", "_sum"))), None)
    client = _pick(names, "_bucket", r"client.*(duration|latency|time|seconds|milliseconds)", avoid="^$")
    base = hist[: -len("_bucket")] if hist else None
    return Candidates(histogram=base, millis=bool(base and re.search(r"(milli|_ms$|_ms_)", base)),
                      counter=counter, inflight=inflight,
                      client_histogram=client[: -len("_bucket")] if client else None)


def _labels_probe(metric: str) -> str:
    return f"count by ({', '.join(STATUS_LABELS + IDENTITY_LABELS)}) ({metric})"


def _present(answer: list[Series] | SourceError, labels: Sequence[str]) -> str | None:
    if isinstance(answer, SourceError):
        return None
    seen = {k for s in answer for k, v in s.labels.items() if v}
    return next((label for label in labels if label in seen), None)


def name_probe(service: str | None = None) -> str:
    """The names that look like request metrics; for one service, only those of its own series
    (named by `service`, or by a `job` ending in its name)."""
    if service is None:
        return NAME_PROBE
    name, job = escape_label_value(service), escape_label_value(regex_literal(service))
    return (f'count by (__name__) ({{__name__=~"{_WORDS}", service="{name}"}}'
            f' or {{__name__=~"{_WORDS}", job=~"(.+/)?{job}"}})')


def probe(source: MetricsSource, windows: Windows, service: str | None = None) -> Candidates:
    """Two rounds of queries: the names, then the candidate counter's status and identity labels."""
    end = windows.end
    at = RangeQuery(name_probe(service), end - windows.step, end, windows.step)
    found = candidates_from(_names(source.query_range_many([at])[0]))
    metric = found.counter or (f"{found.histogram}_count" if found.histogram else None)
    if metric is None:
        return found
    answer = source.query_range_many([RangeQuery(_labels_probe(metric), end - windows.step, end, windows.step)])[0]
    return Candidates(**{**found.__dict__, "status": _present(answer, STATUS_LABELS),
                         "identity": _present(answer, IDENTITY_LABELS) or "service"})


def _overrides(c: Candidates) -> dict[str, str]:
    sel = f'{c.identity}="$service"' if c.identity != "job" else 'job=~"(.+/)?$service"'
    out: dict[str, str] = {}
    total = f"{c.counter}" if c.counter else (f"{c.histogram}_count" if c.histogram else None)
    if total:
        out["rps"] = f"sum(rate({total}{{{sel}}}[$rate]))"
        if c.status:
            out["error_ratio"] = (f'(sum(rate({total}{{{sel}, {c.status}=~"5.."}}[$rate])) or vector(0))'
                                  f" / sum(rate({total}{{{sel}}}[$rate]))")
    if c.histogram:
        scale = " / 1000" if c.millis else ""
        out["latency_p95"] = (f"histogram_quantile(0.95, sum by (le) (rate({c.histogram}_bucket{{{sel}}}[$rate])))"
                              f"{scale}")
    if c.inflight:
        out["inflight"] = f"sum({c.inflight}{{{sel}}})"
    if c.client_histogram:
        scale = " / 1000" if re.search(r"(milli|_ms$)", c.client_histogram) else ""
        out["dependency_latency_p95"] = (f"histogram_quantile(0.95, sum by (le) "
                                         f"(rate({c.client_histogram}_bucket{{{sel}}}[$rate]))){scale}")
    return out


def suggestion(missing: Sequence[str], tried: Mapping[str, Sequence[str]], c: Candidates) -> tuple[dict[str, str], str]:
    """The overrides for `missing` signals (name → query) and the YAML to paste, with a comment line
    for each missing signal it could not write a query for."""
    written = {k: v for k, v in _overrides(c).items() if k in missing}
    lines = []
    if written:
        lines.append("# from this cluster's metric names: check each query before relying on it")
        lines.append(yaml.safe_dump({"signals": written}, sort_keys=False, width=10**6, allow_unicode=True).rstrip())
    for name in missing:
        if name in written:
            continue
        fams = [f for f in tried.get(name, ()) if f]
        where = sorted({EXPORTERS[f] for f in fams if f in EXPORTERS})
        if name in REQUEST_SIGNALS or name in CLIENT_SIGNALS:
            lines.append(f"# {name}: no metric here looks like it; write its query under signals: "
                         f"(single service, $service and $rate)")
        elif where:
            lines.append(f"# {name}: scrape {' or '.join(where)}")
        else:
            lines.append(f"# {name}: none of {', '.join(fams) or 'its queries'} answered")
    return written, "\n".join(lines) + "\n" if lines else ""
