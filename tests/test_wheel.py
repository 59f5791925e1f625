"""The wheel, installed into a fresh virtualenv, works from any directory with its bundled content."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def installed_triage(tmp_path_factory) -> Path:
    """The wheel built from the checkout, installed alone (`--no-deps`) into a virtualenv of its own.
    Its dependencies are the checkout environment's, seen through a path file (the path is added,
    its own .pth files, among them the editable install of triage, are not read): the same
    packages scripts/test installs from the same pyproject, without ~40 s of resolving them again."""
    import sysconfig

    work = tmp_path_factory.mktemp("wheel")
    dist = work / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)],
                   check=True, capture_output=True, timeout=300)
    [wheel] = dist.glob("triage-*.whl")
    env_dir = work / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    proc = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
                           "--disable-pip-version-check", str(wheel)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True, timeout=60).stdout.strip()
    Path(site, "_checkout_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return env_dir / "bin"


def _run(bin_dir: Path, args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRIAGE_", "PYTHON"))}
    env["HOME"] = str(cwd)
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


def test_help_from_an_empty_directory(installed_triage, tmp_path):
    result = _run(installed_triage, [str(installed_triage / "triage"), "--help"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "detect" in result.stdout and "queries" in result.stdout


def test_bundled_catalog_ships_in_the_wheel(installed_triage, tmp_path):
    result = _run(installed_triage, [str(installed_triage / "triage"), "queries", "list", "--output", "json"], tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert len(data["signals"]) >= 22
    assert "site-packages/triage/_bundled/queries" in data["signals"][0]["file"]


def test_help_does_not_import_the_kubernetes_or_docker_sdks(installed_triage, tmp_path):
    """The process leaves without teardown (os._exit), so the imports are read from -X importtime:
    the first --help (help built with typer, then cached) and the second (from the cache)."""
    python = installed_triage / "python"
    for _ in range(2):
        result = _run(installed_triage, [str(python), "-X", "importtime", "-m", "triage", "--help"], tmp_path)
        assert result.returncode == 0 and "Usage: triage" in result.stdout, result.stderr[-500:]
        imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()
                    if line.startswith("import time:")}
        bad = sorted(m for m in imported if m.split(".")[0] in ("kubernetes", "docker", "prometheus_api_client"))
        assert imported and not bad, bad


@pytest.mark.parametrize("service,code,severity", [("catalog", 0, None), ("search", 1, "P3"), ("checkout", 2, "P0"),
                                                   ("cart", 2, "P1")])
def test_wheel_installed_detect_gives_the_right_verdicts(installed_triage, prometheus_server, tmp_path,
                                                         service, code, severity):
    (tmp_path / "triage.yaml").write_text(
        f"prometheus: {{url: '{prometheus_server.url}'}}\nservices:\n  checkout: {{namespace: shop, tier: 1}}\n")
    result = _run(installed_triage, [str(installed_triage / "triage"), "detect", "--service", service,
                                     "--namespace", "shop", "--at", "2026-11-10T20:01:00Z", "-o", "json"], tmp_path)
    assert result.returncode == code, result.stderr
    assert json.loads(result.stdout)["services"][0]["severity"] == severity


def test_wheel_installed_detect_unreachable_is_exit_3(installed_triage, tmp_path):
    result = _run(installed_triage, [str(installed_triage / "triage"), "detect", "--service", "checkout",
                                     "--prometheus-url", "http://127.0.0.1:9"], tmp_path)
    assert result.returncode == 3 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_demo_from_the_wheel_in_an_empty_directory(installed_triage, tmp_path):
    result = _run(installed_triage, [str(installed_triage / "triage"), "demo"], tmp_path)
    assert result.returncode == 0, result.stderr
    record, postmortem = result.stdout.split()
    assert (tmp_path / postmortem).read_text().startswith("# Post-mortem: checkout: db pool exhaustion")
    assert json.loads((tmp_path / record).read_text())["rca"]["bottleneck"] == "db_pool_exhaustion"


def test_the_wheel_holds_triage_only_at_the_packages_version(installed_triage):
    """`testing/`, `tests/` and `bench/` are the checkout's, not the user's (they are in the sdist)."""
    import zipfile

    import triage

    [wheel] = (installed_triage.parent.parent / "dist").glob("triage-*.whl")
    assert wheel.name.startswith(f"triage-{triage.__version__}-")
    tops = {name.split("/", 1)[0] for name in zipfile.ZipFile(wheel).namelist()}
    assert tops == {"triage", f"triage-{triage.__version__}.dist-info"}
