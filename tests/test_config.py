from __future__ import annotations

from pathlib import Path

import pytest

from testing.cli import run_cli
from triage.config import load_settings
from triage.errors import ConfigError, UsageError
from triage.secrets import redact

GOOD = """\
prometheus:
  url: http://127.0.0.1:9090
  timeout: 5s
alertmanager:
  url: http://127.0.0.1:9093
services:
  checkout:
    namespace: shop
    database: checkout
    tier: 1
    depends_on: [payment, bank-api]
    health_urls: [http://checkout.shop:8000/health]
  cart:
    signals:
      latency_p95: 'max(service_latency_p95_seconds{service="$service"})'
signals:
  cpu_usage_ratio: 'max(pod_cpu_percent{service="$service"}) / 100'
"""


def write(tmp_path: Path, text: str, name: str = "triage.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_contract_example_loads(tmp_path):
    settings = load_settings(config=str(write(tmp_path, GOOD)), env={})
    assert settings.prometheus.url == "http://127.0.0.1:9090"
    assert settings.prometheus.timeout == 5.0
    assert settings.alertmanager.url == "http://127.0.0.1:9093"
    checkout = settings.service("checkout")
    assert (checkout.namespace, checkout.database, checkout.tier) == ("shop", "checkout", 1)
    assert checkout.depends_on == ("payment", "bank-api")
    cart = settings.service("cart")
    overrides = settings.signal_overrides(cart)
    assert overrides["latency_p95"] == ('max(service_latency_p95_seconds{service="$service"})',)
    assert overrides["cpu_usage_ratio"][0].startswith("max(pod_cpu_percent")
    # a service that is not configured is still triageable with defaults
    other = settings.service("search")
    assert (other.namespace, other.tier, other.configured) == ("default", 2, False)


def test_flags_beat_env_beat_file(tmp_path):
    path = write(tmp_path, GOOD)
    assert load_settings(config=str(path), env={}).prometheus.url == "http://127.0.0.1:9090"
    env = {"TRIAGE_PROMETHEUS_URL": "http://127.0.0.1:9999"}
    assert load_settings(config=str(path), env=env).prometheus.url == "http://127.0.0.1:9999"
    flag = load_settings(config=str(path), env=env, prometheus_url="http://127.0.0.1:7777")
    assert flag.prometheus.url == "http://127.0.0.1:7777"


def test_config_search_order(tmp_path):
    xdg = tmp_path / "xdg"
    (xdg / "triage").mkdir(parents=True)
    (xdg / "triage" / "config.yaml").write_text("prometheus: {url: 'http://127.0.0.1:1111'}\n")
    cwd = tmp_path / "work"
    cwd.mkdir()
    env = {"XDG_CONFIG_HOME": str(xdg)}
    assert load_settings(env=env, cwd=cwd).prometheus.url == "http://127.0.0.1:1111"
    (cwd / "triage.yaml").write_text("prometheus: {url: 'http://127.0.0.1:2222'}\n")
    assert load_settings(env=env, cwd=cwd).prometheus.url == "http://127.0.0.1:2222"
    assert load_settings(env={}, cwd=tmp_path / "work" / "..").prometheus is None


@pytest.mark.parametrize("text,line,needle", [
    ("prometheus:\n  url: http://x:1\n  urll: 3\n", 3, "unknown key 'prometheus.urll'"),
    ("services:\n  checkout:\n    tier: 7\n", 3, "services.checkout.tier must be a whole number from 1 to 3"),
    ("services:\n  checkout:\n    tier: high\n", 3, "services.checkout.tier"),
    ("services:\n  checkout:\n    depends_on: payment\n", 3, "depends_on must be a list"),
    ("services:\n  checkout:\n    namespace: [a]\n", 3, "namespace must be a string"),
    ("signals:\n  cpu_percent: 'x'\n", 2, "'signals.cpu_percent': unknown signal"),
    ("prometheus:\n  url: http://x:1\n  insecure_skip_verify: maybe\n", 3, "must be a true/false"),
    ("prometheus: [\n", 2, "invalid YAML"),
    ("services:\n  a: {namespace: x}\n  a: {namespace: y}\n", 3, "given twice"),
    ("servicess: {}\n", 1, "unknown key 'servicess'"),
])
def test_bad_config_names_file_line_and_key(tmp_path, text, line, needle):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(config=str(path), env={})
    message = str(info.value)
    assert message.startswith(f"{path}:{line}:"), message
    assert needle in message


def test_non_utf8_and_missing_config(tmp_path):
    path = tmp_path / "triage.yaml"
    path.write_bytes(b"prometheus:\n  url: \xff\xfe\n")
    with pytest.raises(ConfigError, match=r"triage.yaml:2: not UTF-8"):
        load_settings(config=str(path), env={})
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(config=str(tmp_path / "nope.yaml"), env={})


def test_bad_url_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="not an http"):
        load_settings(env={}, prometheus_url="ftp://127.0.0.1:9090", cwd=tmp_path)


def test_secrets_from_file_and_env_never_printed(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("s3cr3t-token-from-file\n")
    pw_file = tmp_path / "pw"
    pw_file.write_text("hunter2-password\n")
    path = write(tmp_path, f"""\
prometheus:
  url: http://127.0.0.1:9090
  bearer_token_file: {token_file}
alertmanager:
  url: http://127.0.0.1:9093
  basic_auth: {{username: ops, password_file: pw}}
""")
    settings = load_settings(config=str(path), env={})
    assert settings.prometheus.bearer_token.reveal() == "s3cr3t-token-from-file"
    assert settings.alertmanager.password.reveal() == "hunter2-password"
    shown = repr(settings) + str(settings)
    assert "s3cr3t-token-from-file" not in shown and "hunter2-password" not in shown
    assert redact("got s3cr3t-token-from-file back") == "got *** back"
    assert redact("http://ops:hunter2-password@h:1/x") == "http://***@h:1/x"
    env = {"TRIAGE_PROMETHEUS_BEARER_TOKEN": "env-token-123456"}
    assert load_settings(config=str(path), env=env).prometheus.bearer_token.reveal() == "env-token-123456"


def test_basic_auth_without_password_is_an_error(tmp_path):
    path = write(tmp_path, "prometheus:\n  url: http://127.0.0.1:1\n  basic_auth: {username: ops}\n")
    with pytest.raises(ConfigError, match="TRIAGE_PROMETHEUS_PASSWORD"):
        load_settings(config=str(path), env={})
    ok = load_settings(config=str(path), env={"TRIAGE_PROMETHEUS_PASSWORD": "pw-from-env"})
    assert ok.prometheus.username == "ops" and ok.prometheus.password.reveal() == "pw-from-env"


def test_cli_reports_bad_config_in_one_line(tmp_path):
    path = write(tmp_path, "prometheus:\n  url: http://127.0.0.1:1\n  colour: red\n")
    result = run_cli(["detect", "--service", "checkout", "--config", str(path)])
    assert result.code == 3
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"{path}:3" in lines[0] and "prometheus.colour" in lines[0]


def test_bad_concurrency_from_env_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="TRIAGE_MAX_CONCURRENCY"):
        load_settings(env={"TRIAGE_MAX_CONCURRENCY": "lots"}, cwd=tmp_path)
    assert load_settings(env={"TRIAGE_MAX_CONCURRENCY": "3"}, cwd=tmp_path).max_concurrency == 3
