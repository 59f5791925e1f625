"""Phase 2 quick checks: pods, containers, HTTP health/readiness endpoints, recent error logs."""

from __future__ import annotations

import sys
from typing import List, Optional

import typer
from rich.table import Table
from rich.text import Text

from triage.cli import console, options
from triage.cli.common import print_json
from triage.config import load_settings
from triage.health.markdown import health_markdown, ok_summary, where
from triage.health.run import exit_status, plan_health, run_health
from triage.models import HealthReport, Status
from triage.report import strip_control
from triage.timeutil import parse_duration

_STYLE = {Status.OK: "green", Status.WARNING: "yellow", Status.CRITICAL: "bold red", Status.UNKNOWN: "magenta"}

Context = typer.Option(None, "--context", metavar="NAME",
                       help="kubeconfig context (default: the current one; in-cluster config inside a pod).")
NoKubernetes = typer.Option(False, "--no-kubernetes", help="Do not check Kubernetes.")
NoDocker = typer.Option(False, "--no-docker", help="Do not check Docker.")
Url = typer.Option(None, "--url", metavar="URL",
                   help="A health/readiness URL to GET (repeatable); adds to the services' health_urls.")
AllNamespaces = typer.Option(False, "--all-namespaces", "-A", help="Every namespace of the cluster.")
Timeout = typer.Option(10.0, "--timeout", min=0.1, max=600, metavar="SECONDS",
                       help="Timeout of every call to Kubernetes, Docker and the HTTP endpoints.")
HealthWindow = typer.Option("15m", "--window", metavar="DURATION",
                            help="How far back restarts, probe failures and events count.")


def health(
    service: options.OptStr = options.Service,
    all_services: bool = options.AllServices,
    namespace: options.OptStr = options.Namespace,
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
    settings = load_settings(config=config)
    plan = plan_health(settings, service=service, all_services=all_services, namespace=namespace,
                       all_namespaces=all_namespaces, kubernetes=not no_kubernetes, docker=not no_docker,
                       urls=url or (), window=parse_duration(window, what="--window").total_seconds())
    kube, docker, http = _sources(plan, context=context, timeout=timeout)
    try:
        with console.progress(output is options.Output.table) as progress:
            report = run_health(plan, kube=kube, docker=docker, http=http, progress=progress)
    finally:
        for source in (kube, docker, http):
            if source is not None:
                source.close()
    status = exit_status(report)
    render(report, output, status)
    raise typer.Exit(int(status.exit_code))


def _sources(plan, *, context: str | None, timeout: float):
    """The real clients, built only for the sources the plan uses (the SDK imports happen here)."""
    kube = docker = http = None
    if plan.kubernetes:
        from triage.sources.kubernetes import KubernetesSource

        kube = KubernetesSource(context=context, timeout=timeout)
    if plan.docker:
        from triage.sources.docker import DockerSource

        docker = DockerSource(timeout=timeout)
    if plan.urls:
        from triage.sources.http import HttpProber

        http = HttpProber(timeout=timeout)
    return kube, docker, http


def render(report: HealthReport, output: options.Output, status: Status) -> None:
    if output is options.Output.json:
        print_json(report.to_json())
        return
    if output is options.Output.markdown:
        sys.stdout.write(health_markdown(report, status))
        return
    out = console.out()
    for level in (Status.CRITICAL, Status.WARNING, Status.UNKNOWN):
        group = [f for f in report.findings if f.status is level]
        if not group:
            continue
        out.print(Text(f"{level.value.upper()} ({len(group)})", style=_STYLE[level]))
        table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
        for col in ("kind", "name", "reason", "detail"):
            table.add_column(col, overflow="fold", no_wrap=col in ("kind",))
        for f in group:
            detail = Text(strip_control(f.detail))
            for line in f.evidence:
                detail.append("\n  " + strip_control(line), style="dim")
            table.add_row(Text(f.kind), Text(strip_control(where(f))), Text(f.reason or "", style=_STYLE[level]),
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
    out.print(Text(f"status: {status.value.upper()}", style=_STYLE[status]))
