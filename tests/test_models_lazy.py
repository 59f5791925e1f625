"""`triage.models` resolves the health values on first use (issue 17): every name of `__all__`
is its module's own object, and a metrics pass (the Prometheus source, the documents, the
analysis) imports none of the health module's dataclasses."""

from __future__ import annotations

import subprocess
import sys

import pytest

import triage.models as models
import triage.models.health as health


@pytest.mark.parametrize("name", sorted(models._HEALTH))
def test_every_health_name_is_the_modules_object(name: str) -> None:
    assert getattr(models, name) is getattr(health, name)


def test_every_exported_name_resolves() -> None:
    for name in models.__all__:
        assert getattr(models, name) is not None


def test_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError):
        _ = models.no_such_thing  # type: ignore[attr-defined]


def test_a_metrics_pass_imports_no_health_values() -> None:
    code = ("import sys; import triage.sources.prometheus, triage.pipeline.documents, triage.pipeline.phases, "
            "triage.analysis.rca, triage.cli.rca, triage.cli.detect; "
            "print('triage.models.health' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


@pytest.mark.parametrize("name", sorted(models._SIGNALS))
def test_every_signal_name_is_the_modules_object(name: str) -> None:
    import triage.models.signals as signals

    assert getattr(models, name) is getattr(signals, name)


def test_the_signal_vocabularies_are_one_object_wherever_read() -> None:
    import triage.models.signals as signals
    import triage.models.vocabulary as vocabulary

    for name in ("SIGNAL_NAMES", "EXTRA_SIGNALS", "WHEN_PRESENT"):
        assert getattr(models, name) is getattr(signals, name) is getattr(vocabulary, name)
    assert "rps" in models.SIGNAL_NAMES and "crash_looping" in models.WHEN_PRESENT


def test_a_health_pass_to_json_or_markdown_imports_no_signal_values() -> None:
    code = ("import sys; import triage.cli.health, triage.health.run, triage.sources.kubernetes, triage.config, "
            "triage.render.json, triage.render.markdown.health, triage.pipeline.documents, triage.sources.interface; "
            "from triage.config import load_settings; load_settings(config=None, prometheus_url=None); "
            "print('triage.models.signals' in sys.modules, 'triage.models.slo' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
