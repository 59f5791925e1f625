"""Recording rules evaluated over history by the real tools, for tests and benches.

A ruler evaluates rules at the time it runs, never over data backfilled into the past, so the
history of the recorded series is written the way the tools offer: `promtool tsdb
create-blocks-from rules` (blocks evaluated by promtool through a Prometheus holding the raw
data, then served by a Prometheus started over raw and recorded blocks), and `vmalert -replay`
(vmalert evaluating the file against VictoriaMetrics and remote-writing the results back).
Only 127.0.0.1 is contacted; every wait has a deadline.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

import yaml

from testing.backends.process import (
    PROMETHEUS_BIN,
    PROMTOOL_BIN,
    Backend,
    BackendError,
    _tail,
    start,
)

VMALERT_BIN = os.environ.get("TRIAGE_TEST_VMALERT", "vmalert")


def _rfc3339(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _run(argv: Sequence[str], log_path: Path, timeout: float) -> None:
    with open(log_path, "ab") as log:
        log.write(f"$ {' '.join(argv)}\n".encode())
        log.flush()
        try:
            rc = subprocess.run(list(argv), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                timeout=timeout).returncode
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise BackendError(f"{argv[0]}: {exc}\n{_tail(log_path)}") from exc
    if rc != 0:
        raise BackendError(f"{argv[0]} exited {rc}\n--- last lines of {log_path} ---\n{_tail(log_path)}")


def rule_groups_health(backend: Backend, timeout: float = 60.0) -> list[dict]:
    """Wait until every recording rule of Prometheus (or vmalert) has been evaluated once; its rules."""
    deadline = time.monotonic() + timeout
    rules: list[dict] = []
    while time.monotonic() < deadline:
        if not backend.running:
            raise backend.fail("exited while evaluating rules")
        groups = backend.get("/api/v1/rules")["data"]["groups"]
        rules = [r for g in groups for r in g.get("rules", [])]
        if rules and all(r.get("health") in ("ok", "err") for r in rules):
            return rules
        time.sleep(0.5)
    raise backend.fail(f"rules not all evaluated after {timeout:.0f}s: {[r.get('health') for r in rules]}")


def backfill_rules_prometheus(raw: Backend, rules_file: Path, start_s: float, end_s: float,
                              timeout: float = 600.0) -> Backend:
    """Evaluate `rules_file` over [start_s, end_s] from `raw` with promtool, then stop `raw` and
    serve its blocks and the recorded ones from a new Prometheus that also loads the rules."""
    wd = raw.workdir
    tsdb = wd / "tsdb"
    out = wd / "recorded-blocks"
    if out.exists():
        shutil.rmtree(out)
    _run([PROMTOOL_BIN, "tsdb", "create-blocks-from", "rules", "--quiet", f"--url={raw.url}",
          f"--start={int(start_s)}", f"--end={int(end_s)}", f"--output-dir={out}", str(rules_file)],
         wd / "promtool-rules.log", timeout)
    raw.stop()
    for block in out.iterdir():
        if block.is_dir() and (block / "meta.json").exists():
            shutil.move(str(block), tsdb / block.name)
    config = wd / "prometheus-rules.yml"
    config.write_text(yaml.safe_dump({"global": {"evaluation_interval": "1s", "scrape_interval": "15s"},
                                      "rule_files": [str(Path(rules_file).resolve())]}))

    def argv_for(port: int) -> list[str]:
        return [PROMETHEUS_BIN, f"--config.file={config}", f"--storage.tsdb.path={tsdb}",
                "--storage.tsdb.retention.time=100y", f"--web.listen-address=127.0.0.1:{port}"]

    return start("prometheus", argv_for, wd, "/-/ready", 120)


def vmalert_replay(vm: Backend, rules_file: Path, start_s: float, end_s: float, workdir: Path,
                   timeout: float = 600.0) -> None:
    """vmalert evaluates `rules_file` against VictoriaMetrics over [start_s, end_s] and writes the
    recorded series back to it (-remoteWrite.url); returns once they are searchable."""
    workdir.mkdir(parents=True, exist_ok=True)
    _run([VMALERT_BIN, f"-rule={rules_file}", f"-datasource.url={vm.url}", f"-remoteWrite.url={vm.url}",
          f"-replay.timeFrom={_rfc3339(start_s)}", f"-replay.timeTo={_rfc3339(end_s)}",
          "-replay.rulesDelay=0s", "-replay.disableProgressBar", "-loggerOutput=stdout",
          "-remoteWrite.flushInterval=100ms"], workdir / "vmalert-replay.log", timeout)
    _wait_for_records(vm, rules_file, start_s, end_s, workdir / "vmalert-replay.log")


def _wait_for_records(vm: Backend, rules_file: Path, start_s: float, end_s: float, log_path: Path,
                      timeout: float = 120.0) -> None:
    """Until every info series of `rules_file` is searchable at both ends of the replayed range:
    vmalert's remote write may still be delivering (a loaded machine) when it exits."""
    groups = (yaml.safe_load(Path(rules_file).read_text()) or {}).get("groups") or []
    want = sum(1 for g in groups for r in g.get("rules") or [] if r.get("record") == "triage_recording_rule_info")
    if not want:
        vm.http.get(vm.url + "/internal/force_flush", timeout=30)
        return
    query = "count(triage_recording_rule_info)"
    deadline = time.monotonic() + timeout
    seen: dict[float, float] = {}
    while True:
        vm.http.get(vm.url + "/internal/force_flush", timeout=30)
        for at in (start_s + 60, end_s):
            result = vm.query(query, at)
            seen[at] = float(result[0]["value"][1]) if result else 0.0
        if all(v >= want for v in seen.values()):
            return
        if time.monotonic() >= deadline:
            raise vm.fail(f"vmalert -replay wrote {seen} of {want} info series after {timeout:.0f}s\n"
                          f"--- last lines of {log_path} ---\n{_tail(log_path)}")
        time.sleep(0.5)


def vmalert_live(vm: Backend, rules_file: Path, workdir: Path, ready_timeout: float = 60.0) -> Backend:
    """vmalert evaluating `rules_file` against VictoriaMetrics now, writing back to it."""
    workdir.mkdir(parents=True, exist_ok=True)

    def argv_for(port: int) -> list[str]:
        return [VMALERT_BIN, f"-rule={rules_file}", f"-datasource.url={vm.url}", f"-remoteWrite.url={vm.url}",
                f"-httpListenAddr=127.0.0.1:{port}", "-loggerOutput=stdout", "-evaluationInterval=1s"]

    return start("vmalert", argv_for, workdir, "/-/healthy", ready_timeout)
