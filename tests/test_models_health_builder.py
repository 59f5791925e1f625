"""`triage.models.health.builder` (issue 17): a slotted value built without its dataclass
`__init__` is the value its class builds from the same fields: equal, same hash and repr, frozen."""

from __future__ import annotations

import dataclasses
import inspect
from dataclasses import dataclass

import pytest

from triage.models import Status
from triage.models.health import (
    Condition,
    Deployment,
    Finding,
    Hpa,
    KubeContainer,
    KubeEvent,
    LogRequest,
    Node,
    Pod,
    builder,
)

READY = Condition("Ready", "False", "ContainersNotReady", "m", 1796226240.0)
APP = KubeContainer("app", False, 4, "waiting", "CrashLoopBackOff", "", None, None, None, "Error", 1, 1796226600.0,
                    "boom", False)
CASES = [
    (Condition, ("Ready", "True", "", "", None)),
    (Condition, tuple(getattr(READY, f.name) for f in dataclasses.fields(Condition))),
    (KubeContainer, tuple(getattr(APP, f.name) for f in dataclasses.fields(KubeContainer))),
    (Pod, ("shop", "web-0", "Running", "", "", "node-a", 1796226238.0, {"app": "web"}, "ReplicaSet/web-6d5",
           (READY,), (APP,), ("app",))),
    (KubeEvent, ("shop", "Pod", "web-0", "Unhealthy", "Readiness probe failed", "Warning", 3, None)),
    (Finding, ("pod", "web-0", "shop", "pod.crashloop", Status.CRITICAL, "CrashLoopBackOff", "in a loop", ("x",))),
    (LogRequest, ("shop", "web-0", "app", True, None)),
    (Deployment, ("shop", "web", 3, 2, 2, 1, 3, 4, 4, {"app": "web"}, (READY,))),
    (Hpa, ("shop", "web", "Deployment", "web", 1, 5, 5, 5, ("cpu 55% (target 70%)",), (READY,))),
    (Node, ("node-a", (READY,), True)),
]


@pytest.mark.parametrize(("cls", "values"), CASES, ids=lambda c: getattr(c, "__name__", ""))
def test_a_built_value_is_the_class_built_value(cls: type, values: tuple) -> None:
    build = builder(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    assert list(inspect.signature(build).parameters) == names
    built, made = build(*values), cls(*values)
    assert type(built) is cls and built == made and repr(built) == repr(made)
    assert [getattr(built, n) for n in names] == list(values)
    if cls not in (Pod, Deployment):  # they hold a dict of labels
        assert hash(built) == hash(made)
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(built, names[0], "changed")
    assert build(**dict(zip(names, values))) == made


def test_every_field_must_be_given() -> None:
    with pytest.raises(TypeError):
        builder(Condition)("Ready", "True")  # type: ignore[call-arg]


def test_only_slotted_values_without_post_init() -> None:
    @dataclass(frozen=True)
    class Plain:
        a: int

    @dataclass(frozen=True, slots=True)
    class Checked:
        a: int

        def __post_init__(self) -> None:
            pass

    for cls in (Plain, Checked):
        with pytest.raises(TypeError):
            builder(cls)
