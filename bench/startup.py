"""`triage --help` wall time (target ≤ 0.15 s) and which heavy SDKs it imports (none)."""

from __future__ import annotations

import subprocess
import sys

from bench._common import machine, run_timed, summary


def main(runs: int = 20) -> None:
    run_timed(["--help"])  # warm the page cache
    times = [run_timed(["--help"])[0] for _ in range(runs)]
    print(f"machine: {machine()}")
    print(f"triage --help: {summary(times)}")
    code = ("import sys, runpy; sys.argv=['triage','--help']\n"
            "try:\n    runpy.run_module('triage', run_name='__main__')\nexcept SystemExit:\n    pass\n"
            "print(sorted({m.split('.')[0] for m in sys.modules}"
            " & {'kubernetes','docker','prometheus_api_client','jinja2'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip().splitlines()[-1]
    print(f"heavy SDKs imported by --help: {out}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
