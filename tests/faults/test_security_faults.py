"""Secrets never leave (stdout, stderr, --debug, incident.json, postmortem.md), even when the
backend fails and echoes the credentials back; outside data is inert (no raw ANSI escapes in
any output); outputs are not world-writable and never overwritten without --force."""

from __future__ import annotations

import base64
import os
import stat

import pytest

from testing.k8s import FakeKubeAPI, kubeconfig, load_logs, load_manifests
from testing.servers.fault_proxy import Reply, Rewrite
from tests.faults.conftest import AT, cell, check, run_bounded, write_config

pytestmark = pytest.mark.backend

FILE_TOKEN = "tok-from-file-5b2f8e1c9d7a"
ENV_TOKEN = "tok-from-env-3c7a9e2b1f4d"
PASSWORD = "pw-basic-auth-8e4d2a6c0b1f"
URL_PASSWORD = "pw-in-url-1a2b3c4d5e"
KUBE_TOKEN = "kube-token-9f8e7d6c5b4a"
ALL_SECRETS = [FILE_TOKEN, ENV_TOKEN, PASSWORD, URL_PASSWORD, KUBE_TOKEN,
               # what an Authorization: Basic header carries: user:password, base64
               base64.b64encode(f"ops:{PASSWORD}".encode()).decode(),
               base64.b64encode(f"ops:{URL_PASSWORD}".encode()).decode()]


def _echo_auth(status: int):
    """A failing backend that quotes the request's Authorization header back (some proxies do)."""
    def fault(r):
        if not r.path.startswith("/api/v1/query"):
            return None
        auth = r.headers.get("Authorization", "")
        return Reply(status, {"status": "error", "errorType": "internal",
                              "error": f"upstream refused Authorization: {auth}"})
    return fault


def _setup(tmp_path, proxy_url, how):
    """Config + environment that plant one secret by `how`."""
    env = {}
    extra = ""
    url = proxy_url
    if how == "bearer token file":
        (tmp_path / "token").write_text(FILE_TOKEN + "\n")
        extra = "  bearer_token_file: token\n"
    elif how == "TRIAGE_PROMETHEUS_BEARER_TOKEN":
        env["TRIAGE_PROMETHEUS_BEARER_TOKEN"] = ENV_TOKEN
    elif how == "basic-auth password":
        extra = "  basic_auth: {username: ops}\n"
        env["TRIAGE_PROMETHEUS_PASSWORD"] = PASSWORD
    elif how == "password in the URL":
        url = proxy_url.replace("http://", f"http://ops:{URL_PASSWORD}@")
    config = tmp_path / "triage.yaml"
    config.write_text(f"prometheus:\n  url: {url}\n  timeout: 2s\n{extra}")
    return config, env


COMMANDS = {
    "detect": ["detect", "--service", "checkout", "--at", AT],
    "rca": ["rca", "--service", "checkout", "--at", AT, "-o", "markdown"],
    "rca --all-services": ["rca", "--all-services", "--at", AT, "-o", "json"],
    "run": ["run", "--service", "checkout", "--at", AT, "--no-kubernetes", "--no-docker"],
    "queries check": ["queries", "check", "--service", "checkout", "--at", AT],
}
HOW = ["bearer token file", "TRIAGE_PROMETHEUS_BEARER_TOKEN", "basic-auth password", "password in the URL"]


BACKENDS = ["answers", "HTTP 500 echoing the credentials", "HTTP 401 echoing them"]
LEAK_BUGS: dict = {}  # fixed: base64(user:password) is registered as a secret


# every command against the backend that echoes credentials; the healthy and the 401 backend on the
# commands that write artefacts / fail first (kept small: each cell is two runs, with and without --debug)
CELLS = [(c, h, b) for h in HOW for b in BACKENDS for c in COMMANDS
         if b == "HTTP 500 echoing the credentials" or (b == "answers" and c in ("run", "rca"))
         or (b == "HTTP 401 echoing them" and c == "detect")]


@pytest.mark.parametrize("command,how,backend", [cell(LEAK_BUGS, *c) for c in CELLS])
def test_planted_secret_never_leaks(proxied, tmp_path, command, how, backend):
    proxied.fault = {"answers": None, "HTTP 500 echoing the credentials": _echo_auth(500),
                     "HTTP 401 echoing them": _echo_auth(401)}[backend]
    config, env = _setup(tmp_path, proxied.url, how)
    artefacts = []
    for debug in (False, True):
        out = tmp_path / f"out-{debug}"
        args = [*(["--debug"] if debug else []), *COMMANDS[command], "--config", str(config)]
        if command == "run":
            args += ["--out", str(out)]
        result = run_bounded(args, env=env, proxy=proxied, cwd=tmp_path)
        check(result, {0, 1, 2, 3}, secrets=ALL_SECRETS, debug=debug)
        if backend != "answers" and command != "queries check":
            assert result.code == 3
        artefacts += [p for p in out.glob("*") if p.is_file()]
    if command == "run" and backend == "answers":
        assert {p.name for p in artefacts} >= {"incident.json", "postmortem.md"}
    for path in artefacts:
        text = path.read_text()
        for secret in ALL_SECRETS:
            assert secret not in text, f"{secret[:6]}… in {path.name}"
    # the credential really was sent: the test is not vacuous
    if how != "password in the URL" and backend == "answers":
        assert any("Authorization" in r.headers for r in proxied.seen)


@pytest.fixture(scope="module")
def kube_api():
    with FakeKubeAPI(load_manifests(), logs=load_logs(), tokens={KUBE_TOKEN: {("*", "*", "*")}}) as api:
        yield api


@pytest.mark.parametrize("token", [KUBE_TOKEN, "expired-" + KUBE_TOKEN])
@pytest.mark.parametrize("debug", [False, True])
def test_kubeconfig_token_never_leaks(kube_api, proxied, tmp_path, token, debug):
    path = tmp_path / "kubeconfig"
    path.write_text(kubeconfig(kube_api.url, token=token, namespace="shop"))
    env = {"KUBECONFIG": str(path)}
    pre = ["--debug"] if debug else []
    results = [run_bounded([*pre, "health", "--no-docker", "-n", "shop", *o], env=env) for o in
               ([], ["-o", "json"], ["-o", "markdown"])]
    config = write_config(tmp_path / "triage.yaml", proxied.url)
    results.append(run_bounded([*pre, "run", "--service", "checkout", "--at", AT, "--no-docker", "--config",
                                str(config), "--out", str(tmp_path / "o")], env=env, proxy=proxied, cwd=tmp_path))
    for result in results:
        check(result, {0, 1, 2, 3}, secrets=[token, KUBE_TOKEN], debug=debug)
    for p in (tmp_path / "o").glob("*"):
        assert KUBE_TOKEN not in p.read_text()


# ---- terminal injection -------------------------------------------------------------------

EVIL = "\x1b[2J\x1b]0;owned\x07\x1b[31mEVIL\x1b[0m"


def _inject(doc: dict) -> dict:
    """A copy of every checkout series under a service whose name carries ANSI/OSC escapes, and an
    alert name carrying them."""
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


@pytest.mark.parametrize("output", ["table", "markdown"])
@pytest.mark.parametrize("command", ["detect", "rca --all-services", "queries check"])
def test_ansi_in_label_values_never_reaches_the_terminal(proxied, tmp_path, command, output):
    proxied.fault = lambda r: Rewrite(_inject) if r.path.startswith("/api/v1/query") else None
    config = write_config(tmp_path / "triage.yaml", proxied.url)
    args = {"detect": ["detect", "--service", "checkout"], "rca --all-services": ["rca", "--all-services"],
            "queries check": ["queries", "check"]}[command]
    result = run_bounded([*args, "--at", AT, "--config", str(config), "-o", output], proxy=proxied, cwd=tmp_path)
    check(result, {0, 1, 2, 3})
    assert "EVIL" in result.stdout or "Pwn" in result.stdout or command == "detect", "injection not exercised"
    assert "\x1b" not in result.stdout + result.stderr and "\x07" not in result.stdout + result.stderr


# ---- files -----------------------------------------------------------------------------------

@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_outputs_are_not_world_writable(tmp_path, umask_022):
    out = tmp_path / "incident"
    result = run_bounded(["demo", "--out", str(out)])
    check(result, {0})
    pm = tmp_path / "pm.md"
    check(run_bounded(["postmortem", str(out / "incident.json"), "--out", str(pm)]), {0})
    for path in (out, out / "incident.json", out / "postmortem.md", pm):
        mode = stat.S_IMODE(path.stat().st_mode)
        assert not mode & stat.S_IWOTH, f"{path.name} is {oct(mode)}"


def test_run_never_overwrites_without_force(proxied, tmp_path):
    config = write_config(tmp_path / "triage.yaml", proxied.url)
    out = tmp_path / "o"
    args = ["run", "--service", "checkout", "--at", AT, "--no-kubernetes", "--no-docker", "--config", str(config),
            "--out", str(out)]
    check(run_bounded(args, proxy=proxied), {2})
    (out / "postmortem.md").write_text("my edits\n")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    asked = len(proxied.seen)
    again = run_bounded(args, proxy=proxied)
    check(again, {3})
    assert "already exists" in again.stderr
    # refused before the phases ran: at most the one query that finds the service's namespace
    first_run = sum(r.path.endswith("/query_range") for r in proxied.seen[:asked])
    refused_run = sum(r.path.endswith("/query_range") for r in proxied.seen[asked:])
    assert refused_run <= 1 < first_run, f"{refused_run} range queries before refusing (a full run: {first_run})"
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    forced = run_bounded([*args, "--force"], proxy=proxied)
    check(forced, {2})
    assert (out / "postmortem.md").read_text() != "my edits\n"
    assert sorted(p.name for p in out.iterdir()) == ["incident.json", "postmortem.md"]  # no temp files left


def test_postmortem_and_demo_never_overwrite_without_force(tmp_path):
    out = tmp_path / "d"
    check(run_bounded(["demo", "--out", str(out)]), {0})
    record = out / "incident.json"
    before = record.read_bytes()
    again = run_bounded(["demo", "--out", str(out)])
    check(again, {3})
    assert record.read_bytes() == before
    pm = tmp_path / "pm.md"
    pm.write_text("my edits\n")
    refused = run_bounded(["postmortem", str(record), "--out", str(pm)])
    check(refused, {3})
    assert pm.read_text() == "my edits\n"
    check(run_bounded(["postmortem", str(record), "--out", str(pm), "--force"]), {0})
    assert pm.read_text().startswith("# ")
