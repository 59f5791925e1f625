"""Asking triage as a user would: the installed console script, a fresh process per run, JSON out."""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from bench._common import ROOT, machine, run_timed, triage_argv
from bench.eval.cases import CLASSES, NO_ANSWER, Answer, Case, Run
from testing.scenarios.rca_library import AT, LibraryServer


def start() -> None:
    """Print what runs where; a triage that is not installed is pointed at this checkout."""
    argv = triage_argv()
    if argv[1:] == ["-m", "triage"]:
        # `python -m triage` runs in a temporary directory, so it needs the checkout on its path.
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    print(f"machine: {machine()}")
    print(f"triage: {' '.join(argv)}")


def parse_json(stdout: str) -> dict | None:
    try:
        payload = json.loads(stdout)
    except (json.JSONDecodeError, ValueError):
        return None
    return payload if isinstance(payload, dict) else None


def _answer(payload: dict | None, code: int, seconds: float) -> Answer:
    if payload is None or payload.get("bottleneck") not in CLASSES:
        return Answer(NO_ANSWER, None, None, code, seconds, payload)
    conf = payload.get("confidence")
    return Answer(payload["bottleneck"], float(conf) if isinstance(conf, (int, float)) else None,
                  payload.get("trigger"), code, seconds, payload)


def run_single(url: str, config: Path | None, at: str, cases: list[Case], run: Run, cwd: Path,
               extra: list[str] | None = None) -> None:
    for case in cases:
        args = ["rca", "--prometheus-url", url, "--service", case.service, "--at", at, "-o", "json", *(extra or [])]
        if config is not None:
            args[3:3] = ["--config", str(config)]
        seconds, code, _, out = run_timed(args, cwd=cwd)
        run.answers[(case.source, case.service)] = _answer(parse_json(out), code, seconds)


def run_fleet(url: str, config: Path | None, at: str, cases: list[Case], run: Run, cwd: Path,
              extra: list[str] | None = None) -> dict:
    args = ["rca", "--prometheus-url", url, "--all-services", "--at", at, "-o", "json", *(extra or [])]
    if config is not None:
        args[3:3] = ["--config", str(config)]
    seconds, code, rss, out = run_timed(args, cwd=cwd)
    payload = parse_json(out) or {}
    services: dict = payload["services"] if isinstance(payload.get("services"), dict) else {}
    for case in cases:
        run.answers[(case.source, case.service)] = _answer(services.get(case.service), code, seconds)
    return {"seconds": seconds, "code": code, "rss_kib": rss, "payload": payload}


def ask_served(title: str, server: LibraryServer, cases: list[Case], single: Run, fleet: Run, work: Path, *,
               no_single: bool, chain: Callable[[dict], str]) -> dict:
    """The fleet pass, then (unless `no_single`) every case on its own, against one served set."""
    print(f"{title}: {len(cases)} services in one Prometheus; generated {server.megabytes:.0f} MB "
          f"of OpenMetrics in {server.seconds_generate:.1f} s, promtool backfill + Prometheus start "
          f"{server.seconds_load:.1f} s")
    info = run_fleet(server.url, server.config, AT, cases, fleet, work)
    print(f"rca --all-services: {info['seconds']:.2f} s wall, exit {info['code']}, "
          f"peak RSS {info['rss_kib'] / 1024:.0f} MiB")
    print(f"chain ranking: {chain(info['payload'])}")
    if not no_single:
        t0 = time.perf_counter()
        run_single(server.url, server.config, AT, cases, single, work)
        times = [single.of(c).seconds for c in cases]
        print(f"rca --service (x{len(cases)}): {time.perf_counter() - t0:.1f} s in all, "
              f"median {statistics.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms each")
        info["single_seconds"] = times
    return info
