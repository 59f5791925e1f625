"""`triage demo` (CONTRACT.md: it exits 0 when it ran) and the README's set-up."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

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


@pytest.mark.debootstrap
@pytest.mark.skipif(os.environ.get("TRIAGE_DEBOOTSTRAP") != "1", reason="minutes: set TRIAGE_DEBOOTSTRAP=1")
def test_readme_first_command_in_a_fresh_debian_root(tmp_path):  # pragma: no cover - opt-in
    """The README's first command, twice, in a Debian root fresh from debootstrap (python3 and its
    venv module, as the README asks, and nothing else), from the files git tracks."""
    chroot = shutil.which("chroot")
    if os.geteuid() != 0 or not shutil.which("debootstrap") or not chroot:
        pytest.skip("needs root, debootstrap and chroot")
    root = tmp_path / "debian"
    subprocess.run(["debootstrap", "--variant=minbase", "--include=python3,python3-venv,ca-certificates",
                    "bookworm", str(root), "http://deb.debian.org/debian"],
                   check=True, capture_output=True, timeout=1800)
    shutil.copy("/etc/resolv.conf", root / "etc" / "resolv.conf")
    src = root / "src"
    shutil.rmtree(src, ignore_errors=True)
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, files.decode().split("\0")):
        if (ROOT / name).is_file():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, src / name)
    first = _setup_commands()[0]
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/root", "LANG": "C.UTF-8"}
    if os.environ.get("PIP_CERT"):  # a host whose pip trusts a proxy's CA: the same for the root's pip
        shutil.copy(os.environ["PIP_CERT"], root / "etc" / "ssl" / "host-pip-ca.pem")
        env["PIP_CERT"] = "/etc/ssl/host-pip-ca.pem"
    for _ in range(2):
        done = subprocess.run([chroot, str(root), "sh", "-c", f"cd /src && {first}"], env=env,
                              capture_output=True, text=True, timeout=1800)
        assert done.returncode == 0, done.stderr[-3000:]
    made = sorted(p.name for p in (src / "incidents").iterdir())
    assert len(made) == 2 and made[1] == f"{made[0]}-2", made
