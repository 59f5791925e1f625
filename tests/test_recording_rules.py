"""`triage rules`' rule file: names, grouping, the fixed rate, and that the real tools load it."""

from __future__ import annotations

import re
import subprocess

import pytest
import yaml

from tests.conftest import need
from triage.catalog import load_catalog
from triage.errors import UsageError
from triage.recording.rules import (
    INFO_METRIC,
    expr_hash,
    prom_duration,
    recorded_for,
    rules_document,
    rules_text,
)

CATALOG = load_catalog()


def _records(doc):
    return {r["record"]: r for g in doc["groups"] for r in g["rules"] if r["record"] != INFO_METRIC}


def _infos(doc):
    return [r for g in doc["groups"] for r in g["rules"] if r["record"] == INFO_METRIC]


def test_names_follow_level_metric_operations_with_the_rate_fixed():
    records = _records(rules_document(CATALOG, rate="5m"))
    rule = records["service:triage_latency_p95:5m"]
    # the seed app's histogram first, then the other families of the same key, in catalog order
    assert rule["expr"].startswith('(histogram_quantile(0.95, sum by (service, le) '
                                   '(rate(http_request_duration_seconds_bucket{service=~".+"}[5m])))) or on (service) ')
    assert "service:triage_inflight" in records  # a gauge: no rate, no operation in its name
    # no placeholder left ($service_re, $rate); label_replace's "$2" captures are PromQL's own
    assert all(not re.search(r"\$[a-z_]", r["expr"]) for r in records.values())


def test_alternatives_of_one_key_are_one_record_in_catalog_order():
    spec = CATALOG.spec("cpu_usage_ratio")
    recs = recorded_for(spec, "1m")
    assert [r.record for r in recs] == ["container:triage_cpu_usage_ratio:1m", "service:triage_cpu_usage_ratio:1m"]
    container = recs[0].expr
    assert container.count(" or on (container) ") == 1
    assert container.index("container_spec_cpu_quota") < container.index("kube_pod_container_resource_limits")
    replicas = [r.record for r in recorded_for(CATALOG.spec("replicas"), "1m")]
    assert replicas == ["deployment:triage_replicas", "horizontalpodautoscaler:triage_replicas",
                        "service:triage_replicas"]


def test_every_record_has_an_info_series_naming_it_and_its_query():
    doc = rules_document(CATALOG, rate="1m", signals=["rps", "db_connections_ratio"])
    records = _records(doc)
    infos = {i["labels"]["record"]: i for i in _infos(doc)}
    assert set(infos) == set(records) == {"service:triage_rps:1m", "datname:triage_db_connections_ratio",
                                          "database:triage_db_connections_ratio"}   # postgres, then mysqld
    for name, info in infos.items():
        assert info["expr"] == "vector(1)"
        assert info["labels"]["query_hash"] == expr_hash(records[name]["expr"])
    assert infos["service:triage_rps:1m"]["labels"]["rate"] == "1m"
    assert "rate" not in infos["datname:triage_db_connections_ratio"]["labels"]


def test_one_group_by_default_one_per_signal_when_asked():
    assert [g["name"] for g in rules_document(CATALOG, rate="1m")["groups"]] == ["triage"]
    per = rules_document(CATALOG, rate="1m", signals=["rps", "error_ratio"], per_signal=True, interval="1m")
    assert [(g["name"], g["interval"]) for g in per["groups"]] == [("triage-rps", "1m"), ("triage-error_ratio", "1m")]


def test_prefix_and_durations_are_written_as_prometheus_reads_them():
    doc = rules_document(CATALOG, rate="90s", interval="0.5m", signals=["rps"], prefix="acme_")
    assert list(_records(doc)) == ["service:acme_rps:1m30s"]
    assert doc["groups"][0]["interval"] == "30s"
    assert prom_duration("1.5s", what="x") == "1500ms" and prom_duration("2h", what="x") == "2h"


@pytest.mark.parametrize("kwargs, message", [
    ({"signals": ["nope"]}, "--signal nope: no such signal"),
    ({"prefix": "9x"}, "--prefix '9x'"),
    ({"prefix": "a-b"}, "--prefix 'a-b'"),
    ({"interval": "soon"}, "--interval: 'soon' is not a duration"),
])
def test_bad_options_are_one_clear_line(kwargs, message):
    with pytest.raises(UsageError, match=message.replace("(", r"\(")):
        rules_document(CATALOG, **{"rate": "1m", **kwargs})


def _write(tmp_path, **kwargs):
    doc = rules_document(CATALOG, rate="1m", **kwargs)
    path = tmp_path / "rules.yml"
    path.write_text(rules_text(doc, rate="1m", interval=kwargs.get("interval", "30s")))
    assert yaml.safe_load(path.read_text()) == doc
    return path


@pytest.mark.parametrize("per_signal", [False, True])
def test_promtool_checks_the_file(tmp_path, per_signal):
    need("promtool")
    path = _write(tmp_path, per_signal=per_signal)
    done = subprocess.run(["promtool", "check", "rules", str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {2 * len(_records(yaml.safe_load(path.read_text())))} rules found" in done.stdout


def test_vmalert_parses_the_file(tmp_path):
    need("vmalert")
    path = _write(tmp_path)
    done = subprocess.run(["vmalert", "-dryRun", f"-rule={path}"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
