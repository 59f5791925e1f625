"""Shared by the bench scripts: run triage as a user would, and time it."""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def triage_argv() -> list[str]:
    """The installed console script when there is one (what users run), else `python -m triage`."""
    script = Path(sys.executable).parent / "triage"
    if script.exists():
        return [str(script)]
    found = shutil.which("triage")
    return [found] if found else [sys.executable, "-m", "triage"]


def run_timed(args: list[str], cwd: Path | None = None) -> tuple[float, int, int, str]:
    """Wall seconds, exit code, max RSS in KiB, stdout of one triage run."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
    start = time.perf_counter()
    proc = subprocess.Popen(triage_argv() + args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=cwd, env=env)
    out = proc.stdout.read().decode() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return elapsed, proc.returncode, usage.ru_maxrss, out


def summary(times: list[float]) -> str:
    return f"median {statistics.median(times) * 1000:.0f} ms, min {min(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms (n={len(times)})"


def machine() -> str:
    return (f"{platform.node()} {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"{datetime.now(timezone.utc):%Y-%m-%d}")
