"""Phase 2 quick checks: pods, containers, HTTP health/readiness endpoints, recent error logs."""

from __future__ import annotations

from typing import Annotated

import typer

from triage.cli import options as o
from triage.cli.health_run import collect_health, health_phase, run

__all__ = ["collect_health", "health", "health_phase"]

AllNamespacesOpt = Annotated[bool, typer.Option("--all-namespaces", "-A", help="Every namespace of the cluster.")]
HealthNamespaceOpt = Annotated[str | None, typer.Option(
    "--namespace", "-n", metavar="NS",
    help="Namespace (default: the service's from the config, else the kubeconfig context's, else 'default').")]
HealthWindowOpt = Annotated[str, typer.Option(
    "--window", metavar="DURATION", help="How far back restarts, probe failures and events count.")]


def health(
    service: o.ServiceOpt = None,
    all_services: o.AllServicesOpt = False,
    namespace: HealthNamespaceOpt = None,
    all_namespaces: AllNamespacesOpt = False,
    context: o.ContextOpt = None,
    config: o.ConfigOpt = None,
    no_kubernetes: o.NoKubernetesOpt = False,
    no_docker: o.NoDockerOpt = False,
    url: o.UrlOpt = None,
    window: HealthWindowOpt = "15m",
    output: o.OutputOpt = o.Output.table,
    timeout: o.TimeoutOpt = 10.0,
    prometheus_url: o.PrometheusUrlOpt = None,
) -> None:
    """Phase 2, quick checks: pods, containers, HTTP health/readiness endpoints, recent error logs.

    When the Kubernetes API cannot be asked and a Prometheus is configured, the pods are read from
    kube-state-metrics there instead, and the report says so."""
    raise typer.Exit(run(service=service, all_services=all_services, namespace=namespace,
                         all_namespaces=all_namespaces, context=context, config=config, no_kubernetes=no_kubernetes,
                         no_docker=no_docker, url=url, window=window, output=output, timeout=timeout,
                         prometheus_url=prometheus_url))
