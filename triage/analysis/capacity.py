"""Seed 000's and 004's capacity math as evidence lines: Little's law against the pool,
max_connections and the HPA."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from triage.analysis.classify.levels import Level
from triage.models import DB_CLASSES
from triage.render.units import fmt


def _w(levels: Mapping[str, Level], name: str) -> float | None:
    lv = levels.get(name)
    if lv is None:
        return None
    value = lv.window_median if lv.window_median is not None else lv.window
    return value if value is not None and math.isfinite(value) else None


def _last(levels: Mapping[str, Level], name: str) -> float | None:
    lv = levels.get(name)
    return lv.window if lv is not None and lv.window is not None and math.isfinite(lv.window) else None


def _conns(n: float) -> str:
    """Connections to two significant digits: 0.068, 3.9, 12."""
    return f"{n:.2g}" if n < 10 else f"{n:.0f}"


def capacity(levels: Mapping[str, Level], bottleneck: str) -> dict[str, Any]:
    """Numbers with their formulas; a line is left out when a term is missing, never guessed."""
    lines: list[str] = []
    out: dict[str, Any] = {"lines": lines}
    rps = _w(levels, "rps")
    inflight = _w(levels, "inflight")
    if rps and inflight is not None and rps > 0:
        mean = inflight / rps
        out["mean_latency_s"] = round(mean, 4)
        lines.append(f"Little's law: in-flight {inflight:.0f} ≈ {fmt(rps, 'req/s')} × {fmt(mean, 's')} "
                     "mean time in the service")
    dbt = _w(levels, "db_time_per_request")
    pool = _last(levels, "db_pool_size")
    replicas = _last(levels, "replicas")
    max_conn = _last(levels, "db_max_connections")
    if rps and dbt is not None:
        needed = rps * dbt
        out["db_connections_needed"] = round(needed, 2)
        line = (f"DB connections needed ≈ {fmt(rps, 'req/s')} × {fmt(dbt, 's')} DB time per request = "
                f"{_conns(needed)}")
        if pool:
            line += f" against a pool of {pool:.0f}"
            if needed > pool:
                line += " — the pool is too small even if connections were held only for queries"
            elif bottleneck == "db_pool_exhaustion":
                line += (" — the pool runs dry while queries need far fewer: connections are held "
                         "beyond the queries (slow steps inside a transaction, leaks)")
        lines.append(line)
    if pool and replicas:
        per_pod = pool / replicas
        out["pool_per_pod"] = round(per_pod, 2)
        if max_conn:
            headroom_pods = math.floor(max_conn / per_pod) if per_pod > 0 else None
            out["max_pods_for_max_connections"] = headroom_pods
            lines.append(f"{fmt(replicas, 'pods')} × {fmt(per_pod, 'connections')} = {pool:.0f} of max_connections "
                         f"{max_conn:.0f}; scaling past {headroom_pods} pods would exceed max_connections")
    rmax = _last(levels, "replicas_max")
    if replicas and rmax:
        out["hpa_at_max"] = replicas >= rmax
        if replicas >= rmax:
            lines.append(f"HPA at max replicas ({replicas:.0f}/{rmax:.0f}): it cannot add capacity")
    cpu = _w(levels, "cpu_usage_ratio")
    if bottleneck in DB_CLASSES and cpu is not None and cpu < 0.7:
        lines.append(f"HPA on CPU will not react (CPU {fmt(cpu, 'ratio')}), and it should not: this service is "
                     "DB-bound, more pods lengthen the connection queue — scale on p95 latency or pool wait, "
                     "and add DB capacity first")
    return out
