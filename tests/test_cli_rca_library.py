"""`triage rca` against the labelled scenario library, all of it in one real Prometheus.

Every scenario of ``testing/scenarios/rca_library/`` is one service in the same dataset (so
each is a decoy for the others).  Per scenario: the verdict is the label (or one of its
``acceptable`` answers), the JSON follows CONTRACT.md's ``triage.rca/v1``, an incident
verdict carries evidence made of contract signals with numbers, ``unknown`` names what is
missing, and the exit code follows the Monitoring Plugins convention.  Then the fleet
ranking of the dependency chain and the meaning of ``confidence``.
"""

from __future__ import annotations

import json
import math

import pytest

from testing.cli import run_cli
from testing.scenarios.rca_library import (
    AT,
    CHAIN,
    CLASSES,
    INCIDENT_CLASSES,
    SIGNALS,
    TRIGGERS,
    WINDOW,
    LabelledScenario,
    rca_library,
    serve_library,
)
from tests.conftest import need

pytestmark = pytest.mark.backend

LIBRARY: list[LabelledScenario] = rca_library()
BY_NAME = {s.name: s for s in LIBRARY}
WITH_TRIGGER = [s for s in LIBRARY if s.trigger is not None]
# Exit codes by verdict (CONTRACT.md): none -> OK, unknown -> UNKNOWN, an incident -> WARNING or CRITICAL.
EXIT_OK, EXIT_UNKNOWN, EXIT_INCIDENT = 0, 3, (1, 2)


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    """The whole library backfilled into one Prometheus, and its triage.yaml."""
    need("prometheus")
    need("promtool")
    with serve_library(tmp_path_factory.mktemp("rca-library")) as server:
        yield server


@pytest.fixture(scope="module")
def verdicts(library):
    """`rca --service S -o json`, run once per service and shared by the tests below."""
    cache: dict[str, tuple[object, dict | None]] = {}

    def get(name: str):
        if name not in cache:
            result = run_cli(["rca", "--prometheus-url", library.url, "--config", str(library.config),
                              "--service", name, "--at", AT, "--output", "json"])
            try:
                payload = json.loads(result.stdout) if result.stdout.strip() else None
            except json.JSONDecodeError:
                payload = None
            cache[name] = (result, payload)
        return cache[name]
    return get


@pytest.fixture(scope="module")
def fleet(library):
    result = run_cli(["rca", "--prometheus-url", library.url, "--config", str(library.config),
                      "--all-services", "--at", AT, "--output", "json"])
    try:
        payload = json.loads(result.stdout) if result.stdout.strip() else None
    except json.JSONDecodeError:
        payload = None
    return result, payload


def _show(result, payload) -> str:
    """What a failing assertion prints: the exit code, stderr and the verdict's essentials."""
    if payload is None:
        return f"exit {result.code}; stdout {result.stdout[:800]!r}; stderr {result.stderr[-800:]!r}"
    brief = {k: payload.get(k) for k in ("bottleneck", "confidence", "trigger", "missing_signals", "severity")}
    brief["candidates"] = [(c.get("bottleneck"), c.get("score")) for c in payload.get("candidates") or []]
    return (f"exit {result.code}; {json.dumps(brief)}\nfull: {json.dumps(payload)[:4000]}"
            f"\nstderr: {result.stderr[-500:]}")


def _number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _evidence_ok(item) -> bool:
    return (isinstance(item, dict) and item.get("signal") in SIGNALS
            and _number(item.get("baseline")) and _number(item.get("window")))


def check_rca_schema(payload: dict, service: str) -> None:
    """CONTRACT.md `triage rca --output json`, as far as the contract fixes it."""
    assert payload["schema"] == "triage.rca/v1"
    assert payload["service"] == service
    assert isinstance(payload.get("namespace"), str) and payload["namespace"]
    assert payload["window"] == WINDOW
    assert set(payload["baseline"]) >= {"start", "end"}
    assert payload["baseline"]["end"] == WINDOW["start"]
    assert payload["bottleneck"] in CLASSES
    assert _number(payload["confidence"]) and 0.0 <= payload["confidence"] <= 1.0
    assert payload["trigger"] in TRIGGERS
    assert isinstance(payload["candidates"], list)
    for c in payload["candidates"]:
        assert c["bottleneck"] in CLASSES, c
        assert _number(c["score"]) and 0.0 <= c["score"] <= 1.0, c
        assert isinstance(c["evidence"], list), c
    scores = [c["score"] for c in payload["candidates"]]
    assert scores == sorted(scores, reverse=True), f"candidates not ranked: {scores}"
    assert isinstance(payload["signals"], dict)
    # The contract grows by adding: signals beyond its list may appear, but its own must keep
    # their shape.
    for name, sig in payload["signals"].items():
        assert isinstance(name, str) and isinstance(sig, dict), (name, sig)
        assert "baseline" in sig and "window" in sig, (name, sig)
    assert isinstance(payload["missing_signals"], list)
    assert all(isinstance(m, str) for m in payload["missing_signals"]), payload["missing_signals"]
    assert not set(payload["missing_signals"]) & set(payload["signals"]), "a signal both seen and missing"
    assert "severity" in payload


# --------------------------------------------------------------------------------------
# One test per scenario
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("scenario", LIBRARY, ids=[f"{s.name}:{s.bottleneck}" for s in LIBRARY])
def test_scenario_verdict(verdicts, scenario: LabelledScenario):
    result, payload = verdicts(scenario.name)
    assert payload is not None, f"no JSON from rca --service {scenario.name}: {_show(result, payload)}"
    check_rca_schema(payload, scenario.name)
    verdict = payload["bottleneck"]
    assert scenario.right(verdict), (
        f"{scenario.name}: expected {' or '.join(scenario.answers)}, got {verdict}\n"
        f"scenario: {scenario.note}\n{_show(result, payload)}")

    if verdict == "none":
        assert result.code == EXIT_OK, _show(result, payload)
    elif verdict == "unknown":
        assert result.code == EXIT_UNKNOWN, _show(result, payload)
        assert payload["missing_signals"], f"'unknown' must say what is missing: {_show(result, payload)}"
        absent = set(scenario.missing) - set(payload["missing_signals"])
        assert not absent, f"missing_signals does not name {sorted(absent)}: {_show(result, payload)}"
    else:
        assert result.code in EXIT_INCIDENT, _show(result, payload)
        backing = [c for c in payload["candidates"] if c["bottleneck"] == verdict]
        assert backing, f"no candidate for the verdict {verdict}: {_show(result, payload)}"
        assert any(_evidence_ok(e) for e in backing[0]["evidence"]), (
            f"the {verdict} candidate has no evidence with a contract signal and numeric "
            f"baseline/window: {_show(result, payload)}")


@pytest.mark.parametrize("scenario", WITH_TRIGGER, ids=[f"{s.name}:{s.trigger}" for s in WITH_TRIGGER])
def test_scenario_trigger(verdicts, scenario: LabelledScenario):
    """Scenarios built around a trigger (a surge, a deploy, a failing dependency) name it,
    provided the bottleneck itself is right (a wrong verdict already fails above)."""
    result, payload = verdicts(scenario.name)
    assert payload is not None, _show(result, payload)
    if not scenario.right(payload.get("bottleneck")):
        pytest.skip(f"verdict {payload.get('bottleneck')} is wrong; judged by test_scenario_verdict")
    assert payload["trigger"] == scenario.trigger, (
        f"{scenario.name}: expected trigger {scenario.trigger}\n{scenario.note}\n{_show(result, payload)}")


# --------------------------------------------------------------------------------------
# The fleet: one pass, the chain ranked by depends_on
# --------------------------------------------------------------------------------------

def test_fleet_ranks_payment_above_checkout(fleet):
    result, payload = fleet
    assert payload is not None, _show(result, payload)
    assert payload["schema"] == "triage.fleet/v1"
    assert payload["window"] == WINDOW
    ranking = payload["ranking"]
    assert isinstance(ranking, list) and ranking
    for row in ranking:
        assert row["bottleneck"] in CLASSES and _number(row["score"]), row
    order = [row["service"] for row in ranking]
    assert len(order) == len(set(order)), f"a service ranked twice: {order}"
    missing = {"payment", "checkout"} - set(order)
    assert not missing, f"{sorted(missing)} not ranked: {order}"
    assert order.index("payment") < order.index("checkout"), (
        f"payment (whose dependency bank-api is slow) must rank above checkout (slow because payment "
        f"is): {[(r['service'], r['bottleneck'], r['score']) for r in ranking]}")


def test_fleet_covers_the_library(fleet):
    """Every configured service is triaged in the one pass, each with its own rca object."""
    result, payload = fleet
    assert payload is not None, _show(result, payload)
    services = payload["services"]
    absent = set(BY_NAME) - set(services)
    assert not absent, f"not triaged in the fleet pass: {sorted(absent)}"
    for name in CHAIN[1:]:
        check_rca_schema(services[name], name)
        assert services[name]["bottleneck"] == "external_dependency", _show(result, services[name])


def test_fleet_agrees_with_single_service_runs(fleet, verdicts):
    """The fleet pass reads at a coarser step; its verdicts must still match the per-service ones
    for the scenarios a per-service run gets right."""
    _, payload = fleet
    assert payload is not None
    disagree = []
    for s in LIBRARY:
        single = verdicts(s.name)[1]
        if single is None or not s.right(single["bottleneck"]):
            continue
        got = payload["services"].get(s.name, {}).get("bottleneck")
        if not s.right(got):
            disagree.append((s.name, single["bottleneck"], got))
    assert not disagree, f"(service, single-service verdict, fleet verdict): {disagree}"


# --------------------------------------------------------------------------------------
# What confidence means
# --------------------------------------------------------------------------------------

CONTROLS = [s for s in LIBRARY if s.bottleneck == "none"]


@pytest.mark.parametrize("scenario", CONTROLS, ids=[s.name for s in CONTROLS])
def test_controls_are_confidently_none(verdicts, scenario: LabelledScenario):
    result, payload = verdicts(scenario.name)
    assert payload is not None, _show(result, payload)
    assert payload["bottleneck"] == "none", f"{scenario.note}\n{_show(result, payload)}"
    assert payload["confidence"] >= 0.5, _show(result, payload)


@pytest.mark.parametrize("label", [*INCIDENT_CLASSES, "none"])
def test_each_class_has_a_confident_variant(verdicts, label: str):
    """High confidence is possible: for every class, at least one variant is classified right
    with confidence >= 0.7."""
    variants = [s for s in LIBRARY if s.bottleneck == label]
    assert len(variants) >= 3, f"the library must hold three variants of {label}"
    seen = []
    for s in variants:
        result, payload = verdicts(s.name)
        if payload is None:
            seen.append((s.name, f"exit {result.code}, no JSON"))
            continue
        seen.append((s.name, payload["bottleneck"], payload["confidence"]))
        if payload["bottleneck"] == label and payload["confidence"] >= 0.7:
            return
    pytest.fail(f"no {label} variant classified right with confidence >= 0.7: {seen}")


# --------------------------------------------------------------------------------------
# The library itself (no backend needed)
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("label", INCIDENT_CLASSES)
def test_library_has_three_variants_per_class(label: str):
    assert sum(s.bottleneck == label for s in LIBRARY) >= 3


def test_library_shape():
    assert sum(s.bottleneck == "none" for s in LIBRARY) >= 3
    assert [n for n in CHAIN if n in BY_NAME] == list(CHAIN)
    assert BY_NAME["payment"].spec.depends_on == ("bank-api",)
    assert BY_NAME["checkout"].spec.depends_on == ("payment",)
    assert BY_NAME["bank-api"].spec.depends_on == ()
    ambiguous = [s for s in LIBRARY if len(s.answers) > 1]
    assert len(ambiguous) <= max(1, len(LIBRARY) // 10), f"keep ambiguous labels rare: {ambiguous}"
    for s in LIBRARY:
        assert 0.02 <= s.spec.noise <= 0.06, s.name
        assert 1 <= s.spec.pods <= 3, s.name
        assert s.note, s.name
