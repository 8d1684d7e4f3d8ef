"""Campaign results arithmetic on a hand-built case: every figure below is worked out by hand.

Treated: t1, t2 in segment A (t1 pct10, t2 fixed5), t3 (pct10), t4 (ad only) in segment B.
Holdout: h1 (A), h2 (B). Window outcomes: t1 1 order 100; t2 2 orders 60; t3 nothing; t4 1 order
40; h1 1 order 50; h2 nothing. t1 redeems its own code (no price: 10 % of 100 = 10), t2 its own
with a priced discount of 5, t3 someone else's code (does not count). Margin 0.3.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pandas as pd
import pytest
from scipy import stats

from journey.campaigns.results import RESULT_COLUMNS, Window, per_user_rows, result_rows
from journey.errors import DataError

MARGIN = 0.3
Z = 1.959963984540054  # 97.5 % normal quantile


def assigned_frame() -> pd.DataFrame:
    """The measured users and their coupons."""
    rows = [("t1", "treated", 1, "A", "pct10", "percent", 10.0, "C1"),
            ("t2", "treated", 1, "A", "fixed5", "fixed", 5.0, "C2"),
            ("t3", "treated", 2, "B", "pct10", "percent", 10.0, "C3"),
            ("t4", "treated", 2, "B", None, None, None, None),
            ("h1", "holdout", 1, "A", None, None, None, None),
            ("h2", "holdout", 2, "B", None, None, None, None)]
    return pd.DataFrame(rows, columns=["user_id", "arm", "segment_id", "segment_name", "offer_name", "kind",
                                       "offer_value", "coupon_code"])


OUTCOMES = pd.DataFrame({"user_id": ["t1", "t2", "t4", "h1"], "orders": [1, 2, 1, 1],
                         "revenue": [100.0, 60.0, 40.0, 50.0]})
REDEMPTIONS = pd.DataFrame({"user_id": ["t1", "t2", "t3"], "coupon_code": ["C1", "C2", "OTHER"],
                            "redemptions": [1, 1, 1], "priced_discount": [0.0, 5.0, 0.0], "unpriced": [1, 0, 1]})
WINDOW = Window(datetime(2026, 11, 1, tzinfo=UTC), 14, datetime(2026, 11, 10, tzinfo=UTC))


@pytest.fixture(scope="module")
def results() -> dict[tuple[str, str], dict]:
    """The result rows keyed by (level, key)."""
    rows = per_user_rows(assigned_frame(), OUTCOMES, REDEMPTIONS)
    frame = result_rows("spring", "run-1", WINDOW, rows, MARGIN)
    return {(r["level"], r["key"]): r for r in frame.to_dict("records")}


def wilson(successes: int, n: int) -> tuple[float, float]:
    """Wilson score interval of one proportion."""
    p = successes / n
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / (1 + Z * Z / n)
    return centre - half, centre + half


def newcombe(x1: int, n1: int, x2: int, n2: int) -> tuple[float, float]:
    """Newcombe's hybrid score interval of p1 − p2 (his method 10)."""
    p1, p2 = x1 / n1, x2 / n2
    (l1, u1), (l2, u2) = wilson(x1, n1), wilson(x2, n2)
    d = p1 - p2
    return d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)


def welch(a: list[float], b: list[float]) -> tuple[float, float]:
    """Welch's t interval of mean(a) − mean(b), from the textbook formula."""
    va, vb = pd.Series(a).var(), pd.Series(b).var()
    se2 = va / len(a) + vb / len(b)
    df = se2**2 / ((va / len(a)) ** 2 / (len(a) - 1) + (vb / len(b)) ** 2 / (len(b) - 1))
    d, half = sum(a) / len(a) - sum(b) / len(b), stats.t.ppf(0.975, df) * math.sqrt(se2)
    return d - half, d + half


def test_campaign_row_arms(results):
    row = results[("campaign", "all")]
    assert {k: row[f"treated_{k}"] for k in ("users", "converters", "rate", "orders", "revenue", "revenue_per_user",
                                              "redemptions", "coupon_cost")} == {
        "users": 4, "converters": 3, "rate": 0.75, "orders": 4, "revenue": 200.0, "revenue_per_user": 50.0,
        "redemptions": 2, "coupon_cost": 15.0}
    assert (row["holdout_users"], row["holdout_converters"], row["holdout_rate"], row["holdout_revenue_per_user"],
            row["holdout_redemptions"], row["holdout_coupon_cost"]) == (2, 1, 0.5, 25.0, 0, 0.0)


def test_campaign_row_increments_and_intervals(results):
    row = results[("campaign", "all")]
    assert row["rate_lift"] == pytest.approx(0.25)
    assert (row["rate_lift_low"], row["rate_lift_high"]) == pytest.approx(newcombe(3, 4, 1, 2), abs=1e-9)
    assert row["incremental_conversions"] == pytest.approx(1.0)
    assert row["incremental_conversions_low"] == pytest.approx(4 * newcombe(3, 4, 1, 2)[0], abs=1e-9)
    assert row["incremental_revenue"] == pytest.approx(100.0)  # (50 − 25) × 4
    low, high = welch([100, 60, 0, 40], [50, 0])
    assert (row["incremental_revenue_low"], row["incremental_revenue_high"]) == pytest.approx((4 * low, 4 * high))
    # profit per user: t1 30 − 10, t2 18 − 5, t3 0, t4 12; h1 15, h2 0 → (11.25 − 7.5) × 4
    assert row["incremental_profit"] == pytest.approx(15.0)
    low, high = welch([20, 13, 0, 12], [15, 0])
    assert (row["incremental_profit_low"], row["incremental_profit_high"]) == pytest.approx((4 * low, 4 * high))


def test_segment_rows_compare_within_the_segment(results):
    a, b = results[("segment", "A")], results[("segment", "B")]
    assert (a["segment_id"], a["treated_users"], a["treated_revenue"], a["treated_redemptions"], a["treated_coupon_cost"],
            a["holdout_users"]) == (1, 2, 160.0, 2, 15.0, 1)
    assert a["rate_lift"] == pytest.approx(0.0)
    # one held-out user: no spread, the Welch interval collapses to (80 − 50) × 2
    assert (a["incremental_revenue"], a["incremental_revenue_low"], a["incremental_revenue_high"]) == (60.0, 60.0, 60.0)
    assert (b["treated_converters"], b["treated_redemptions"], b["treated_coupon_cost"]) == (1, 0, 0.0)  # wrong code
    assert (b["rate_lift"], b["incremental_conversions"], b["incremental_revenue"]) == pytest.approx((0.5, 1.0, 40.0))


def test_offer_rows_against_the_whole_holdout(results):
    pct, fixed, none = results[("offer", "pct10")], results[("offer", "fixed5")], results[("offer", "(no coupon)")]
    assert (pct["treated_users"], pct["treated_converters"], pct["treated_revenue"], pct["treated_coupon_cost"],
            pct["holdout_users"]) == (2, 1, 100.0, 10.0, 2)
    assert pct["incremental_revenue"] == pytest.approx(50.0)  # (50 − 25) × 2
    assert (fixed["offer_name"], fixed["treated_redemptions"], fixed["treated_coupon_cost"]) == ("fixed5", 1, 5.0)
    assert fixed["incremental_revenue"] == pytest.approx(35.0)  # (60 − 25) × 1
    assert none["offer_name"] is None and none["incremental_revenue"] == pytest.approx(15.0)


def test_segment_offer_rows_compare_with_the_segments_holdout(results):
    a_pct, a_fixed = results[("segment_offer", "A / pct10")], results[("segment_offer", "A / fixed5")]
    b_pct, b_none = results[("segment_offer", "B / pct10")], results[("segment_offer", "B / (no coupon)")]
    assert (a_pct["segment_id"], a_pct["offer_name"], a_pct["treated_users"], a_pct["treated_converters"],
            a_pct["holdout_users"], a_pct["holdout_converters"]) == (1, "pct10", 1, 1, 1, 1)
    assert a_pct["incremental_revenue"] == pytest.approx(50.0)  # (100 − 50) × 1
    assert a_fixed["incremental_revenue"] == pytest.approx(10.0)  # (60 − 50) × 1
    assert (b_pct["treated_converters"], b_pct["treated_coupon_cost"], b_pct["holdout_users"]) == (0, 0.0, 1)
    assert (b_none["segment_id"], b_none["offer_name"], b_none["incremental_revenue"]) == (2, None, 40.0)


def test_window_marks_provisional_rows(results):
    assert WINDOW.end == datetime(2026, 11, 15, tzinfo=UTC)
    assert all(r["provisional"] for r in results.values())
    assert not Window(WINDOW.start, 14, datetime(2026, 11, 15, tzinfo=UTC)).provisional
    assert len(results) == 10 and list(next(iter(results.values()))) == list(RESULT_COLUMNS)


def test_arm_without_users_has_no_increments():
    only_treated = assigned_frame().query("arm == 'treated'")
    frame = result_rows("spring", "run-1", WINDOW, per_user_rows(only_treated, OUTCOMES, REDEMPTIONS), MARGIN)
    row = frame[frame["level"] == "campaign"].iloc[0]
    assert row["holdout_users"] == 0 and row["rate_lift"] is None and row["incremental_profit_high"] is None


def test_unknown_arm_is_refused_naming_it():
    frame = assigned_frame().assign(arm=["treated"] * 5 + ["control"])
    with pytest.raises(DataError, match="control"):
        per_user_rows(frame, OUTCOMES, REDEMPTIONS)


def exposed_results(exposed: list[str] | None) -> dict[tuple[str, str], dict]:
    """The result rows keyed by (level, key) with `exposed` users reported by senders."""
    rows = per_user_rows(assigned_frame(), OUTCOMES, REDEMPTIONS, exposed)
    return {(r["level"], r["key"]): r for r in result_rows("spring", "run-1", WINDOW, rows, MARGIN).to_dict("records")}


def test_half_the_treated_users_exposed_doubles_the_lift_per_exposed_user():
    found = exposed_results(["t1", "t2", "u9"])  # u9: exposed but not in the run, ignored
    row = found[("campaign", "all")]
    assert (row["exposed_users"], row["exposure_rate"], row["holdout_exposed_users"]) == (2, 0.5, 0)
    low, high = newcombe(3, 4, 1, 2)  # rate lift 0.75 − 0.5 = 0.25, / 0.5
    assert (row["exposed_rate_lift"], row["exposed_rate_lift_low"], row["exposed_rate_lift_high"]) == pytest.approx(
        (0.5, 2 * low, 2 * high), abs=1e-9)
    low, high = welch([100, 60, 0, 40], [50, 0])  # revenue per user 50 − 25 = 25, / 0.5
    assert (row["exposed_revenue_lift"], row["exposed_revenue_lift_low"], row["exposed_revenue_lift_high"]) == (
        pytest.approx((50.0, 2 * low, 2 * high)))
    a, b = found[("segment", "A")], found[("segment", "B")]
    assert (a["exposed_users"], a["exposure_rate"], a["exposed_rate_lift"]) == (2, 1.0, pytest.approx(0.0))
    assert (b["exposed_users"], b["exposure_rate"]) == (0, 0.0)
    assert pd.isna(b["exposed_rate_lift"]) and pd.isna(b["exposed_revenue_lift"])  # nobody exposed in B: no estimate


def test_exposed_held_out_users_are_counted_as_a_leak():
    found = exposed_results(["t1", "h1"])
    assert [found[k]["holdout_exposed_users"] for k in (("campaign", "all"), ("segment", "A"), ("segment", "B"))] == [
        1, 1, 0]
    assert found[("campaign", "all")]["exposure_rate"] == 0.25


def test_without_exposures_the_exposure_columns_are_null(results):
    for name in ("exposed_users", "exposure_rate", "holdout_exposed_users", "exposed_rate_lift",
                 "exposed_revenue_lift_high"):
        assert all(pd.isna(r[name]) for r in results.values()), name
