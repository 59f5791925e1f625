"""The README's two set-up commands in a Debian root fresh from debootstrap (opt-in: minutes, root,
network; TRIAGE_DEBOOTSTRAP=1).

The root has python3 and its venv module, as the README asks, and nothing else; /src holds the files
git tracks. The first command runs twice (two incident directories, exit 0 both times); the second,
`./scripts/test`, runs with a fast subset of the suite as its pytest arguments, so everything before
pytest is the script's own: the apt-get install of the backends, the venv, the quality gate (ruff and
mypy over the whole tree), then tests that start a real Prometheus and VictoriaMetrics from the
packages it installed (tests/test_testing_backends.py), the module-shape rules and the demo's tests.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.test_cli_demo import _setup_commands

ROOT = Path(__file__).resolve().parent.parent
# The second command's pytest arguments: real backends, the shape rules, the demo; `-rs` lists every skip.
SUBSET = ["tests/test_testing_backends.py", "tests/test_shape.py", "tests/test_cli_demo.py", "-q", "-rs"]

pytestmark = [
    pytest.mark.debootstrap,
    pytest.mark.skipif(os.environ.get("TRIAGE_DEBOOTSTRAP") != "1", reason="minutes: set TRIAGE_DEBOOTSTRAP=1"),
]


def _copy_tracked(src: Path) -> None:
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, files.decode().split("\0")):
        if (ROOT / name).is_file():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, src / name)


def _in_root(root: Path, command: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(["chroot", str(root), "sh", "-c", f"cd /src && {command}"], env=env,
                          capture_output=True, text=True, timeout=2400)


def test_readme_set_up_in_a_fresh_debian_root(tmp_path):  # pragma: no cover - opt-in
    if os.geteuid() != 0 or not shutil.which("debootstrap") or not shutil.which("chroot"):
        pytest.skip("needs root, debootstrap and chroot")
    root = tmp_path / "debian"
    subprocess.run(["debootstrap", "--variant=minbase", "--include=python3,python3-venv,ca-certificates",
                    "bookworm", str(root), "http://deb.debian.org/debian"],
                   check=True, capture_output=True, timeout=1800)
    shutil.copy("/etc/resolv.conf", root / "etc" / "resolv.conf")
    _copy_tracked(root / "src")
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "LANG": "C.UTF-8"}
    if os.environ.get("PIP_CERT"):  # a host whose pip trusts a proxy's CA: the same for the root's pip
        shutil.copy(os.environ["PIP_CERT"], root / "etc" / "ssl" / "host-pip-ca.pem")
        env["PIP_CERT"] = "/etc/ssl/host-pip-ca.pem"
    first, second = _setup_commands()
    for _ in range(2):
        done = _in_root(root, first, env)
        assert done.returncode == 0, done.stderr[-3000:]
    made = sorted(p.name for p in (root / "src" / "incidents").iterdir())
    assert len(made) == 2 and made[1] == f"{made[0]}-2", made
    # The backends' daemons and pytest read /proc; mounted for the second command, unmounted after.
    subprocess.run(["mount", "-t", "proc", "proc", str(root / "proc")], check=True, timeout=60)
    try:
        done = _in_root(root, " ".join([second, *SUBSET]), env)
    finally:
        subprocess.run(["umount", "-l", str(root / "proc")], check=False, timeout=60)
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-5000:]
    assert "ruff check ." in log and "Success: no issues found" in log, log[-5000:]  # the gate ran, and passed
    passed = re.search(r"(\d+) passed", log)
    assert passed and int(passed.group(1)) >= 20, log[-3000:]
    skips = [line for line in log.splitlines() if line.startswith("SKIPPED")]
    assert all("TRIAGE_DEBOOTSTRAP" in line for line in skips), skips  # no backend test skipped for a missing binary
