"""Capacity math of phase 3: Little's law against the pool, max_connections and the HPA."""

from __future__ import annotations

from typing import Annotated

import typer

from triage.cli import options as o

CapacityService = Annotated[str | None, typer.Option(
    "--service", "-s", metavar="NAME",
    help="The service to size (with --from, not needed when the record has one service).")]

NOT_ENOUGH = ("not enough signals for capacity math (need rps with inflight, db_time_per_request, db_pool_size, "
              "replicas, db_max_connections)")


def capacity(
    service: CapacityService = None,
    namespace: o.NamespaceOpt = None,
    at: o.AtOpt = None,
    window: o.WindowOpt = None,
    since: o.SinceOpt = None,
    until: o.UntilOpt = None,
    baseline: o.BaselineOpt = "1h",
    output: o.OutputOpt = o.Output.table,
    config: o.ConfigOpt = None,
    prometheus_url: o.PrometheusUrlOpt = None,
    max_concurrency: o.MaxConcurrencyOpt = None,
    from_record: o.FromRecordOpt = None,
) -> None:
    """Little's law against the pool, max_connections and the HPA (seeds 000 and 004)."""
    import sys

    from triage.cli.console import print_json
    from triage.cli.rca import analyse
    from triage.errors import UsageError
    from triage.pipeline import capacity_document
    from triage.render.escape import strip_control

    if service is None:
        service = _only_service(from_record)
    _, windows, results, _ = analyse(o.Scope(service, False, namespace, at, window, baseline, since, until),
                                     o.Backends(config, prometheus_url, None, max_concurrency), from_record, output)
    result = next((r for r in results if r.service.name == service), None)
    if result is None:
        raise UsageError(f"service '{service}' is not in the incident record")
    if output is o.Output.json:
        print_json(capacity_document(result, windows))
    else:
        lines = result.capacity.get("lines") or [NOT_ENOUGH]
        prefix = "- " if output is o.Output.markdown else ""
        sys.stdout.write("".join(f"{prefix}{strip_control(line)}\n" for line in lines))
    raise typer.Exit(0)


def _only_service(from_record: str | None) -> str:
    """Without --service: the one service of the replayed record; anything else is one line."""
    from pathlib import Path

    from triage.errors import UsageError
    from triage.incident import load

    if not from_record:
        raise UsageError("--service: name the service to size (or replay a record with --from)")
    names = [str(s.get("name")) for s in load(Path(from_record)).get("services") or [] if isinstance(s, dict)]
    if len(names) != 1:
        raise UsageError(f"--service: the record has {len(names)} services ({', '.join(names)}); name one")
    return names[0]
