"""Randomised test share: part of the budget goes to random candidate users with random offers.

Why. The learned uplift model (journey_train_models) learns who a coupon moves from past
campaigns' treated vs held-out outcomes. When every coupon goes to the users the valuation
already ranks highest, it only ever sees those users treated and cannot learn about the others
(the closed-loop benchmark, perf/closed_loop.py `--randomised`, showed it). A `test_share` of the
budget spent at random gives it randomised outcomes.

What. The optimiser gets budget × (1 − test_share) (`split_budget`). Then the candidate users it
did not choose (rows of CandidateArrays with at least one candidate offer) are taken in a random
order, each with one random offer among its candidate offers (equal chances), while the running
expected cost stays within the rest of the budget (`randomised_picks`: a prefix of the order, no
skipping). Both draws hash campaign, run and user (holdout.holdout_draws): the same run draws the
same picks, another run others, and a user's draws do not depend on who else is a candidate.

The candidate arrays hold every (treated user, offer) pair, whatever its expected value
(valuation.candidates with positive_only=False): the optimiser sees only the positive ones
(coupons.worth_offering), the test picks draw from all, so a user the valuation would never
pick can get any coupon; that is what the uplift model needs to learn from.

Limits. Test users get one coupon and are never the optimiser's users, so max_coupons_per_user
holds. Held-out users are never candidates, so the holdout is untouched. Segment budget shares
and exploration's Thompson arms are not applied to the test picks: they are drawn from all
targeted segments together, with any offer of the catalogue. test_share 1 is a randomised test
campaign (the optimiser gets nothing).
"""

from __future__ import annotations

import numpy as np

from journey.campaigns.coupons import CandidateArrays
from journey.campaigns.holdout import holdout_draws


def split_budget(budget: float, test_share: float) -> tuple[float, float]:
    """(optimiser budget, test budget): budget × (1 − share) and what is left, adding up to the budget."""
    optimised = budget * (1.0 - test_share)
    return optimised, max(budget - optimised, 0.0)


def draws(campaign_id: str, run_id: str, purpose: str, user_ids: list[str]) -> np.ndarray:
    """Each user's uniform draw in [0, 1) for this run and purpose (independent of the holdout draw)."""
    return holdout_draws(f"{campaign_id}:{run_id}:test-{purpose}", user_ids)


def random_offers(candidate: np.ndarray, draw: np.ndarray) -> np.ndarray:
    """Per row the offer index of the draw among the row's candidate offers (equal chances; -1 without one)."""
    counts = candidate.sum(axis=1)
    nth = np.minimum((draw * counts).astype(np.int64), np.maximum(counts - 1, 0))
    offer = (np.cumsum(candidate, axis=1) > nth[:, None]).argmax(axis=1)
    return np.where(counts > 0, offer, -1)


def randomised_picks(arrays: CandidateArrays, budget: float, taken: np.ndarray, campaign_id: str,
               run_id: str) -> list[tuple[int, int]]:
    """(row, offer index) of the test picks: untaken candidate users in random order within `budget`.

    `taken`: per row, True when the optimiser chose an offer for the user. The picks are the
    longest prefix of the random order whose summed expected cost is at most `budget`.
    """
    candidate = np.isfinite(arrays.values)
    rows = np.flatnonzero(candidate.any(axis=1) & ~np.asarray(taken, dtype=bool))
    if budget <= 0 or not len(rows):
        return []
    ids = arrays.user_ids.take(rows).to_pylist()
    order = np.argsort(draws(campaign_id, run_id, "order", ids), kind="stable")
    rows = rows[order]
    offers = random_offers(candidate[rows], draws(campaign_id, run_id, "offer", [ids[i] for i in order]))
    spent = np.cumsum(arrays.costs[rows, offers])
    within = spent <= budget
    keep = len(within) if within.all() else int(within.argmin())
    return list(zip(rows[:keep].tolist(), offers[:keep].tolist(), strict=True))


def taken_rows(chosen: list[tuple[int, ...]]) -> np.ndarray:
    """Per row, True when the allocation chose at least one offer (Allocation.chosen in)."""
    return np.fromiter((bool(offers) for offers in chosen), dtype=bool, count=len(chosen))


def summary(arrays: CandidateArrays, picks: list[tuple[int, int]], test_share: float, budget: float) -> dict:
    """The coupon step summary's view: share, test budget, picks, their expected cost and value."""
    rows = np.array([r for r, _ in picks], dtype=np.int64)
    offers = np.array([o for _, o in picks], dtype=np.int64)
    return {"test_share": test_share, "test_budget": budget, "test_picks": len(picks),
            "test_cost": float(arrays.costs[rows, offers].sum()),
            "test_value": float(arrays.values[rows, offers].sum())}
