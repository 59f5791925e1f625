"""`triage completion bash|zsh|fish`: the shell's completion script, from Typer's own machinery.

The script is Typer's (its subclasses of Click's `ShellComplete`); it calls `triage` back with
`_TRIAGE_COMPLETE` set, which `main()` answers before any command runs. Nothing here is imported
by `triage --help`.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer

COMPLETE_VAR = "_TRIAGE_COMPLETE"


class Shell(str, Enum):
    bash = "bash"
    zsh = "zsh"
    fish = "fish"


ShellArg = Annotated[Shell, typer.Argument(case_sensitive=False, metavar="SHELL", help="bash, zsh or fish.")]


def completion(shell: ShellArg) -> None:
    """Print the shell completion script. bash: `source <(triage completion bash)` in ~/.bashrc;
    zsh: `triage completion zsh > "${fpath[1]}/_triage"`; fish:
    `triage completion fish > ~/.config/fish/completions/triage.fish`."""
    import sys

    from triage.cli import app

    sys.stdout.write(script(app, shell.value) + "\n")
    raise typer.Exit(0)


def script(app: typer.Typer, shell: str) -> str:
    from typer.completion import shell_completion

    register()
    cls = shell_completion.get_completion_class(shell)
    if cls is None:  # pragma: no cover - the three shells are registered just above
        raise typer.Exit(3)
    return str(cls(typer.main.get_command(app), {}, "triage", COMPLETE_VAR).source()).strip()


def register() -> None:
    """Typer's completion classes (the scripts and the answers to them must be the same kind)."""
    from typer.completion import completion_init

    completion_init()
