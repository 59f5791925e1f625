from __future__ import annotations

import re

import pytest

from triage.catalog import load_catalog
from triage.config import ServiceConfig
from triage.errors import ConfigError
from triage.models import SIGNAL_NAMES
from triage.promql import render
from triage.signals import placeholders


def test_every_contract_signal_is_in_the_catalog_with_a_unit():
    catalog = load_catalog()
    assert list(catalog.signals)[: len(SIGNAL_NAMES)] == list(SIGNAL_NAMES)
    for spec in catalog.signals.values():
        assert spec.unit and spec.alternatives, spec.name
        assert spec.threshold.source or spec.threshold.warning is None, spec.name


@pytest.mark.parametrize("signal,warning,critical", [
    ("latency_p95", 0.5, 3.0), ("error_ratio", 0.01, 0.05), ("cpu_usage_ratio", 0.8, 0.9),
    ("db_latency_p95", 0.1, 0.5), ("db_pool_usage_ratio", 0.8, 0.95), ("memory_usage_ratio", 0.8, 0.9),
])
def test_seed_thresholds(signal, warning, critical):
    th = load_catalog().spec(signal).threshold
    assert (th.warning, th.critical) == (warning, critical)
    assert "seed" in th.source


def test_every_builtin_query_renders_with_no_placeholder_left():
    catalog = load_catalog()
    values = placeholders([ServiceConfig(name="checkout", namespace="shop", database="checkout")], "1m", False)
    for spec in catalog.signals.values():
        for alt in spec.alternatives:
            query = render(alt.query, values)
            # `$2` in label_replace is a capture group, not a placeholder
            assert not re.search(r"\$[A-Za-z_]", query), (spec.name, query)
            assert query.count("(") == query.count(")"), (spec.name, query)
            # fleet-ready: grouped by the key label that names the service
            assert re.search(rf"by \((?:[a-z_]+, )*{alt.key}\b", query) or "scalar(" in query, (spec.name, query)


def test_user_directory_overrides_a_signal_by_name(tmp_path):
    (tmp_path / "mine.yaml").write_text("""\
signals:
  latency_p95:
    unit: s
    description: our own histogram
    queries:
      - key: service
        query: 'histogram_quantile(0.95, sum by (service, le) """  # one YAML line, split for the line length
        """(rate(svc_latency_bucket{service=~"$service_re"}[$rate])))'
""")
    catalog = load_catalog([tmp_path])
    assert "svc_latency_bucket" in catalog.spec("latency_p95").alternatives[0].query
    assert catalog.origins["latency_p95"] == tmp_path / "mine.yaml"
    assert "http_requests_total" in catalog.spec("rps").alternatives[0].query


def test_broken_user_catalog_names_file_and_line(tmp_path):
    (tmp_path / "bad.yaml").write_text("signals:\n  rps:\n    unit: req/s\n    description: x\n    queries:\n"
                                       "      - query: 'x'\n        kee: service\n")
    with pytest.raises(ConfigError, match=r"bad.yaml:7: unknown key 'signals.rps.queries\[0\].kee'"):
        load_catalog([tmp_path])
    (tmp_path / "bad.yaml").write_text("signals:\n  rpss:\n    unit: x\n    description: x\n    queries: []\n")
    with pytest.raises(ConfigError, match=r"bad.yaml:2: 'signals.rpss': unknown signal"):
        load_catalog([tmp_path])
