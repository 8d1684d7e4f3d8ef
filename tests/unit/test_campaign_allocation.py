"""Coupon allocation: hand-built cases with a known optimum, the budget never exceeded, the 1/2 bound.

Optima are worked out by hand in the comments, or by brute-force enumeration of every
assignment (tiny random cases), never by the code under test.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journey.campaigns.allocation import allocate

NAN = np.nan
GREEDY_ONLY = 0  # exact_limit=0: the LP-greedy path alone
ONE_POOL = np.zeros(3, dtype=int)


def test_greedy_by_value_would_break_the_budget_the_optimum_does_not():
    # budget 10; A: value 9 cost 8; B and C: value 5 cost 5 each.
    # Taking the most valuable first (A, then B, then C) spends 18 > 10; the optimum is B + C = 10.
    values = np.array([[9.0], [5.0], [5.0]])
    costs = np.array([[8.0], [5.0], [5.0]])
    result = allocate(values, costs, ONE_POOL, budget=10.0)
    assert result.chosen == [(), (0,), (0,)]
    assert (result.cost, result.value) == (10.0, 10.0)


def test_greedy_path_alone_is_within_budget_and_at_least_half_the_optimum():
    values = np.array([[9.0], [5.0], [5.0]])
    costs = np.array([[8.0], [5.0], [5.0]])
    result = allocate(values, costs, ONE_POOL, budget=10.0, exact_limit=GREEDY_ONLY)
    assert result.cost <= 10.0
    assert result.value == 9.0  # A alone: 9 >= 10 / 2, and the LP bound proves the gap
    assert result.upper_bound == pytest.approx(9.0 + 2.0 / 5.0 * 5.0)  # A + 2/5 of B = 11 >= optimum 10


def test_one_offer_per_user_picks_the_best_mix():
    # budget 7. user 0: o0 10@5 or o1 6@2; user 1: o0 9@5; user 2: o0 4@5 or o1 5@2.
    # Best: user 0 o0 + user 2 o1 = 15 @ 7 (user 0 o1 + user 1 o0 is also 15 @ 7; o-sets of 3 users don't fit).
    values = np.array([[10.0, 6.0], [9.0, NAN], [4.0, 5.0]])
    costs = np.array([5.0, 2.0])
    for limit in (GREEDY_ONLY, 1000):
        result = allocate(values, costs, ONE_POOL, budget=7.0, exact_limit=limit)
        assert result.value == 15.0 and result.cost == 7.0


def test_negative_and_over_budget_offers_are_never_given():
    values = np.array([[-1.0, 3.0], [50.0, NAN]])
    costs = np.array([[1.0, 2.0], [20.0, 1.0]])
    result = allocate(values, costs, np.zeros(2, dtype=int), budget=10.0)
    assert result.chosen == [(1,), ()]  # user 1's only offer costs 20 > 10


def test_two_coupons_per_user_when_allowed():
    # budget 6, max 2 per user. user 0: 5@3, 4@3; user 1: 3@3. Best: both of user 0 = 9 @ 6.
    values = np.array([[5.0, 4.0], [3.0, NAN]])
    costs = np.array([3.0, 3.0])
    assert allocate(values, costs, np.zeros(2, dtype=int), 6.0, max_per_user=1).value == 8.0
    result = allocate(values, costs, np.zeros(2, dtype=int), 6.0, max_per_user=2)
    assert result.chosen == [(0, 1), ()]
    assert result.value == 9.0


def test_segment_share_caps_its_pool_and_the_rest_gets_what_is_left():
    # budget 10, segment 1 capped at 30% = 3. Segment 1: four users 4@1 each; segment 2: two users 2@2.
    # Segment 1 takes 3 users (cost 3, value 12); the other pool has 7 left: both users (cost 4, value 4).
    values = np.array([[4.0], [4.0], [4.0], [4.0], [2.0], [2.0]])
    costs = np.array([[1.0], [1.0], [1.0], [1.0], [2.0], [2.0]])
    pools = np.array([1, 1, 1, 1, 2, 2])
    result = allocate(values, costs, pools, 10.0, pool_shares={1: 0.3})
    spent_1 = sum(costs[u, 0] for u in range(4) if result.chosen[u])
    assert spent_1 == 3.0
    assert result.chosen[4:] == [(0,), (0,)]
    assert (result.cost, result.value) == (7.0, 16.0)


def brute_force(values: np.ndarray, costs: np.ndarray, budget: float) -> float:
    """Best total value over every assignment of at most one offer per user (tiny cases only)."""
    users, offers = values.shape
    best = 0.0
    for pick in itertools.product(range(-1, offers), repeat=users):
        chosen = [(u, o) for u, o in enumerate(pick) if o >= 0 and np.isfinite(values[u, o]) and values[u, o] > 0]
        if len(chosen) != sum(o >= 0 for o in pick):
            continue
        if sum(costs[u, o] for u, o in chosen) <= budget:
            best = max(best, sum(values[u, o] for u, o in chosen))
    return best


instances = st.integers(min_value=1, max_value=5).flatmap(lambda users: st.tuples(
    st.lists(st.lists(st.one_of(st.none(), st.floats(-5, 40, allow_nan=False)), min_size=3, max_size=3),
             min_size=users, max_size=users),
    st.lists(st.lists(st.floats(0.01, 30, allow_nan=False), min_size=3, max_size=3), min_size=users, max_size=users),
    st.floats(0.0, 60.0, allow_nan=False)))


@settings(max_examples=150, deadline=None)
@given(instances)
def test_budget_is_never_exceeded_and_greedy_keeps_half_of_the_optimum(instance):
    raw_values, raw_costs, budget = instance
    values = np.array([[NAN if v is None else v for v in row] for row in raw_values])
    costs = np.array(raw_costs)
    pools = np.zeros(len(values), dtype=int)
    optimum = brute_force(values, costs, budget)
    greedy = allocate(values, costs, pools, budget, exact_limit=GREEDY_ONLY)
    exact = allocate(values, costs, pools, budget)
    for result in (greedy, exact):
        spent = sum(costs[u, o] for u, offers in enumerate(result.chosen) for o in offers)
        assert spent <= budget
        assert all(values[u, o] > 0 for u, offers in enumerate(result.chosen) for o in offers)
        assert result.upper_bound >= optimum - 1e-9
    assert greedy.value >= optimum / 2 - 1e-9
    assert exact.value == pytest.approx(optimum)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.floats(0.0, 5_000.0), st.integers(1, 3), st.floats(0.0, 0.6))
def test_budget_never_exceeded_on_random_catalogs_with_shares(seed, budget, max_per_user, share):
    rng = np.random.default_rng(seed)
    users, offers = 400, 5
    values = np.where(rng.random((users, offers)) < 0.8, rng.normal(5, 6, (users, offers)), NAN)
    costs = rng.uniform(0.5, 20, offers)
    pools = rng.integers(0, 3, users)
    result = allocate(values, costs, pools, budget, pool_shares={0: share}, max_per_user=max_per_user,
                      exact_limit=GREEDY_ONLY)
    spent = sum(costs[o] for offers_ in result.chosen for o in offers_)
    pool_0 = sum(costs[o] for u, offers_ in enumerate(result.chosen) if pools[u] == 0 for o in offers_)
    assert spent <= budget
    assert pool_0 <= share * budget
    assert all(len(c) <= max_per_user and len(set(c)) == len(c) for c in result.chosen)
