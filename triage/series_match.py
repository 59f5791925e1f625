"""A fleet query's answer matched to the services it was asked for: each series to the service its
key label names, several series of one service (instances, databases) merged into the worst at
each step, and those naming the other end of a call (`server_address`) kept apart by it."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from triage.models import Samples, Series

if TYPE_CHECKING:
    from triage.signals import _Job

EDGE_LABEL = "server_address"


def finite(points: Sequence[tuple[float, float]]) -> bool:
    return any(math.isfinite(v) for _, v in points)


def merge_max(series: Sequence[Series]) -> Samples:
    """Several series for one service (several instances, databases) → the worst at each step."""
    if len(series) == 1:
        return series[0].points
    merged: dict[float, float] = {}
    for item in series:
        for t, v in item.points:
            if not math.isfinite(v):
                merged.setdefault(t, v)
                continue
            prev = merged.get(t)
            if prev is None or not math.isfinite(prev) or v > prev:
                merged[t] = v
    return tuple(sorted(merged.items()))


def edges_of(series: Sequence[Series]) -> dict[str, Samples]:
    """Series that name the other end of a call (`server_address`), kept apart by it."""
    by_edge: dict[str, list[Series]] = {}
    for item in series:
        edge = item.labels.get(EDGE_LABEL)
        if edge:
            by_edge.setdefault(edge, []).append(item)
    return {edge: merge_max(items) for edge, items in by_edge.items()}


def found_by_service(job: _Job, answer: Sequence[Series]) -> dict[str, list[Series]]:
    """The answer's series by service: an override answers for its one service; a built-in
    query's series are matched to the services by their label (`job.key`, else `service`)."""
    found: dict[str, list[Series]] = {}
    if job.override:
        series = [s for s in answer if finite(s.points)]
        if series:
            found[job.services[0].name] = series
        return found
    wanted: dict[str, list[str]] = {}
    for svc in job.services:
        wanted.setdefault(svc.selector(job.key or "service"), []).append(svc.name)
    for item in answer:
        value = item.labels.get(job.key or "service")
        if value is None or value not in wanted or not finite(item.points):
            continue
        for svc_name in wanted[value]:
            found.setdefault(svc_name, []).append(item)
    return found
