"""Exploration through the real coupon step: posteriors from journey.campaign_results, Spark, the allocator.

Run spring/run-1 was measured (results.result_rows on hand-built users, published by
measure.publish_results): 300 treated users in segment Shoppers, 100 per offer, converting
10 % (pct10), 40 % (fixed5) and 12 % (freeship); 50 held out, 4 converting. Run run-2 of the
same campaign then runs its coupon step on 90 treated and 10 held-out users with the same
catalog. The formula values every user's offers alike (order value 100, margin 0.3):
pct10 3.11 for 4, fixed5 0.91 for 3, freeship 1.91 for 2, so without exploration the budget
goes to freeship and pct10 first (best value per cost); with it, fixed5 is drawn for about
80 % of each segment's users and gets most coupons. Run run-4 (no exploration) spends half the
budget on randomised test picks: the optimiser's 100 buys freeship for 50 users, the other 100
goes to random others with random offers, so every fixed5 coupon is a test pick.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from journey import warehouse
from journey.campaigns import steps
from journey.campaigns.exploration import load_results, thompson_shares
from journey.campaigns.measure import CampaignRun, publish_results
from journey.campaigns.params import parse_params
from journey.campaigns.request import CampaignRequest, output_path
from journey.campaigns.results import Window, per_user_rows, result_rows

pytestmark = pytest.mark.postgres

OFFERS = [{"name": "pct10", "kind": "percent", "value": 10, "min_spend": 0, "expected_cost": 4.0},
          {"name": "fixed5", "kind": "fixed", "value": 5, "min_spend": 30, "expected_cost": 3.0},
          {"name": "freeship", "kind": "free_shipping", "value": 0, "min_spend": 20, "expected_cost": 2.0}]
CONVERTERS = {"pct10": 10, "fixed5": 40, "freeship": 12}
START = datetime(2026, 11, 1, tzinfo=UTC)
BUDGET = 200.0
SEGMENTS = {1: "Shoppers", 2: "Browsers"}
HELD = [f"h{i}" for i in range(10)]


def measured_run_one() -> pd.DataFrame:
    """campaign_results rows of run-1 from its hand-built users and outcomes."""
    kinds = {o["name"]: (o["kind"], float(o["value"])) for o in OFFERS}
    treated = [(f"t{i}", "treated", 1, "Shoppers", name, *kinds[name], f"C{i}")
               for i, name in enumerate(n for n in CONVERTERS for _ in range(100))]
    held = [(f"r{i}", "holdout", 1, "Shoppers", None, None, None, None) for i in range(50)]
    assigned = pd.DataFrame(treated + held, columns=["user_id", "arm", "segment_id", "segment_name", "offer_name",
                                                     "kind", "offer_value", "coupon_code"])
    buyers = [u for name, n in CONVERTERS.items() for u in assigned[assigned["offer_name"] == name]["user_id"][:n]]
    buyers += [f"r{i}" for i in range(4)]
    outcomes = pd.DataFrame({"user_id": buyers, "orders": 1, "revenue": 20.0})
    redemptions = pd.DataFrame({"user_id": [], "coupon_code": [], "redemptions": [], "priced_discount": [],
                                "unpriced": []}).astype({"user_id": str, "coupon_code": str})
    window = Window(START, 14, datetime(2026, 11, 20, tzinfo=UTC))
    return result_rows("spring", "run-1", window, per_user_rows(assigned, outcomes, redemptions), 0.3)


def write(target: str, rows: list[dict]) -> None:
    """One Parquet output folder of a run."""
    Path(target).mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), f"{target}/part-0.parquet")


def coupon_step(spark, settings, run_id: str, exploration: bool, test_share: float = 0.0,
                unmoved: frozenset = frozenset()) -> tuple[dict, pd.DataFrame]:
    """Audience and holdout outputs of a run written by hand, then the real coupon step; (summary, coupons).

    `unmoved` users have responsiveness 0: the hand formula values every coupon for them below 0."""
    params = parse_params({"campaign_id": "spring", "coupons": OFFERS, "budget": BUDGET, "exploration": exploration,
                           "test_share": test_share, "start_time": "2026-12-01T09:00:00Z"})
    request = CampaignRequest(params, run_id, date(2026, 11, 30), SEGMENTS, {})
    users = [(f"u{i}", 1 if i < 60 else 2) for i in range(90)] + [(u, 1) for u in HELD]
    write(output_path(settings, "spring", run_id, "audience"), [
        {"user_id": u, "segment_id": s, "segment_name": SEGMENTS[s], "exclusion_reason": None, "channel": "email",
         "avg_order_value": 100.0, "propensity": 0.1, "responsiveness": 0.0 if u in unmoved else 0.8,
         "signal_source": "fallback"}
        for u, s in users])
    write(output_path(settings, "spring", run_id, "holdout"), [
        {"user_id": u, "segment_id": s, "draw": 0.01 if u in HELD else 0.5, "in_holdout": u in HELD}
        for u, s in users])
    summary = steps.coupons(spark, settings, request, None)
    return summary, spark.read.parquet(output_path(settings, "spring", run_id, "coupons")).toPandas()


@pytest.fixture(scope="module")
def published(warehouse_settings):
    """run-1's results in journey.campaign_results."""
    with warehouse.connect(warehouse_settings) as conn:
        publish_results(conn, CampaignRun("spring", "run-1", START, 14), measured_run_one())
    return warehouse_settings


@pytest.fixture(scope="module")
def exploring(spark, published):
    """run-2's coupon step with exploration on."""
    return coupon_step(spark, published, "run-2", exploration=True)


def test_posteriors_come_from_the_campaign_results_table(published):
    with warehouse.connect(published) as conn:
        evidence, baseline = load_results(conn, "spring", "run-2")
        assert load_results(conn, "spring", "run-1")[0].empty  # a run never learns from itself
    found = {(None if pd.isna(segment) else int(segment), offer): (users, converters)
             for segment, offer, users, converters in evidence.itertuples(index=False, name=None)}
    counts = {"pct10": (100.0, 10.0), "fixed5": (100.0, 40.0), "freeship": (100.0, 12.0)}
    # the offer rows (across segments) and segment 1's own segment_offer rows
    assert found == {**{(None, o): c for o, c in counts.items()}, **{(1, o): c for o, c in counts.items()}}
    assert baseline[["segment_id", "users", "converters"]].values.tolist() == [[1, 50.0, 4.0]]
    arms = {(a.segment_id, a.offer_name): a for a in thompson_shares(
        "spring", "run-2", [1, 2], [o["name"] for o in OFFERS], evidence, baseline, 0.1)}
    assert arms[(1, "fixed5")].share == pytest.approx(0.8, abs=0.005)
    # p0 = (4 + 1) / (50 + 2): α = 2 × 5/52 + 40, β = 2 × 47/52 + 60
    assert arms[(1, "fixed5")].mean == pytest.approx((10 / 52 + 40) / 102)
    # segment 2: no rows of its own (the offer rows), never held out (Beta(1, 1) prior)
    assert arms[(2, "fixed5")].alpha == pytest.approx(41.0)


def test_holdout_users_get_nothing_and_the_budget_holds(exploring):
    summary, coupons = exploring
    assert not set(coupons["user_id"]) & set(HELD)
    assert coupons["expected_cost"].sum() <= BUDGET
    assert summary["budget_used"] == pytest.approx(coupons["expected_cost"].sum())
    assert summary["budget_used"] > BUDGET - 4  # the budget binds: no offer left out that would fit
    assert coupons["user_id"].is_unique


def test_the_measured_winner_gets_most_coupons_and_each_reason_says_its_share(exploring):
    summary, coupons = exploring
    by_offer = coupons["offer_name"].value_counts().to_dict()
    assert by_offer["fixed5"] > by_offer.get("pct10", 0) + by_offer.get("freeship", 0)
    reasons = [json.loads(r) for r in coupons["reason"]]
    shares = {(s, o): r["exploration"]["share"] for s, o, r in zip(coupons["segment_id"], coupons["offer_name"],
                                                                    reasons, strict=True)}
    assert shares[(1, "fixed5")] == pytest.approx(0.8, abs=0.005)
    assert all(r["exploration"]["posterior_mean"] > 0 and "uplift" in r for r in reasons)
    drawn = summary["exploration"]["users_by_drawn_offer"]
    assert sum(drawn) == 90 and drawn[1] > 60  # fixed5 drawn for about 80 % of the treated users


def test_without_exploration_the_formula_picks_the_cheaper_offers(spark, published):
    summary, coupons = coupon_step(spark, published, "run-3", exploration=False)
    by_offer = coupons["offer_name"].value_counts().to_dict()
    assert by_offer.get("fixed5", 0) < by_offer["freeship"]
    assert summary["exploration"] is None and "exploration" not in coupons["reason"].iloc[0]


def test_a_test_share_spends_its_part_of_the_budget_on_random_picks_each_reason_says_which(spark, published):
    unmoved = frozenset(f"u{i}" for i in range(40, 60))
    summary, coupons = coupon_step(spark, published, "run-4", exploration=False, test_share=0.5, unmoved=unmoved)
    selection = pd.Series([json.loads(r)["selection"] for r in coupons["reason"]], index=coupons.index)
    tests = coupons[selection == "randomised test"]
    assert set(selection) == {"optimised", "randomised test"} and len(tests) == summary["test_picks"] > 20
    assert summary["test_cost"] == pytest.approx(tests["expected_cost"].sum()) and summary["test_cost"] <= BUDGET / 2
    assert summary["budget_used"] == pytest.approx(coupons["expected_cost"].sum()) and summary["budget_used"] <= BUDGET
    assert coupons["user_id"].is_unique and not set(coupons["user_id"]) & set(HELD)
    assert (coupons[selection == "optimised"]["offer_name"] == "freeship").sum() == 50
    assert set(coupons[coupons["offer_name"] == "fixed5"].index) <= set(tests.index)  # only a test pick gives it
    # the optimiser never offers a coupon valued below 0; a test pick may (what the uplift model needs to see)
    assert not set(coupons.loc[selection == "optimised", "user_id"]) & unmoved
    assert set(tests["user_id"]) & unmoved and (tests.loc[tests["user_id"].isin(unmoved), "expected_value"] < 0).all()
