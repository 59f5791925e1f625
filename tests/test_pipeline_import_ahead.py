"""An rca pass imports the analysis while its first requests are out, not before them (issue 17):
the phases and the CLI's inputs import no analysis module, a one-service pass sends its first
request with the analysis not (all) imported yet, and the verdict is the one it always was."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _run(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          cwd=REPO).stdout.strip()


def test_the_phases_and_the_inputs_import_no_analysis() -> None:
    code = ("import sys; import triage.pipeline.phases, triage.cli.inputs, triage.cli.rca_run; "
            "print(sorted(m for m in sys.modules if m.startswith(('triage.analysis.', 'triage.pipeline.documents', "
            "'triage.incident', 'triage.pipeline.replay', 'triage.pipeline.record'))))")
    assert _run(code) == "[]"


def test_import_ahead_imports_on_a_thread_and_says_nothing_of_a_failure() -> None:
    code = ("import sys\nfrom triage.pipeline.phases import import_ahead\n"
            "t = import_ahead(['triage.analysis.rca', 'triage.no_such_module'])\n"
            "t.join()\n"
            "print(t.name, t.daemon, 'triage.analysis.rca' in sys.modules, 'triage.no_such_module' in sys.modules,\n"
            "      import_ahead(['triage.analysis.rca']))")
    assert _run(code) == "triage-import-ahead True True False None"


def test_a_one_service_pass_asks_before_the_analysis_is_imported(prometheus_server) -> None:
    """run_rca's first wave goes out with no analysis module imported (the thread importing them is
    held until then), and the pass then waits for those imports: the verdict is whole."""
    code = f"""
import json, sys, threading
import triage.pipeline.phases as phases
from triage.sources.prometheus import PrometheusSource

asked = threading.Event()
seen = []

class HeldImports:
    @staticmethod
    def import_module(name):
        asked.wait(30)
        return __import__("importlib").import_module(name)

phases.importlib = HeldImports
first = PrometheusSource.query_range_many

def query_range_many(self, queries):
    if not asked.is_set():
        seen.append(sorted(m for m in sys.modules if m.startswith("triage.analysis.")))
        asked.set()
    return first(self, queries)

PrometheusSource.query_range_many = query_range_many
from triage.cli import main
try:
    main(["rca", "--service", "checkout", "--namespace", "shop", "--at", "2026-11-10T20:01:00Z", "-o", "json",
          "--prometheus-url", "{prometheus_server.url}"])
except SystemExit as exc:
    code = exc.code
sys.stdout.flush()
sys.stderr.write(json.dumps([seen, code]))
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    seen, exit_code = json.loads(proc.stderr.strip().splitlines()[-1])
    assert seen == [[]]
    payload = json.loads(proc.stdout)
    assert payload["schema"] == "triage.rca/v1" and payload["service"] == "checkout", proc.stdout[:500]
    assert exit_code == {"ok": 0, "warning": 1, "critical": 2}.get(payload["status"], exit_code)
