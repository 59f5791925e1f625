"""SLOs: `slo:` in triage.yaml, burn rates on the workbook's windows from a real Prometheus
(computed from the catalog's SLI, or read from Sloth's and Pyrra's recording rules), the
severity they imply, and the budget the post-mortem states."""

from __future__ import annotations

import json

import pytest
import yaml

from testing.cli import run_cli
from tests.conftest import need
from triage.analysis.slo import thresholds
from triage.config import load_settings
from triage.config.slo import SloConfig
from triage.errors import ConfigError

END = 1_700_000_000          # the data's last sample; every query asks at it
SPAN = 4 * 3600              # four hours of data
STEP = 15
RPS = 10.0
BUCKETS = (0.1, 0.5, 1.0)
# Sloth's windows (and its 30 d period window), Pyrra's for a 28 d SLO.
SLOTH = {"5m": 0.02, "30m": 0.01, "1h": 0.02, "2h": 0.01, "6h": 0.004, "1d": 0.003, "3d": 0.002, "30d": 0.0005}
PYRRA = {"5m": 0.002, "30m": 0.009, "1h": 0.004, "2h": 0.004, "6h": 0.008, "1d": 0.002, "4d": 0.001}


def _counters(service: str, error_share: float, slow_share: float) -> dict[str, list[str]]:
    """Requests at RPS; in the last hour `error_share` are 5xx and `slow_share` slower than 0.5 s.
    One series (labelset) at a time, as OpenMetrics wants them."""
    series: dict[str, list[str]] = {}
    ok = err = 0.0
    buckets = dict.fromkeys((*BUCKETS, "+Inf"), 0.0)
    h = "http_request_duration_seconds"
    for t in range(END - SPAN, END + 1, STEP):
        e, s = (error_share, slow_share) if t > END - 3600 else (0.0, 0.0)
        ok += RPS * STEP * (1 - e)
        err += RPS * STEP * e
        buckets[0.1] += RPS * STEP * (1 - s) * 0.5
        buckets[0.5] += RPS * STEP * (1 - s)
        buckets[1.0] += RPS * STEP
        buckets["+Inf"] += RPS * STEP
        for status, value in (("200", ok), ("500", err)):
            name = f'http_requests_total{{service="{service}",status="{status}"}}'
            series.setdefault(name, []).append(f"{name} {value:.3f} {t}")
        for le, value in buckets.items():
            name = f'{h}_bucket{{service="{service}",le="{le}"}}'
            series.setdefault(name, []).append(f"{name} {value:.3f} {t}")
        for suffix, value in (("_count", buckets["+Inf"]), ("_sum", buckets["+Inf"] * 0.2)):
            name = f'{h}{suffix}{{service="{service}"}}'
            series.setdefault(name, []).append(f"{name} {value:.3f} {t}")
    return series


def _recorded() -> list[str]:
    """Sloth's and Pyrra's recording rules, as their rules would have written them every 30 s."""
    out = []
    for name, labels, table in (
            ("slo:sli_error:ratio_rate{w}", 'sloth_id="billing-availability",sloth_service="billing",'
                                            'sloth_slo="availability",sloth_window="{w}"', SLOTH),
            ("http_requests:burnrate{w}", 'service="ledger",slo="ledger-availability"', PYRRA)):
        for w, value in table.items():
            metric = name.format(w=w)
            out.append(f"# TYPE {metric} gauge")
            out += [f"{metric}{{{labels.format(w=w)}}} {value} {t}" for t in range(END - 3600, END + 1, 30)]
    return out


def openmetrics() -> str:
    series: dict[str, list[str]] = {}
    for service, err, slow in (("checkout", 0.02, 0.0), ("search", 0.0, 0.10), ("quiet", 0.0, 0.0),
                               ("billing", 0.0, 0.0), ("ledger", 0.0, 0.0)):
        series.update(_counters(service, err, slow))
    lines = ["# TYPE http_requests counter"]
    lines += [line for name, rows in series.items() if name.startswith("http_requests_total") for line in rows]
    lines.append("# TYPE http_request_duration_seconds histogram")
    lines += [line for name, rows in series.items() if name.startswith("http_request_duration") for line in rows]
    return "\n".join([*lines, *_recorded(), "# EOF"]) + "\n"


SLOS = {
    "checkout": {"objective": 0.999},
    "search": {"objective": 0.99, "latency": {"threshold": "500ms"}},
    "quiet": {"objective": 0.999, "period": "30d"},
    "billing": {"objective": 0.999, "name": "availability"},
    "ledger": {"objective": 0.999, "name": "ledger-availability"},
}


def vm_text() -> str:
    """The same samples as Prometheus text with millisecond timestamps, for VictoriaMetrics' import."""
    out = []
    for line in openmetrics().splitlines():
        if line and not line.startswith("#"):
            head, t = line.rsplit(" ", 1)
            out.append(f"{head} {int(t) * 1000}")
    return "\n".join(out) + "\n"


@pytest.fixture(scope="module", params=["prometheus", "victoria-metrics"])
def slo_backend(request, tmp_path_factory):
    """Every SLO test runs against both backends: same queries, same burn rates."""
    from testing.backends import prometheus_from_openmetrics, victoria_metrics_from_import

    work = tmp_path_factory.mktemp("slo")
    with_slo = work / "triage.yaml"
    with_slo.write_text(yaml.safe_dump({"services": {name: {"slo": slo} for name, slo in SLOS.items()}}))
    without = work / "plain.yaml"
    without.write_text(yaml.safe_dump({"services": {name: {"tier": 2} for name in SLOS}}))
    if request.param == "prometheus":
        need("prometheus")
        need("promtool")
        backend = prometheus_from_openmetrics(openmetrics(), work)
    else:
        need("victoria-metrics")
        backend = victoria_metrics_from_import(vm_text(), work)
    with backend:
        yield backend.url, with_slo, without


def _detect(slo_backend, service: str, *, plain: bool = False, output: str = "json"):
    url, with_slo, without = slo_backend
    result = run_cli(["detect", "--service", service, "--prometheus-url", url, "--config",
                      str(without if plain else with_slo), "--at", str(END), "--window", "30m", "-o", output])
    assert result.stdout.strip(), result.stderr
    return result, (json.loads(result.stdout)["services"][0] if output == "json" else result.stdout)


def test_workbook_thresholds_for_30_days_and_scaled_for_another_period():
    assert [(lo, sh, round(t, 6), k) for lo, sh, t, k in thresholds(SloConfig(objective=0.999))] == [
        ("1h", "5m", 14.4, "page"), ("6h", "30m", 6.0, "page"), ("3d", "6h", 1.0, "ticket")]
    four_weeks = thresholds(SloConfig(objective=0.999, period=28 * 86400))
    assert round(four_weeks[0][2], 2) == 13.44


def test_a_page_burn_makes_a_warning_level_error_ratio_critical(slo_backend):
    result, svc = _detect(slo_backend, "checkout")
    slo = svc["slo"]
    assert slo["windows"]["1h"]["source"] == "computed"
    assert slo["windows"]["5m"]["burn_rate"] == pytest.approx(20, rel=0.05)
    assert slo["windows"]["1h"]["burn_rate"] == pytest.approx(20, rel=0.1)
    first = slo["alerts"][0]
    assert (first["long"], first["short"], first["threshold"], first["firing"]) == ("1h", "5m", 14.4, True)
    # 1 h of 2 % errors in 4 h of data: 6 h and 3 d burn ≈ 5 — under 6, over 1.
    assert slo["alerts"][1]["firing"] is False
    assert slo["alerts"][2]["firing"] is True
    assert svc["signals"]["error_ratio"]["status"] == "warning"
    assert (svc["status"], svc["severity"], result.code) == ("critical", "P1", 2)
    assert slo["budget"]["remaining"] < 0      # 0.5 % over the data's span is five budgets of 0.1 %
    assert slo["budget"]["spent_in_window"] == pytest.approx(20 * 1800 / (30 * 86400), rel=0.1)


def test_without_slo_the_same_data_stays_a_warning(slo_backend):
    """The change above is the SLO's: the same service without `slo:` is judged as before."""
    result, svc = _detect(slo_backend, "checkout", plain=True)
    assert "slo" not in svc
    assert (svc["status"], svc["severity"], result.code) == ("warning", "P3", 1)


def test_latency_sli_counts_requests_above_the_threshold_bucket(slo_backend):
    _, svc = _detect(slo_backend, "search")
    slo = svc["slo"]
    assert slo["sli"] == "latency" and slo["latency_threshold"] == 0.5
    assert slo["windows"]["5m"]["error_ratio"] == pytest.approx(0.10, rel=0.05)
    assert 'le=~"0\\\\.5"' in slo["windows"]["5m"]["query"]
    assert slo["windows"]["5m"]["burn_rate"] == pytest.approx(10, rel=0.05)   # budget 1 %: 10 < 14.4
    assert [a["firing"] for a in slo["alerts"]] == [False, False, True]
    assert svc["status"] == "warning"


def test_a_quiet_service_keeps_its_budget(slo_backend):
    result, svc = _detect(slo_backend, "quiet")
    assert svc["slo"]["status"] == "ok" and svc["slo"]["budget"]["remaining"] == pytest.approx(1.0)
    assert not any(a["firing"] for a in svc["slo"]["alerts"])
    assert svc["status"] == "ok" and result.code == 0


def test_sloth_recording_rules_win_over_the_computed_sli(slo_backend):
    _, svc = _detect(slo_backend, "billing")
    slo = svc["slo"]
    assert {w: v["source"] for w, v in slo["windows"].items()} == dict.fromkeys(("5m", "30m", "1h", "6h", "3d"),
                                                                                  "sloth")
    assert slo["windows"]["1h"]["burn_rate"] == pytest.approx(20)
    assert [a["firing"] for a in slo["alerts"]] == [True, False, True]
    # The 30 m window is Sloth's ratio_rate30m (1 %, a burn of 10) for 30 m of a 30 d period.
    assert slo["budget"] == {"remaining": pytest.approx(0.5), "source": "sloth",
                             "spent_in_window": pytest.approx(10 * 1800 / (30 * 86400), abs=1e-6)}
    assert svc["status"] == "critical"


def test_pyrra_burnrate_series_are_read_and_a_missing_window_is_computed(slo_backend):
    _, svc = _detect(slo_backend, "ledger")
    windows = svc["slo"]["windows"]
    assert windows["6h"]["source"] == "pyrra" and windows["6h"]["burn_rate"] == pytest.approx(8)
    assert windows["3d"]["source"] == "computed" and windows["3d"]["error_ratio"] == pytest.approx(0)
    assert [a["firing"] for a in svc["slo"]["alerts"]] == [False, True, False]
    assert svc["status"] == "critical"


def test_markdown_and_table_say_the_burn_and_the_budget(slo_backend):
    _, md = _detect(slo_backend, "checkout", output="markdown")
    assert "**SLO 99.9 % \\(errors, 30d\\): critical**" in md and "1h/5m 20" in md and "budget left" in md
    _, table = _detect(slo_backend, "checkout", output="table")
    assert "SLO 99.9 % (errors, 30d): critical" in table and "(>14.4: PAGE)" in table
    _, plain = _detect(slo_backend, "checkout", plain=True, output="markdown")
    assert "SLO" not in plain
    _, slack = _detect(slo_backend, "checkout", output="slack")
    assert "SLO 99.9 % (errors, 30d): critical" in slack and "budget left" in slack


@pytest.mark.parametrize("slo, message", [
    ({"objective": 99.9}, "services.checkout.slo.objective: must be a ratio between 0 and 1 like 0.999, "
                          "not 99.9 (write 0.999 for 99.9 %)"),
    ({"objective": 0.999, "sli": "latency"}, "sli: latency needs latency.threshold"),
    ({"objective": 0.999, "period": "2h"}, "services.checkout.slo.period: must be from 1d to 366d"),
    ({"objective": 0.999, "latency": {"threshold": "fast"}}, "'fast' is not a duration"),
    ({"objective": 0.999, "window": "30d"}, "window"),
    ({"period": "30d"}, "objective"),
])
def test_bad_slo_is_one_line_naming_the_file_and_line(tmp_path, slo, message):
    path = tmp_path / "triage.yaml"
    path.write_text(yaml.safe_dump({"services": {"checkout": {"slo": slo}}}))
    with pytest.raises(ConfigError) as info:
        load_settings(config=str(path), env={}, cwd=tmp_path)
    text = str(info.value)
    assert message in text and "\n" not in text and text.startswith(str(path))


def test_slo_is_read_with_its_defaults(tmp_path):
    path = tmp_path / "triage.yaml"
    path.write_text(yaml.safe_dump({"services": {"checkout": {"slo": {"objective": 0.995}}}}))
    svc = load_settings(config=str(path), env={}, cwd=tmp_path).services["checkout"]
    assert svc.slo == SloConfig(objective=0.995, sli="errors", latency_threshold=None, period=30 * 86400.0)


def test_the_post_mortem_states_the_budget_spent(slo_backend, tmp_path):
    """detect's `slo` in a record becomes the Impact section's budget line."""
    from pathlib import Path

    demo = json.loads((Path(__file__).resolve().parent.parent / "demo" / "incident.json").read_text())
    _, svc = _detect(slo_backend, "checkout")
    demo["detect"]["services"][0]["slo"] = svc["slo"]
    record = tmp_path / "incident.json"
    record.write_text(json.dumps(demo))
    result = run_cli(["postmortem", str(record)])
    assert result.code == 0, result.stderr
    line = next(x for x in result.stdout.splitlines() if x.startswith("- Error budget"))
    assert line.startswith("- Error budget spent: ≈ 1.4 % of the 30d error budget in the examined window "
                           "(objective 99.9 %, errors SLI); 0.0 % of it left over 30d"), line
    assert "burning 20.0× over 1h and 20.0× over 5m, past the workbook's page threshold of 14.4×" in line
    assert "no SLO is configured" not in result.stdout


class FakeFailingSource:
    """Every query fails, as a backend that times out would."""

    name = "prometheus"

    def query_range_many(self, queries):
        from triage.errors import SourceError

        return [SourceError("timed out", backend=self.name, query=q.query) for q in queries]


def test_a_failing_backend_leaves_the_verdict_alone_and_says_why():
    from datetime import datetime, timedelta, timezone

    from triage.analysis import slo as slo_analysis
    from triage.catalog import load_catalog
    from triage.config import ServiceConfig, Settings
    from triage.models import ServiceDetection, Status
    from triage.signals import make_windows

    svc = ServiceConfig(name="checkout", slo=SloConfig(objective=0.999), configured=True)
    windows = make_windows(datetime.fromtimestamp(END, tz=timezone.utc), timedelta(minutes=30), timedelta(hours=1))
    reports = slo_analysis.evaluate(FakeFailingSource(), load_catalog(), Settings(services={"checkout": svc}),
                                    [svc], windows)
    report = reports["checkout"]
    assert report.status is Status.OK and not report.windows and report.budget_remaining is None
    assert report.missing == "no error ratio and no Sloth or Pyrra recording rules for this service"
    det = ServiceDetection("checkout", "default", 2, Status.WARNING, "P3", (), (), {}, "")
    after = slo_analysis.apply(det, report)
    assert (after.status, after.severity, after.slo) == (Status.WARNING, "P3", report)
    assert slo_analysis.evaluate(FakeFailingSource(), load_catalog(), Settings(), [ServiceConfig(name="x")],
                                 windows) == {}


def test_latency_sli_from_a_millisecond_histogram_counts_in_its_unit():
    from triage.analysis.slo import _latency_template

    p95 = ('histogram_quantile(0.95, sum by (job, le) (rate(http_server_duration_milliseconds_bucket'
           '{job=~"$service_re"}[$rate])))')
    text = _latency_template(p95, "job", 0.25)
    assert text == ('(sum by (job) (rate(http_server_duration_milliseconds_count{job=~"$service_re"}[$rate])) - '
                    'sum by (job) (rate(http_server_duration_milliseconds_bucket{job=~"$service_re", '
                    'le=~"250|250\\\\.0"}[$rate]))) / sum by (job) (rate(http_server_duration_milliseconds_count'
                    '{job=~"$service_re"}[$rate]))')
    assert _latency_template("max(some_gauge)", None, 0.5) is None
