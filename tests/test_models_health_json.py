"""`Finding.to_json` and `HealthReport.to_json`: the documented fields, the status as its plain
string value for every status (issue 17: read without the enum's `value` descriptor)."""

from __future__ import annotations

import json

import pytest

from triage.models import Finding, HealthReport, Skipped, Status


@pytest.mark.parametrize("status", list(Status))
def test_a_findings_status_is_its_plain_string_value(status):
    f = Finding(kind="pod", name="web-0", namespace="shop", check="pod.status", status=status, reason=None,
                detail="Running, 1/1 ready, 0 restarts")
    out = f.to_json()
    assert out == {"kind": "pod", "name": "web-0", "namespace": "shop", "check": "pod.status",
                   "status": status.value, "reason": None, "detail": "Running, 1/1 ready, 0 restarts"}
    assert type(out["status"]) is str and json.dumps(out["status"]) == json.dumps(status.value)


def test_evidence_is_a_list_and_only_there_when_given():
    f = Finding(kind="pod", name="a", namespace=None, check="c", status=Status.CRITICAL, reason="OOMKilled",
                detail="d", evidence=("x", "y"))
    assert f.to_json()["evidence"] == ["x", "y"]
    report = HealthReport(findings=(f,), skipped=(Skipped("docker", "off"),))
    assert report.to_json() == {"schema": "triage.health/v1", "status": "critical", "findings": [f.to_json()],
                                "skipped": [{"source": "docker", "reason": "off"}]}
