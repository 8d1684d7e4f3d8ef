"""Holdout and coupon codes: deterministic, the right share, the same in Python and Spark."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from journey.campaigns.codes import coupon_code, coupon_code_column
from journey.campaigns.holdout import holdout_draw, holdout_draw_column, holdout_draws, in_holdout

USERS = [f"u{i:06d}" for i in range(100_000)]


def test_draw_is_the_documented_sha256_prefix():
    digest = hashlib.sha256(b"spring:u000042").hexdigest()
    assert holdout_draw("spring", "u000042") == int(digest[:15], 16) / 16**15


@pytest.mark.parametrize("fraction", [0.05, 0.10, 0.25, 0.5])
def test_holdout_share_within_one_point_at_100k_users(fraction):
    share = float((holdout_draws("autumn-sale", USERS) < fraction).mean())
    assert abs(share - fraction) <= 0.01


def test_same_users_held_out_on_every_rerun_and_independent_across_campaigns():
    first = holdout_draws("autumn-sale", USERS) < 0.1
    again = holdout_draws("autumn-sale", USERS) < 0.1
    other = holdout_draws("winter-sale", USERS) < 0.1
    assert np.array_equal(first, again)
    overlap = float((first & other).sum() / first.sum())
    assert abs(overlap - 0.1) < 0.02  # independent: ~10% of one control group is in the other


def test_zero_fraction_holds_out_nobody():
    assert not any(in_holdout("c", u, 0.0) for u in USERS[:1000])


def test_coupon_codes_are_deterministic_and_unique():
    codes = [coupon_code("autumn-sale", u, "pct10") for u in USERS]
    assert codes[:2] == [coupon_code("autumn-sale", "u000000", "pct10"), coupon_code("autumn-sale", "u000001", "pct10")]
    assert len(set(codes)) == len(codes)
    assert coupon_code("autumn-sale", "u000000", "pct10") != coupon_code("autumn-sale", "u000000", "ship")
    assert codes[0] == "J" + hashlib.sha256(b"autumn-sale:u000000:pct10").hexdigest()[:15].upper()


@pytest.mark.spark
def test_spark_columns_match_python(spark):
    users = USERS[:2000]
    frame = spark.createDataFrame([(u, "pct10") for u in users], "user_id string, offer_name string")
    rows = frame.select("user_id", holdout_draw_column("autumn-sale").alias("draw"),
                        coupon_code_column("autumn-sale").alias("code")).collect()
    assert {r["user_id"]: r["draw"] for r in rows} == {u: holdout_draw("autumn-sale", u) for u in users}
    assert {r["user_id"]: r["code"] for r in rows} == {u: coupon_code("autumn-sale", u, "pct10") for u in users}
