"""Pure scoring for bench/eval_realdata.py: the class rule, AC@k / Avg@5, the naive z-score and
BARO-style robust baselines, and the confidence calibration.  No I/O, standard library only."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

# Nezha's code-level faults: its data carries no error signal, so the only honest answer is
# `unknown` naming `error_ratio` among the missing signals (issue 12; realdata README).
CODE_FAULTS = ("return", "exception")
NO_ERROR_SIGNAL_DATASETS = ("nezha-ob",)
NOT_CLASS_SCORED = ("network_delay",)      # class reported, not scored; the fleet is scored

SD_FLOOR = 1e-6          # the z-score's sd floor (absolute, in the series' own unit)
# The second z-score row floors the sd at a share of the baseline mean: without it a
# near-constant series (memory bytes drifting by a few KiB) outranks a CPU at 100 %.
SD_REL_FLOOR = 0.05
IQR_FLOOR = 1e-6         # the robust score's IQR floor

BUCKETS = ((0.0, 0.5, "<0.5"), (0.5, 0.6, "0.5-0.6"), (0.6, 0.7, "0.6-0.7"), (0.7, 0.8, "0.7-0.8"),
           (0.8, 0.9, "0.8-0.9"), (0.9, math.inf, ">=0.9"))


# ------------------------------------------------------------------------------------------
# The class
# ------------------------------------------------------------------------------------------

def missing_names(missing: object) -> set[str]:
    """`missing_signals` as a set of names, whether it holds strings or objects naming one."""
    names: set[str] = set()
    if isinstance(missing, Mapping):
        return {str(k) for k in missing}
    if isinstance(missing, (list, tuple)):
        for item in missing:
            if isinstance(item, str):
                names.add(item)
            elif isinstance(item, Mapping):
                name = item.get("signal") or item.get("name")
                if isinstance(name, str):
                    names.add(name)
    return names


def expected_for(dataset: str, fault: str, expected: str) -> tuple[tuple[str, ...], str | None]:
    """(acceptable classes, a signal that must be named missing) for one case."""
    if dataset in NO_ERROR_SIGNAL_DATASETS and fault in CODE_FAULTS:
        return ("unknown",), "error_ratio"
    return tuple(e.strip() for e in expected.split("|") if e.strip()), None


def class_scored(fault: str) -> bool:
    return fault not in NOT_CLASS_SCORED


def class_right(dataset: str, fault: str, expected: str, verdict: str | None, missing: object) -> bool:
    acceptable, must_miss = expected_for(dataset, fault, expected)
    if verdict not in acceptable:
        return False
    return must_miss is None or must_miss in missing_names(missing)


# ------------------------------------------------------------------------------------------
# Ranks and AC@k
# ------------------------------------------------------------------------------------------

def rank_in_ranking(ranking: object, service: str) -> int | None:
    """1-based position of `service` in a triage.fleet/v1 `ranking`; None when absent or
    scored 0 (or no score): a miss."""
    if not isinstance(ranking, list):
        return None
    for i, entry in enumerate(ranking, 1):
        if isinstance(entry, Mapping) and entry.get("service") == service:
            score = entry.get("score")
            if not isinstance(score, (int, float)) or not score > 0:
                return None
            return i
    return None


def rank_by_scores(scores: Mapping[str, float], service: str) -> int | None:
    """Pessimistic rank of `service` by descending score (ties count against it); None when
    it has no positive score."""
    own = scores.get(service)
    if own is None or not isinstance(own, (int, float)) or math.isnan(own) or not own > 0:
        return None
    return 1 + sum(1 for s, v in scores.items() if s != service and v is not None and not math.isnan(v) and v >= own)


def ac_at(ranks: Sequence[int | None], k: int) -> float | None:
    if not ranks:
        return None
    return sum(1 for r in ranks if r is not None and r <= k) / len(ranks)


def avg_at(ranks: Sequence[int | None], k: int = 5) -> float | None:
    if not ranks:
        return None
    return sum(ac_at(ranks, i) or 0.0 for i in range(1, k + 1)) / k


def fleet_figures(ranks: Sequence[int | None]) -> dict:
    return {"n": len(ranks), "ac1": ac_at(ranks, 1), "ac3": ac_at(ranks, 3), "avg5": avg_at(ranks, 5)}


# ------------------------------------------------------------------------------------------
# Baselines: naive z-score and BARO-style robust scaling
# ------------------------------------------------------------------------------------------

def zscore(baseline: Sequence[float], window: Sequence[float], sd_floor: float = SD_FLOOR,
           rel_floor: float = 0.0) -> float | None:
    """(window mean - baseline mean) / baseline sd (population), the sd floored at
    max(sd_floor, rel_floor * |baseline mean|); None without data."""
    if not baseline or not window:
        return None
    mu = statistics.fmean(baseline)
    sd = statistics.pstdev(baseline) if len(baseline) > 1 else 0.0
    return (statistics.fmean(window) - mu) / max(sd, sd_floor, rel_floor * abs(mu))


def _quantile(sorted_values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    n = len(sorted_values)
    if n == 1:
        return sorted_values[0]
    pos = q * (n - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, n - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def robust_score(baseline: Sequence[float], window: Sequence[float], iqr_floor: float = IQR_FLOOR) -> float | None:
    """BARO's robust scaling: max over the window of (x - median) / IQR of the baseline."""
    if not baseline or not window:
        return None
    ordered = sorted(baseline)
    med = _quantile(ordered, 0.5)
    iqr = _quantile(ordered, 0.75) - _quantile(ordered, 0.25)
    return max((x - med) / max(iqr, iqr_floor) for x in window)


def service_scores(series: Iterable[tuple[str, Sequence[float], Sequence[float]]], method: str = "z",
                   absolute: bool = False) -> dict[str, float]:
    """Per service the largest score over its series: `series` yields (service, baseline
    values, window values); method "z" (naive z-score), "z_rel" (z-score, sd floored at
    SD_REL_FLOOR of the baseline mean) or "robust" (BARO)."""
    fn = {"z": zscore, "z_rel": lambda b, w: zscore(b, w, rel_floor=SD_REL_FLOOR), "robust": robust_score}[method]
    out: dict[str, float] = {}
    for service, base, win in series:
        s = fn(base, win)
        if s is None or math.isnan(s):
            continue
        if absolute:
            s = abs(s)
        out[service] = max(out.get(service, -math.inf), s)
    return out


# ------------------------------------------------------------------------------------------
# Calibration
# ------------------------------------------------------------------------------------------

def bucket_of(confidence: float) -> str:
    for lo, hi, name in BUCKETS:
        if lo <= confidence < hi:
            return name
    return BUCKETS[0][2]        # below 0 (should not happen): the lowest bucket


@dataclass
class Calibration:
    buckets: list[dict]          # {"bucket", "n", "right", "accuracy"}
    mean_conf_right: float | None
    mean_conf_wrong: float | None
    n_high: int                  # verdicts at confidence >= 0.8
    share_right_high: float | None
    n: int
    no_confidence: int           # verdicts without a numeric confidence (crashes)

    def to_json(self) -> dict:
        return dict(self.__dict__)


def calibration(answers: Iterable[tuple[float | None, bool]], high: float = 0.8) -> Calibration:
    """`answers`: (confidence, right) of every scored verdict."""
    counts = {name: [0, 0] for _, _, name in BUCKETS}
    right_c: list[float] = []
    wrong_c: list[float] = []
    no_conf = 0
    n = 0
    for conf, right in answers:
        n += 1
        if conf is None or not isinstance(conf, (int, float)) or math.isnan(conf):
            no_conf += 1
            continue
        b = counts[bucket_of(float(conf))]
        b[0] += 1
        b[1] += 1 if right else 0
        (right_c if right else wrong_c).append(float(conf))
    hi = [True for c in right_c if c >= high] + [False for c in wrong_c if c >= high]
    return Calibration(
        buckets=[{"bucket": name, "n": counts[name][0], "right": counts[name][1],
                  "accuracy": counts[name][1] / counts[name][0] if counts[name][0] else None}
                 for _, _, name in BUCKETS],
        mean_conf_right=statistics.fmean(right_c) if right_c else None,
        mean_conf_wrong=statistics.fmean(wrong_c) if wrong_c else None,
        n_high=len(hi),
        share_right_high=sum(hi) / len(hi) if hi else None,
        n=n,
        no_confidence=no_conf,
    )
