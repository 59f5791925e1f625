"""Phase 2 quick checks: pods, containers, HTTP health/readiness endpoints, recent error logs."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, List, Optional, Sequence

import typer

from triage.cli import options

if TYPE_CHECKING:
    from triage.config import ServiceConfig, Settings
    from triage.health.run import HealthPlan
    from triage.models import HealthReport, Status

# Commands import their machinery when they run, so `triage --help` stays fast.

Context = typer.Option(None, "--context", metavar="NAME",
                       help="kubeconfig context (default: the current one; in-cluster config inside a pod).")
NoKubernetes = typer.Option(False, "--no-kubernetes", help="Do not check Kubernetes.")
NoDocker = typer.Option(False, "--no-docker", help="Do not check Docker.")
Url = typer.Option(None, "--url", metavar="URL",
                   help="A health/readiness URL to GET (repeatable); adds to the services' health_urls.")
AllNamespaces = typer.Option(False, "--all-namespaces", "-A", help="Every namespace of the cluster.")
RUN_BUDGET = 30  # all of a source's requests end within this many --timeouts of its first
Timeout = typer.Option(10.0, "--timeout", min=0.1, max=600, metavar="SECONDS",
                       help="Deadline of every call to Kubernetes, Docker and the HTTP endpoints (the whole "
                            "answer, not one read), and of a kubeconfig exec credential plugin; all of a "
                            "source's calls end within 30 x this, past it the source is skipped with the reason.")
HealthNamespace = typer.Option(None, "--namespace", "-n", metavar="NS",
                               help="Namespace (default: the service's from the config, else the kubeconfig "
                                    "context's, else 'default').")
HealthWindow = typer.Option("15m", "--window", metavar="DURATION",
                            help="How far back restarts, probe failures and events count.")


def health(
    service: options.OptStr = options.Service,
    all_services: bool = options.AllServices,
    namespace: options.OptStr = HealthNamespace,
    all_namespaces: bool = AllNamespaces,
    context: options.OptStr = Context,
    config: options.OptStr = options.Config,
    no_kubernetes: bool = NoKubernetes,
    no_docker: bool = NoDocker,
    url: Optional[List[str]] = Url,
    window: str = HealthWindow,
    output: options.Output = options.OutputOpt,
    timeout: float = Timeout,
) -> None:
    """Phase 2, quick checks: pods, containers, HTTP health/readiness endpoints, recent error logs."""
    from triage.cli import console
    from triage.config import load_settings
    from triage.health.run import exit_status, plan_health
    from triage.timeutil import parse_duration

    settings = load_settings(config=config)
    plan = plan_health(settings, service=service, all_services=all_services, namespace=namespace,
                       all_namespaces=all_namespaces, kubernetes=not no_kubernetes, docker=not no_docker,
                       urls=url or (), window=parse_duration(window, what="--window").total_seconds())
    with console.progress(output is options.Output.table) as progress:
        report = _run(plan, context=context, timeout=timeout, progress=progress)
    status = exit_status(report)
    render(report, output, status)
    raise typer.Exit(int(status.exit_code))


def collect_health(settings: Settings, services: Sequence[ServiceConfig], *, window_seconds: float,
                   no_kubernetes: bool = False, no_docker: bool = False, urls: Sequence[str] = (),
                   context: str | None = None, timeout: float = 10.0) -> HealthReport:
    """The health phase of `triage run`: these services' checks, as `triage health --service` runs them."""
    from triage.health.run import plan_for_services

    del settings  # the services carry everything the checks need
    plan = plan_for_services(services, kubernetes=not no_kubernetes, docker=not no_docker, urls=urls,
                             window=window_seconds)
    return _run(plan, context=context, timeout=timeout)


def _run(plan: HealthPlan, *, context: str | None, timeout: float, progress=lambda _: None) -> HealthReport:
    from triage.health.run import run_health

    kube, docker, http = _sources(plan, context=context, timeout=timeout)
    try:
        return run_health(plan, kube=kube, docker=docker, http=http, progress=progress)
    finally:
        for source in (kube, docker, http):
            if source is not None:
                source.close()


def _sources(plan: HealthPlan, *, context: str | None, timeout: float):
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


def render(report: HealthReport, output: options.Output, status: Status) -> None:
    from rich.table import Table
    from rich.text import Text

    from triage.cli import console
    from triage.cli.common import print_json
    from triage.health.markdown import health_markdown, ok_summary, where
    from triage.models import Status
    from triage.report import strip_control

    style = {Status.OK: "green", Status.WARNING: "yellow", Status.CRITICAL: "bold red", Status.UNKNOWN: "magenta"}
    if output is options.Output.json:
        payload = report.to_json()
        payload["status"] = status.value  # what the exit code says, "unknown" when nothing was checked
        print_json(payload)
        return
    if output is options.Output.markdown:
        sys.stdout.write(health_markdown(report, status))
        return
    out = console.out()
    for level in (Status.CRITICAL, Status.WARNING, Status.UNKNOWN):
        group = [f for f in report.findings if f.status is level]
        if not group:
            continue
        out.print(Text(f"{level.value.upper()} ({len(group)})", style=style[level]))
        table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
        for col in ("kind", "name", "reason", "detail"):
            table.add_column(col, overflow="fold", no_wrap=col in ("kind",))
        for f in group:
            detail = Text(strip_control(f.detail))
            for line in f.evidence:
                if line not in f.detail:
                    detail.append("\n  " + strip_control(line), style="dim")
            table.add_row(Text(f.kind), Text(strip_control(where(f))), Text(f.reason or "", style=style[level]),
                          detail)
        out.print(table)
        out.print()
    summary = ok_summary(report.findings)
    if summary:
        out.print(Text(f"OK: {summary}", style="green"))
    for skip in report.skipped:
        out.print(Text(f"skipped {strip_control(skip.source)}: {strip_control(skip.reason)}", style="dim"))
    if not report.findings and not report.skipped:
        out.print(Text("nothing to check", style="dim"))
    out.print(Text(f"status: {status.value.upper()}", style=style[status]))
