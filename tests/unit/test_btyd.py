"""BTYD models (journey.models.btyd) against published CDNOW fits, a simulated customer base and hand-derived values."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from journey.errors import DataError, InputError
from journey.models.btyd import (
    BGNBDParams,
    GammaGammaParams,
    btyd_scores,
    expected_purchases,
    expected_spend,
    fit_bgnbd,
    fit_gamma_gamma,
    p_alive,
    predicted_value,
    probability_no_purchase,
    rfm_summary,
)
from journey.perf.btyd_cdnow import holdout_purchase_days, read_cdnow, simulate_bgnbd
from tests.samples import cdnow_file

# Fader, Hardie & Lee (2005), "Counting your customers the easy way", CDNOW sample, weeks 1-39.
PUBLISHED_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_BGNBD_LOG_LIKELIHOOD = -9582.4
# Gamma-Gamma on the same calibration's repeat buyers, as published in the lifetimes documentation.
PUBLISHED_GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "v": 15.44}
RELATIVE_TOLERANCE = 0.005  # the fit must match each published (3-significant-figure) value within 0.5 %


@pytest.fixture(scope="module")
def cdnow_transactions() -> pd.DataFrame:
    """The CDNOW sample as user_id, date, amount."""
    return read_cdnow(cdnow_file())


@pytest.fixture(scope="module")
def cdnow_summary(cdnow_transactions) -> pd.DataFrame:
    """RFM summary of the 39-week calibration, time in weeks."""
    return rfm_summary(cdnow_transactions, "1997-09-30", unit_days=7)


# ---------------------------------------------------------------------------- RFM summary


def test_rfm_summary_counts_purchase_days_and_repeat_spend():
    lines = pd.DataFrame({
        "user_id": ["a", "a", "a", "a", "a", "b", "c"],
        "date": ["2024-01-01", "2024-01-01 18:30", "2024-01-08", "2024-01-15", "2024-02-01", "2024-01-29", "2024-01-03"],
        "amount": [10.0, 5.0, 20.0, 30.0, 99.0, 7.0, 4.0],
    })
    summary = rfm_summary(lines, "2024-01-29", unit_days=7).set_index("user_id")
    # a: first day Jan 1 (10 + 5 on one day), repeats Jan 8 and 15; Feb 1 is after the end.
    assert summary.loc["a"].tolist() == [2, 2.0, 4.0, 25.0]
    # b: first purchase on the calibration end itself: T = 0.
    assert summary.loc["b"].tolist() == [0, 0.0, 0.0, 0.0]
    assert summary.loc["c", "T"] == pytest.approx(26 / 7)
    assert rfm_summary(lines, "2024-01-29").set_index("user_id").loc["a", "T"] == 28.0


def test_rfm_summary_reproduces_the_published_cdnow_calibration(cdnow_summary):
    assert len(cdnow_summary) == 2357
    # Customer 4: 2 repeat purchases, t_x = 30.43, T = 38.86 weeks (the worked example of FHL 2005).
    first = cdnow_summary.set_index("user_id").loc[4]
    assert (first["frequency"], round(first["recency"], 2), round(first["T"], 2)) == (2, 30.43, 38.86)
    assert int((cdnow_summary["frequency"] > 0).sum()) == 946


# ---------------------------------------------------------------------------- BG/NBD


def test_bgnbd_fit_matches_the_published_cdnow_parameters(cdnow_summary):
    fitted = fit_bgnbd(cdnow_summary["frequency"], cdnow_summary["recency"], cdnow_summary["T"])
    for name, published in PUBLISHED_BGNBD.items():
        assert getattr(fitted, name) == pytest.approx(published, rel=RELATIVE_TOLERANCE), name
    assert fitted.log_likelihood == pytest.approx(PUBLISHED_BGNBD_LOG_LIKELIHOOD, abs=0.1)


def test_bgnbd_published_worked_example():
    # FHL 2005: with the published parameters, x=2, t_x=30.43, T=38.86 expects 1.226 purchases in 39 weeks.
    params = BGNBDParams(**PUBLISHED_BGNBD)
    assert expected_purchases(params, 39, [2], [30.43], [38.86])[0] == pytest.approx(1.226, abs=5e-4)


def test_bgnbd_fit_recovers_simulated_parameters():
    truth = {"r": 0.5, "alpha": 4.0, "a": 0.8, "b": 2.5}
    x, t_x, horizon, _ = simulate_bgnbd(20_000, **truth, seed=0)
    fitted = fit_bgnbd(x, t_x, horizon)
    # 20k customers: the purchase rate is sharp (within 10 %), a and b separately less so (within 20 %),
    # their mean dropout probability a/(a+b) within 6 %. Largest errors over seeds 0-7: r 3 %, alpha 5 %,
    # a 6 %, b 11 %, a/(a+b) 4 % (seed 0 here: 1.6 %, 1.0 %, 2.3 %, 5.7 %, 2.7 %).
    assert fitted.r == pytest.approx(truth["r"], rel=0.10)
    assert fitted.alpha == pytest.approx(truth["alpha"], rel=0.10)
    assert fitted.a == pytest.approx(truth["a"], rel=0.20)
    assert fitted.b == pytest.approx(truth["b"], rel=0.20)
    assert fitted.a / (fitted.a + fitted.b) == pytest.approx(0.8 / 3.3, rel=0.06)


def test_p_alive_hand_values():
    params = BGNBDParams(r=1.0, alpha=1.0, a=2.0, b=3.0)
    # x = 0: alive by the model, whatever T.
    assert p_alive(params, [0, 0], [0, 0], [0.0, 50.0]).tolist() == [1.0, 1.0]
    # x=1, t_x=1, T=3: odds of having dropped = a/(b+x-1)·((α+T)/(α+t_x))^(r+x) = 2/3·2² = 8/3 → 3/11.
    assert p_alive(params, [1], [1.0], [3.0])[0] == pytest.approx(3 / 11)
    # The longer since the last purchase, the less likely alive.
    assert np.all(np.diff(p_alive(params, [3, 3, 3], [9.0, 5.0, 1.0], [10.0, 10.0, 10.0])) < 0)


def test_expected_purchases_hand_value_and_shape():
    params = BGNBDParams(r=1.0, alpha=1.0, a=2.0, b=3.0)
    # New customer (x=0, T=0), t=1: 4·[1 − ½·₂F₁(1,3;4;½)], ₂F₁(1,3;4;z) = 3(−ln(1−z) − z − z²/2)/z³ → 34 − 48 ln 2.
    assert expected_purchases(params, 1.0, [0], [0.0], [0.0])[0] == pytest.approx(34 - 48 * math.log(2), rel=1e-10)
    assert expected_purchases(params, 0.0, [4], [3.0], [5.0])[0] == 0.0
    # More repeat purchases, all up to T: more expected; longer horizons: more expected.
    x = np.arange(0, 30)
    by_frequency = expected_purchases(BGNBDParams(**PUBLISHED_BGNBD), 39, x, np.full(30, 30.0) * (x > 0), np.full(30, 30.0))
    assert np.all(np.diff(by_frequency) > 0)
    by_horizon = [expected_purchases(params, t, [2], [4.0], [6.0])[0] for t in (1, 10, 100)]
    assert by_horizon == sorted(by_horizon)


def test_forecasts_match_what_simulated_customers_do_next():
    truth = {"r": 0.5, "alpha": 4.0, "a": 0.8, "b": 2.5}
    x, t_x, horizon, later = simulate_bgnbd(20_000, **truth, seed=1, holdout=26.0)
    params = BGNBDParams(**truth)
    # With the true parameters the forecasts are unbiased: totals within 3 % (binomial / Poisson noise ≈ 1 %).
    assert expected_purchases(params, 26.0, x, t_x, horizon).sum() == pytest.approx(later.sum(), rel=0.03)
    assert probability_no_purchase(params, 26.0, x, t_x, horizon).sum() == pytest.approx((later == 0).sum(), rel=0.03)
    # ... also among the repeat buyers, where the dropout matters.
    repeat = x > 0
    assert (expected_purchases(params, 26.0, x[repeat], t_x[repeat], horizon[repeat]).sum()
            == pytest.approx(later[repeat].sum(), rel=0.03))


def test_probability_no_purchase_hand_values():
    params = BGNBDParams(r=1.0, alpha=1.0, a=2.0, b=3.0)
    # x=1, t_x=1, T=3, t=4: [A(7) + D] / [A(3) + D], A(s) = (1+s)^-2, D = 2/3·2^-2 → (1/64 + 1/6)/(1/16 + 1/6) = 35/44.
    assert probability_no_purchase(params, 4.0, [1], [1.0], [3.0])[0] == pytest.approx(35 / 44)
    # x=0: ((α+T)/(α+T+t))^r = 5/9.
    assert probability_no_purchase(params, 4.0, [0], [0.0], [4.0])[0] == pytest.approx(5 / 9)
    assert probability_no_purchase(params, 0.0, [2, 0], [1.0, 0.0], [3.0, 2.0]).tolist() == [1.0, 1.0]
    # A very long horizon: only the dropped ones stay silent.
    assert probability_no_purchase(params, 1e12, [1, 4], [1.0, 2.0], [3.0, 8.0]) == pytest.approx(
        1 - p_alive(params, [1, 4], [1.0, 2.0], [3.0, 8.0]))


def test_expected_purchases_stays_finite_for_heavy_buyers_and_a_near_one():
    x = np.array([0.0, 50.0, 1000.0, 5000.0])
    for a in (0.5, 1.0 - 1e-9, 1.0, 1.0 + 1e-9, 3.0):
        values = expected_purchases(BGNBDParams(r=0.5, alpha=1.0, a=a, b=2.0), 365, x, x, x + 1)
        assert np.all(np.isfinite(values)) and np.all(values >= 0), a
    # a exactly 1 is the limit of its neighbours.
    near = [expected_purchases(BGNBDParams(0.5, 1.0, a, 2.0), 365, [3], [2.0], [9.0])[0] for a in (0.999, 1.0, 1.001)]
    assert near[1] == pytest.approx((near[0] + near[2]) / 2, rel=1e-3)


# ---------------------------------------------------------------------------- Gamma-Gamma


def test_gamma_gamma_fit_matches_the_published_cdnow_parameters(cdnow_summary):
    fitted = fit_gamma_gamma(cdnow_summary["frequency"], cdnow_summary["monetary_value"])
    for name, published in PUBLISHED_GAMMA_GAMMA.items():
        assert getattr(fitted, name) == pytest.approx(published, rel=RELATIVE_TOLERANCE), name


def test_expected_spend_hand_values():
    params = GammaGammaParams(p=6.0, q=4.0, v=15.0)
    # x=2, m=20: (v + m·x)·p/(p·x + q − 1) = 55·6/15 = 22; x=0: the population mean p·v/(q−1) = 30.
    assert expected_spend(params, np.array([2, 0]), pd.Series([20.0, 0.0])).tolist() == pytest.approx([22.0, 30.0])


# ---------------------------------------------------------------------------- scores


def test_btyd_scores_on_cdnow_forecast_the_holdout(cdnow_transactions, cdnow_summary):
    scores = btyd_scores(cdnow_summary, 39)
    assert list(scores.columns) == ["user_id", "p_alive", "expected_purchases", "predicted_value"]
    assert scores["user_id"].tolist() == cdnow_summary["user_id"].tolist()
    assert scores["p_alive"].between(0, 1).all()
    # The 2,357 customers made 1,882 purchase days in weeks 40-78; BG/NBD expects 1,653 (−12 %).
    actual = holdout_purchase_days(cdnow_transactions, cdnow_summary["user_id"])
    assert actual.sum() == 1882
    assert scores["expected_purchases"].sum() == pytest.approx(1653.4, abs=1.0)
    bgnbd = fit_bgnbd(cdnow_summary["frequency"], cdnow_summary["recency"], cdnow_summary["T"])
    gamma_gamma = fit_gamma_gamma(cdnow_summary["frequency"], cdnow_summary["monetary_value"])
    value = predicted_value(bgnbd, gamma_gamma, 39, cdnow_summary)
    assert value == pytest.approx(scores["predicted_value"].to_numpy())
    # Customer 4 (x=2): 1.226 purchases × (15.44 + 2·22.345)·6.25/(2·6.25 + 2.74) = 24.65 $ → 30.2 $.
    assert scores.set_index("user_id").loc[4, "predicted_value"] == pytest.approx(1.226 * 24.65, rel=0.01)


# ---------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(("frequency", "recency", "T", "named"), [
    ([1, -1], [1.0, 0.0], [2.0, 2.0], "frequency"),
    ([1, 1.5], [1.0, 1.0], [2.0, 2.0], "frequency"),
    ([1, 1], [1.0, float("nan")], [2.0, 2.0], "recency"),
    ([1, 1], [1.0, 3.0], [2.0, 2.0], "recency"),
    ([0, 1], [1.0, 1.0], [2.0, 2.0], "recency"),
    ([1, 1], [1.0, 1.0], [2.0, float("inf")], "T"),
    ([1, 1], [1.0, 1.0], [2.0], "different lengths"),
])
def test_bad_customer_histories_are_named(frequency, recency, T, named):
    with pytest.raises(InputError, match=named):
        p_alive(BGNBDParams(**PUBLISHED_BGNBD), frequency, recency, T)


def test_bad_transactions_are_named():
    good = pd.DataFrame({"user_id": [1, 1], "date": ["2024-01-01", "2024-01-05"], "amount": [1.0, 2.0]})
    with pytest.raises(InputError, match=r"missing column\(s\) \['amount'\]"):
        rfm_summary(good.drop(columns="amount"), "2024-01-31")
    with pytest.raises(InputError, match="transactions.amount: 1 negative"):
        rfm_summary(good.assign(amount=[1.0, -2.0]), "2024-01-31")
    with pytest.raises(InputError, match="transactions.date"):
        rfm_summary(good.assign(date=["2024-01-01", "not a date"]), "2024-01-31")
    with pytest.raises(InputError, match="unit_days"):
        rfm_summary(good, "2024-01-31", unit_days=0)
    with pytest.raises(DataError, match="no transactions on or before the calibration end 2023-12-31"):
        rfm_summary(good, "2023-12-31")
    with pytest.raises(InputError, match=r"RFM summary: missing column\(s\) \['monetary_value'\]"):
        btyd_scores(rfm_summary(good, "2024-01-31").drop(columns="monetary_value"), 10)
    with pytest.raises(InputError, match="horizon"):
        expected_purchases(BGNBDParams(**PUBLISHED_BGNBD), -1, [0], [0.0], [1.0])


def test_feeds_that_cannot_support_a_fit_raise_data_error():
    with pytest.raises(DataError, match="BG/NBD: 0 of 100 customers bought again"):
        fit_bgnbd(np.zeros(100), np.zeros(100), np.full(100, 30.0))
    with pytest.raises(DataError, match="BG/NBD: 3 customer"):
        fit_bgnbd([1, 0, 2], [1.0, 0.0, 2.0], [3.0, 3.0, 3.0])
    with pytest.raises(DataError, match="Gamma-Gamma: 2 customer"):
        fit_gamma_gamma([0, 1, 2, 0], [0.0, 10.0, 20.0, 0.0])
