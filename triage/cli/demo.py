"""`triage demo`: the whole run on the bundled recorded incident, with no backend at all."""

from __future__ import annotations

import typer

from triage.cli import options as o
from triage.cli.incident import OutDirOpt


def demo(
    out: OutDirOpt = None,
    force: o.ForceOpt = False,
) -> None:
    """`run` on the bundled recorded incident: no Prometheus, cluster or Docker needed."""
    import sys
    from pathlib import Path

    from triage.catalog import bundled_dir, load_catalog
    from triage.cli.incident import playbook_runner, summarise, write_outputs
    from triage.config import load_settings
    from triage.incident import load
    from triage.pipeline import replay_record

    record = load(bundled_dir("demo") / "incident.json")
    settings = load_settings(env={}, cwd=Path(__file__).parent)
    new = replay_record(record, settings, load_catalog(settings.queries_dirs), include_health=True,
                        playbooks=playbook_runner)
    record_path, pm_path = write_outputs(new, out, force, settings)
    summarise(new, record_path, pm_path)
    sys.stderr.write(f"open {pm_path} for the post-mortem draft; `triage rca --from {record_path}` replays the "
                     "analysis\n")
    raise typer.Exit(0)
