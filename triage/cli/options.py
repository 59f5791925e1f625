"""Options shared by the commands, spelled once (CONTRACT.md, "Common options")."""

from __future__ import annotations

from enum import Enum
from typing import Optional

import typer


class Output(str, Enum):
    table = "table"
    json = "json"
    markdown = "markdown"


Config = typer.Option(None, "--config", envvar="TRIAGE_CONFIG", metavar="PATH",
                      help="Config file (default ./triage.yaml, then $XDG_CONFIG_HOME/triage/config.yaml).")
PrometheusUrl = typer.Option(None, "--prometheus-url", envvar="TRIAGE_PROMETHEUS_URL", metavar="URL",
                             help="Prometheus or VictoriaMetrics base URL (default: the config's prometheus.url). "
                                  "Deadlines: each request ends within prometheus.timeout (default 10s, the "
                                  "answer's body included), all of the command's requests within "
                                  "prometheus.deadline of its start (default 30 x the timeout); past either: one "
                                  "line naming the backend, exit 3.")
AlertmanagerUrl = typer.Option(None, "--alertmanager-url", envvar="TRIAGE_ALERTMANAGER_URL", metavar="URL",
                               help="Alertmanager base URL (default: the config's alertmanager.url).")
Service = typer.Option(None, "--service", "-s", metavar="NAME", help="The service to triage.")
AllServices = typer.Option(False, "--all-services", help="Every service in the config or with data, in one pass.")
Namespace = typer.Option(None, "--namespace", "-n", metavar="NS",
                         help="Namespace (default: the service's from the config, else 'default').")
At = typer.Option(None, "--at", metavar="TIME", help="End of the incident window: RFC 3339 or unix seconds (default now).")
Window = typer.Option("15m", "--window", metavar="DURATION", help="The incident window, ending at --at.")
Baseline = typer.Option("1h", "--baseline", metavar="DURATION", help="The normal period just before the window.")
OutputOpt = typer.Option(Output.table, "--output", "-o", case_sensitive=False, help="table, json or markdown.")
MaxConcurrency = typer.Option(None, "--max-concurrency", min=1, max=64, metavar="N",
                              help="Parallel queries against Prometheus (default 4).")

OptStr = Optional[str]

FromRecord = typer.Option(None, "--from", metavar="INCIDENT_JSON",
                          help="Replay an incident record instead of asking Prometheus (no network).")
