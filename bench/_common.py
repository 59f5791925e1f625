"""Shared by the bench scripts: run triage as a user would, and time it."""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def triage_argv() -> list[str]:
    """The installed console script when there is one (what users run), else `python -m triage`."""
    script = Path(sys.executable).parent / "triage"
    if script.exists():
        return [str(script)]
    found = shutil.which("triage")
    return [found] if found else [sys.executable, "-m", "triage"]


def user_env(env: dict[str, str]) -> dict[str, str]:
    """`env` as a user's shell has it: no TRIAGE_ settings of the bench's own, and bytecode written
    (the first run leaves the .pyc files an installed triage has; a PYTHONDONTWRITEBYTECODE in the
    bench's environment would make every timed run compile triage from source)."""
    return {k: v for k, v in env.items() if not k.startswith("TRIAGE_") and k != "PYTHONDONTWRITEBYTECODE"}


def run_timed(args: list[str], cwd: Path | None = None) -> tuple[float, int, int, str]:
    """Wall seconds, exit code, max RSS in KiB, stdout of one triage run."""
    env = user_env(dict(os.environ))
    # GNU time reports the peak RSS of triage itself; the rusage of a forked child would
    # also count the bench's own memory copied at fork time.
    with tempfile.NamedTemporaryFile("r") as rss:
        wrapper = ["/usr/bin/time", "-q", "-f", "%M", "-o", rss.name] if Path("/usr/bin/time").exists() else []
        start = time.perf_counter()
        proc = subprocess.run(wrapper + triage_argv() + args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              cwd=cwd, env=env)
        elapsed = time.perf_counter() - start
        text = rss.read().strip().splitlines()
    peak = int(text[-1]) if text and text[-1].isdigit() else 0
    return elapsed, proc.returncode, peak, proc.stdout.decode()


def summary(times: list[float]) -> str:
    return (f"median {statistics.median(times) * 1000:.0f} ms, min {min(times) * 1000:.0f} ms, "
            f"max {max(times) * 1000:.0f} ms (n={len(times)})")


def machine() -> str:
    return (f"{platform.node()} {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"{datetime.now(timezone.utc):%Y-%m-%d}")


def health_argv() -> list[str]:
    return triage_argv() + ["health"]


def run_argv_timed(argv: list[str], *, env: dict, cwd: Path) -> tuple[float, int, int, str]:
    """Wall seconds, exit code, max RSS in KiB, stdout of one run."""
    env = user_env(env)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=cwd, env=env)
    out = proc.stdout.read().decode() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    return elapsed, os.waitstatus_to_exitcode(status), usage.ru_maxrss, out
