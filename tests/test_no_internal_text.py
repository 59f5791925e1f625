"""What the on-call engineer reads carries none of the project's internal text: no references to
the documents the project was created from, no quotations in Indonesian, no MariaDB tip for a
Postgres database, no variable the tool does not read, no unrendered placeholder, no `None`.

Every shipped playbook's mitigate and fix plans (JSON and markdown, from the cases of
tests/test_playbook_invariants.py, which render every playbook) and the demo's plan outputs.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from testing.cli import run_cli
from tests.test_playbook_invariants import INPUTS
from tests.test_playbooks import plan
from triage.playbooks import load_library
from triage.render.plan import plan_markdown

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = [
    (re.compile(r"\bseeds?\b", re.I), "a reference to the seed documents"),
    (re.compile(r"\b(yang|dan|untuk|tidak|dengan|menambah|hanya|sesuai|gunakan|kembalikan|perlu)\b", re.I),
     "Indonesian"),
    (re.compile(r"PROCESSLIST"), "a MariaDB command"),
    (re.compile(r"\$PROMETHEUS_URL|\$ALERTMANAGER_URL"), "a variable triage does not read"),
    # `{name}` / `{name:.1f}`; curl's `%{http_code}`, jsonpath's `{end}` and `{.spec}`, PromQL matchers
    # and JSON are text
    (re.compile(r"(?<![%$])\{(?!end\})[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_]\w*)*(?::[^{}\s]*)?\}"),
     "an unrendered placeholder"),
    (re.compile(r"\bNone\b"), "None as a value"),
]


def _offences(text: str) -> list[str]:
    out = []
    for pattern, what in FORBIDDEN:
        for m in pattern.finditer(text):
            line = text[text.rfind("\n", 0, m.start()) + 1:text.find("\n", m.end())][:200]
            out.append(f"{what} {m.group(0)!r}: {line}")
    return out


@pytest.fixture(scope="module")
def library():
    return load_library()


@pytest.mark.parametrize("case", sorted(INPUTS))
def test_plans_of_every_playbook_carry_no_internal_text(library, case):
    bad: list[str] = []
    for phase in ("mitigate", "fix"):
        p = plan(library, phase=phase, **INPUTS[case])
        bad += _offences(json.dumps(p.to_json(), ensure_ascii=False, indent=1))
        bad += _offences(plan_markdown(p))
    assert not bad, "\n".join(dict.fromkeys(bad))




@pytest.mark.parametrize("output", ["json", "markdown", "table"])
@pytest.mark.parametrize("command", ["mitigate", "fix"])
def test_the_demo_plans_carry_no_internal_text(command, output):
    result = run_cli([command, "--from", str(ROOT / "demo" / "incident.json"), "-o", output],
                     env={"COLUMNS": "120"})
    assert result.stdout
    assert not _offences(result.stdout), "\n".join(dict.fromkeys(_offences(result.stdout)))


def test_recorded_actions_without_a_before_read_as_a_dash():
    text = plan_markdown(plan(load_library(), **INPUTS["demo"]),
                         [{"time": "2026-11-10T20:05:00Z", "what": "rollout_restart", "target": "lab/checkout",
                           "before": None, "after": None, "result": "applied"}])
    assert "None" not in text and "null" not in text and "| — | — | applied |" in text
