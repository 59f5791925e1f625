"""Asking the real-data cases through the real CLI: in-process by default (one at a time: they
share os.environ, the cwd and sys.stdout), or a `triage` process per run, stopped on an interrupt."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench._common import ROOT, triage_argv
from bench.eval.ask import parse_json
from bench.eval.realdata_cases import WINDOW, Ask
from testing.cli import run_cli


def cli_args(ask: Ask, url: str) -> list[str]:
    c = ask.case
    target = ["--service", c.service] if ask.kind == "service" else ["--all-services"]
    return ["rca", *target, "--at", str(c.at), "--window", WINDOW, "--baseline", c.baseline,
            "-o", "json", "--config", str(ask.config), "--prometheus-url", url]


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:200]
    return ""



def run_in_process(ask: Ask, url: str, env: dict, cwd: Path) -> None:
    start = time.perf_counter()
    try:
        res = run_cli(cli_args(ask, url), env=env, cwd=cwd)
        code, out, err = res.code, res.stdout, res.stderr
    except Exception as e:   # noqa: BLE001 - a bench records, it does not stop
        code, out, err = -1, "", f"bench: in-process run raised {type(e).__name__}: {e}"
    ask.seconds = time.perf_counter() - start
    if code == 130:
        raise KeyboardInterrupt
    ask.code, ask.stderr, ask.payload = code, _first_line(err), parse_json(out)


def run_subprocess(ask: Ask, url: str, env: dict, cwd: Path) -> None:
    full = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
    full.update(env)
    full["PYTHONPATH"] = str(ROOT) + os.pathsep + full.get("PYTHONPATH", "")
    start = time.perf_counter()
    with _ACTIVE_LOCK:
        if _STOPPING.is_set():
            return
        proc = subprocess.Popen(triage_argv() + cli_args(ask, url), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL, cwd=cwd, env=full)
        _ACTIVE.add(proc)
    try:
        out, err = proc.communicate()
    finally:
        with _ACTIVE_LOCK:
            _ACTIVE.discard(proc)
    ask.seconds = time.perf_counter() - start
    if proc.returncode in (130, -signal.SIGINT) or _STOPPING.is_set():
        raise KeyboardInterrupt
    ask.code, ask.stderr = proc.returncode, _first_line(err.decode(errors="replace"))
    ask.payload = parse_json(out.decode(errors="replace"))


_ACTIVE: set = set()          # running triage processes (--subprocess), stopped on an interrupt
_ACTIVE_LOCK = threading.Lock()
_STOPPING = threading.Event()


def _stop_active() -> None:
    _STOPPING.set()
    with _ACTIVE_LOCK:
        procs = list(_ACTIVE)
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def run_all(asks: list[Ask], url: str, *, subprocesses: bool, jobs: int, home: Path, cwd: Path,
            progress: bool) -> None:
    env = {"TRIAGE_PROMETHEUS_URL": url, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")}
    done = [0]
    lock = threading.Lock()

    def one(ask: Ask) -> None:
        (run_subprocess if subprocesses else run_in_process)(ask, url, env, cwd)
        with lock:
            done[0] += 1
            if progress:
                print(f"\r  {done[0]}/{len(asks)} runs", end="", file=sys.stderr, flush=True)

    if subprocesses and jobs > 1:
        pool = ThreadPoolExecutor(max_workers=jobs)
        try:
            for f in [pool.submit(one, a) for a in asks]:
                f.result()
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            _stop_active()
            raise
        pool.shutdown()
    else:
        # In-process runs share os.environ, the cwd and sys.stdout: one at a time.
        try:
            for a in asks:
                one(a)
        except BaseException:
            _stop_active()
            raise
    if progress:
        print(file=sys.stderr)


