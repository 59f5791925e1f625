"""Pod states from kube-state-metrics: containers backing off after crashes, images that cannot
be pulled, pods that never run. They need no API access: a crash loop or a stuck rollout is seen
from metrics alone, and stands as an incident on its own (the application-errors rule uses it)."""

from __future__ import annotations

from dataclasses import dataclass

from triage.analysis.classify.evidence import clock
from triage.analysis.classify.facts import Facts
from triage.analysis.classify.levels import Level


@dataclass(frozen=True)
class PodStates:
    crash_looping: Level | None     # containers in CrashLoopBackOff during the window
    image_pull: Level | None        # containers that cannot pull their image
    not_running: Level | None       # pods Pending, Failed or Unknown


def _new(level: Level | None) -> Level | None:
    """In that state during the window, and more of them than in the baseline."""
    if level is None or level.window is None or level.window < 1:
        return None
    if level.baseline is not None and level.baseline >= level.window:
        return None
    return level


def _count(level: Level, what: str, state: str) -> str:
    n = int(round(level.window or 0))
    since = f" from {clock(level.onset)}" if level.onset is not None else ""
    return f"{n} {what}{'' if n == 1 else 's'} {state}{since}"


def observe(f: Facts) -> PodStates:
    """The window's pod states; each one new in the window is also an anomaly on its own."""
    states = PodStates(_new(f.get("crash_looping")), _new(f.get("image_pull_failing")),
                       _new(f.get("pods_not_running")))
    if states.crash_looping is not None:
        f.alone["crash_looping"] = crash_words(states.crash_looping)
    if states.image_pull is not None:
        f.alone["image_pull_failing"] = pull_words(states.image_pull)
    if states.not_running is not None:
        f.notes.append(_count(states.not_running, "pod", "not running (Pending, Failed or Unknown)"))
    return states


def crash_words(level: Level) -> str:
    return _count(level, "container", "in CrashLoopBackOff (crashing, restarted, crashing again)")


def pull_words(level: Level) -> str:
    n = int(round(level.window or 0))
    return _count(level, "container", ("cannot pull its image" if n == 1 else "cannot pull their image")
                  + " (ErrImagePull / ImagePullBackOff)")
