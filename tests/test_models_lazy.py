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
