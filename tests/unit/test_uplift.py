"""Uplift metrics against a hand-worked example; T/X-learners vs the response model on a known effect; promotion."""

import numpy as np
import pandas as pd
import pytest

from journey.errors import DataError, InputError, MissingInputError
from journey.models.uplift import UpliftParams, fit_response, fit_uplift, load_uplift, save_uplift
from journey.models.uplift_metrics import (
    qini_coefficient,
    qini_curve,
    qini_difference_interval,
    uplift_at_k,
    uplift_promotion,
)

# Six customers, score 6..1 (distinct), so the curve has a point after each one.
SCORE = np.array([6.0, 5.0, 4.0, 3.0, 2.0, 1.0])
TREATED = np.array([1, 1, 0, 1, 0, 0])
OUTCOME = np.array([1, 0, 0, 1, 1, 0])


def test_qini_curve_and_coefficient_by_hand():
    """Worked by hand. Curve: gain(n) = Y_t − Y_c · N_t / N_c (0 while no control row):
    n=1: 1 − 0 = 1; n=2: 1; n=3: N_t 2, Y_t 1, N_c 1, Y_c 0 → 1; n=4: Y_t 2 → 2;
    n=5: N_c 2, Y_c 1 → 2 − 1·3/2 = 0.5; n=6: N_c 3 → 2 − 1·3/3 = 1.
    Area (trapezoids) 0.5 + 1 + 1 + 1.5 + 1.25 + 0.75 = 6; random line (0,0)→(6,1): 3; above random 3.
    Perfect order: score y·t − y·(1−t) = [1, 0, 0, 1, −1, 0] → groups {r0,r3}, {r1,r2,r5}, {r4}:
    (2, 2), (5, 2), (6, 2 − 1·3/3 = 1); area 2 + 6 + 1.5 = 9.5; above random 6.5.
    Qini = 3 / 6.5 = 6/13."""
    x, gain = qini_curve(OUTCOME, TREATED, SCORE)
    assert x.tolist() == [0, 1, 2, 3, 4, 5, 6]
    assert gain.tolist() == [0, 1, 1, 1, 2, 0.5, 1]
    assert qini_coefficient(OUTCOME, TREATED, SCORE) == pytest.approx(6 / 13)


def test_qini_of_a_constant_score_is_zero_and_of_the_reverse_order_negative():
    """A constant score is one step from (0,0) to the end: exactly the random line."""
    assert qini_coefficient(OUTCOME, TREATED, np.ones(6)) == pytest.approx(0.0)
    assert qini_coefficient(OUTCOME, TREATED, -SCORE) < 0


def test_uplift_at_k_by_hand():
    """Top 3 (k = 0.5): treated r0, r1 buy 1, 0 → 0.5; control r2 buys 0 → 0.5 − 0 = 0.5.
    Top 4 (k = 2/3): treated r0, r1, r3 → 2/3; control r2 → 0 → 2/3."""
    assert uplift_at_k(OUTCOME, TREATED, SCORE, 0.5) == pytest.approx(0.5)
    assert uplift_at_k(OUTCOME, TREATED, SCORE, 2 / 3) == pytest.approx(2 / 3)
    with pytest.raises(DataError, match="top 2 customers have no control rows"):
        uplift_at_k(OUTCOME, TREATED, SCORE, 1 / 3)


def known_effect(rows: int, seed: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """A randomised sample: base purchase rises with x1; the offer adds 0.25 where x0 > 0.7 and puts
    off (−0.08) the likely buyers elsewhere (x1 > 0.6). Returns features, treated, outcome, true effect."""
    rng = np.random.default_rng(seed)
    features = pd.DataFrame({"x0": rng.random(rows), "x1": rng.random(rows), "x2": rng.random(rows)})
    treated = rng.integers(0, 2, rows)
    base = 0.02 + 0.35 * features["x1"].to_numpy()
    persuadable = features["x0"].to_numpy() > 0.7
    effect = np.where(persuadable, 0.25, np.where(features["x1"].to_numpy() > 0.6, -0.08, 0.0))
    outcome = (rng.random(rows) < np.clip(base + treated * effect, 0, 1)).astype(int)
    return features, treated, outcome, effect


@pytest.fixture(scope="module")
def synthetic():
    """Train and held-out samples of the known-effect world, and the models fitted on train."""
    train, held_out = known_effect(8000, seed=1), known_effect(8000, seed=2)
    params = UpliftParams(n_estimators=150)
    models = {kind: fit_uplift(*train[:3], kind=kind, params=params) for kind in ("t", "x")}
    return train, held_out, models, fit_response(*train[:3], params=params)


@pytest.mark.parametrize("kind", ["t", "x"])
def test_learners_beat_the_response_model_on_a_known_effect(synthetic, kind):
    _, (features, treated, outcome, effect), models, response = synthetic
    learned = models[kind].predict_effect(features)
    learner_qini = qini_coefficient(outcome, treated, learned)
    response_qini = qini_coefficient(outcome, treated, response.predict_response(features))
    oracle_qini = qini_coefficient(outcome, treated, effect)  # ranking by the true effect: 0.171 here
    assert learner_qini > response_qini + 0.015, (learner_qini, response_qini)  # measured 0.150 / 0.160 vs 0.129
    assert learner_qini > 0.85 * oracle_qini, (learner_qini, oracle_qini)
    persuadable = effect > 0.2
    assert learned[persuadable].mean() > 0.15 > 0.05 > learned[~persuadable].mean()


@pytest.mark.parametrize("kind", ["t", "x"])
def test_a_saved_learner_predicts_the_same_effects(synthetic, kind, tmp_path):
    _, (features, *_), models, _ = synthetic
    loaded = load_uplift(save_uplift(models[kind], tmp_path / kind))
    assert loaded.kind == kind and loaded.columns == ("x0", "x1", "x2")
    np.testing.assert_allclose(loaded.predict_effect(features[["x2", "x1", "x0"]]),
                               models[kind].predict_effect(features), rtol=1e-6)
    with pytest.raises(InputError, match="lack the columns the learner was trained on: x2"):
        loaded.predict_effect(features[["x0", "x1"]])
    with pytest.raises(MissingInputError, match="no uplift model in"):
        load_uplift(tmp_path / "nothing")


def test_qini_difference_interval_is_paired(synthetic):
    """A score against itself differs by exactly 0 in every resample; the true effect beats random clearly."""
    _, (_, treated, outcome, effect), _, _ = synthetic
    assert qini_difference_interval(outcome, treated, effect, effect, resamples=20) == (0.0, 0.0, 0.0)
    difference, low, high = qini_difference_interval(outcome, treated, effect, np.zeros(len(effect)), resamples=50)
    assert 0 < low < difference < high


def test_promotion_needs_to_beat_both_the_response_model_and_the_hand_formula(synthetic):
    _, (features, treated, outcome, _), models, response = synthetic
    learned, responding = models["x"].predict_effect(features), response.predict_response(features)
    hand = features["x1"].to_numpy() * (1 - features["x1"].to_numpy())
    report = uplift_promotion(outcome, treated, learned, responding, hand)
    assert report["promote"] and report["reason"].startswith("promoted")
    assert report["challenger"]["qini"] > max(m["qini"] for m in report["baselines"].values())
    assert set(report["challenger"]) == {"qini", "uplift_at_10", "uplift_at_30"}

    refused = uplift_promotion(outcome, treated, responding, responding, hand)
    assert not refused["promote"]
    assert "response_model" in refused["reason"] and "hand_formula" not in refused["reason"]

    beaten_by_hand = uplift_promotion(outcome, treated, hand, responding, learned)
    assert not beaten_by_hand["promote"] and "hand_formula" in beaten_by_hand["reason"]


def test_promotion_also_needs_to_beat_the_champion(synthetic):
    _, (features, treated, outcome, effect), models, response = synthetic
    report = uplift_promotion(outcome, treated, models["t"].predict_effect(features),
                              response.predict_response(features), np.zeros(len(outcome)), champion=effect)
    assert not report["promote"] and "champion" in report["reason"]


@pytest.mark.parametrize(("treated", "outcome", "message"), [
    ([1, 0, 1], [1, 0, 1, 0], "outcome has 4 rows but treatment has 3"),
    ([1, 0, 2, 0], [1, 0, 1, 0], "treatment must be 0/1, got 2 at row 2"),
    ([1, 0, 1, 0], [1, 0, 0.5, 0], "outcome must be 0/1, got 0.5 at row 2"),
    ([1, 1, 1, 1], [1, 0, 1, 0], r"treatment has no control \(0\) rows"),
    ([0, 0, 0, 0], [1, 0, 1, 0], r"treatment has no treated \(1\) rows"),
])
def test_bad_inputs_say_what_is_wrong(treated, outcome, message):
    with pytest.raises(InputError, match=message):
        qini_coefficient(outcome, treated, np.arange(4.0))


def test_learner_inputs_are_checked():
    features = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0]})
    with pytest.raises(InputError, match="features have 4 rows but treatment has 3"):
        fit_uplift(features, [1, 0, 1], [1, 0, 1, 0])
    with pytest.raises(InputError, match=r"treatment has no control \(0\) rows"):
        fit_uplift(features, [1, 1, 1, 1], [1, 0, 1, 0])
    with pytest.raises(InputError, match="not numeric: city"):
        fit_uplift(features.assign(city=list("abcd")), [1, 0, 1, 0], [1, 0, 1, 0])
    with pytest.raises(InputError, match="unknown uplift learner 's'"):
        fit_uplift(features, [1, 0, 1, 0], [1, 0, 1, 0], kind="s")
    with pytest.raises(DataError, match="control rows: the outcome is 0 in all"):
        fit_uplift(features, [1, 0, 1, 0], [1, 0, 0, 0])


def redeeming(rows: int, seed: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """The known-effect world where treated buyers redeem the coupon with 0.9 when x2 < 0.5, else 0.2:
    features, treated, outcome, redeemed (0 for held-out rows and non-buyers)."""
    features, treated, outcome, _ = known_effect(rows, seed)
    rng = np.random.default_rng(seed + 100)
    share = np.where(features["x2"].to_numpy() < 0.5, 0.9, 0.2)
    redeemed = (treated * outcome * (rng.random(rows) < share)).astype(int)
    return features, treated, outcome, redeemed


def test_bagged_learner_averages_its_subsample_fits_and_reports_their_spread(tmp_path):
    features, treated, outcome, redeemed = redeeming(6000, seed=5)
    learner = fit_uplift(features, treated, outcome, "x", UpliftParams(n_estimators=100, bags=4), redeemed)
    held_out, _, _, effect = known_effect(4000, seed=6)
    assert len(learner.bags) == 4
    assert learner.bag_effects(held_out).shape == (4, 4000)
    spread = learner.effect_spread(held_out)
    assert (spread >= 0).all() and spread.mean() > 0.005  # four different resamples do not agree exactly
    learned = learner.predict_effect(held_out)
    assert learned[effect > 0.2].mean() > 0.15 > 0.05 > learned[effect <= 0.2].mean()
    loaded = load_uplift(save_uplift(learner, tmp_path / "bagged"))
    assert len(loaded.bags) == 4 and loaded.redeem_model is not None
    np.testing.assert_allclose(loaded.predict_effect(held_out), learned, rtol=1e-6)
    np.testing.assert_allclose(loaded.effect_spread(held_out), spread, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(loaded.redeem_probability(held_out), learner.redeem_probability(held_out), rtol=1e-6)


def test_redemption_classifier_learns_who_redeems_and_falls_back_to_buying(synthetic):
    features, treated, outcome, redeemed = redeeming(8000, seed=7)
    params = UpliftParams(n_estimators=150)
    with_redeem = fit_uplift(features, treated, outcome, "t", params, redeemed)
    held_out = known_effect(4000, seed=8)[0]
    redeem, buy = with_redeem.redeem_probability(held_out), synthetic[3].predict_response(held_out)
    keen = held_out["x2"].to_numpy() < 0.5
    assert redeem[keen].mean() > 2.5 * redeem[~keen].mean()  # 0.9 vs 0.2 of the buyers
    assert redeem[~keen].mean() < 0.5 * buy[~keen].mean()
    without = fit_uplift(features, treated, outcome, "t", params)
    assert without.redeem_model is None
    np.testing.assert_allclose(without.redeem_probability(held_out), without.treated_model.predict_proba(
        held_out.to_numpy(dtype=np.float32))[:, 1], rtol=1e-6)  # every treated buyer redeems: the upper bound
