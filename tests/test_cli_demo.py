"""`triage demo` (CONTRACT.md: it exits 0 when it ran) and the README's set-up."""

from __future__ import annotations

from pathlib import Path

from testing.cli import run_cli

ROOT = Path(__file__).resolve().parent.parent


def _tree(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def test_demo_twice_writes_two_directories_and_leaves_the_first_untouched(tmp_path):
    first = run_cli(["demo"], cwd=tmp_path)
    assert first.code == 0, first.stderr
    first_dir = Path(first.stdout.split()[0]).parent
    (tmp_path / first_dir / "postmortem.md").write_text("a human's edits")
    before = _tree(tmp_path / first_dir)
    second = run_cli(["demo"], cwd=tmp_path)
    assert second.code == 0, second.stderr
    second_dir = Path(second.stdout.split()[0]).parent
    assert second_dir != first_dir and second_dir.name == f"{first_dir.name}-2"
    assert sorted(p.name for p in (tmp_path / second_dir).iterdir()) == ["incident.json", "postmortem.md"]
    assert _tree(tmp_path / first_dir) == before
    third = run_cli(["demo"], cwd=tmp_path)
    assert third.code == 0 and Path(third.stdout.split()[0]).parent.name == f"{first_dir.name}-3"


def test_demo_into_a_named_directory_that_exists_is_refused_unless_forced(tmp_path):
    out = tmp_path / "o"
    assert run_cli(["demo", "--out", str(out)]).code == 0
    (out / "postmortem.md").write_text("a human's edits")
    again = run_cli(["demo", "--out", str(out)])
    assert again.code == 3 and "already exists" in again.stderr
    assert (out / "postmortem.md").read_text() == "a human's edits"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"]
    assert run_cli(["demo", "--out", str(out), "--force"]).code == 0
    assert (out / "postmortem.md").read_text().startswith("# Post-mortem")


def _setup_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    setup = text.split("## Set-up", 1)[1].split("\n## ", 1)[0]
    block = setup.split("```sh\n", 1)[1].split("```", 1)[0]
    return [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]


def test_readme_setup_is_two_commands_the_first_in_a_venv():
    commands = _setup_commands()
    assert len(commands) == 2, commands
    assert commands[0].startswith("python3 -m venv .venv && ") and commands[0].endswith("triage demo")
    assert ".venv/bin/pip install ." in commands[0]  # never the system's pip: PEP 668 stops it
    assert commands[1] == "./scripts/test"


# The README's two commands in a fresh Debian root (opt-in, minutes): tests/test_debootstrap.py.
