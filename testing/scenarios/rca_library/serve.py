"""The whole library: checked, written as a triage.yaml and OpenMetrics, and served by a real Prometheus."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from testing.scenarios.generator import (
    ServiceSpec,
    generate,
)
from testing.scenarios.rca_library.calls import app_errors_scenarios, external_scenarios
from testing.scenarios.rca_library.controls import controls_scenarios, unknown_scenarios
from testing.scenarios.rca_library.database import (
    churn_scenarios,
    db_latency_scenarios,
    locks_scenarios,
    pool_scenarios,
)
from testing.scenarios.rca_library.labelled import (
    CLASSES,
    EXPORT_END_S,
    EXPORT_START_S,
    EXPORT_STEP_S,
    SIGNALS,
    TRIGGERS,
    LabelledScenario,
)
from testing.scenarios.rca_library.resources import cpu_scenarios, memory_scenarios

# --------------------------------------------------------------------------------------
# The library
# --------------------------------------------------------------------------------------

def rca_library() -> list[LabelledScenario]:
    """Every labelled scenario, in one list: load them all into one Prometheus."""
    scenarios = (cpu_scenarios() + memory_scenarios() + pool_scenarios() + db_latency_scenarios()
                 + locks_scenarios() + churn_scenarios() + external_scenarios() + app_errors_scenarios()
                 + controls_scenarios() + unknown_scenarios())
    names = [s.name for s in scenarios]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise ValueError(f"duplicate scenario names: {sorted(dupes)}")
    for s in scenarios:
        for label in s.answers:
            if label not in CLASSES:
                raise ValueError(f"{s.name}: {label!r} is not a CONTRACT class")
        if s.trigger is not None and s.trigger not in TRIGGERS:
            raise ValueError(f"{s.name}: {s.trigger!r} is not a CONTRACT trigger")
        for m in s.missing:
            if m not in SIGNALS:
                raise ValueError(f"{s.name}: {m!r} is not a CONTRACT signal")
    return scenarios


def by_name(scenarios: Sequence[LabelledScenario] | None = None) -> dict[str, LabelledScenario]:
    return {s.name: s for s in (scenarios if scenarios is not None else rca_library())}


def labels(scenarios: Sequence[LabelledScenario] | None = None) -> dict[str, str]:
    """service -> class, the shape of a recording's labels.json."""
    return {s.name: s.bottleneck for s in (scenarios if scenarios is not None else rca_library())}


def _has_database(spec: ServiceSpec) -> bool:
    return bool({"db", "pool", "postgres"} & set(spec.families)) and spec.database is not None


def rca_config(scenarios: Sequence[LabelledScenario]) -> str:
    """triage.yaml text: every service with namespace, database, tier, depends_on."""
    services: dict[str, dict] = {}
    for s in scenarios:
        spec = s.spec
        entry: dict = {"namespace": spec.namespace}
        if _has_database(spec):
            entry["database"] = spec.db_name
        entry["tier"] = spec.tier
        if spec.depends_on:
            entry["depends_on"] = list(spec.depends_on)
        services[spec.name] = entry
    return yaml.safe_dump({"services": services}, sort_keys=False)


def rca_openmetrics(scenarios: Sequence[LabelledScenario], step_s: float = EXPORT_STEP_S) -> str:
    """The library as OpenMetrics text for promtool (18:41..20:01 at ``step_s``)."""
    ds = generate([s.spec for s in scenarios], EXPORT_START_S, EXPORT_END_S, step_s)
    return ds.openmetrics()


def dataset_stats(scenarios: Sequence[LabelledScenario], step_s: float = EXPORT_STEP_S) -> dict:
    ds = generate([s.spec for s in scenarios], EXPORT_START_S, EXPORT_END_S, step_s)
    return {"services": len(scenarios), "pods": sum(s.spec.pods for s in scenarios),
            "series": ds.series_count, "samples": ds.sample_count}


@dataclass
class LibraryServer:
    url: str
    config: Path
    backend: object
    scenarios: list
    seconds_generate: float
    seconds_load: float
    megabytes: float


@contextlib.contextmanager
def serve_library(workdir: Path, scenarios: Sequence[LabelledScenario] | None = None
                  ) -> Iterator[LibraryServer]:
    """Generate the library, backfill it into a real Prometheus, write the config next to it."""
    from testing.backends import prometheus_from_openmetrics

    scenarios = list(scenarios if scenarios is not None else rca_library())
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "triage.yaml"
    config.write_text(rca_config(scenarios), encoding="utf-8")
    t0 = time.perf_counter()
    text = rca_openmetrics(scenarios)
    t1 = time.perf_counter()
    size = len(text) / 1e6
    with prometheus_from_openmetrics(text, workdir) as backend:
        t2 = time.perf_counter()
        del text
        yield LibraryServer(backend.url, config, backend, scenarios, t1 - t0, t2 - t1, size)


def with_families(s: LabelledScenario, families: frozenset) -> LabelledScenario:
    """The same scenario with other families (for ad-hoc partial-signal experiments)."""
    return replace(s, spec=replace(s.spec, families=families))
