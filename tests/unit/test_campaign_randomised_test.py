"""Randomised test picks: random untaken candidate users with random candidate offers, within the test budget.

Hand-built CandidateArrays (users × 3 offers costing 4, 3 and 2): the picks' cost stays within
test_share × budget and comes within one offer's cost of it, the optimiser's users are never
picked, only candidate offers are given, and the draws depend on campaign, run and user only.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from journey.campaigns.allocation import allocate
from journey.campaigns.coupons import CandidateArrays
from journey.campaigns.randomised_test import random_offers, randomised_picks, split_budget, summary, taken_rows

COSTS = np.array([4.0, 3.0, 2.0])


def arrays(users: int, missing: float = 0.0, seed: int = 7) -> CandidateArrays:
    """`users` candidate users; each pair is missing (NaN) with probability `missing`, every user keeps one."""
    rng = np.random.default_rng(seed)
    values = rng.uniform(0.5, 5.0, size=(users, len(COSTS)))
    values[rng.random(values.shape) < missing] = np.nan
    values[np.isnan(values).all(axis=1), 0] = 1.0
    ids = pa.array([f"u{i:05d}" for i in range(users)])
    return CandidateArrays(ids, values, np.tile(COSTS, (users, 1)), np.ones(users, dtype=np.int64))


def cost(problem: CandidateArrays, picks: list[tuple[int, int]]) -> float:
    """Summed expected cost of the picks."""
    return float(sum(problem.costs[r, o] for r, o in picks))


def test_picks_spend_the_test_share_of_the_budget_on_candidates_the_optimiser_left():
    problem, budget, share = arrays(400, missing=0.3), 600.0, 0.25
    optimised, test_budget = split_budget(budget, share)
    allocation = allocate(problem.values, problem.costs, problem.pools, optimised, {}, 1)
    picks = randomised_picks(problem, test_budget, taken_rows(allocation.chosen), "spring", "run-1")
    assert optimised + test_budget == pytest.approx(budget) and test_budget == pytest.approx(share * budget)
    assert share * budget - COSTS.max() < cost(problem, picks) <= share * budget + 1e-9
    assert allocation.cost + cost(problem, picks) <= budget + 1e-9
    rows = [r for r, _ in picks]
    assert len(set(rows)) == len(rows)  # one coupon per test user
    assert not set(rows) & {i for i, offers in enumerate(allocation.chosen) if offers}
    assert all(np.isfinite(problem.values[r, o]) for r, o in picks)


def test_the_same_run_draws_the_same_picks_and_another_run_others():
    problem, taken = arrays(500), np.zeros(500, dtype=bool)
    first = randomised_picks(problem, 300.0, taken, "spring", "run-1")
    assert first == randomised_picks(problem, 300.0, taken, "spring", "run-1")
    assert first != randomised_picks(problem, 300.0, taken, "spring", "run-2")
    assert first != randomised_picks(problem, 300.0, taken, "autumn", "run-1")


def test_a_zero_share_or_nobody_left_gives_no_picks():
    problem = arrays(50)
    assert split_budget(1000.0, 0.0) == (1000.0, 0.0)
    assert randomised_picks(problem, 0.0, np.zeros(50, dtype=bool), "spring", "run-1") == []
    assert randomised_picks(problem, 1e6, np.ones(50, dtype=bool), "spring", "run-1") == []
    assert summary(problem, [], 0.0, 0.0) == {"test_share": 0.0, "test_budget": 0.0, "test_picks": 0,
                                              "test_cost": 0.0, "test_value": 0.0}


def test_offers_spread_over_the_catalogue():
    problem = arrays(3_000)
    picks = randomised_picks(problem, 1e9, np.zeros(3_000, dtype=bool), "spring", "run-1")
    assert len(picks) == 3_000
    shares = np.bincount([o for _, o in picks], minlength=3) / 3_000
    assert ((shares > 0.20) & (shares < 0.45)).all(), shares


def test_a_user_gets_one_of_its_own_candidate_offers_and_a_user_without_any_nothing():
    candidate = np.array([[False, True, False], [True, False, True], [False, False, False]])
    assert random_offers(candidate, np.array([0.99, 0.2, 0.5])).tolist() == [1, 0, -1]
    assert random_offers(candidate, np.array([0.0, 0.7, 0.0])).tolist() == [1, 2, -1]
    problem = arrays(3)
    problem.values[2] = np.nan  # no candidate offer: never drawn
    picks = randomised_picks(problem, 100.0, np.zeros(3, dtype=bool), "spring", "run-1")
    assert sorted(r for r, _ in picks) == [0, 1]


def test_summary_counts_the_picks_cost_and_value():
    problem = arrays(10)
    picks = [(0, 2), (3, 0)]
    out = summary(problem, picks, 0.1, 50.0)
    assert out["test_picks"] == 2 and out["test_cost"] == pytest.approx(6.0)
    assert out["test_value"] == pytest.approx(problem.values[0, 2] + problem.values[3, 0])
