"""Broken files: config, query catalog, playbook dir, template and incident record. Outcome:
one line naming the file (and the line, where there is one) and what is wrong; exit 3."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.faults.conftest import cell, check, run_bounded

DEAD = "http://127.0.0.1:9"

CONFIGS = {
    "YAML syntax error": ("prometheus:\n  url: [http://x\n", ":3:"),
    "wrong type": ("services:\n  checkout: {tier: high}\n", ":2:"),
    "wrong type (timeout)": ("prometheus:\n  url: http://127.0.0.1:9\n  timeout: fast\n", "timeout"),
    "unknown key": ("prometheus:\n  url: http://127.0.0.1:9\n  timeot: 2s\n", ":3:"),
    "duplicate key": ("namespace: a\nnamespace: b\n", ":2:"),
    "top level is a list": ("- a\n- b\n", ":1:"),
    "python tag": ("prometheus: !!python/object/apply:os.system ['echo pwned']\n", ":1:"),
    "non-UTF-8 bytes": (b"services:\n  caf\xe9: {}\n", ":2:"),
    "50 MB": (None, "too large"),
    "url with bad port": ("prometheus:\n  url: http://127.0.0.1:99999\n", "port"),
    "alias bomb in a valid key": ("x: &a [1,1,1,1,1,1,1,1,1,1]\n", ":1:"),
    "bad queries_dir file": ("queries_dir: q\n", "bad.yaml:"),
    "missing config file": (None, "not found"),
}
CONFIG_COMMANDS = {
    "detect": ["detect", "--service", "checkout"],
    "rca": ["rca", "--service", "checkout"],
    "health": ["health", "--no-kubernetes", "--no-docker"],
    "run": ["run", "--service", "checkout", "--no-kubernetes", "--no-docker"],
    "queries check": ["queries", "check"],
    "postmortem": ["postmortem", "incident.json"],
}
BUGS: dict = {}  # every bug of this table is fixed; see FAULTS.md
# commands that never read the query catalog are not cells of that row
NOT_READ = {("bad queries_dir file", "health"), ("bad queries_dir file", "postmortem")}


def write_config(tmp_path, fault):
    text, _ = CONFIGS[fault]
    path = tmp_path / "triage.yaml"
    if fault == "50 MB":
        with open(path, "wb") as f:
            f.write(b"# padding\n" * (5 * 1024 * 1024))
    elif fault == "missing config file":
        return tmp_path / "nope.yaml"
    elif fault == "bad queries_dir file":
        (tmp_path / "q").mkdir()
        (tmp_path / "q" / "bad.yaml").write_text("signals:\n  rps: {queries: [\n")
        path.write_text(text)
    else:
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


@pytest.mark.parametrize("fault,command", [cell(BUGS, f, c) for f in CONFIGS for c in CONFIG_COMMANDS
                                           if (f, c) not in NOT_READ])
def test_broken_config(tmp_path, fault, command):
    path = write_config(tmp_path, fault)
    result = run_bounded([*CONFIG_COMMANDS[command], "--config", str(path)], cwd=tmp_path)
    check(result, {3})
    [line] = result.stderr.strip().splitlines()
    where = "q/bad.yaml" if fault == "bad queries_dir file" else str(path)
    if fault != "url with bad port":
        assert where in line, line
    assert CONFIGS[fault][1] in line, line
    assert "pwned" not in result.stdout


@pytest.fixture(scope="module")
def record(tmp_path_factory):
    """A real incident record: the demo's."""
    out = tmp_path_factory.mktemp("demo")
    result = run_bounded(["demo", "--out", str(out / "d")])
    assert result.code == 0, result.stderr
    return out / "d" / "incident.json"


TEMPLATES = {
    "syntax error": ("line one\n{% if rca %}\nno endif\n", ":3:"),
    "undefined value": ("{{ nothing.here }}\n", "undefined"),
    "include loop": ("{% include 'loop.md.j2' %}\n", "loop.md.j2"),
    "recursive macro": ("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}\n", "loop.md.j2"),
    "non-UTF-8 bytes": (b"\xff\xfe{{ x }}", "UTF-8"),
    "50 MB": (None, "too large"),
    "reaches Python internals": ("{{ ''.__class__.__mro__[1].__subclasses__() }}\n", "loop.md.j2"),
    # issue 13: a template that asks for all the memory (MemoryError) or a core for minutes
    "repetition bomb": ("{{ 'x' * 10**12 }}\n", "too large"),
    "list repetition bomb": ("{{ ([1] * 100000) * 100000 }}\n", "too large"),
    "exponent bomb": ("{{ 2 ** 100000000 }}\n", "too large"),
}
TEMPLATE_BUGS: dict = {}  # every bug of this table is fixed; see FAULTS.md


@pytest.mark.parametrize("fault", [cell(TEMPLATE_BUGS, f) for f in TEMPLATES])
def test_broken_template(tmp_path, record, fault):
    text, phrase = TEMPLATES[fault]
    path = tmp_path / "loop.md.j2"
    if text is None:
        with open(path, "wb") as f:
            f.write(b"x" * (50 * 1024 * 1024))
    else:
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
    result = run_bounded(["postmortem", str(record), "--template", str(path)], cwd=tmp_path)
    check(result, {3})
    [line] = result.stderr.strip().splitlines()
    assert str(path) in line and phrase in line, line


def test_broken_playbook_dir(tmp_path, record):
    """A user playbook that is not valid YAML: `triage demo`-style replay through `run` is the only reader;
    the bundled demo ignores user dirs, so read it through the config of `rca --from` + `postmortem`."""
    books = tmp_path / "books"
    books.mkdir()
    (books / "bad.yaml").write_text("name: x\nmitigations: [\n")
    (tmp_path / "triage.yaml").write_text(f"playbooks_dir: {books}\n")
    result = run_bounded(["postmortem", str(record), "--config", str(tmp_path / "triage.yaml")], cwd=tmp_path)
    check(result, {0, 3})


def _mutate(record_path, tmp_path, how):
    text = record_path.read_text()
    doc = json.loads(text)
    out = tmp_path / "incident.json"
    if how == "truncated":
        out.write_text(text[: len(text) // 2])
    elif how == "newer schema":
        doc["schema"] = "triage.incident/v9"
        out.write_text(json.dumps(doc))
    elif how == "not an object":
        out.write_text("[1, 2, 3]")
    elif how == "non-UTF-8":
        out.write_bytes(b'{"schema": "\xff"}')
    elif how == "services is a string":
        doc["services"] = "lots"
        out.write_text(json.dumps(doc))
    elif how == "queries are numbers":
        doc["queries"] = [1, 2]
        out.write_text(json.dumps(doc))
    elif how == "window is nonsense":
        doc["window"] = {"start": "yesterday", "end": None}
        out.write_text(json.dumps(doc))
    elif how == "service entry is nonsense":
        doc["services"] = [{"name": 1}]
        out.write_text(json.dumps(doc))
    elif how == "rca is a string":
        doc["rca"] = "lol"
        out.write_text(json.dumps(doc))
    elif how == "a directory":
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir()
    return out


RECORDS = ["truncated", "newer schema", "not an object", "non-UTF-8", "services is a string",
           "queries are numbers", "window is nonsense", "service entry is nonsense", "rca is a string",
           "a directory"]
UNUSED_BY_POSTMORTEM = ("queries are numbers", "window is nonsense", "service entry is nonsense")
RECORD_COMMANDS = {"rca --from": ["rca", "--from"], "detect --from": ["detect", "--from"],
                   "postmortem": ["postmortem"]}
_NO_FILE = "the message does not name the record file"
RECORD_BUGS: dict = {}  # every bug of this table is fixed; see FAULTS.md


@pytest.mark.parametrize("how,command", [cell(RECORD_BUGS, h, c) for h in RECORDS for c in RECORD_COMMANDS])
def test_broken_incident_record(tmp_path, record, how, command):
    path = _mutate(record, tmp_path, how)
    result = run_bounded([*RECORD_COMMANDS[command], str(path)], cwd=tmp_path)
    if command == "postmortem" and how in UNUSED_BY_POSTMORTEM:
        check(result, {0, 3})  # a section the post-mortem does not read: rendering it is fine
        return
    check(result, {3})
    [line] = result.stderr.strip().splitlines()
    assert str(path) in line, line
