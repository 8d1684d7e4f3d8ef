"""Coupon valuation with the uplift champion (campaigns/learned_uplift.py + valuation.candidates), real Spark."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from journey.campaigns.learned_uplift import learned_columns, with_champion
from journey.campaigns.params import Offer
from journey.campaigns.valuation import HAND_FORMULA, candidates, offers_frame
from journey.models.uplift import UpliftParams, buy_probability, feature_matrix, fit_uplift
from journey.models.uplift_training import UPLIFT_FEATURES, FittedUplift, save_fitted

FEATURES = list(UPLIFT_FEATURES)
PCT10 = Offer("pct10", "percent", 10.0, 0.0, 0.5)
PULL_PCT10 = 1 - math.exp(-4 * 0.10)  # strength of a 10 % coupon, no minimum spend: reach 1
REFERENCE_PULL = 0.5


@pytest.fixture(scope="module")
def champion(tmp_path_factory):
    """A small T-learner saved as the registry's v3 champion would be (effect ~ +0.4 when frequency > 0.5)."""
    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.random((3000, len(FEATURES))), columns=FEATURES)
    treated = rng.random(3000) < 0.5
    y = rng.random(3000) < 0.2 + 0.4 * treated * (x["frequency"] > 0.5)
    learner = fit_uplift(x, treated, y, "t", UpliftParams(n_estimators=40, early_stopping_rounds=0))
    folder = save_fitted(FittedUplift(learner, None, {}, REFERENCE_PULL), tmp_path_factory.mktemp("uplift") / "v3")
    return {"version": 3, "artifact_path": folder}, learner


@pytest.fixture(scope="module")
def users(spark):
    """Four users: two frequent, two not; same signals and order value."""
    rows = [{"user_id": f"u{i}", "segment_id": 1, **dict.fromkeys(FEATURES, 0.3), "avg_order_value": 200.0,
             "propensity": 0.1, "responsiveness": 0.6, "signal_source": "fallback", "frequency": f}
            for i, f in enumerate((0.9, 0.8, 0.1, 0.02))]
    return pd.DataFrame(rows)


def test_valuation_uses_the_champions_effect_and_says_so(spark, users, champion):
    row, learner = champion
    scored, source = with_champion(spark.createDataFrame(users), row)
    assert source == "uplift model v3"
    pairs = candidates(scored, offers_frame(spark, (PCT10,)), 0.3, source).toPandas().set_index("user_id")
    effect = pd.Series(learner.predict_effect(users[FEATURES]), index=users["user_id"])
    buys = pd.Series(buy_probability(learner.treated_model, feature_matrix(users[FEATURES])), index=effect.index)
    expected = effect / REFERENCE_PULL * PULL_PCT10
    value = expected * 200 * 0.3 - buys * 0.10 * 200  # every buyer redeems the 10 % of a 200 order
    assert {"u0", "u1"} <= set(pairs.index) == set(value[value > 0].index)
    np.testing.assert_allclose(pairs["expected_value"], value[pairs.index], rtol=1e-5)
    assert expected["u0"] > 3 * expected["u2"]  # the frequent users are the persuadable ones
    np.testing.assert_allclose(pairs["uplift"], expected[pairs.index], rtol=1e-5)
    assert (pairs["uplift_source"] == "uplift model v3").all()


def test_without_a_champion_the_hand_formula_values_the_offer(spark, users):
    scored, source = with_champion(spark.createDataFrame(users), None)
    assert source == HAND_FORMULA
    pairs = candidates(scored, offers_frame(spark, (PCT10,)), 0.3, source).toPandas()
    np.testing.assert_allclose(pairs["uplift"], 0.6 * 0.9 * PULL_PCT10, rtol=1e-9)  # same signals for all four
    assert len(pairs) == 4 and (pairs["uplift_source"] == "hand formula").all()


def test_pessimism_takes_the_bags_spread_off_the_effect(users):
    rng = np.random.default_rng(1)
    x = pd.DataFrame(rng.random((2000, len(FEATURES))), columns=FEATURES)
    treated = rng.random(2000) < 0.5
    y = rng.random(2000) < 0.2 + 0.4 * treated * (x["frequency"] > 0.5)
    learner = fit_uplift(x, treated, y, "t", UpliftParams(n_estimators=40, early_stopping_rounds=0, bags=3))
    mean = learned_columns(users, learner, REFERENCE_PULL, pessimism=0.0).set_index("user_id")["learned_effect"]
    careful = learned_columns(users, learner, REFERENCE_PULL, pessimism=1.0).set_index("user_id")["learned_effect"]
    spread = learner.effect_spread(users[FEATURES])
    np.testing.assert_allclose(mean * REFERENCE_PULL, learner.predict_effect(users[FEATURES]), rtol=1e-6)
    assert (spread > 0).all()
    np.testing.assert_allclose((mean - careful) * REFERENCE_PULL, spread, rtol=1e-5)
