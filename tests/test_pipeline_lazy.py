"""`triage.pipeline` names its modules' functions lazily (issue 17): every name of `__all__`
is the module's own object, and building the health document imports no analysis."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import triage.pipeline as pipeline


@pytest.mark.parametrize("name", pipeline.__all__)
def test_every_name_is_its_modules_object(name: str) -> None:
    module = importlib.import_module(f"triage.pipeline.{pipeline._WHERE[name]}")
    assert getattr(pipeline, name) is getattr(module, name)


def test_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError):
        _ = pipeline.no_such_thing  # type: ignore[attr-defined]


def test_health_document_imports_no_analysis() -> None:
    code = ("import sys; from triage.pipeline import health_document; "
            "print(sorted(m for m in sys.modules if m.startswith(('triage.analysis', 'triage.signals', "
            "'triage.pipeline.phases', 'triage.pipeline.record'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
