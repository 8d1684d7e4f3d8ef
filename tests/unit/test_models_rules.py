"""Pure pieces of the models package: cut-off plan, device plan, weights, metrics, baselines, promotion rule."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from journey.models.datasets import signed_log1p
from journey.models.evaluate import (
    binary_metrics,
    calibration_error,
    majority_class,
    recency_frequency_rule,
    recent_cart_rule,
)
from journey.models.hparams import DataParams, TrainParams
from journey.models.registry import promotion_decision
from journey.models.train import DevicePlan, class_weights, device_plan
from journey.models.training_data import cutoff_plan, fitted_horizon


def test_cutoff_plan_ends_its_latest_label_window_on_the_last_day():
    params = DataParams(horizon_days=3, cutoff_step_days=2, min_history_days=3, cutoffs=6)

    plan = cutoff_plan(date(2026, 10, 18), date(2026, 10, 31), params)

    # latest = Nov 1 - 3 days (label window Oct 29, 30, 31); then every 2 days back, none before Oct 21
    assert plan == [(date(2026, 10, 21), "train"), (date(2026, 10, 23), "train"), (date(2026, 10, 25), "train"),
                    (date(2026, 10, 27), "train"), (date(2026, 10, 29), "latest")]


@pytest.mark.parametrize(("first", "last", "horizon", "step", "history", "cutoffs"), [
    (date(1997, 1, 1), date(1997, 9, 30), 90, 30, 30, 6),
    (date(1997, 1, 1), date(1997, 9, 30), 183, 7, 90, 12),
    (date(2026, 10, 1), date(2026, 10, 31), 5, 2, 3, 6),
    (date(2026, 10, 25), date(2026, 10, 31), 1, 1, 0, 52),
])
def test_cutoff_plan_on_short_histories(first, last, horizon, step, history, cutoffs):
    params = DataParams(horizon_days=horizon, cutoff_step_days=step, min_history_days=history, cutoffs=cutoffs)

    plan = cutoff_plan(first, last, params)

    dates = [c for c, _ in plan]
    assert dates == sorted(set(dates)) and 1 <= len(dates) <= cutoffs
    # no label window crosses the last day; the latest one ends exactly on it
    assert all(c + timedelta(days=horizon - 1) <= last for c in dates)
    assert dates[-1] + timedelta(days=horizon - 1) == last and plan[-1][1] == "latest"
    # the cut-offs used are the latest ones possible (most history), a step apart, after the minimum history
    assert all(b - a == timedelta(days=step) for a, b in zip(dates, dates[1:], strict=False))
    assert dates[0] >= first + timedelta(days=history)
    assert len(dates) == cutoffs or dates[0] - timedelta(days=step) < first + timedelta(days=history)


def test_cutoff_plan_rejects_a_window_too_short():
    with pytest.raises(ValueError, match=r"events span 8 day\(s\) .* needs at least 10"):
        cutoff_plan(date(2026, 10, 24), date(2026, 10, 31), DataParams(horizon_days=3, min_history_days=7))


def test_a_horizon_longer_than_the_data_is_cut_to_what_fits():
    # 39 weeks of calibration (273 days) and a 39-week question: half the span (136 days) is labelled
    fitted = fitted_horizon(date(1997, 1, 1), date(1997, 9, 30), DataParams(horizon_days=273, min_history_days=90))
    assert fitted.horizon_days == 136 and fitted.min_history_days == 90
    # ... unless the minimum history leaves less: 273 - 200 = 73 days
    shorter = fitted_horizon(date(1997, 1, 1), date(1997, 9, 30), DataParams(horizon_days=273, min_history_days=200))
    assert shorter.horizon_days == 73
    # a horizon that fits is kept
    assert fitted_horizon(date(1997, 1, 1), date(1997, 9, 30), DataParams(horizon_days=180)).horizon_days == 180
    with pytest.raises(ValueError, match="nothing is left for a label window"):
        fitted_horizon(date(1997, 1, 1), date(1997, 1, 5), DataParams(min_history_days=5))


@pytest.mark.parametrize(("gpus", "expected"), [
    (0, DevicePlan("default", False, 256, "cpu", 0)),
    (1, DevicePlan("default", True, 1024, "cuda", 1)),
    (4, DevicePlan("mirrored", True, 4096, "cuda", 4)),
])
def test_device_plan(gpus, expected):
    assert device_plan(gpus, TrainParams(batch_size=256, gpu_batch_multiplier=4)) == expected


def test_class_weights_balance_the_classes():
    assert class_weights(np.array([80, 20])) == {0: 0.625, 1: 2.5}
    assert class_weights(np.array([10, 0, 30])) == {0: 2.0, 1: 0.0, 2: 2.0 / 3.0}


def test_calibration_error_by_hand():
    y = np.array([0, 0, 1, 1])
    p = np.array([0.05, 0.05, 0.95, 0.55])
    # bins: 0.0-0.1 holds two rows, mean 0.05 vs rate 0 -> 0.05; 0.9-1.0 one row 0.95 vs 1 -> 0.05;
    # 0.5-0.6 one row 0.55 vs 1 -> 0.45; weighted: (2*0.05 + 0.05 + 0.45) / 4 = 0.15
    assert calibration_error(y, p) == pytest.approx(0.15)


def test_binary_metrics_of_a_perfect_ranking_and_rule_scores():
    metrics = binary_metrics(np.array([0, 0, 1, 1]), np.array([1.0, 2.0, 3.0, 4.0]), probabilities=False)
    assert metrics["roc_auc"] == 1.0 and metrics["pr_auc"] == 1.0
    assert metrics["log_loss"] is None and metrics["calibration_error"] is None
    with pytest.raises(ValueError, match="only label"):
        binary_metrics(np.array([1, 1]), np.array([0.2, 0.3]))


def test_baseline_rules():
    assert recent_cart_rule(np.array([0.0, 1.0, 3.0, 29.0]), lookback_days=28).tolist() == [1.0, 0.5, 0.25, 0.0]
    assert recency_frequency_rule(np.array([1.0, np.nan, 0.0]), np.array([4.0, 0.0, 1.0])).tolist() == [2.0, 0.0, 1.0]
    assert majority_class(np.array([2, 2, 1, 0, 2]), 3).tolist() == [2, 2, 2]


def test_signed_log1p_keeps_sign_and_zeroes_nan():
    out = signed_log1p(np.array([0.0, np.e - 1, -(np.e - 1), np.nan]))
    assert out.tolist() == pytest.approx([0.0, 1.0, -1.0, 0.0])


@pytest.mark.parametrize(("challenger", "champion", "baseline", "promote", "words"), [
    (0.80, 0.70, 0.60, True, "promoted: roc_auc 0.8000 vs champion 0.7000 + margin 0.0100 = 0.7100"),
    (0.705, 0.70, 0.60, False, "kept as challenger: roc_auc 0.7050 vs champion 0.7000"),
    (0.65, None, 0.60, True, "promoted: roc_auc 0.6500 vs best baseline 0.6000"),
    (0.50, None, 0.60, False, "kept as challenger: roc_auc 0.5000 vs best baseline 0.6000"),
])
def test_promotion_rule(challenger, champion, baseline, promote, words):
    decision = promotion_decision(challenger, champion, baseline, 0.01, "roc_auc")
    assert decision.promote is promote
    assert decision.reason.startswith(words)


def test_a_propensity_champion_with_a_shorter_label_window_leaves_the_question_to_bgnbd():
    from journey.models.scoring import btyd_propensity, propensity_cannot_answer

    assert "BG/NBD answers" in propensity_cannot_answer({"label_horizon_days": 136}, 273)
    assert propensity_cannot_answer({"label_horizon_days": 273}, 273) is None
    assert propensity_cannot_answer({}, 30) is None  # models saved before the window was kept
    assert btyd_propensity(np.array([0.0, np.nan, 1.0])) == pytest.approx([0.0, 0.0, 1.0 - np.exp(-1.0)])
