"""Which services have request data, and in which namespace: the query `discover_services` asks.

A service is found by any of the request families the catalog reads (the seed app's
`http_requests_total`, OpenTelemetry's stable and pre-stable server histograms, Micrometer,
starlette_exporter, prom-client), by its `service` label; or, where the series carry no
`service` label, by what OpenTelemetry names it with: `job` is `service.namespace/service.name`
(or `service.name`), and `target_info` carries `service_name` (unless its job and instance carry
several).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from triage.errors import SourceError
from triage.models import RangeQuery
from triage.promql import escape_label_value, regex_literal

if TYPE_CHECKING:
    from triage.config import Settings
    from triage.signals import Windows
    from triage.sources.interface import MetricsSource

REQUEST_METRICS = (
    "http_requests_total",
    "http_server_request_duration_seconds_count",
    "http_server_duration_milliseconds_count",
    "http_server_duration_seconds_count",
    "http_server_requests_seconds_count",
    "starlette_requests_total",
    "http_request_duration_seconds_count",
)
_NAMES = "|".join(REQUEST_METRICS)
_FROM_JOB = '"service", "$2", "job", "(.+/)?(.+)"'
_FROM_TARGET_INFO = '"service", "$1", "service_name", "(.+)"'
# A job and instance with several target_info (a collector scraped without honor_labels) names no
# service: its series cannot be told apart, and the catalog's target_info join drops it the same way.
_AMBIGUOUS = " unless on (job, instance) (count by (job, instance) (target_info) > 1)"


def discovery_query(only: str | None = None) -> str:
    """`count by (service, namespace)` over every way a service can be named.

    For one service (`only`), a `job` ending in its name counts too. For the fleet, a series
    without a `service` label counts only through `target_info`'s `service_name`: a scrape job
    (`kubernetes-pods`) is not a service, and OpenTelemetry's resource says which one is."""
    by = "count by (service, namespace)"
    if only is not None:
        name = escape_label_value(only)
        job = escape_label_value(regex_literal(only))
        return (f'{by} ({{__name__=~"{_NAMES}", service="{name}"}})'
                f' or {by} (label_replace({{__name__=~"{_NAMES}", job=~"(.+/)?{job}"}}, {_FROM_JOB}))'
                f' or {by} (label_replace(target_info{{service_name="{name}"}}{_AMBIGUOUS}, {_FROM_TARGET_INFO}))')
    return (f'{by} ({{__name__=~"{_NAMES}", service!=""}})'
            f' or {by} (label_replace(target_info{{service="", service_name!=""}}{_AMBIGUOUS}, {_FROM_TARGET_INFO}))')


def discover_services(source: MetricsSource, settings: Settings, windows: Windows,
                      only: str | None = None) -> dict[str, str]:
    """Services with request data in baseline or window, and their namespace."""
    span = windows.end - windows.start
    query = discovery_query(only)
    answer = source.query_range_many([RangeQuery(query, windows.start, windows.end, max(span / 4, windows.step))])[0]
    if isinstance(answer, SourceError):
        raise answer
    found: dict[str, str] = {}
    for item in answer:
        name = item.labels.get("service")
        if name and any(math.isfinite(v) for _, v in item.points):
            found.setdefault(name, item.labels.get("namespace") or settings.default_namespace)
    return found
