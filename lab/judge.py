"""Judging a run: raw-signal checks and `triage rca`, live or on a replayed recording.

Standard library only (plus the scenario table), so replaying recordings needs neither
the lab's service dependencies nor root.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path

from lab.procs import LabError
from lab.scenarios import Check, render

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rfc3339(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def run_checks(value: Callable[[str, float], float | None], checks: Sequence[Check], service: str, at: float,
               window: str) -> list[dict]:
    out = []
    for c in checks:
        promql = render(c.query, service, window)
        try:
            got = value(promql, at)
        except Exception as e:  # noqa: BLE001 - a failing check is reported, not raised
            got, err = None, str(e)
        else:
            err = ""
        ok = got is not None and {"<": got < c.value, "<=": got <= c.value, ">": got > c.value,
                                  ">=": got >= c.value}[c.op]
        out.append({"check": c.what, "query": promql, "expect": f"{c.op} {c.value:g}",
                    "observed": None if got is None else round(got, 4), "ok": bool(ok),
                    **({"error": err} if err else {})})
    return out


def triage_rca(prometheus_url: str, service: str, at: float, window: str, baseline: str, config: Path | None,
               cwd: Path) -> dict | None:
    """``python -m triage rca ... -o json`` in a subprocess: the lab judges triage from outside."""
    argv = [sys.executable, "-m", "triage", "rca", "--prometheus-url", prometheus_url, "--service", service,
            "--at", rfc3339(at), "--window", window, "--baseline", baseline, "-o", "json"]
    if config is not None:
        argv += ["--config", str(config)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=cwd, env=env)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise LabError(f"triage rca: {e}") from e
    if not r.stdout.strip():
        raise LabError(f"triage rca exited {r.returncode} with no output: {r.stderr.strip()[-2000:]}")
    payload = json.loads(r.stdout)
    payload["_exit_code"] = r.returncode
    return payload
