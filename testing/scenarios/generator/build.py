"""Generation: every spec sampled on the scrape grid into one dataset."""

from __future__ import annotations

from collections.abc import Sequence

from testing.scenarios.generator.dataset import Dataset, _gc_paused, _labels, _Series, timeline
from testing.scenarios.generator.emit import ServiceGen
from testing.scenarios.generator.spec import ServiceSpec
from testing.scenarios.generator.vocabulary import FAMILIES, STEP_SECONDS


def generate(specs: Sequence[ServiceSpec], start: float, end: float,
             step: float = STEP_SECONDS) -> Dataset:
    """Sample every spec on the scrape grid [start, end] and build the dataset."""
    with _gc_paused():
        return _generate(specs, start, end, step)


def _generate(specs: Sequence[ServiceSpec], start: float, end: float, step: float) -> Dataset:
    ds = Dataset(timeline(start, end, step))
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate service names: {names}")
    servers: dict[str, int] = {}
    for spec in specs:
        unknown = set(spec.families) - FAMILIES
        if unknown:
            raise ValueError(f"{spec.name}: unknown families {sorted(unknown)}")
        ServiceGen(spec, ds, step).run()
        if "postgres" in spec.families:
            prev = servers.setdefault(spec.server, spec.pg_max_connections)
            if prev != spec.pg_max_connections:
                raise ValueError(f"{spec.server}: conflicting max_connections {prev} and "
                                 f"{spec.pg_max_connections}")
    for server, maxc in servers.items():
        host = server.split(":")[0]
        labels = _labels([("instance", f"{host}-exporter:9187"), ("job", "postgres-exporter"),
                          ("server", server)])
        ds.add("pg_settings_max_connections",
               [_Series("pg_settings_max_connections", labels, [str(maxc)] * len(ds.timestamps))])
    return ds


def to_openmetrics(specs: Sequence[ServiceSpec], start: float, end: float,
                   step: float = STEP_SECONDS) -> str:
    return generate(specs, start, end, step).openmetrics()


def to_vm_import(specs: Sequence[ServiceSpec], start: float, end: float,
                 step: float = STEP_SECONDS) -> str:
    return generate(specs, start, end, step).prometheus_text(millis=True)


