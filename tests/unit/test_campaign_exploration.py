"""Exploration shares: Thompson sampling over hand-built campaign_results evidence, the floor, the seeds, the draws.

Expectations are worked out by hand: a clear winner has P(best) ≈ 1, so its share is
floor + (1 − k·floor) ≈ 0.8 with three offers and floor 0.1; the posterior parameters are the
prior's pseudo-users at the smoothed holdout rate plus the counts.
"""

from __future__ import annotations

import numpy as np
import pytest

from journey.campaigns.exploration import (
    PRIOR_STRENGTH,
    describe,
    drawn_arms,
    plan,
    restrict,
    share_matrix,
    thompson_shares,
)
from journey.campaigns.params import CampaignParamsError, parse_params
from journey.errors import InputError

OFFERS = ["pct10", "fixed5", "freeship"]
# segment 1's own rows: fixed5 converts 40 % against 10 % and 12 %; across segments: pct10 leads
EVIDENCE = [(1, "pct10", 100, 10), (1, "fixed5", 100, 40), (1, "freeship", 100, 12),
            (None, "pct10", 500, 150), (None, "fixed5", 500, 50), (None, "freeship", 500, 60)]
BASELINE = [(1, 98, 9), (2, 48, 2)]


def by_arm(arms) -> dict[tuple[int, str], object]:
    """The arms keyed by (segment, offer)."""
    return {(a.segment_id, a.offer_name): a for a in arms}


def test_a_clear_winner_gets_the_largest_share_and_the_others_keep_the_floor():
    arms = by_arm(thompson_shares("spring", "run-2", [1, 2], OFFERS, EVIDENCE, BASELINE, floor=0.1))
    assert arms[(1, "fixed5")].share == pytest.approx(0.8, abs=0.005)  # 0.1 + 0.7 × P(best) ≈ 1
    assert arms[(1, "pct10")].share >= 0.1 and arms[(1, "freeship")].share >= 0.1
    assert arms[(1, "pct10")].share < 0.11 and arms[(1, "freeship")].share < 0.11
    # segment 2 has no rows of its own: the across-segment rows, where pct10 (30 %) leads
    assert arms[(2, "pct10")].share == pytest.approx(0.8, abs=0.005)
    assert sum(a.share for a in arms.values()) == pytest.approx(2.0)


def test_posterior_is_the_prior_at_the_holdout_rate_plus_the_counts():
    arms = by_arm(thompson_shares("spring", "run-2", [1, 3], OFFERS, EVIDENCE, BASELINE, floor=0.1))
    fixed5 = arms[(1, "fixed5")]
    # p0 = (9 + 1) / (98 + 2) = 0.1: α = 2 × 0.1 + 40, β = 2 × 0.9 + 60
    assert PRIOR_STRENGTH == 2.0
    assert (fixed5.alpha, fixed5.beta, fixed5.evidence_users) == (pytest.approx(40.2), pytest.approx(61.8), 100)
    assert fixed5.mean == pytest.approx(40.2 / 102)
    # segment 3 was never held out: p0 = 1 / 2, Beta(1, 1) + the across-segment counts of pct10
    assert (arms[(3, "pct10")].alpha, arms[(3, "pct10")].beta) == (pytest.approx(151.0), pytest.approx(351.0))


def test_no_results_give_equal_shares():
    arms = thompson_shares("spring", "run-1", [1, 2], OFFERS, [], [], floor=0.1)
    assert [round(a.share, 12) for a in arms] == [round(1 / 3, 12)] * 6
    assert {(a.alpha, a.beta) for a in arms} == {(1.0, 1.0)}


def test_same_seed_same_shares_and_the_run_changes_the_draws():
    close = [(None, "pct10", 100, 20), (None, "fixed5", 100, 21), (None, "freeship", 100, 19)]
    first = [a.share for a in thompson_shares("spring", "run-2", [1], OFFERS, close, [], floor=0.05)]
    again = [a.share for a in thompson_shares("spring", "run-2", [1], OFFERS, close, [], floor=0.05)]
    other = [a.share for a in thompson_shares("spring", "run-3", [1], OFFERS, close, [], floor=0.05)]
    assert first == again
    assert first != other and first == pytest.approx(other, abs=0.02)  # other draws, same posteriors


def test_floor_zero_is_the_probability_of_being_best():
    arms = by_arm(thompson_shares("spring", "run-2", [1], OFFERS, EVIDENCE, BASELINE, floor=0.0))
    assert arms[(1, "fixed5")].share == arms[(1, "fixed5")].p_best > 0.999
    assert arms[(1, "pct10")].share < 0.001


def test_a_floor_the_offers_cannot_all_keep_is_refused():
    with pytest.raises(InputError, match=r"exploration_floor: 0.4 × 3 offers"):
        thompson_shares("spring", "run-2", [1], OFFERS, EVIDENCE, BASELINE, floor=0.4)
    raw = {"campaign_id": "spring", "budget": 10.0, "exploration_floor": 0.4,
           "coupons": [{"name": n, "kind": "fixed", "value": 5, "expected_cost": 1.0} for n in OFFERS]}
    with pytest.raises(CampaignParamsError, match=r"'exploration_floor': 0.4 × 3 coupons is more than 1"):
        parse_params(raw)


def test_impossible_evidence_names_the_offer():
    with pytest.raises(InputError, match="offer 'pct10' has 11.0 converters for 10.0 users"):
        thompson_shares("spring", "run-2", [1], OFFERS, [(1, "pct10", 10, 11)], [], floor=0.1)


def test_users_draw_their_arm_by_share_among_their_candidates():
    shares = np.array([[0.8, 0.1, 0.1]] * 4)
    values = np.array([[1.0, 2.0, 3.0], [np.nan, 2.0, np.nan], [np.nan, np.nan, np.nan], [1.0, np.nan, 3.0]])
    draws = np.array([0.85, 0.99, 0.5, 0.95])
    # user 0: cumulative 0.8, 0.9, 1.0 → 0.85 is offer 1; user 1: only offer 1; user 2: nothing;
    # user 3: renormalised over offers 0 and 2 (8/9, 1/9) → 0.95 > 0.889 is offer 2
    arm = drawn_arms(values, shares, draws)
    assert arm.tolist() == [1, 1, -1, 2]
    kept = restrict(values, arm)
    assert np.isfinite(kept).sum(axis=1).tolist() == [1, 1, 0, 1]
    assert kept[0, 1] == 2.0 and kept[3, 2] == 3.0


def test_drawn_arms_follow_the_shares_over_many_users():
    users = [f"u{i}" for i in range(20_000)]
    values = np.ones((len(users), 3))
    pools = np.array([1] * 10_000 + [2] * 10_000)
    planned = plan("spring", "run-2", OFFERS, users, values, pools, EVIDENCE, BASELINE, floor=0.1)
    share = by_arm(planned.arms)
    for segment, rows in ((1, slice(0, 10_000)), (2, slice(10_000, None))):
        counts = np.bincount(planned.drawn[rows], minlength=3) / 10_000
        expected = [share[(segment, o)].share for o in OFFERS]
        assert counts == pytest.approx(expected, abs=0.015)  # binomial sd ≤ 0.004
    again = plan("spring", "run-2", OFFERS, users, values, pools, EVIDENCE, BASELINE, floor=0.1)
    assert np.array_equal(planned.drawn, again.drawn)


def test_share_matrix_gives_equal_shares_to_a_segment_without_arms():
    arms = thompson_shares("spring", "run-2", [1], OFFERS, EVIDENCE, BASELINE, floor=0.1)
    matrix = share_matrix(arms, np.array([1, 7]), OFFERS)
    assert matrix[0].tolist() == [a.share for a in arms]
    assert matrix[1].tolist() == [1 / 3] * 3


def test_the_log_names_each_segments_shares():
    arms = thompson_shares("spring", "run-2", [1], OFFERS, EVIDENCE, BASELINE, floor=0.1)
    assert describe("spring", arms).splitlines()[1] == (
        "  segment 1: pct10 10.0% (mean 0.100, n=100), fixed5 80.0% (mean 0.394, n=100), "
        "freeship 10.0% (mean 0.120, n=100)")
