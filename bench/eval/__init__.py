"""The one evaluation harness for every labelled set (the scenario library, the held-out sets,
the lab's recordings): load the set, ask triage as a user would, score, print.

The scripts `bench/eval_*.py` are thin on top of it; the real-data set keeps its own scoring
(`realdata`) because its figures (AC@k, the z-score and BARO baselines) are its own."""

from bench.eval.ask import ask_served, parse_json, run_fleet, run_single, start
from bench.eval.cases import CLASSES, NO_ANSWER, SHORT, Answer, Case, Run, cases_of
from bench.eval.report import print_matrix, print_runs, ranking_check, summarise

__all__ = ["CLASSES", "NO_ANSWER", "SHORT", "Answer", "Case", "Run", "ask_served", "cases_of", "parse_json",
           "print_matrix", "print_runs", "ranking_check", "run_fleet", "run_single", "start", "summarise"]
