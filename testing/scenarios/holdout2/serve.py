"""The whole second hold-out set: listed, its scrape gaps applied, served by a real Prometheus."""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from testing.scenarios.generator import (
    Dataset,
    generate,
)
from testing.scenarios.holdout2.competing import chains_scenarios, competing_scenarios
from testing.scenarios.holdout2.controls import controls_scenarios, unknowns_scenarios
from testing.scenarios.holdout2.hard import borderline_scenarios, more_scenarios
from testing.scenarios.holdout2.messy import GAPS, messy_scenarios
from testing.scenarios.rca_library import (
    EXPORT_END_S,
    EXPORT_START_S,
    EXPORT_STEP_S,
    LabelledScenario,
    LibraryServer,
    rca_config,
)

# ======================================================================================

def holdout2_library() -> list[LabelledScenario]:
    """Every scenario of the second held-out set, in one list (one Prometheus)."""
    return [*competing_scenarios(), *chains_scenarios(), *messy_scenarios(), *more_scenarios(), *borderline_scenarios(), *controls_scenarios(), *unknowns_scenarios()]


def _label_values(labels: str) -> set[str]:
    return set(re.findall(r'(?:service|container|deployment|horizontalpodautoscaler|job|user)="([^"]*)"',
                          labels))


def apply_gaps(ds: Dataset, gaps: Mapping[str, Sequence[tuple[tuple[str, ...], float, float]]],
               scenarios: Sequence[LabelledScenario]) -> int:
    """Remove samples as a missed scrape would; returns how many were removed."""
    removed = 0
    ts = ds.timestamps
    # postgres_exporter series are selected by datname, not by service
    by_db = {s.spec.name: s.spec.db_name for s in scenarios}
    for fam in ds.families.values():
        for group in fam.groups:
            for s in group:
                owners = _label_values(s.labels)
                dat = re.search(r'datname="([^"]*)"', s.labels)
                for svc, windows in gaps.items():
                    mine = svc in owners or (dat is not None and dat.group(1) == by_db.get(svc))
                    if not mine:
                        continue
                    for prefixes, a, b in windows:
                        if prefixes and not s.name.startswith(prefixes):
                            continue
                        for k, t in enumerate(ts):
                            if a <= t < b and s.values[k] is not None:
                                s.values[k] = None
                                removed += 1
    return removed


def holdout2_openmetrics(scenarios: Sequence[LabelledScenario], step_s: float = EXPORT_STEP_S) -> str:
    ds = generate([s.spec for s in scenarios], EXPORT_START_S, EXPORT_END_S, step_s)
    names = {s.name for s in scenarios}
    apply_gaps(ds, {k: v for k, v in GAPS.items() if k in names}, scenarios)
    return ds.openmetrics()


@contextlib.contextmanager
def serve_holdout2(workdir: Path, scenarios: Sequence[LabelledScenario] | None = None
                   ) -> Iterator[LibraryServer]:
    """Generate the set (with its scrape gaps), backfill it into a real Prometheus, write the config."""
    from testing.backends import prometheus_from_openmetrics

    scenarios = list(scenarios if scenarios is not None else holdout2_library())
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "triage.yaml"
    config.write_text(rca_config(scenarios), encoding="utf-8")
    t0 = time.perf_counter()
    text = holdout2_openmetrics(scenarios)
    t1 = time.perf_counter()
    size = len(text) / 1e6
    with prometheus_from_openmetrics(text, workdir) as backend:
        t2 = time.perf_counter()
        del text
        yield LibraryServer(backend.url, config, backend, scenarios, t1 - t0, t2 - t1, size)

