"""The incident record's files, shared by `run` and `demo`: both or neither are written."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from triage.config import Settings

OutDirOpt = Annotated[str | None, typer.Option(
    "--out", metavar="DIR",
    help="Where incident.json and postmortem.md go (default ./incidents/<incident-id>/, or the first of "
         "<incident-id>-2/, -3/, ... that does not exist yet).")]

# How many numbered siblings of the default directory are tried before giving up.
MAX_SIBLINGS = 999


def write_outputs(record: dict[str, Any], out: str | None, force: bool, settings: Settings) -> tuple[Path, Path]:
    """Both files or neither: the pair is staged whole, then named (exclusively unless --force),
    so a full or read-only disk, a racing writer or Ctrl-C leaves nothing that blocks a rerun."""
    from triage.errors import UsageError
    from triage.files import write_files
    from triage.incident import record_text
    from triage.postmortem import find_template, render

    prometheus = settings.prometheus.display_url if settings.prometheus else None
    text = render(record, find_template("postmortem", settings.templates_dirs), prometheus)
    for directory in _candidates(out, record["id"], force):
        record_path = directory / "incident.json"
        pm_path = directory / "postmortem.md"
        try:
            write_files([(record_path, record_text(record, record_path)), (pm_path, text)], force=force)
        except UsageError:
            if out or force:  # a directory the user named is theirs: refused, never renamed
                raise
            continue  # another writer took this one between the look and the write: the next
        return record_path, pm_path
    raise UsageError(f"incidents/{record['id']}/ and its {MAX_SIBLINGS} numbered siblings all exist; "
                     "name a directory with --out")


def _out_dir(out: str | None, incident: str) -> Path:
    return Path(out) if out else Path("incidents") / incident


def _candidates(out: str | None, incident: str, force: bool) -> Iterator[Path]:
    """The directory the user named, or with --force the default one; else the default and its
    numbered siblings that do not exist yet (a second demo never stops at "already exists")."""
    base = _out_dir(out, incident)
    if out or force:
        yield base
        return
    for n in range(1, MAX_SIBLINGS + 2):
        directory = base if n == 1 else base.with_name(f"{base.name}-{n}")
        if not os.path.lexists(directory):
            yield directory


def refuse_early(out: str | None, force: bool, names: Sequence[str], window_end: Any) -> None:
    """Files that would be refused at the end are refused before the phases run."""
    from triage.files import refuse_existing
    from triage.incident import incident_id
    from triage.models import iso

    if not out and not force:  # the default directory never collides: a numbered sibling is taken
        return
    directory = _out_dir(out, incident_id(list(names), iso(window_end)))
    refuse_existing([directory / "incident.json", directory / "postmortem.md"], force)


def summarise(record: dict[str, Any], record_path: Path, pm_path: Path) -> None:
    from triage.postmortem import primary_rca
    from triage.render.escape import strip_control

    err = sys.stderr
    for name, phase in (record.get("phases") or {}).items():
        extra = f" ({phase.get('reason')})" if phase.get("reason") else ""
        err.write(f"phase {name}: {phase.get('status')}{strip_control(extra)}\n")
    rca = primary_rca(record)
    if rca:
        err.write(f"root cause: {strip_control(rca.get('summary', ''))}\n")
    sys.stdout.write(f"{record_path}\n{pm_path}\n")


def playbook_runner(settings: Settings) -> Any:
    """Phase 4 of a run: both mitigations and fixes for the record's rca and health."""
    from triage.playbooks import plan_for_record

    return lambda rca, health: plan_for_record(rca, health, settings)
