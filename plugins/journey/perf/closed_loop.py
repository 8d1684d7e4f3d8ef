"""The two-campaign loop on the simulator: `python -m journey.perf.closed_loop [--users N] [--seeds 1 2 3]`.

Per seed, without Airflow but through the real code:
1. `journey generate` a world (USERS × DAYS), ingest it and build the profiles at its last day
   (Spark: ingest/events, ingest/users, profiles/build, campaigns/signals fallbacks);
2. split the profiled users by a stable hash into campaign 1's audience and campaign 2's
   (fresh users, same snapshot); campaign 1 holds out HOLDOUT_SHARE at random and gives the
   rest coupons with the hand formula (campaigns/valuation.candidates + allocation.allocate,
   the default coupon catalogue, BUDGET_PER_USER × audience); `--test-share S` is the campaign
   Param test_share: S of the budget goes to the product's randomised test picks (random users
   the allocator did not pick, each a random offer; campaigns/randomised_test); `--randomised`
   makes campaign 1 a test of its whole audience (test_share 1 with a budget that reaches
   every user: every user a random offer);
3. simulate the 14 days after the send (datagen/response_events.simulate_response: each
   user's drawn conversion), keep the treated and held-out outcome rows;
4. train the `uplift` model on them (models/uplift_training.train_uplift: X-learner with
   `--bags` bagged learners and the redemption classifier, Qini on held-out users vs the
   response model and the hand formula);
5. campaign 2: allocate the same budget over campaign 2's audience twice, with the learned
   uplift (its effect less `--pessimism` × the bags' spread, and its P(redeem | treated) pricing the
   redemptions, campaigns/learned_uplift)
   and with the hand formula, and price both allocations with the simulator's truth
   (datagen/response.true_effects: expected incremental profit per treated user).
Prints one JSON line per seed and the ratio learned / hand of the true incremental profit (null
when the hand formula's profit is not positive), with the oracle's profit: each campaign 2 user's
most profitable offer where positive, from the truth (no valuation can earn more on them).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from journey.campaigns.allocation import allocate
from journey.campaigns.coupons import CandidateArrays, worth_offering
from journey.campaigns.coupons import candidate_arrays as read_candidates  # the coupon step's reader
from journey.campaigns.learned_uplift import PESSIMISM, learned_columns
from journey.campaigns.params import DEFAULT_COUPONS, Offer
from journey.campaigns.randomised_test import randomised_picks, split_budget, taken_rows
from journey.campaigns.valuation import DEFAULT_MARGIN_RATE, HAND_FORMULA, candidates, offers_frame
from journey.models.uplift import UpliftParams
from journey.models.uplift_training import TRAINING_BAGS, UPLIFT_FEATURES, train_uplift, uplift_rows

END = date(2026, 10, 31)
USERS, DAYS = 20_000, 60
HOLDOUT_SHARE = 0.3
CAMPAIGN_ONE_SHARE = 0.7  # of the profiled users; campaign 2 gets the rest
BUDGET_PER_USER = 1.0  # campaign budget = this × the campaign's audience
WINDOW_DAYS = 14
CHANNEL = "email"
OFFERS = tuple(Offer(c["name"], c["kind"], float(c["value"]), float(c["min_spend"]), float(c["expected_cost"]))
               for c in DEFAULT_COUPONS)


def share_of(user_ids: pd.Series, salt: str) -> np.ndarray:
    """A stable number in [0, 1) per user id (sha256 of salt + id)."""
    return np.array([int(hashlib.sha256(f"{salt}{u}".encode()).hexdigest()[:8], 16) / 2**32 for u in user_ids])


def world_profiles(spark, out: Path, users: int, days: int, seed: int) -> pd.DataFrame:
    """Generate a world into `out`, ingest it and return its profiles at END with the decision signals."""
    from journey.campaigns.signals import with_signals
    from journey.config import get_settings
    from journey.datagen import generate
    from journey.ingest.events import run_ingest
    from journey.ingest.users import ingest_users
    from journey.profiles.build import ProfileParams, build_profiles

    generate(out / "world", users=users, days=days, seed=seed, end_date=END)
    settings = get_settings({"JOURNEY_HOME": str(out / "home")})
    run_ingest(spark, settings, str(out / "world" / "events"), "canonical", "loop")
    ingest_users(spark, settings, str(out / "world" / "users.csv"), "loop")
    events = spark.read.parquet(f"{settings.lake}/curated/events")
    people = spark.read.parquet(f"{settings.lake}/curated/users")
    profiles = with_signals(build_profiles(events, people, ProfileParams(snapshot_date=END)), None)
    columns = ["user_id", "snapshot_date", *UPLIFT_FEATURES, "propensity", "responsiveness", "signal_source"]
    return profiles.select(*dict.fromkeys(columns)).toPandas()


def candidate_arrays(spark, audience: pd.DataFrame, source: str) -> tuple[CandidateArrays, pd.DataFrame]:
    """Every (user, offer) pair of the audience priced by the real valuation, read back as the coupon step reads
    its candidates (coupons.candidate_arrays; one segment), and the pairs (user_id, offer_index, offer_pull, ...)."""
    users = spark.createDataFrame(audience.assign(segment_id=1))
    pairs = candidates(users, offers_frame(spark, OFFERS), DEFAULT_MARGIN_RATE, source, positive_only=False).toPandas()
    with tempfile.TemporaryDirectory(prefix="loop-candidates-") as folder:
        pairs.to_parquet(Path(folder) / "part-0.parquet", index=False)
        return read_candidates(str(folder), len(OFFERS)), pairs


def allocation(spark, audience: pd.DataFrame, budget: float, source: str, test_share: float = 0.0,
               run: str = "loop") -> pd.DataFrame:
    """The coupon step's choice over an audience, one row per coupon (user_id, offer_index, offer_pull): the
    allocator on the pairs of positive value within budget × (1 − test_share), then the randomised test
    picks (campaigns/randomised_test, drawn for campaign "loop" and `run`) with the rest."""
    arrays, pairs = candidate_arrays(spark, audience, source)
    optimised, tests = split_budget(budget, test_share)
    chosen = allocate(worth_offering(arrays).values, arrays.costs, arrays.pools, optimised).chosen
    picked = [(i, o[0]) for i, o in enumerate(chosen) if o] + randomised_picks(arrays, tests, taken_rows(chosen),
                                                                                "loop", run)
    ids = arrays.user_ids.to_pylist()
    frame = pd.DataFrame({"user_id": [ids[i] for i, _ in picked], "offer_index": [o for _, o in picked]})
    return frame.merge(pairs[["user_id", "offer_index", "offer_pull"]], on=["user_id", "offer_index"])


def assignments(coupons: pd.DataFrame, holdout: pd.Series, campaign: str) -> pd.DataFrame:
    """response.ASSIGNMENT_COLUMNS rows: treated users with their coupon, then the held-out users."""
    offer = [OFFERS[i] for i in coupons["offer_index"]]
    treated = pd.DataFrame({"user_id": coupons["user_id"].to_numpy(), "arm": "treated",
                            "kind": [o.kind for o in offer], "offer_value": [o.value for o in offer],
                            "min_spend": [o.min_spend for o in offer],
                            "coupon_code": [f"{campaign}-{u}" for u in coupons["user_id"]],
                            "channel": CHANNEL, "creative_id": None})
    held = pd.DataFrame({"user_id": holdout.to_numpy(), "arm": "holdout"}).reindex(columns=treated.columns)
    return pd.concat([treated, held], ignore_index=True)


def true_profit(world, coupons: pd.DataFrame) -> float:
    """Expected incremental profit of an allocation from the simulator's truth."""
    from journey.datagen.response import true_effects

    truth = true_effects(world.people, world.catalog, assignments(coupons, pd.Series([], dtype=str), "p"),
                         END + timedelta(days=1), WINDOW_DAYS)
    return float(truth["true_incremental_profit"].sum())


def oracle_profit(world, audience: pd.DataFrame) -> pd.Series:
    """Each user's true profit with their most profitable offer, by user id (the oracle takes the positive
    ones: an upper bound on what any valuation can earn on these users, without a budget)."""
    from journey.datagen.response import true_effects

    profits = []
    for index in range(len(OFFERS)):
        coupons = pd.DataFrame({"user_id": audience["user_id"].to_numpy(), "offer_index": index})
        truth = true_effects(world.people, world.catalog, assignments(coupons, pd.Series([], dtype=str), "o"),
                             END + timedelta(days=1), WINDOW_DAYS)
        profits.append(truth["true_incremental_profit"].to_numpy())
    return pd.Series(np.max(np.vstack(profits), axis=0), index=audience["user_id"].to_numpy())


def campaign_one_coupons(spark, audience: pd.DataFrame, seed: int, test_share: float,
                         randomised: bool) -> pd.DataFrame:
    """Campaign 1's coupons (user_id, offer_index, offer_pull): the hand formula's picks within the budget with
    `test_share` of it on randomised test picks; `randomised`: every audience user with a random offer (test_share
    1 and a budget that reaches every user: a test campaign)."""
    if randomised:
        budget, test_share = len(audience) * max(o.expected_cost for o in OFFERS), 1.0
    else:
        budget = BUDGET_PER_USER * len(audience)
    return allocation(spark, audience, budget, HAND_FORMULA, test_share, f"seed{seed}")


def campaign_one(spark, world, audience: pd.DataFrame, seed: int, holdout_share: float = HOLDOUT_SHARE,
                 test_share: float = 0.0, randomised: bool = False) -> pd.DataFrame:
    """Campaign 1 and its simulated outcome rows (OUTCOME_COLUMNS + pull + redemptions).

    The coupons are chosen over the whole audience (campaign_one_coupons), then `holdout_share` of
    the chosen users are held out at random: treated and held-out users are the same kind of user,
    so their outcomes compare like with like. `redemptions`: the user's coupon_redeem events.
    """
    from journey.datagen.response_events import simulate_response

    coupons = campaign_one_coupons(spark, audience, seed, test_share, randomised)
    held = share_of(coupons["user_id"], f"holdout{seed}") < holdout_share
    frame = assignments(coupons[~held], coupons.loc[held, "user_id"], "c1")
    events, truth = simulate_response(world.people, world.catalog, frame, END + timedelta(days=1), WINDOW_DAYS, seed,
                                      "c1")
    redemptions = events.loc[events["event_type"] == "coupon_redeem", "user_id"].value_counts()
    outcomes = truth[["user_id", "arm", "converted"]].assign(campaign_id="c1", run_id="c1-r1", snapshot_date=END,
                                                             provisional=False)
    outcomes["redemptions"] = outcomes["user_id"].map(redemptions).fillna(0).astype(int)
    return outcomes.merge(coupons[["user_id", "offer_pull"]].rename(columns={"offer_pull": "pull"}),
                          on="user_id", how="left")


def profiled_world(spark, work: Path | None, users: int, days: int, seed: int):
    """(profiles, world) of a seed; with `work`, kept in work/<users>-<days>-<seed>/ and reused."""
    from journey.datagen.respond import load_world

    if work is None:
        with tempfile.TemporaryDirectory(prefix="closed-loop-") as tmp:
            return world_profiles(spark, Path(tmp), users, days, seed), load_world(Path(tmp) / "world")
    folder = work / f"{users}-{days}-{seed}"
    kept = folder / "profiles.parquet"
    if not kept.exists():
        world_profiles(spark, folder, users, days, seed).to_parquet(kept)
    return pd.read_parquet(kept), load_world(folder / "world")


@dataclass(frozen=True)
class LoopSettings:
    """How campaign 1 is run and how the uplift model is trained and used (the command's options)."""

    learner: str = "x"
    holdout_share: float = HOLDOUT_SHARE
    test_share: float = 0.0
    randomised: bool = False
    bags: int = TRAINING_BAGS
    pessimism: float = PESSIMISM


def one_seed(spark, users: int, days: int, seed: int, work: Path | None = None,
             loop: LoopSettings = LoopSettings()) -> dict:
    """The loop for one seed: figures of campaign 1, the uplift model's report and campaign 2's true profits."""
    started = time.perf_counter()
    profiles, world = profiled_world(spark, work, users, days, seed)
    first = share_of(profiles["user_id"], f"campaign{seed}") < CAMPAIGN_ONE_SHARE
    outcomes = campaign_one(spark, world, profiles[first], seed, loop.holdout_share, loop.test_share, loop.randomised)
    fitted = train_uplift(uplift_rows(outcomes, profiles), loop.learner, UpliftParams(bags=loop.bags))
    second = profiles[~first].reset_index(drop=True)
    learned = second.merge(learned_columns(second, fitted.learner, fitted.reference_pull, loop.pessimism),
                           on="user_id")
    budget = BUDGET_PER_USER * len(second)
    by_model = allocation(spark, learned, budget, "uplift model v1")
    by_hand = allocation(spark, second, budget, HAND_FORMULA)
    profit_model, profit_hand = true_profit(world, by_model), true_profit(world, by_hand)
    best = oracle_profit(world, second).clip(lower=0)
    within = best[best.index.isin(by_hand["user_id"])]
    report = fitted.report
    return {"seed": seed, "learner": loop.learner, "randomised": loop.randomised, "test_share": loop.test_share,
            "bags": loop.bags, "pessimism": loop.pessimism, "users": users, "days": days, "campaign_1_users": int(first.sum()),
            "campaign_1_treated": int((outcomes["arm"] == "treated").sum()),
            "campaign_1_holdout": int((outcomes["arm"] == "holdout").sum()),
            "qini": {"uplift": report["challenger"]["qini"],
                     **{k: v["qini"] for k, v in report["baselines"].items()}},
            "promoted": report["promote"], "campaign_2_users": len(second), "budget": budget,
            "coupons_learned": len(by_model), "coupons_hand": len(by_hand),
            "true_profit_learned": round(profit_model, 2), "true_profit_hand": round(profit_hand, 2),
            "true_profit_oracle": round(float(best.sum()), 2), "oracle_users": int((best > 0).sum()),
            "oracle_users_in_hand_picks": int((within > 0).sum()),
            "oracle_profit_within_hand_picks": round(float(within.sum()), 2),
            "ratio": round(profit_model / profit_hand, 3) if profit_hand > 0 else None,
            "seconds": round(time.perf_counter() - started, 1)}


def main(argv: list[str] | None = None) -> None:
    """Run the loop for each seed and print one JSON line per seed, then the ratios."""
    from journey.runtime.spark import get_spark

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=USERS)
    parser.add_argument("--days", type=int, default=DAYS)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1])
    parser.add_argument("--work", type=Path, default=None, help="keep each seed's world and profiles here, reused")
    parser.add_argument("--learner", choices=("x", "t"), default="x")
    parser.add_argument("--holdout", type=float, default=HOLDOUT_SHARE, help="campaign 1's held-out share")
    parser.add_argument("--test-share", type=float, default=0.0,
                        help="campaign 1's test_share: share of its budget on randomised test picks (random users "
                             "the hand formula did not pick, each a random offer)")
    parser.add_argument("--randomised", action="store_true",
                        help="campaign 1 is a test of its whole audience: each user a random offer, --holdout held out")
    parser.add_argument("--bags", type=int, default=TRAINING_BAGS, help="bagged learners of the uplift model")
    parser.add_argument("--pessimism", type=float, default=PESSIMISM,
                        help="standard deviations of the bags' effects taken off their mean in valuation")
    args = parser.parse_args(argv)
    loop = LoopSettings(args.learner, args.holdout, args.test_share, args.randomised, args.bags, args.pessimism)
    spark = get_spark("closed-loop")
    results = [one_seed(spark, args.users, args.days, seed, args.work, loop) for seed in args.seeds]
    for result in results:
        print(json.dumps(result))
    print(json.dumps({"ratios": [r["ratio"] for r in results]}))


if __name__ == "__main__":
    main()
