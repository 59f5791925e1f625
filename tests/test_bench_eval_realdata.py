"""The pure scoring of bench/eval_realdata.py on tiny hand-made inputs (no data, no backend)."""

from __future__ import annotations

import math

import pytest

from bench.eval.realdata import (
    ac_at,
    avg_at,
    bucket_of,
    calibration,
    class_right,
    class_scored,
    expected_for,
    fleet_figures,
    missing_names,
    rank_by_scores,
    rank_in_ranking,
    robust_score,
    service_scores,
    zscore,
)

# ---- the class rule --------------------------------------------------------------------

def test_alternatives_are_accepted():
    assert class_right("nezha-ob", "network_delay", "external_dependency|unknown", "unknown", [])
    assert class_right("nezha-ob", "network_delay", "external_dependency|unknown", "external_dependency", [])
    assert not class_right("nezha-ob", "network_delay", "external_dependency|unknown", "none", [])


def test_nezha_code_faults_need_unknown_naming_error_ratio():
    assert expected_for("nezha-ob", "return", "application_errors") == (("unknown",), "error_ratio")
    assert class_right("nezha-ob", "exception", "application_errors", "unknown", ["error_ratio", "rps"])
    assert not class_right("nezha-ob", "exception", "application_errors", "unknown", ["rps"])
    assert not class_right("nezha-ob", "return", "application_errors", "application_errors", ["error_ratio"])
    assert not class_right("nezha-ob", "return", "application_errors", "none", ["error_ratio"])


def test_other_datasets_keep_their_expected_class():
    assert class_right("rcd-sockshop", "cpu", "cpu_saturation", "cpu_saturation", [])
    assert not class_right("rcd-sockshop", "mem", "memory_pressure", "cpu_saturation", [])
    assert not class_right("rcd-sockshop", "cpu", "cpu_saturation", None, [])


def test_network_delay_class_is_not_scored():
    assert not class_scored("network_delay")
    assert class_scored("cpu_contention") and class_scored("return")


def test_missing_signals_as_strings_or_objects():
    assert missing_names(["error_ratio", {"signal": "rps"}, {"name": "x"}, 3]) == {"error_ratio", "rps", "x"}
    assert missing_names({"error_ratio": "no series"}) == {"error_ratio"}
    assert missing_names(None) == set()


# ---- ranks and AC@k ----------------------------------------------------------------------

def test_rank_in_ranking_and_zero_score_is_a_miss():
    ranking = [{"service": "a", "score": 0.9}, {"service": "b", "score": 0.4}, {"service": "c", "score": 0.0}]
    assert rank_in_ranking(ranking, "a") == 1
    assert rank_in_ranking(ranking, "b") == 2
    assert rank_in_ranking(ranking, "c") is None
    assert rank_in_ranking(ranking, "absent") is None
    assert rank_in_ranking(None, "a") is None


def test_rank_by_scores_counts_ties_against_the_labelled_service():
    scores = {"a": 5.0, "b": 5.0, "c": 1.0, "d": -2.0}
    assert rank_by_scores(scores, "a") == 2
    assert rank_by_scores(scores, "c") == 3
    assert rank_by_scores(scores, "d") is None          # not positive: a miss
    assert rank_by_scores(scores, "x") is None


def test_ac_at_and_avg5():
    ranks = [1, 2, 3, None]
    assert ac_at(ranks, 1) == 0.25
    assert ac_at(ranks, 3) == 0.75
    # AC@1..AC@5 = .25 .5 .75 .75 .75
    assert avg_at(ranks, 5) == pytest.approx(0.6)
    assert fleet_figures(ranks) == {"n": 4, "ac1": 0.25, "ac3": 0.75, "avg5": pytest.approx(0.6)}
    assert ac_at([], 1) is None and avg_at([]) is None


# ---- baselines ---------------------------------------------------------------------------

def test_zscore():
    # baseline mean 2, population sd 1; window mean 5 -> z 3
    assert zscore([1, 3, 1, 3], [5, 5]) == pytest.approx(3.0)
    assert zscore([], [1]) is None and zscore([1], []) is None


def test_zscore_sd_floors():
    assert zscore([2, 2, 2], [2.001], sd_floor=1e-6) == pytest.approx(1000.0)
    # a 5 % of the mean floor: sd 0 -> 0.1; (2.5 - 2) / 0.1 = 5
    assert zscore([2, 2, 2], [2.5], rel_floor=0.05) == pytest.approx(5.0)


def test_robust_score_is_max_over_window_of_median_iqr_scaling():
    base = [1, 2, 3, 4, 5]        # median 3, q1 2, q3 4, IQR 2
    assert robust_score(base, [3, 7, 5]) == pytest.approx(2.0)
    assert robust_score([4, 4, 4], [4.5], iqr_floor=0.5) == pytest.approx(1.0)


def test_service_scores_take_the_largest_over_series():
    series = [("a", [1, 3, 1, 3], [5, 5]), ("a", [1, 3, 1, 3], [2, 2]), ("b", [1, 3, 1, 3], [0, 0]),
              ("c", [], [1])]
    z = service_scores(series, "z")
    assert z == {"a": pytest.approx(3.0), "b": pytest.approx(-2.0)}
    assert service_scores(series, "z", absolute=True)["b"] == pytest.approx(2.0)
    assert set(service_scores(series, "robust")) == {"a", "b"}
    assert set(service_scores(series, "z_rel")) == {"a", "b"}


# ---- calibration ------------------------------------------------------------------------

def test_bucket_edges():
    assert bucket_of(0.0) == "<0.5"
    assert bucket_of(0.49) == "<0.5"
    assert bucket_of(0.5) == "0.5-0.6"
    assert bucket_of(0.79) == "0.7-0.8"
    assert bucket_of(0.8) == "0.8-0.9"
    assert bucket_of(0.9) == ">=0.9"
    assert bucket_of(1.0) == ">=0.9"


def test_calibration():
    cal = calibration([(0.95, True), (0.85, False), (0.82, True), (0.3, False), (None, False)])
    by = {b["bucket"]: b for b in cal.buckets}
    assert (by[">=0.9"]["n"], by[">=0.9"]["right"]) == (1, 1)
    assert (by["0.8-0.9"]["n"], by["0.8-0.9"]["right"], by["0.8-0.9"]["accuracy"]) == (2, 1, 0.5)
    assert by["<0.5"]["accuracy"] == 0.0
    assert by["0.6-0.7"]["accuracy"] is None
    assert cal.n == 5 and cal.no_confidence == 1
    assert cal.n_high == 3 and cal.share_right_high == pytest.approx(2 / 3)
    assert cal.mean_conf_right == pytest.approx((0.95 + 0.82) / 2)
    assert cal.mean_conf_wrong == pytest.approx((0.85 + 0.3) / 2)
    empty = calibration([])
    assert empty.share_right_high is None and empty.mean_conf_right is None
    assert not math.isnan(sum(b["n"] for b in empty.buckets))
