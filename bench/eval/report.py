"""The printed report of a labelled set: confusion matrices, accuracy, calibration of the
confidence, triggers, exit codes, the chain ranking and every miss with what triage saw."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from bench.eval.cases import CLASSES, NO_ANSWER, SHORT, Case, Run


def confusion(cases: list[Case], run: Run) -> tuple[dict[str, dict[str, int]], list[str]]:
    columns = [*CLASSES, NO_ANSWER]
    matrix = {label: {col: 0 for col in columns} for label in CLASSES}
    for case in cases:
        matrix[case.label][run.of(case).verdict] += 1
    return matrix, columns


def print_matrix(title: str, cases: list[Case], run: Run, markdown: bool) -> None:
    matrix, columns = confusion(cases, run)
    used = [c for c in columns if c != NO_ANSWER or any(matrix[r][c] for r in CLASSES)]
    heads = [SHORT.get(c, c) for c in used]
    print(f"\n{title} (rows: label, columns: verdict)")
    if markdown:
        print("| label \\ verdict | " + " | ".join(heads) + " | right |")
        print("|---|" + "---:|" * (len(heads) + 1))
    else:
        print(f"{'label':>20} " + " ".join(f"{h:>5}" for h in heads) + "  right")
    for label in CLASSES:
        row = matrix[label]
        total = sum(row.values())
        if not total:
            continue
        right = sum(1 for c in cases if c.label == label and c.right(run.of(c).verdict))
        cells = [str(row[c]) if row[c] else "." for c in used]
        if markdown:
            cells = [f"**{x}**" if c == label and x != "." else x for c, x in zip(used, cells)]
            print(f"| {label} | " + " | ".join(cells) + f" | {right}/{total} |")
        else:
            print(f"{label:>20} " + " ".join(f"{x:>5}" for x in cells) + f"  {right}/{total}")


def _bad_exits(answers: list, run: Run) -> list[tuple[str, str, int]]:
    bad = []
    for c, a in answers:
        if a.verdict == NO_ANSWER or not run.per_service_exit:
            continue
        want = (0,) if a.verdict == "none" else (3,) if a.verdict == "unknown" else (1, 2)
        if a.code not in want:
            bad.append((c.service, a.verdict, a.code))
    return bad


def _mean(xs: list[float]) -> str:
    return f"{statistics.mean(xs):.2f}" if xs else "-"


def summarise(title: str, cases: list[Case], run: Run) -> dict:
    answers = [(c, run.of(c)) for c in cases]
    right = [(c, a) for c, a in answers if c.right(a.verdict)]
    wrong = [(c, a) for c, a in answers if not c.right(a.verdict)]
    accepted = [(c, a) for c, a in right if a.verdict != c.label]
    conf_right = [a.confidence for _, a in right if a.confidence is not None]
    conf_wrong = [a.confidence for _, a in wrong if a.confidence is not None]
    per_class = {}
    for label in CLASSES:
        mine = [(c, a) for c, a in answers if c.label == label]
        if mine:
            per_class[label] = (sum(c.right(a.verdict) for c, a in mine), len(mine))
    with_trigger = [(c, a) for c, a in right if c.trigger is not None]
    trig_right = sum(1 for c, a in with_trigger if a.trigger == c.trigger)
    bad_exit = _bad_exits(answers, run)

    print(f"\n{title}: accuracy {len(right)}/{len(answers)} = {len(right) / max(1, len(answers)):.1%}"
          + (f" ({len(accepted)} by an accepted alternative)" if accepted else ""))
    print("  per class: " + ", ".join(f"{SHORT[k]} {r}/{n}" for k, (r, n) in per_class.items()))
    print(f"  mean confidence: right {_mean(conf_right)} (n={len(conf_right)}), "
          f"wrong {_mean(conf_wrong)} (n={len(conf_wrong)})")
    if with_trigger:
        print(f"  trigger right (where the verdict is right and the scenario has one): "
              f"{trig_right}/{len(with_trigger)}")
    if bad_exit:
        print(f"  exit code disagrees with the verdict: {bad_exit}")
    for c, a in wrong:
        conf = f"{a.confidence:.2f}" if a.confidence is not None else "-"
        where = c.service if c.source == "library" else f"{c.source}:{c.service}"
        exit_code = f", exit {a.code}" if run.per_service_exit else ""
        print(f"  MISS {where}: label {c.label}" + (f" (or {', '.join(c.acceptable)})" if c.acceptable else "")
              + f", verdict {a.verdict} (confidence {conf}{exit_code})"
              + (f"\n       {c.note}" if c.note else ""))
    return {"right": len(right), "total": len(answers), "accepted": len(accepted),
            "per_class": per_class, "confidence_right": conf_right, "confidence_wrong": conf_wrong,
            "trigger_right": trig_right, "trigger_total": len(with_trigger), "bad_exit": bad_exit}


def ranking_check(payload: dict, chain: Sequence[str], cause: str, caller: str) -> str:
    """Where the chain's services rank in the fleet pass; OK when the cause ranks above its caller."""
    ranking = payload.get("ranking") if isinstance(payload, dict) else None
    if not isinstance(ranking, list):
        return "no ranking in the fleet output"
    order = [r.get("service") for r in ranking if isinstance(r, dict)]
    pos = {name: (order.index(name) + 1 if name in order else None) for name in chain}
    first, second = pos[cause], pos[caller]
    ok = first is not None and second is not None and first < second
    return (f"{'OK' if ok else 'WRONG'}: " + ", ".join(f"{n} #{p}" for n, p in pos.items())
            + f" of {len(order)}; top 5: {order[:5]}")


def print_runs(runs: list[Run], groups: list[tuple[str, list[Case]]], markdown: bool) -> dict[tuple[str, str], dict]:
    """Each run's matrix and summary over each group of cases."""
    summary = {}
    for run in runs:
        for gname, gcases in groups:
            if not gcases:
                continue
            print_matrix(f"{run.name}, {gname}", gcases, run, markdown)
            summary[(run.name, gname)] = summarise(f"{run.name}, {gname}", gcases, run)
    return summary
