"""`triage.sources.kubernetes.parse` (issue 17: reading a pod without generators): each pod,
container and condition holds exactly its class's fields, equals the value its class builds from
them and is as frozen and hashable; an object that cannot be read raises as it did."""

from __future__ import annotations

import dataclasses

import pytest

from testing.k8s import load_manifests
from testing.k8s.fleet import fleet
from triage.models.health import Condition, KubeContainer, Pod
from triage.sources.kubernetes.parse import PARSE

POD = {
    "metadata": {"name": "web-0", "namespace": "shop", "creationTimestamp": "2026-12-02T15:43:58Z",
                 "labels": {"app": "web"},
                 "ownerReferences": [{"kind": "Node", "name": "n", "controller": False},
                                     {"kind": "ReplicaSet", "name": "web-6d5", "controller": True}]},
    "spec": {"nodeName": "node-a", "containers": [{"name": "app"}, {"name": "sidecar"}]},
    "status": {
        "phase": "Running",
        "conditions": [{"type": "Ready", "status": "False", "reason": "ContainersNotReady", "message": "m",
                        "lastTransitionTime": "2026-12-02T15:44:00Z"}, {"type": "PodScheduled", "status": "True"},
                       {"status": "True"}, "not a condition"],
        "initContainerStatuses": [{"name": "init", "ready": False, "restartCount": 0,
                                   "state": {"terminated": {"reason": "Completed", "exitCode": 0,
                                                            "finishedAt": "2026-12-02T15:43:59Z"}}}],
        "containerStatuses": [
            {"name": "app", "ready": False, "restartCount": 4, "state": {"waiting": {"reason": "CrashLoopBackOff"}},
             "lastState": {"terminated": {"reason": "Error", "exitCode": 1, "message": "boom",
                                          "finishedAt": "2026-12-02T15:50:00Z"}}},
            {"name": "sidecar", "ready": True, "restartCount": 0,
             "state": {"running": {"startedAt": "2026-12-02T15:44:00Z"}}}],
    },
}


def _values(value: object) -> list[object]:
    """The value and every Condition and KubeContainer it holds."""
    out = [value]
    for name in ("conditions", "containers"):
        out.extend(getattr(value, name, ()))
    return out


def _pods() -> list[dict]:
    objects, _ = fleet(40, nodes=2, crash_every=4)
    return [POD] + [o for o in [*objects, *load_manifests()] if o.get("kind") == "Pod"]


@pytest.mark.parametrize("raw", _pods(), ids=lambda raw: raw["metadata"]["name"])
def test_each_value_is_what_its_class_builds_from_its_fields(raw: dict) -> None:
    pod = PARSE["pods"](raw)
    assert type(pod) is Pod
    for value in _values(pod):
        cls = type(value)
        names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
        assert cls.__slots__ == tuple(names) and not hasattr(value, "__dict__")  # its fields and nothing else
        rebuilt = cls(**{name: getattr(value, name) for name in names})
        assert rebuilt == value
        if cls is not Pod:  # a pod holds its labels' dict: like its class's own, not hashable
            assert hash(rebuilt) == hash(value)
        assert repr(rebuilt) == repr(value)
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(value, names[0], "changed")


def test_the_fields_read_from_a_pod() -> None:
    pod = PARSE["pods"](POD)
    assert (pod.namespace, pod.name, pod.phase, pod.node, pod.owner) == ("shop", "web-0", "Running", "node-a",
                                                                         "ReplicaSet/web-6d5")
    assert pod.labels == {"app": "web"} and pod.spec_containers == ("app", "sidecar")
    assert [(c.type, c.status, c.reason) for c in pod.conditions] == [
        ("Ready", "False", "ContainersNotReady"), ("PodScheduled", "True", "")]
    assert pod.conditions[0].last_transition == 1796226240.0 and pod.conditions[1].last_transition is None
    init, app, sidecar = pod.containers
    assert (init.name, init.init, init.state, init.reason, init.exit_code) == ("init", True, "terminated",
                                                                                "Completed", 0)
    assert (app.state, app.reason, app.restarts, app.last_reason, app.last_exit_code, app.last_message) == (
        "waiting", "CrashLoopBackOff", 4, "Error", 1, "boom")
    assert (sidecar.ready, sidecar.state, sidecar.started_at, sidecar.init) == (True, "running", 1796226240.0,
                                                                                False)
    assert isinstance(pod.condition("Ready"), Condition) and isinstance(app, KubeContainer)


def test_an_object_that_cannot_be_read_raises_as_before() -> None:
    with pytest.raises(AttributeError):
        PARSE["pods"]({"metadata": {"ownerReferences": ["not a dict"]}})
    with pytest.raises(TypeError):
        PARSE["pods"]({"status": {"containerStatuses": 5}})
    with pytest.raises(ValueError):
        PARSE["pods"]({"status": {"containerStatuses": [{"restartCount": "many"}]}})
