"""The shipped deploy/ files: the ConfigMap's triage.yaml passes triage's own schema, and the
Alertmanager snippet, merged into a minimal config, passes `amtool check-config`."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from tests.conftest import need
from triage.config import load_settings
from triage.serve.settings import serve_settings

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"


def test_the_configmap_is_a_valid_triage_yaml(tmp_path):
    docs = list(yaml.safe_load_all((DEPLOY / "kubernetes" / "triage-serve.yaml").read_text()))
    text = next(d for d in docs if d["kind"] == "ConfigMap")["data"]["triage.yaml"]
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "token").write_text("t0ken-value")
    (secrets / "slack-webhook-url").write_text("https://hooks.slack.com/services/T/B/X")
    config = tmp_path / "triage.yaml"
    config.write_text(text.replace("/etc/triage/secrets", str(secrets)))
    settings = load_settings(config=str(config), env={}, cwd=tmp_path)
    cfg = serve_settings(settings, env={}, cwd=tmp_path)
    assert (cfg.host, cfg.port, cfg.settle, cfg.workers) == ("0.0.0.0", 8080, 120.0, 2)
    assert [s.kind for s in cfg.sinks] == ["slack", "directory"] and cfg.token is not None
    kinds = {d["kind"] for d in docs}
    assert {"Deployment", "Service", "ClusterRole", "ServiceAccount"} <= kinds
    role = next(d for d in docs if d["kind"] == "ClusterRole")
    assert {v for rule in role["rules"] for v in rule["verbs"]} == {"get", "list", "watch"}


def test_the_alertmanager_snippet_passes_amtool(tmp_path):
    amtool = need("amtool")
    snippet = yaml.safe_load((DEPLOY / "alertmanager" / "webhook_configs.yaml").read_text())
    (tmp_path / "token").write_text("t0ken-value")
    snippet["receivers"][0]["webhook_configs"][0]["http_config"]["authorization"]["credentials_file"] = \
        str(tmp_path / "token")
    config = {"route": {"receiver": "default", **snippet["route"]},
              "receivers": [{"name": "default"}, *snippet["receivers"]]}
    path = tmp_path / "alertmanager.yml"
    path.write_text(yaml.safe_dump(config))
    done = subprocess.run([amtool, "check-config", str(path)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr
    assert snippet["receivers"][0]["webhook_configs"][0]["url"].endswith("/v1/alertmanager")
