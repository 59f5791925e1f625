"""Output is inert (issue 13, item 9): every control character that came from outside — C0, DEL,
C1 (U+0080-U+009F: the 8-bit CSI, OSC, ST, NEL), the bidi overrides and isolates — is escaped in
every output format: table, markdown, JSON (\\u-escaped, though json.dumps writes C1 and bidi raw)
and the post-mortem, on stdout, stderr and in every file written.

The evil text comes from an incident record (alerts, findings, actions, summaries), from
Prometheus label values (through the fault proxy) and from container log lines (the Kubernetes fake).
"""

from __future__ import annotations

import json
import re

import pytest

from testing.servers.fault_proxy import Reply, Rewrite
from tests.faults.conftest import AT, cell, check, run_bounded, write_config

# one of each class; every one of them must come out escaped
EVIL = ("\x1b[2J\x1b]0;owned\x07"      # C0: ESC CSI, OSC title, BEL
        "\x9b31m\x9d0;c1-owned\x9c"     # C1: 8-bit CSI, 8-bit OSC ... ST
        "\x85\x7f\r\x08"                # NEL, DEL, CR, BS
        "\u202eRLO\u202c\u2066LRI\u2069\u200f")  # bidi: override, pop, isolate, mark
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
MARKERS = ("owned", "RLO", "LRI")


def raw_controls(text: str) -> list[str]:
    return sorted({f"U+{ord(c):04X}" for c in UNSAFE.findall(text)})


def assert_inert(result, output: str, *, exercised: bool = True) -> None:
    for name, text in (("stdout", result.stdout), ("stderr", result.stderr)):
        assert raw_controls(text) == [], f"raw control characters on {name} ({output}): {raw_controls(text)}"
    if output == "json" and result.stdout.strip():
        json.loads(result.stdout)  # still a JSON document (the escapes are JSON's own)
    if exercised:
        assert any(m in result.stdout + result.stderr for m in MARKERS), "the injection was not exercised"


# ---- from an incident record -----------------------------------------------------------------

@pytest.fixture(scope="module")
def evil_record(tmp_path_factory):
    """The demo's record with outside text carrying EVIL wherever a record holds outside text."""
    base = tmp_path_factory.mktemp("inert")
    check(run_bounded(["demo", "--out", str(base / "d")]), {0})
    doc = json.loads((base / "d" / "incident.json").read_text())
    start = doc["window"]["start"]
    alert = {"alertname": "Pwn" + EVIL, "state": "firing", "severity": "critical", "source": "prometheus" + EVIL,
             "labels": {"service": "checkout", "note": EVIL}, "starts_at": start, "summary": "summary" + EVIL}
    doc["live_alerts"] = [alert]
    det = doc["detect"]["services"][0]
    det.setdefault("alerts", []).append({**alert, "severity": "critical" + EVIL})
    det["affected"] = "affected" + EVIL
    doc["rca"]["summary"] = "summary" + EVIL
    doc["rca"].setdefault("notes", []).append("note" + EVIL)
    doc["phases"]["health"] = {"status": "skipped", "reason": "reason" + EVIL}
    doc["health"]["findings"].append({"kind": "container", "name": "web" + EVIL, "namespace": "lab",
                                      "check": "container.oom", "status": "critical", "reason": "OOMKilled",
                                      "detail": "exit 137" + EVIL, "evidence": ["line" + EVIL]})
    doc["health"]["status"] = "critical"
    doc["actions"] = [{"time": start, "phase": "mitigate", "step": "s" + EVIL, "what": "scale" + EVIL,
                       "target": "shop/orders" + EVIL, "result": "ok: " + EVIL, "by": "triage --apply"}]
    path = base / "evil.json"
    path.write_text(json.dumps(doc, ensure_ascii=False))
    assert "\x9b" in path.read_text() and "\u202e" in path.read_text()  # C1 and bidi raw; C0 as JSON escapes
    return path


RECORD_COMMANDS = {
    "detect --from": ["detect", "--from"],
    "rca --from": ["rca", "--from"],
    "capacity --from": ["capacity", "--service", "checkout", "--from"],
    "mitigate --from": ["mitigate", "--from"],
    "fix --from": ["fix", "--from"],
}
# commands whose output shows none of the injected fields in that format (they are still checked)
NOT_SHOWN = {("capacity --from", "table"), ("capacity --from", "markdown"), ("capacity --from", "json"),
             ("rca --from", "table"), ("rca --from", "markdown")}
RECORD_BUGS: dict = {}   # fixed: print_json writes through triage.render.json.inert_json


@pytest.mark.parametrize("command,output", [cell(RECORD_BUGS, c, o) for c in RECORD_COMMANDS
                                            for o in ("table", "markdown", "json")])
def test_record_text_is_inert(tmp_path, evil_record, command, output):
    result = run_bounded([*RECORD_COMMANDS[command], str(evil_record), "-o", output], cwd=tmp_path)
    check(result, {0, 1, 2, 3})
    assert_inert(result, output, exercised=(command, output) not in NOT_SHOWN)


def test_postmortem_is_inert(tmp_path, evil_record):
    result = run_bounded(["postmortem", str(evil_record)], cwd=tmp_path)
    check(result, {0})
    assert_inert(result, "markdown")
    out = tmp_path / "pm.md"
    check(run_bounded(["postmortem", str(evil_record), "--out", str(out)], cwd=tmp_path), {0})
    text = out.read_text()
    assert raw_controls(text) == [] and "owned" in text


def test_escapes_are_visible_not_silently_dropped(tmp_path, evil_record):
    """The reader is told a value carried escapes: ESC shows as \\x1b, U+202E as \\u202e."""
    result = run_bounded(["detect", "--from", str(evil_record)], cwd=tmp_path)
    assert "\\x1b" in result.stdout and "\\u202e" in result.stdout and "\\x9b" in result.stdout, result.stdout


# ---- the escaping helpers themselves (every renderer goes through them) -------------------------------

@pytest.mark.parametrize("char", [chr(c) for c in [*range(0x00, 0x09), *range(0x0b, 0x20), 0x7f,
                                                   *range(0x80, 0xa0), 0x061c, 0x200e, 0x200f,
                                                   *range(0x202a, 0x202f), *range(0x2066, 0x206a)]],
                         ids=lambda c: f"U+{ord(c):04X}")
def test_every_control_character_is_escaped_by_every_helper(char):
    from triage.health.text import clip
    from triage.render.escape import md, md_code, strip_control
    from triage.render.json import inert_json

    text = f"a{char}b"
    for helper in (strip_control, md, md_code, clip):
        assert raw_controls(helper(text)) == [], helper.__name__
    dumped = inert_json({"k": text})
    assert raw_controls(dumped) == [] and json.loads(dumped) == {"k": text}


def test_incident_record_file_is_inert_and_faithful(tmp_path, evil_record):
    """incident.json is JSON whose text holds no raw control character, and reads back to the same values."""
    from triage.incident import load, save

    doc = load(evil_record)
    out = tmp_path / "incident.json"
    save(doc, out)
    assert raw_controls(out.read_text()) == []
    assert load(out) == doc


# ---- from Prometheus label values --------------------------------------------------------------------

def _inject(doc: dict) -> dict:
    result = (doc.get("data") or {}).get("result") or []
    extra = []
    for item in result:
        metric = item.get("metric") or {}
        if metric.get("service") == "checkout":
            extra.append({**item, "metric": {**metric, "service": "checkout" + EVIL}})
        if metric.get("__name__") == "ALERTS" or metric.get("alertname"):
            extra.append({**item, "metric": {**metric, "alertname": "Pwn" + EVIL, "service": "checkout"}})
    doc["data"]["result"] = result + extra
    return doc


LABEL_COMMANDS = {"detect": ["detect", "--service", "checkout"], "rca --all-services": ["rca", "--all-services"],
                  "queries check": ["queries", "check"]}
LABEL_BUGS: dict = {}


@pytest.mark.backend
@pytest.mark.parametrize("command,output", [cell(LABEL_BUGS, c, o) for c in LABEL_COMMANDS
                                            for o in ("table", "markdown", "json")])
def test_label_values_are_inert(proxied, tmp_path, command, output):
    proxied.fault = lambda r: Rewrite(_inject) if r.path.startswith("/api/v1/query") else None
    config = write_config(tmp_path / "triage.yaml", proxied.url)
    argv = [*LABEL_COMMANDS[command], "--at", AT, "--config", str(config), "-o", output]
    result = run_bounded(argv, proxy=proxied, cwd=tmp_path)
    if command != "detect" and not any(m in result.stdout + result.stderr for m in MARKERS):
        # On a loaded machine a fleet pass through the proxy can miss the injected series once
        # (1 run in ~100): ask again before calling the cell unexercised.
        result = run_bounded(argv, proxy=proxied, cwd=tmp_path)
    check(result, {0, 1, 2, 3})
    assert_inert(result, output, exercised=command != "detect")


@pytest.mark.backend
def test_run_files_are_inert(proxied, tmp_path):
    proxied.fault = lambda r: Rewrite(_inject) if r.path.startswith("/api/v1/query") else None
    config = write_config(tmp_path / "triage.yaml", proxied.url)
    out = tmp_path / "o"
    result = run_bounded(["run", "--all-services", "--at", AT, "--no-kubernetes", "--no-docker", "--config",
                          str(config), "--out", str(out)], proxy=proxied, cwd=tmp_path)
    check(result, {0, 1, 2})
    assert_inert(result, "table", exercised=False)
    record = (out / "incident.json").read_text()
    assert "owned" in record, "the injection was not exercised"
    for name in ("incident.json", "postmortem.md"):
        assert raw_controls((out / name).read_text()) == [], name


@pytest.mark.backend
@pytest.mark.parametrize("status", [cell({}, s) for s in (422, 500)])
def test_backend_error_text_on_stderr_is_inert(proxied, tmp_path, status):
    proxied.fault = lambda r: (Reply(status, {"status": "error", "errorType": "bad_data", "error": "boom" + EVIL})
                               if r.path.startswith("/api/v1/query") else None)
    config = write_config(tmp_path / "triage.yaml", proxied.url)
    result = run_bounded(["detect", "--service", "checkout", "--at", AT, "--config", str(config)], proxy=proxied,
                         cwd=tmp_path)
    check(result, {3})
    assert_inert(result, "table")


# ---- from container log lines (Kubernetes) -----------------------------------------------------------

HEALTH_BUGS: dict = {}  # health's JSON is inert already: a log line is clipped (escaped) when it is read


@pytest.mark.parametrize("output", [cell(HEALTH_BUGS, o) for o in ("table", "markdown", "json")])
def test_log_lines_are_inert(tmp_path, output):
    from testing.k8s import FakeKubeAPI, kubeconfig, load_logs, load_manifests

    logs = load_logs()
    key = next(k for k in logs if k[1].startswith("checkout") and k[3])
    logs[key] = f"ERROR database gone {EVIL}\n" * 3 + logs[key]
    token = "inert-token"
    with FakeKubeAPI(load_manifests(), logs=logs, tokens={token: {("*", "*", "*")}}) as api:
        path = tmp_path / "kubeconfig"
        path.write_text(kubeconfig(api.url, token=token, namespace="shop"))
        result = run_bounded(["health", "--no-docker", "-n", "shop", "-o", output], env={"KUBECONFIG": str(path)})
    check(result, {2})
    assert_inert(result, output)


# ---- from a user's query catalog (queries_dir) -------------------------------------------------------

@pytest.mark.parametrize("output", [cell({}, o) for o in ("table", "markdown", "json")])
def test_user_catalog_text_is_inert(tmp_path, output):
    """YAML double-quoted strings carry any code point (\\e, \\x9b, \\u202e): a shared catalog can too."""
    evil_yaml = json.dumps(EVIL)  # a JSON string is a valid YAML double-quoted scalar
    (tmp_path / "q").mkdir()
    (tmp_path / "q" / "golden.yaml").write_text(
        "signals:\n  rps:\n    unit: " + json.dumps("req/s" + EVIL) + "\n"
        "    description: " + evil_yaml + "\n"
        "    thresholds: {source: " + json.dumps("seed" + EVIL) + "}\n"
        "    queries:\n      - family: " + json.dumps("app" + EVIL) + "\n        key: service\n"
        "        query: 'sum by (service) (rate(http_requests_total{service=~\"$service_re\"}[$rate]))'\n")
    (tmp_path / "triage.yaml").write_text("queries_dir: q\n")
    result = run_bounded(["queries", "list", "--config", str(tmp_path / "triage.yaml"), "-o", output], cwd=tmp_path)
    check(result, {0})
    assert_inert(result, output, exercised=False)
    assert "RLO" in result.stdout, "the injection was not exercised"
