"""`python -m triage` is the console script: same help, same version, same exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import triage

ROOT = Path(__file__).resolve().parent.parent


def _python_m(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-m", "triage", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120, stdin=subprocess.DEVNULL)


def test_python_m_triage_prints_the_version(tmp_path):
    result = _python_m(["--version"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"triage {triage.__version__}\n"


def test_python_m_triage_help_names_the_program_and_its_commands(tmp_path):
    result = _python_m(["--help"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: triage ")
    for command in ("detect", "health", "rca", "mitigate", "fix", "postmortem", "run", "demo"):
        assert command in result.stdout


def test_python_m_triage_goes_through_the_error_boundary(tmp_path):
    result = _python_m(["detect", "--service", "checkout", "--prometheus-url", "http://127.0.0.1:9"], tmp_path)
    assert result.returncode == 3
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_importing_the_main_module_runs_nothing():
    code = "import triage.__main__; print('imported')"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "imported\n"
