"""Holdout and coupon codes: deterministic, the right share, the same in Python and Spark."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from journey.campaigns.codes import coupon_code, coupon_code_column
from journey.campaigns.holdout import holdout_draw, holdout_draw_column, holdout_draws, in_holdout

USERS = [f"u{i:06d}" for i in range(100_000)]
# Worked out by hand (sha256sum of "autumn-sale:<user>" and "autumn-sale:<user>:pct10"), not by the code under test:
# user: (first 15 hex digits of the draw's digest, draw = that integer / 16**15, coupon code of offer pct10)
EXPECTED = {
    "u000000": ("c654138c0b7ac4f", 0.7747204033762315, "JEEDB95E3CF652C3"),
    "u000001": ("3dc0a3f3a3e6f35", 0.24122070978401294, "J519BA1D9911C734"),
    "u001999": ("273513895025ccb", 0.15315363027925527, "J1E7A0C2960F0E24"),
}


def test_draw_is_the_documented_sha256_prefix():
    assert hashlib.sha256(b"spring:u000042").hexdigest()[:15] == "170a6ad76da8445"
    assert holdout_draw("spring", "u000042") == 0x170A6AD76DA8445 / 16**15 == 0.0900027061412923
    for user, (prefix, draw, _) in EXPECTED.items():
        assert int(prefix, 16) / 16**15 == draw
        assert holdout_draw("autumn-sale", user) == draw


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
    assert [codes[0], codes[1], codes[1999]] == [code for _, _, code in EXPECTED.values()]
    assert len(set(codes)) == len(codes)
    assert coupon_code("autumn-sale", "u000000", "ship") == "J1881F07C91B00FB"  # another offer, another code


@pytest.mark.spark
def test_spark_columns_give_the_expected_draws_and_codes(spark):
    users = USERS[:2000]
    frame = spark.createDataFrame([(u, "pct10") for u in users], "user_id string, offer_name string")
    rows = frame.select("user_id", holdout_draw_column("autumn-sale").alias("draw"),
                        coupon_code_column("autumn-sale").alias("code")).collect()
    by_user = {r["user_id"]: (r["draw"], r["code"]) for r in rows}
    assert {user: by_user[user] for user in EXPECTED} == {user: (draw, code) for user, (_, draw, code) in EXPECTED.items()}
    draws = np.array([draw for draw, _ in by_user.values()])
    assert draws.min() >= 0.0 and draws.max() < 1.0 and abs(float((draws < 0.5).mean()) - 0.5) < 0.05
    assert len({code for _, code in by_user.values()}) == len(users)
