"""`triage rules`: Prometheus recording rules for the catalog's signals, read back by the fleet pass."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from triage.cli import options as o

OutOpt = Annotated[Path | None, typer.Option(
    "--out", metavar="FILE", help="Write the rule file here (atomically; an existing file only with --force) "
                                  "instead of stdout.")]
IntervalOpt = Annotated[str, typer.Option(
    "--interval", metavar="DURATION", help="Evaluation interval of each rule group; at most the fleet pass's "
                                           "step (30s for the default 15m window and 1h baseline).")]
RateOpt = Annotated[str | None, typer.Option(
    "--rate", metavar="DURATION", help="Rate interval fixed in the rules; default the config's "
                                       "prometheus.rate_interval (the fleet pass reads records of its own).")]
SignalOpt = Annotated[list[str] | None, typer.Option(
    "--signal", metavar="NAME", help="Only this signal (repeatable); default every signal of the catalog.")]
PerSignalOpt = Annotated[bool, typer.Option(
    "--group-per-signal", help="One rule group per signal (evaluated in parallel, each at its own offset) instead "
                               "of one group recording every signal at the same instants.")]
PrefixOpt = Annotated[str, typer.Option(
    "--prefix", metavar="TEXT", help="Prefix of the recorded metric names (level:<prefix><signal>:<rate>).")]


def rules(
    out: OutOpt = None,
    interval: IntervalOpt = "30s",
    rate: RateOpt = None,
    signal: SignalOpt = None,
    prefix: PrefixOpt = "triage_",
    group_per_signal: PerSignalOpt = False,
    force: o.ForceOpt = False,
    config: o.ConfigOpt = None,
) -> None:
    """Write Prometheus recording rules for the catalog's signals (per service, at the fleet's aggregation),
    for Prometheus, vmalert, or the Thanos or Mimir ruler; `--all-services` reads them once they cover its window."""
    from triage.catalog import load_catalog
    from triage.cli import console
    from triage.config import load_settings
    from triage.recording.rules import rules_document, rules_text

    settings = load_settings(config=config)
    catalog = load_catalog(settings.queries_dirs)
    rate_interval = rate or settings.rate_interval
    document = rules_document(catalog, rate=rate_interval, interval=interval, signals=signal, prefix=prefix,
                              per_signal=group_per_signal)
    text = rules_text(document, rate=rate_interval, interval=interval)
    console.deliver(text, out, force=force)
    raise typer.Exit(0)
