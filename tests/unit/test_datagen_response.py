"""The simulator's causal response: deterministic, the effect by persona as specified, and the measured
lift's Newcombe interval covers the known effect (and finds none where there is none)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from journey.campaigns.lift import conversion_lift
from journey.datagen.catalog import make_catalog, make_population, product_count
from journey.datagen.response import true_effects
from journey.datagen.response_events import simulate_response
from journey.errors import DataError, InputError

START = date(2026, 11, 1)
DAYS = 14
USERS = 8_000
HOLDOUT = 0.5
SEEDS = range(20)


def make_world(seed: int, users: int = USERS):
    """A generated world's catalogue and population (as `journey generate` draws them)."""
    rng = np.random.default_rng(seed)
    catalog = make_catalog(rng, product_count(users))
    return catalog, make_population(rng, users, catalog, date(2026, 10, 2), 30)


def campaign(people, seed: int, kind: str = "percent", value: float = 20.0, min_spend: float = 0.0,
             channel: str = "email") -> pd.DataFrame:
    """Every user in the campaign, a random half held out; the treated all get the same coupon."""
    users = len(people.user_id)
    arm = np.where(np.random.default_rng(1000 + seed).random(users) < HOLDOUT, "holdout", "treated")
    treated = arm == "treated"
    return pd.DataFrame({
        "user_id": people.user_id, "arm": arm,
        "kind": np.where(treated, kind, None), "offer_value": np.where(treated, value, np.nan),
        "min_spend": np.where(treated, min_spend, np.nan),
        "coupon_code": np.where(treated, [f"CODE{i:06d}" for i in range(users)], None),
        "channel": np.where(treated, channel, None),
        "creative_id": np.where(treated, "winback.come_back.hero_banner", None),
    })


@pytest.fixture(scope="module")
def world():
    return make_world(11)


def measured_lift(truth: pd.DataFrame):
    """Newcombe interval of treated − holdout conversion from the simulated outcomes."""
    arms = truth.groupby("arm")["converted"].agg(["size", "sum"])
    return conversion_lift(int(arms.loc["treated", "size"]), int(arms.loc["treated", "sum"]),
                           int(arms.loc["holdout", "size"]), int(arms.loc["holdout", "sum"])).rate_difference


def test_same_seed_gives_identical_frames_and_another_seed_differs(world):
    catalog, people = world
    plan = campaign(people, 0)
    first = simulate_response(people, catalog, plan, START, DAYS, seed=5, run_id="run_a")
    again = simulate_response(people, catalog, plan, START, DAYS, seed=5, run_id="run_a")
    other = simulate_response(people, catalog, plan, START, DAYS, seed=6, run_id="run_a")
    pd.testing.assert_frame_equal(first[0], again[0])
    pd.testing.assert_frame_equal(first[1], again[1])
    assert not first[1]["converted"].equals(other[1]["converted"])


def test_effect_by_persona_role(world):
    catalog, people = world
    truth = true_effects(people, catalog, campaign(people, 0), START, DAYS)
    treated = truth[truth["arm"] == "treated"]
    effect = treated.groupby("role")["true_effect"]
    assert (effect.max()[["sure_thing", "lost_cause"]] == 0).all()
    assert (effect.min()[["sure_thing", "lost_cause"]] == 0).all()
    assert effect.max()["do_not_disturb"] < 0
    assert effect.min()["persuadable"] > 0
    assert treated.groupby("role")["p_untreated"].mean()["lost_cause"] < 0.05
    assert treated.groupby("role")["p_untreated"].mean()["sure_thing"] > 0.8
    assert truth.loc[truth["arm"] == "holdout", "true_effect"].isna().all()


def test_larger_discounts_and_pushier_channels_move_persuadables_more(world):
    catalog, people = world
    def mean_effect(role, **offer):
        truth = true_effects(people, catalog, campaign(people, 0, **offer), START, DAYS)
        return truth.loc[(truth["arm"] == "treated") & (truth["role"] == role), "true_effect"].mean()

    assert mean_effect("persuadable", value=30.0) > mean_effect("persuadable", value=10.0) > 0
    assert mean_effect("persuadable", channel="sms") > mean_effect("persuadable", channel="display")
    assert mean_effect("persuadable", kind="fixed", value=5.0, min_spend=500.0) < mean_effect(
        "persuadable", kind="fixed", value=5.0)
    assert mean_effect("do_not_disturb", channel="sms") < mean_effect("do_not_disturb", channel="email") < 0


def test_events_are_orders_of_the_converters_with_the_assigned_codes(world):
    catalog, people = world
    plan = campaign(people, 0)
    events, truth = simulate_response(people, catalog, plan, START, DAYS, seed=3, run_id="run_a")
    buyers = set(events.loc[events["event_type"] == "purchase", "user_id"])
    assert buyers == set(truth.loc[truth["converted"], "user_id"])
    redeems = events[events["event_type"] == "coupon_redeem"]
    assigned = plan.set_index("user_id")["coupon_code"]
    assert len(redeems) > 100
    assert (redeems["coupon_code"].to_numpy() == assigned[redeems["user_id"]].to_numpy()).all()
    assert events.loc[events["event_type"] != "coupon_redeem", "coupon_code"].isna().all()
    prices = catalog.table.set_index("product_id")["price"]
    bought = events[events["event_type"] == "purchase"]
    assert (bought["price"].to_numpy() == prices[bought["product_id"]].to_numpy()).all()
    assert events["event_time"].is_monotonic_increasing
    assert events["event_time"].str[:10].between("2026-11-01", "2026-11-14").all()


def test_min_spend_is_reached_by_every_redeeming_order(world):
    catalog, people = world
    events, _ = simulate_response(people, catalog, campaign(people, 0, kind="fixed", value=5.0, min_spend=60.0),
                                  START, DAYS, seed=4, run_id="run_b")
    bought = events[events["event_type"] == "purchase"]
    basket = (bought["price"] * bought["quantity"]).groupby(bought["session_id"]).sum()
    redeemed = events.loc[events["event_type"] == "coupon_redeem", "session_id"]
    assert len(redeemed) > 50
    assert (basket[redeemed] >= 60.0).all()


def test_newcombe_interval_covers_the_true_average_effect_in_18_of_20_seeds():
    covered, estimates = 0, []
    for seed in SEEDS:
        catalog, people = make_world(seed)
        _, truth = simulate_response(people, catalog, campaign(people, seed), START, DAYS, seed=seed, run_id="c")
        effect = truth.loc[truth["arm"] == "treated", "true_effect"].mean()
        interval = measured_lift(truth)
        covered += interval.low <= effect <= interval.high
        estimates.append((effect, interval.estimate))
    assert covered >= 18, estimates
    assert min(effect for effect, _ in estimates) > 0.01  # a real, positive effect to find


def test_without_a_response_no_significant_lift_in_18_of_20_seeds():
    significant = 0
    for seed in SEEDS:
        catalog, people = make_world(seed)
        _, truth = simulate_response(people, catalog, campaign(people, seed), START, DAYS, seed=seed, run_id="c",
                                     respond=False)
        assert (truth.loc[truth["arm"] == "treated", "true_effect"] == 0).all()
        significant += measured_lift(truth).significant
    assert significant <= 2


def test_bad_assignments_are_named(world):
    catalog, people = world
    plan = campaign(people, 0)
    with pytest.raises(InputError, match="lack column"):
        true_effects(people, catalog, plan.drop(columns="channel"), START, DAYS)
    with pytest.raises(InputError, match="channel.*'fax'"):
        true_effects(people, catalog, plan.assign(channel=np.where(plan["arm"] == "treated", "fax", None)), START, DAYS)
    with pytest.raises(InputError, match="arm"):
        true_effects(people, catalog, plan.assign(arm="control"), START, DAYS)
    with pytest.raises(DataError, match="not in the generated world.*u999999"):
        true_effects(people, catalog, plan.assign(user_id=["u999999", *plan["user_id"][1:]]), START, DAYS)
