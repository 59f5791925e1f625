"""Services whose trouble kube-state-metrics shows before anything else: a crash loop after a
deploy, a rollout whose new pod cannot pull its image, and a healthy control. Not part of the
labelled library (its figures stay as measured); tests/test_kube_state_signals.py backfills them."""

from __future__ import annotations

from testing.scenarios.generator import PodState, Restart, ramp
from testing.scenarios.library import at
from testing.scenarios.rca_library.labelled import END, K8S_ONLY, LATE, LabelledScenario, svc


def kube_state_scenarios() -> list[LabelledScenario]:
    loop = tuple(PodState(at(19, 51) + 150 * k, at(19, 51) + 150 * k + 90, pod=0, waiting="CrashLoopBackOff")
                 for k in range(4))
    return [
        LabelledScenario(
            svc("ledger", "shop", tier=2, pods=2, families=K8S_ONLY, deploys=(LATE,),
                pod_states=loop,
                restarts=tuple(Restart(s.start - 10, 0, "Error") for s in loop),
                error_ratio=ramp(0.002, 0.06, at(19, 51), at(19, 53)), noise=0.02),
            "application_errors", "deploy",
            "A deploy at 19:50 whose new version crashes on start: pod 0 in CrashLoopBackOff four "
            "times (restarts, last reason Error), 5xx 6 % from the pods that are up."),
        LabelledScenario(
            svc("catalog-api", "shop", tier=2, pods=2, families=K8S_ONLY, deploys=(LATE,),
                pod_states=(PodState(LATE + 20, END + 60, pod=2, waiting="ImagePullBackOff", phase="Pending"),),
                noise=0.02),
            "application_errors", "deploy",
            "A rollout at 19:50 whose new pod cannot pull its image (a typo in the tag): Pending with "
            "ImagePullBackOff to the end; the two old pods still serve, so users see nothing yet."),
        LabelledScenario(
            svc("ratings", "shop", tier=2, pods=2, families=K8S_ONLY, noise=0.02,
                pod_states=(PodState(at(18, 45), at(18, 46), pod=1, phase="Pending"),)),
            "none", None,
            "Healthy: one pod was Pending for a minute long before the window (a reschedule)."),
    ]
