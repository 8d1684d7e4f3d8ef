"""Coupon step: candidate values (Spark) → budgeted allocation (numpy, allocation.py) → assignments.

The optimiser needs the whole candidate set at once (the budget couples every user), so the
candidates are written to the run folder and read back column by column with pyarrow as
numpy arrays (5 numbers per candidate; 1M users × 5 offers ≈ 200 MB), never as Python rows.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from journey import lake
from journey.campaigns.allocation import Allocation, allocate
from journey.campaigns.codes import coupon_code_column
from journey.campaigns.request import CampaignRequest

OPTIMISED = "optimised"
RANDOMISED_TEST = "randomised test"  # the reason's `selection` of a randomised test pick (randomised_test.py)

ASSIGNMENT_COLUMNS = ("campaign_id", "run_id", "snapshot_date", "user_id", "segment_id", "offer_name", "kind",
                      "offer_value", "min_spend", "coupon_code", "channel", "expected_cost", "expected_value", "reason")


@dataclass(frozen=True)
class CandidateArrays:
    """Candidates as a dense users × offers problem."""

    user_ids: pa.Array
    values: np.ndarray  # NaN = not a candidate
    costs: np.ndarray
    pools: np.ndarray  # segment id per user


def candidate_arrays(path: str, offers: int) -> CandidateArrays:
    """Read the candidates Parquet into dense arrays (one row per user with a candidate)."""
    table = ds.dataset(lake.local_path(path), format="parquet").to_table(
        columns=["user_id", "segment_id", "offer_index", "expected_value", "expected_cost"])
    users = pc.unique(table["user_id"]).sort() if table.num_rows else pa.array([], pa.string())
    row = pc.index_in(table["user_id"], value_set=users).to_numpy(zero_copy_only=False)
    col = table["offer_index"].to_numpy()
    values = np.full((len(users), offers), np.nan)
    costs = np.zeros((len(users), offers))
    values[row, col] = table["expected_value"].to_numpy()
    costs[row, col] = table["expected_cost"].to_numpy()
    pools = np.zeros(len(users), dtype=np.int64)
    pools[row] = table["segment_id"].to_numpy()
    return CandidateArrays(users, values, costs, pools)


def worth_offering(arrays: CandidateArrays) -> CandidateArrays:
    """The optimiser's view of the candidates: only (user, offer) pairs of positive expected value."""
    with np.errstate(invalid="ignore"):
        return dataclasses.replace(arrays, values=np.where(arrays.values > 0, arrays.values, np.nan))


def solve(arrays: CandidateArrays, request: CampaignRequest, budget: float) -> Allocation:
    """Run the allocator with the request's shares and per-user maximum on `budget` (the optimiser's part)."""
    return allocate(arrays.values, arrays.costs, arrays.pools, budget, request.shares,
                    request.params.max_coupons_per_user)


def chosen_pairs(spark: SparkSession, arrays: CandidateArrays, allocation: Allocation,
                 test_picks: list[tuple[int, int]] = ()) -> DataFrame:
    """(user_id, offer_index, selection) of every chosen offer as a DataFrame.

    selection: "optimised" for the allocation's offers, "randomised test" for `test_picks` (row, offer).
    """
    rows = [(i, o, OPTIMISED) for i, offers in enumerate(allocation.chosen) for o in offers]
    rows += [(i, o, RANDOMISED_TEST) for i, o in test_picks]
    index = np.array([r for r, _, _ in rows], dtype=np.int64)
    table = pa.table({"user_id": arrays.user_ids.take(pa.array(index, pa.int64())),
                      "offer_index": pa.array([o for _, o, _ in rows], pa.int32()),
                      "selection": pa.array([s for _, _, s in rows], pa.string())})
    return spark.createDataFrame(table.to_pandas(), "user_id string, offer_index int, selection string")


def assignments(chosen: DataFrame, candidates: DataFrame, offers: DataFrame, audience: DataFrame,
                request: CampaignRequest, margin_rate: float) -> DataFrame:
    """Assignment rows (ASSIGNMENT_COLUMNS) with code, channel and the reason for the choice.

    The reason JSON's `selection` says how the offer was chosen ("optimised" or "randomised test").
    """
    params = request.params
    reason = F.to_json(F.struct(
        F.col("selection"), F.col("signal_source"), F.col("uplift_source"),
        F.round("propensity", 4).alias("propensity"), F.round("responsiveness", 4).alias("responsiveness"),
        F.round("uplift", 4).alias("uplift"), F.round("order_value", 2).alias("order_value"),
        F.lit(margin_rate).alias("margin_rate"),
        F.round(F.col("expected_value") / F.col("expected_cost"), 4).alias("value_per_cost")))
    return (chosen.join(candidates, ["user_id", "offer_index"])
            .join(offers.select("offer_index", "kind", "offer_value", "min_spend"), "offer_index")
            .join(audience.select("user_id", "channel"), "user_id")
            .select(F.lit(params.campaign_id).alias("campaign_id"), F.lit(request.run_id).alias("run_id"),
                    F.lit(request.snapshot_date).alias("snapshot_date"), "user_id", "segment_id", "offer_name",
                    "kind", "offer_value", "min_spend", coupon_code_column(params.campaign_id).alias("coupon_code"),
                    "channel", "expected_cost", "expected_value", reason.alias("reason")))
