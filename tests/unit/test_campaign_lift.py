"""Lift intervals against published worked examples (Newcombe 1998, Welch by hand)."""

import pytest

from journey.campaigns.lift import conversion_lift, mean_difference
from journey.errors import InputError


def test_newcombe_interval_matches_the_published_examples():
    """Newcombe (1998), Stat. Med. 17:873, method 10: 56/70 − 48/80 and 9/10 − 3/10."""
    first = conversion_lift(70, 56, 80, 48).rate_difference
    assert (round(first.low, 4), round(first.high, 4)) == (0.0524, 0.3339)
    second = conversion_lift(10, 9, 10, 3).rate_difference
    assert (round(second.low, 4), round(second.high, 4)) == (0.1705, 0.8090)
    assert second.significant


def test_incremental_conversions_scale_to_the_treated_arm():
    lift = conversion_lift(1000, 120, 100, 8)
    assert lift.treated_rate == 0.12 and lift.holdout_rate == 0.08
    assert lift.incremental_conversions.estimate == pytest.approx(40.0)
    assert lift.incremental_conversions.low < 0 < lift.incremental_conversions.high
    assert not lift.rate_difference.significant


def test_welch_interval_for_revenue_per_user():
    """Means 3 and 4, variances 2.5 and 4, n 5 and 3: Welch df ≈ 3.53, half-width ≈ 3.96."""
    interval = mean_difference([1, 2, 3, 4, 5], [2, 4, 6])
    assert interval.estimate == -1.0
    assert interval.high - interval.estimate == pytest.approx(3.96, abs=0.01)


def test_empty_or_impossible_arms_are_refused_by_name():
    with pytest.raises(InputError, match="holdout arm has 0 users"):
        conversion_lift(10, 1, 0, 0)
    with pytest.raises(InputError, match="treated arm has 11 converters for 10 users"):
        conversion_lift(10, 11, 10, 1)
