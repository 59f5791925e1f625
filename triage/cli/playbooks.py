"""`triage playbooks list|show|validate`: the playbooks behind `mitigate` and `fix`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from triage.cli import options as o

app = typer.Typer(help="The playbooks behind `mitigate` and `fix`: list, show, validate.", no_args_is_help=True)

NameArg = Annotated[str, typer.Argument(metavar="NAME", help="The playbook's name (its file name without .yaml).")]
PathsArg = Annotated[list[str] | None, typer.Argument(
    metavar="[PATH]...", help="Files or directories (default: your playbooks_dir and the built-ins).")]


@app.command("list")
def list_(
    output: o.OutputOpt = o.Output.table,
    config: o.ConfigOpt = None,
) -> None:
    """Every playbook (yours first, then the built-ins), with what it covers."""
    import sys

    from triage.cli.console import print_json
    from triage.config import load_settings
    from triage.playbooks import load_library

    library = load_library(load_settings(config=config).playbooks_dirs)
    books = list(library.playbooks.values())
    if output is o.Output.json:
        print_json({"schema": "triage.playbooks/v1", "playbooks": [
            {"name": p.name, "title": p.title, "file": str(p.path), "bundled": p.bundled, "covers": p.covers(),
             "mitigations": len(p.mitigations), "fixes": len(p.fixes)} for p in books]})
    elif output is o.Output.markdown:
        from triage.render.markdown.catalog import playbooks_markdown

        sys.stdout.write(playbooks_markdown(books))
    else:
        from triage.cli.table import playbooks_table

        playbooks_table(books)


@app.command("show")
def show(
    name: NameArg,
    output: o.OutputOpt = o.Output.table,
    config: o.ConfigOpt = None,
) -> None:
    """One playbook as written: its steps, conditions, commands (unrendered) and risks."""
    import sys

    from triage.cli.console import print_json
    from triage.config import load_settings
    from triage.playbooks import load_library

    book = load_library(load_settings(config=config).playbooks_dirs).get(name)
    if output is o.Output.json:
        print_json({"schema": "triage.playbook/v1", **book.to_json()})
    elif output is o.Output.markdown:
        from triage.render.markdown.catalog import playbook_markdown

        sys.stdout.write(playbook_markdown(book))
    else:
        from triage.cli.table import playbook_table

        playbook_table(book)


@app.command("validate")
def validate(
    paths: PathsArg = None,
    output: o.OutputOpt = o.Output.table,
    config: o.ConfigOpt = None,
) -> None:
    """Check playbooks: schema, conditions, placeholders, actions; exit 0 when all are valid, 3 otherwise."""
    import sys

    from triage.catalog import search_dirs
    from triage.cli.console import print_json
    from triage.config import load_settings
    from triage.playbooks import coverage, load_library, validate_paths
    from triage.render.escape import strip_control as clean

    if paths:
        targets = [Path(p) for p in paths]
    else:
        settings = load_settings(config=config)
        targets = [d for d in search_dirs("playbooks", settings.playbooks_dirs) if d.is_dir()
                   or d in settings.playbooks_dirs]
    good, errors = validate_paths(targets)
    uncovered: list[str] = []
    if not paths and not errors:
        for name, phases in coverage(load_library(settings.playbooks_dirs)).items():
            missing = [ph for ph, titles in phases.items() if not titles]
            if missing:
                uncovered.append(f"{name}: no {' and no '.join(missing)}")
    steps = sum(len(p.steps) for p in good)
    if output is o.Output.json:
        print_json({"schema": "triage.playbooks-validate/v1", "valid": not errors,
                    "files": [{"file": str(p.path), "name": p.name, "mitigations": len(p.mitigations),
                               "fixes": len(p.fixes)} for p in good],
                    "errors": errors, "uncovered": uncovered})
    else:
        prefix = "- " if output is o.Output.markdown else ""
        for p in good:
            m, f = len(p.mitigations), len(p.fixes)
            sys.stdout.write(f"{prefix}ok {clean(p.path)} ({m} mitigation{'' if m == 1 else 's'}, "
                             f"{f} fix{'' if f == 1 else 'es'})\n")
        for e in errors:
            sys.stdout.write(f"{prefix}FAILED {clean(e)}\n")
        for u in uncovered:
            sys.stdout.write(f"{prefix}warning: {clean(u)}\n")
        sys.stdout.write(f"{len(good)} valid, {len(errors)} invalid ({steps} steps)\n")
    raise typer.Exit(3 if errors or not (good or errors) else 0)
