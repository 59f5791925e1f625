"""Rebuild demo/incident.json: `triage run` against a real Prometheus replaying the incident
lab's recording of seed 000's story (lab/recordings/db-pool: checkout, a traffic surge, the
DB connection pool exhausted while queries stay fast and CPU stays far from its limit).

    python scripts/make_demo_record.py

The recording is backfilled with promtool into a throwaway Prometheus; `triage run` asks it
exactly as it would ask production, and its record becomes the demo (the backend URL is
replaced by a placeholder).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lab import record  # noqa: E402
from testing.backends import prometheus_from_openmetrics  # noqa: E402

RECORDING = ROOT / "lab" / "recordings" / "db-pool"


def main() -> None:
    text, labels = record.load(RECORDING)
    service = labels["service"]
    config = {"services": {service: {"namespace": labels.get("namespace", "lab"), "database": service, "tier": 1,
                                     "depends_on": ["bank-api"]}}}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "triage.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        with prometheus_from_openmetrics(text, work / "prom") as prom:
            subprocess.run([sys.executable, "-m", "triage", "run", "--prometheus-url", prom.url, "--config",
                            str(work / "triage.yaml"), "--service", service, "--at", labels["at"],
                            "--window", labels["window"], "--baseline", labels["baseline"],
                            "--out", str(work / "out"), "--no-kubernetes", "--no-docker"],
                           cwd=ROOT, check=False)
        rec = json.loads((work / "out" / "incident.json").read_text())
    rec["backend"] = "http://prometheus.example:9090"
    out = ROOT / "demo" / "incident.json"
    out.write_text(json.dumps(rec, separators=(",", ":"), ensure_ascii=False) + "\n")
    print(f"{out}: {out.stat().st_size} bytes, {len(rec['queries'])} queries, verdict "
          f"{rec['rca']['bottleneck']} {rec['rca']['confidence']}")


if __name__ == "__main__":
    main()
