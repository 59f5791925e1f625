"""Recordings: a run's Prometheus range data as OpenMetrics, plus its labels.

Only the series ``triage`` reads (CONTRACT.md's families) for the recorded service, its
bank stub, its worker's container and its database, sampled at a 5 s step — enough for
``rate(...[1m])`` and triage's 15 s step, small enough to commit. The text is what
``promtool tsdb create-blocks-from openmetrics`` takes: one family at a time (TYPE first),
each series' samples in time order, a histogram's buckets, ``_count`` and ``_sum``
together per timestamp, ``# EOF`` last. Above 2 MB it is written gzip-compressed
(``data.om.gz``).

``labels.json``: ``{"service", "bottleneck", "at", "window", "baseline"}`` (what
``triage rca`` must say, and the arguments to ask it with), plus the scenario, its story,
the expected trigger, invariants, the raw-signal checks and what triage said when it was
recorded.
"""

from __future__ import annotations

import gzip
import json
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

STEP = 5.0
MAX_PLAIN = 2_000_000

APP_METRICS = (
    "http_requests_total", "http_request_duration_seconds_bucket", "http_request_duration_seconds_sum",
    "http_request_duration_seconds_count", "http_requests_inprogress",
    "db_query_duration_seconds_bucket", "db_query_duration_seconds_sum", "db_query_duration_seconds_count",
    "db_connection_pool_size", "db_connection_pool_used", "db_connection_pool_available",
    "db_connection_wait_duration_seconds_bucket", "db_connection_wait_duration_seconds_sum",
    "db_connection_wait_duration_seconds_count", "tickets_remaining",
    "http_client_request_duration_seconds_bucket", "http_client_request_duration_seconds_sum",
    "http_client_request_duration_seconds_count", "process_cpu_seconds_total", "process_resident_memory_bytes",
)
BANK_METRICS = ("http_requests_total", "http_request_duration_seconds_bucket", "http_request_duration_seconds_sum",
                "http_request_duration_seconds_count", "http_requests_inprogress", "process_cpu_seconds_total",
                "process_resident_memory_bytes")
CADVISOR_METRICS = ("container_cpu_usage_seconds_total", "container_spec_cpu_quota", "container_spec_cpu_period",
                    "container_cpu_cfs_throttled_periods_total", "container_cpu_cfs_periods_total",
                    "container_memory_working_set_bytes", "container_spec_memory_limit_bytes",
                    "container_oom_events_total")
KSM_CONTAINER = ("kube_pod_container_status_restarts_total", "kube_pod_container_status_last_terminated_reason",
                 "kube_pod_container_resource_limits")
KSM_DEPLOYMENT = ("kube_deployment_metadata_generation", "kube_deployment_status_observed_generation",
                  "kube_deployment_status_replicas_available", "kube_deployment_spec_replicas")
POSTGRES_DB = ("pg_stat_activity_count", "pg_locks_count")
# A MySQL stack's own server (mysqld_exporter, scraped with stack=<service>): the server-wide
# families, and the per-schema ones the catalog ties the server to the service's schema with.
MYSQL_SERVER = ("mysql_up", "mysql_global_status_threads_connected", "mysql_global_variables_max_connections",
                "mysql_global_status_innodb_row_lock_current_waits",
                "mysql_info_schema_query_response_time_seconds_bucket",
                "mysql_info_schema_query_response_time_seconds_sum",
                "mysql_info_schema_query_response_time_seconds_count")
MYSQL_SCHEMA = ("mysql_info_schema_table_rows", "mysql_perf_schema_events_statements_total",
                "mysql_perf_schema_events_statements_seconds_total")
HISTOGRAMS = ("http_request_duration_seconds", "db_query_duration_seconds", "db_connection_wait_duration_seconds",
              "http_client_request_duration_seconds", "mysql_info_schema_query_response_time_seconds")


def selectors(service: str, bank_pod: str | None, namespace: str = "lab") -> list[str]:
    def names(ms: Iterable[str]) -> str:
        return "|".join(ms)

    out = [
        f'{{__name__=~"{names(APP_METRICS)}",service="{service}"}}',
        f'{{__name__=~"{names(CADVISOR_METRICS)}",namespace="{namespace}",container="{service}"}}',
        f'{{__name__=~"{names(KSM_CONTAINER)}",namespace="{namespace}",container="{service}"}}',
        f'{{__name__=~"{names(KSM_DEPLOYMENT)}",namespace="{namespace}",deployment="{service}"}}',
        f'{{__name__=~"{names(POSTGRES_DB)}",datname="{service}"}}',
        'pg_settings_max_connections',
        f'{{__name__=~"{names(MYSQL_SERVER)}",stack="{service}"}}',
        f'{{__name__=~"{names(MYSQL_SCHEMA)}",stack="{service}",schema="{service}"}}',
        f'ALERTS{{service="{service}"}}',
    ]
    if bank_pod:
        out.append(f'{{__name__=~"{names(BANK_METRICS)}",service="bank-api",pod="{bank_pod}"}}')
    return out


def fetch(query_range: Callable[[str, float, float, float], list[dict]], service: str, bank_pod: str | None,
          start: float, end: float, step: float = STEP) -> list[dict]:
    """Every series of the selectors as ``{"metric": labels, "values": [[t, "v"], ...]}``."""
    series: dict[tuple, dict] = {}
    for sel in selectors(service, bank_pod):
        for s in query_range(sel, start, end, step):
            key = tuple(sorted(s["metric"].items()))
            series[key] = s
    return list(series.values())


def _family(name: str) -> tuple[str, str, str]:
    """(family name, type, suffix) of a sample name."""
    for base in HISTOGRAMS:
        for suffix in ("_bucket", "_sum", "_count"):
            if name == base + suffix:
                return base, "histogram", suffix
    if name.endswith("_total"):
        return name[: -len("_total")], "counter", "_total"
    return name, "gauge", ""


def _escape(v: str) -> str:
    return v.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels: Mapping[str, str]) -> str:
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(labels.items())) + "}"


def _fmt(v: str) -> str:
    f = float(v)
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    return repr(f) if f != int(f) or abs(f) >= 1e15 else str(int(f))


def _le_key(s: dict) -> float:
    le = s["metric"].get("le", "+Inf")
    return math.inf if le == "+Inf" else float(le)


def openmetrics(series: Sequence[dict]) -> str:
    families: dict[str, dict] = {}
    for s in series:
        labels = dict(s["metric"])
        name = labels.pop("__name__")
        fam, kind, suffix = _family(name)
        entry = families.setdefault(fam, {"type": kind, "groups": defaultdict(list)})
        group_key = tuple(sorted((k, v) for k, v in labels.items() if k != "le"))
        entry["groups"][group_key].append({"name": name, "suffix": suffix, "metric": labels, "values": s["values"]})
    out: list[str] = []
    for fam in sorted(families):
        entry = families[fam]
        out.append(f"# TYPE {fam} {entry['type']}\n")
        for key in sorted(entry["groups"]):
            members = entry["groups"][key]
            if entry["type"] != "histogram":
                for m in members:
                    prefix = m["name"] + _labels(m["metric"]) + " "
                    out.extend(f"{prefix}{_fmt(v)} {int(t)}\n" for t, v in m["values"])
                continue
            order = {"_bucket": 0, "_count": 1, "_sum": 2}
            members.sort(key=lambda m: (order[m["suffix"]], _le_key(m)))
            by_t: dict[float, list[str]] = defaultdict(list)
            for m in members:
                prefix = m["name"] + _labels(m["metric"]) + " "
                for t, v in m["values"]:
                    by_t[float(t)].append(f"{prefix}{_fmt(v)} {int(t)}\n")
            for t in sorted(by_t):
                out.extend(by_t[t])
    out.append("# EOF\n")
    return "".join(out)


def write(directory: Path, text: str, labels: Mapping[str, Any]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for old in ("data.om", "data.om.gz"):
        (directory / old).unlink(missing_ok=True)
    data = text.encode()
    if len(data) > MAX_PLAIN:
        path = directory / "data.om.gz"
        path.write_bytes(gzip.compress(data, compresslevel=9, mtime=0))
    else:
        path = directory / "data.om"
        path.write_bytes(data)
    (directory / "labels.json").write_text(json.dumps(dict(labels), indent=2, ensure_ascii=False) + "\n")
    return path


def load(directory: Path) -> tuple[str, dict]:
    """(OpenMetrics text, labels) of a recording directory."""
    labels = json.loads((directory / "labels.json").read_text())
    gz = directory / "data.om.gz"
    text = gzip.decompress(gz.read_bytes()).decode() if gz.exists() else (directory / "data.om").read_text()
    return text, labels


def recordings(root: Path) -> list[Path]:
    return sorted(p.parent for p in root.glob("*/labels.json"))
