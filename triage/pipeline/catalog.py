"""`triage queries check`: every query alternative of the catalog against a metrics source.

Which of what triage asks this Prometheus can answer, run first on a new cluster.
"""

from __future__ import annotations

import math
from typing import Any

from triage.catalog import Catalog
from triage.config import Settings
from triage.errors import SourceError
from triage.models import RangeQuery
from triage.promql import alternation, render
from triage.signals import Windows, placeholders
from triage.sources.interface import MetricsSource


def check_catalog(source: MetricsSource, catalog: Catalog, settings: Settings, windows: Windows, *,
                  service: str | None, namespace: str | None) -> list[dict[str, Any]]:
    """One row per alternative: data, empty or error, and which services (by the alternative's key) answered."""
    if service:
        values = placeholders([settings.service(service, namespace)], settings.rate_interval, fleet=False)
    else:
        services = list(settings.services.values())
        values = placeholders(services or [settings.service("*", namespace)], settings.rate_interval, fleet=True)
        values["namespace_re"] = alternation([namespace]) if namespace else ".+"
    rows = []
    jobs = []
    for spec in catalog.signals.values():
        for idx, alt in enumerate(spec.alternatives):
            rows.append((spec.name, idx, alt))
            jobs.append(RangeQuery(render(alt.query, values), windows.window.start.timestamp(),
                                   windows.end, windows.step))
    answers = source.query_range_many(jobs)
    if all(isinstance(a, SourceError) for a in answers):
        raise next(a for a in answers if isinstance(a, SourceError))
    results = []
    for (name, idx, alt), job, answer in zip(rows, jobs, answers):
        if isinstance(answer, SourceError):
            results.append({"signal": name, "alternative": idx, "family": alt.family, "key": alt.key,
                            "query": job.query, "status": "error", "error": answer.message, "series": 0,
                            "services": []})
            continue
        live = [s for s in answer if any(math.isfinite(v) for _, v in s.points)]
        keys = sorted({s.labels.get(alt.key, "") for s in live} - {""})
        results.append({"signal": name, "alternative": idx, "family": alt.family, "key": alt.key,
                        "query": job.query, "status": "data" if live else "empty", "series": len(live),
                        "services": keys[:50]})
    return results


def covered(results: list[dict[str, Any]]) -> list[str]:
    return sorted({r["signal"] for r in results if r["status"] == "data"})


def queries_check_document(results: list[dict[str, Any]], catalog: Catalog, windows: Windows) -> dict[str, Any]:
    """`triage.queries-check/v1`."""
    with_data = covered(results)
    return {"schema": "triage.queries-check/v1", "window": windows.window.to_json(),
            "signals_with_data": with_data, "signals_without_data": [n for n in catalog.signals if n not in with_data],
            "alternatives": results}


def queries_document(catalog: Catalog) -> dict[str, Any]:
    """`triage.queries/v1`: the catalog as `queries list -o json` prints it."""
    return {"schema": "triage.queries/v1", "signals": [
        {"signal": s.name, "unit": s.unit, "description": s.description,
         "warning": s.threshold.warning, "critical": s.threshold.critical, "source": s.threshold.source,
         "file": str(catalog.origins[s.name]),
         "queries": [{"family": a.family, "key": a.key, "query": a.query} for a in s.alternatives]}
        for s in catalog.signals.values()]}
