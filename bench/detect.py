"""`triage detect` for one service against a real local Prometheus (target ≤ 0.5 s with start-up),
and `--all-services` over N generated services (target ≤ 3 s for 500, queries independent of N)."""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from bench._common import machine, run_timed, summary
from testing.backends import prometheus_from_openmetrics
from testing.scenarios.generator import ServiceSpec, generate, ramp
from testing.scenarios.library import WINDOW_END_S, WINDOW_START_S, at, default_fleet, export_dataset

AT = "2026-11-10T20:01:00Z"


def count_requests(url: str, args: dict, command: str = "detect") -> int:
    from triage.catalog import load_catalog
    from triage.config import BackendSettings, load_settings
    from triage.pipeline import resolve_target, run_detect, run_rca
    from triage.signals import make_windows
    from triage.sources.prometheus import PrometheusSource
    from triage.timeutil import parse_duration, parse_instant

    with tempfile.TemporaryDirectory() as empty:
        settings = load_settings(env={}, cwd=Path(empty))
    catalog = load_catalog()
    from triage.signals import FLEET_POINTS, TARGET_POINTS

    windows = make_windows(parse_instant(AT), parse_duration("15m"), parse_duration("1h"),
                           points=FLEET_POINTS if args["all_services"] else TARGET_POINTS)
    source = PrometheusSource(BackendSettings(url=url))
    # MetricsSource declares `name` a plain attribute and PrometheusSource has a read-only property:
    # triage's own protocol to fix (issue 14, the quality gate), not the bench's.
    target = resolve_target(settings, source, catalog, windows, **args)  # type: ignore[arg-type]
    (run_rca if command == "rca" else run_detect)(settings, catalog, source, windows, target)  # type: ignore[arg-type]
    return source.stats.requests


def fleet(n: int) -> list[ServiceSpec]:
    """N services with application, in-flight and cAdvisor metrics; every tenth one degrades."""
    specs = []
    for i in range(n):
        p95 = ramp(0.12, 2.0, WINDOW_START_S, WINDOW_START_S + 120) if i % 10 == 0 else 0.12
        specs.append(ServiceSpec(name=f"svc-{i:04d}", namespace=f"team-{i % 20:02d}", pods=1,
                                 families=frozenset({"http", "inflight", "cadvisor"}), latency_p95=p95,
                                 latency_p50=0.04))
    return specs


def main(command: str = "detect") -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--services", type=int, default=500)
    parser.add_argument("--runs", type=int, default=10)
    opts = parser.parse_args()
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        om, _ = export_dataset(default_fleet())
        with prometheus_from_openmetrics(om, work / "one") as prom:
            args = [command, "--prometheus-url", prom.url, "--service", "checkout", "--namespace", "shop",
                    "--at", AT, "-o", "json"]
            run_timed(args, cwd=work)
            results = [run_timed(args, cwd=work) for _ in range(opts.runs)]
            assert results[0][1] == 2, results[0]
            reqs = count_requests(prom.url, {"service": "checkout", "all_services": False, "namespace": "shop"},
                                  command)
            print(f"{command} --service checkout (exit {results[0][1]}): {summary([r[0] for r in results])}, "
                  f"max RSS {max(r[2] for r in results) / 1024:.0f} MiB, {reqs} HTTP requests")
        del om
        for n in sorted({max(10, opts.services // 10), opts.services}):
            ds = generate(fleet(n), at(18, 45), WINDOW_END_S, 60)
            text = ds.openmetrics()
            series = ds.series_count
            del ds
            with prometheus_from_openmetrics(text, work / f"fleet-{n}") as prom:
                del text
                args = [command, "--prometheus-url", prom.url, "--all-services", "--at", AT, "-o", "json"]
                _, code, _, out = run_timed(args, cwd=work)
                found = len(json.loads(out)["services"])
                results = [run_timed(args, cwd=work) for _ in range(3)]
                reqs = count_requests(prom.url, {"service": None, "all_services": True, "namespace": None}, command)
                print(f"{command} --all-services over {n} services ({series} series; exit {code}, {found} reported): "
                      f"{summary([r[0] for r in results])}, max RSS {max(r[2] for r in results) / 1024:.0f} MiB, "
                      f"{reqs} HTTP requests")


if __name__ == "__main__":
    main()
