"""Rebuild demo/incident.json: `triage run` against a real Prometheus holding seed 000's story.

Until the incident lab's recording replaces it, the demo replays the generated scenario
of tests/scenarios (checkout: traffic surge, DB pool exhausted while CPU looks fine).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.backends import prometheus_from_openmetrics  # noqa: E402
from tests.scenarios.library import default_fleet, export_dataset  # noqa: E402

CONFIG = """\
services:
  checkout:
    namespace: shop
    database: checkout
    tier: 1
    invariants:
      - {name: pool never above its size, query: 'max(db_connection_pool_used{service="$service"} - db_connection_pool_size{service="$service"})', max: 0}
"""


def main() -> None:
    specs = [s for s in default_fleet() if s.name == "checkout"]
    om, _ = export_dataset(specs)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "triage.yaml").write_text(CONFIG)
        with prometheus_from_openmetrics(om, work / "prom") as prom:
            subprocess.run([sys.executable, "-m", "triage", "run", "--prometheus-url", prom.url, "--config",
                            str(work / "triage.yaml"), "--service", "checkout", "--at", "2026-11-10T20:01:00Z",
                            "--out", str(work / "out"), "--no-kubernetes", "--no-docker"],
                           cwd=ROOT, check=False)
        record = json.loads((work / "out" / "incident.json").read_text())
    record["backend"] = "http://prometheus.example:9090"
    out = ROOT / "demo" / "incident.json"
    out.write_text(json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n")
    print(f"{out}: {out.stat().st_size} bytes, {len(record['queries'])} queries")


if __name__ == "__main__":
    main()
