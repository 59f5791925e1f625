"""Phase 2's command past its options: `triage health` as triage/cli/health.py's typer signature
and triage/cli/fast.py's own parse both call it, and the health phase of `run`, `mitigate`, `fix`,
`alerts` and `serve`. Neither typer nor click is imported here (issue 17): the exit code is
returned, and health.py raises typer's Exit with it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from triage.cli.values import RUN_BUDGET, HealthChecks, Output

if TYPE_CHECKING:
    from triage.config import ServiceConfig, Settings
    from triage.health.run import HealthPlan
    from triage.models import HealthReport
    from triage.pipeline import Progress

# Commands import their machinery when they run, so `triage --help` stays fast.


def run(*, service: str | None, all_services: bool, namespace: str | None, all_namespaces: bool,
        context: str | None, config: str | None, no_kubernetes: bool, no_docker: bool, url: Sequence[str] | None,
        window: str, output: Output, timeout: float, prometheus_url: str | None) -> int:
    """`triage health` with its options as typer passes them: the report written to stdout as
    `output` says; the command's exit code."""
    import sys

    from triage.cli import console
    from triage.config import load_settings
    from triage.gcpause import paused
    from triage.health.run import exit_status, plan_health
    from triage.pipeline import health_document
    from triage.timeutil import parse_duration

    settings = load_settings(config=config, prometheus_url=prometheus_url)
    plan = plan_health(settings, service=service, all_services=all_services, namespace=namespace,
                       all_namespaces=all_namespaces, kubernetes=not no_kubernetes, docker=not no_docker,
                       urls=url or (), window=parse_duration(window, what="--window").total_seconds())
    with paused():  # thousands of pods' values are built and printed: no collector walking them
        with console.progress(output is Output.table) as progress:
            report = _run(plan, HealthChecks(context=context, timeout=timeout), settings, progress=progress)
        status = exit_status(report)
        if output is Output.json:
            console.print_json(health_document(report, status))
        elif output is Output.markdown:
            from triage.render.markdown.health import health_markdown

            sys.stdout.write(health_markdown(report, status))
        else:
            from triage.cli.table import health_table

            health_table(report, status)
    return int(status.exit_code)


def collect_health(settings: Settings, services: Sequence[ServiceConfig], *, window_seconds: float,
                   no_kubernetes: bool = False, no_docker: bool = False, urls: Sequence[str] = (),
                   context: str | None = None, timeout: float = 10.0) -> HealthReport:
    """The health phase of `run`, `mitigate` and `fix`: these services' checks, as `health --service` runs them."""
    from triage.gcpause import paused
    from triage.health.run import plan_for_services

    plan = plan_for_services(services, kubernetes=not no_kubernetes, docker=not no_docker, urls=urls,
                             window=window_seconds)
    with paused():
        return _run(plan, HealthChecks(context=context, timeout=timeout), settings)


def health_phase(settings: Settings, services: Sequence[ServiceConfig], window_seconds: float,
                 checks: HealthChecks) -> dict[str, Any]:
    """`collect_health` as a phase records it: the `triage.health/v1` document."""
    return collect_health(settings, services, window_seconds=window_seconds, no_kubernetes=checks.no_kubernetes,
                          no_docker=checks.no_docker, urls=checks.urls, context=checks.context,
                          timeout=checks.timeout).to_json()


def _run(plan: HealthPlan, checks: HealthChecks, settings: Settings, *,
         progress: Progress | None = None) -> HealthReport:
    from triage.health.run import run_health

    kube, docker, http = _sources(plan, context=checks.context, timeout=checks.timeout)
    # kube-state-metrics stands in for an API that cannot be asked, where a Prometheus is configured.
    metrics = None
    if kube is not None and settings.prometheus is not None:
        from triage.cli.clients import prometheus

        metrics = prometheus(settings)
    try:
        return run_health(plan, kube=kube, docker=docker, http=http, metrics=metrics,
                          progress=progress or (lambda _: None))
    finally:
        for source in (kube, docker, http, metrics):
            if source is not None:
                source.close()


def _sources(plan: HealthPlan, *, context: str | None, timeout: float):  # type: ignore[no-untyped-def]
    """The real clients, built only for the sources the plan uses (the SDK imports happen here)."""
    kube = docker = http = None
    if plan.kubernetes:
        from triage.sources.kubernetes import KubernetesSource

        kube = KubernetesSource(context=context, timeout=timeout, run_budget=RUN_BUDGET * timeout)
    if plan.docker:
        from triage.sources.docker import DockerSource

        docker = DockerSource(timeout=timeout, run_budget=RUN_BUDGET * timeout)
    if plan.urls:
        from triage.sources.http import HttpProber

        http = HttpProber(timeout=timeout)
    return kube, docker, http
