"""Options shared by the commands, spelled once (CONTRACT.md, "Common options").

Each option is an `Annotated` alias (its flags and help) that a command's signature uses with
its default; the command then hands the values on as one of the frozen objects of
triage/cli/values.py (re-exported here, typer-free there), so the code past the signature never
passes a dozen loose arguments.
"""

from __future__ import annotations

from typing import Annotated

import typer

from triage.cli.values import RUN_BUDGET, Backends, ChatOutput, DraftOutput, HealthChecks, Output, Scope

OptStr = str | None

ConfigOpt = Annotated[str | None, typer.Option(
    "--config", envvar="TRIAGE_CONFIG", metavar="PATH",
    help="Config file (default ./triage.yaml, then $XDG_CONFIG_HOME/triage/config.yaml).")]
PrometheusUrlOpt = Annotated[str | None, typer.Option(
    "--prometheus-url", envvar="TRIAGE_PROMETHEUS_URL", metavar="URL",
    help="Prometheus or VictoriaMetrics base URL (default: the config's prometheus.url). "
         "Deadlines: each request ends within prometheus.timeout (default 10s, the "
         "answer's body included), all of the command's requests within "
         "prometheus.deadline of its start (default 30 x the timeout); past either: one "
         "line naming the backend, exit 3.")]
AlertmanagerUrlOpt = Annotated[str | None, typer.Option(
    "--alertmanager-url", envvar="TRIAGE_ALERTMANAGER_URL", metavar="URL",
    help="Alertmanager base URL (default: the config's alertmanager.url).")]
ServiceOpt = Annotated[str | None, typer.Option("--service", "-s", metavar="NAME", help="The service to triage.")]
AllServicesOpt = Annotated[bool, typer.Option(
    "--all-services", help="Every service in the config or with data, in one pass.")]
NamespaceOpt = Annotated[str | None, typer.Option(
    "--namespace", "-n", metavar="NS", help="Namespace (default: the service's from the config, else 'default').")]
AtOpt = Annotated[str | None, typer.Option(
    "--at", metavar="TIME",
    help="End of the incident window: RFC 3339, unix seconds, or relative: now, now-1h, -30m (default now).")]
SinceOpt = Annotated[str | None, typer.Option(
    "--since", metavar="DURATION|TIME",
    help="The window as kubectl and Prometheus say it: --since 30m is the last 30 minutes (ending now or at "
         "--until); also a start time (now-2h, RFC 3339). Instead of --window.")]
UntilOpt = Annotated[str | None, typer.Option(
    "--until", metavar="TIME", help="End of the window, as --at says it (now-1h, RFC 3339, ...). Instead of --at.")]
# None when not given (the default is 15m), so that --window with --since is refused
WindowOpt = Annotated[str | None, typer.Option(
    "--window", metavar="DURATION", show_default=False, help="The incident window, ending at --at (default 15m).")]
BaselineOpt = Annotated[str, typer.Option(
    "--baseline", metavar="DURATION", help="The normal period just before the window.")]
OutputOpt = Annotated[Output, typer.Option("--output", "-o", case_sensitive=False, help="table, json or markdown.")]
ChatOutputOpt = Annotated[ChatOutput, typer.Option(
    "--output", "-o", case_sensitive=False,
    help="table, json, markdown or slack (Slack's mrkdwn: no tables, no backslash escapes).")]
DraftOutputOpt = Annotated[DraftOutput, typer.Option(
    "--output", "-o", case_sensitive=False,
    help="markdown (the template's), or slack: the status update (--template status-update) in Slack's mrkdwn.")]
NoColorOpt = Annotated[bool, typer.Option(
    "--no-color", help="No colour in the terminal table (also when NO_COLOR is set; pipes and JSON never have it).")]
MaxConcurrencyOpt = Annotated[int | None, typer.Option(
    "--max-concurrency", min=1, max=64, metavar="N", help="Parallel queries against Prometheus (default 4).")]
FromRecordOpt = Annotated[str | None, typer.Option(
    "--from", metavar="INCIDENT_JSON", help="Replay an incident record instead of asking Prometheus (no network).")]
ForceOpt = Annotated[bool, typer.Option(
    "--force", help="Replace files that already exist (they may hold someone's edits).")]

# The health checks' options, shared by `health`, `run`, `mitigate` and `fix` (one help each;
# before issue 14 the three commands said it three ways).
NoKubernetesOpt = Annotated[bool, typer.Option("--no-kubernetes", help="Skip the Kubernetes health checks.")]
NoDockerOpt = Annotated[bool, typer.Option("--no-docker", help="Skip the Docker health checks.")]
UrlOpt = Annotated[list[str] | None, typer.Option(
    "--url", metavar="URL",
    help="A health/readiness URL to GET (repeatable); adds to the services' health_urls.")]
ContextOpt = Annotated[str | None, typer.Option(
    "--context", metavar="NAME",
    help="kubeconfig context (default: the current one; in-cluster config inside a pod).")]
TimeoutOpt = Annotated[float, typer.Option(
    "--timeout", min=0.1, max=600, metavar="SECONDS",
    help="Deadline of every call to Kubernetes, Docker and the HTTP endpoints (the whole "
         "answer, not one read), and of a kubeconfig exec credential plugin; all of a "
         "source's calls end within 30 x this, past it the source is skipped with the reason.")]

__all__ = ["RUN_BUDGET", "Backends", "ChatOutput", "DraftOutput", "HealthChecks", "Output", "Scope"]
