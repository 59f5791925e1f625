"""`triage completion bash|zsh|fish`: Typer's scripts, answered by `triage` itself, and no cost to --help."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from testing.cli import run_cli

ROOT = Path(__file__).resolve().parent.parent


def test_bash_script_is_printed_and_parses(tmp_path):
    result = run_cli(["completion", "bash"])
    assert result.code == 0, result.stderr
    assert "triage" in result.stdout and "_TRIAGE_COMPLETE=complete_bash" in result.stdout
    script = tmp_path / "triage.bash"
    script.write_text(result.stdout)
    check = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stderr


@pytest.mark.parametrize("shell,needle", [("zsh", "#compdef triage"), ("fish", "complete --command triage"),
                                          ("ZSH", "#compdef triage")])
def test_zsh_and_fish_scripts_are_printed(shell, needle):
    result = run_cli(["completion", shell])
    assert result.code == 0, result.stderr
    assert needle in result.stdout and "_TRIAGE_COMPLETE=complete_" in result.stdout


def test_an_unknown_shell_is_one_line():
    result = run_cli(["completion", "tcsh"])
    assert result.code == 3 and len(result.stderr.strip().splitlines()) == 1 and "tcsh" in result.stderr


def _wrapper(tmp_path: Path) -> Path:
    """A `triage` on PATH that runs this checkout."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    exe = bindir / "triage"
    exe.write_text(f"#!/bin/sh\nPYTHONPATH={ROOT} exec {sys.executable} -m triage \"$@\"\n")
    exe.chmod(0o755)
    return bindir


def test_bash_completes_commands_and_options_through_triage(tmp_path):
    if not shutil.which("bash"):
        pytest.skip("no bash")
    script = run_cli(["completion", "bash"]).stdout
    (tmp_path / "triage.bash").write_text(script)
    env = {**os.environ, "PATH": f"{_wrapper(tmp_path)}:{os.environ['PATH']}"}
    probe = textwrap.dedent(f"""
        source {tmp_path / "triage.bash"}
        COMP_WORDS=(triage de); COMP_CWORD=1; _triage_completion triage; echo "A:${{COMPREPLY[*]}}"
        COMP_WORDS=(triage rca --si); COMP_CWORD=2; _triage_completion triage; echo "B:${{COMPREPLY[*]}}"
    """)
    done = subprocess.run(["bash", "-c", probe], env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = dict(line.split(":", 1) for line in done.stdout.splitlines() if ":" in line)
    assert sorted(lines["A"].split()) == ["demo", "detect"]
    assert lines["B"].split() == ["--since"]


def test_help_lists_completion_and_pays_nothing_for_it():
    """`import typer` already loads Typer's completion classes; the command's module imports nothing
    more at start-up (its work is done in the function, when `triage completion` runs)."""
    import ast

    assert "completion" in run_cli(["--help"]).stdout
    tree = ast.parse((ROOT / "triage" / "cli" / "completion.py").read_text())
    top = {alias.name.split(".")[0] for node in tree.body if isinstance(node, ast.Import) for alias in node.names}
    top |= {(node.module or "").split(".")[0] for node in tree.body if isinstance(node, ast.ImportFrom)}
    assert top <= {"__future__", "enum", "typing", "typer"}, top
