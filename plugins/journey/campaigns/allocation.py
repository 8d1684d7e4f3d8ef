"""Coupon allocation under a budget: a multiple-choice knapsack, solved by LP greedy + rounding.

Problem. Each user u may receive at most m offers (`max_coupons_per_user`); an offer o has an
expected value v[u,o] (incremental margin minus expected cost) and a cost c[u,o] charged to
the budget. Choose offers to maximise total value with total cost <= budget. Offers with
v <= 0 are never chosen, and neither is anything costing more than the budget.

Method (Sinha & Zoltners 1979 for the multiple-choice knapsack):
1. Every user's *options* are the subsets of at most m of their offers (one option = one
   class member; at most 1 option per user), with summed cost and value.
2. Per user, the options on the upper concave hull of (cost, value) starting at (0, 0) give
   *increments* (Δcost, Δvalue) with decreasing slopes Δvalue/Δcost.
3. All increments sorted by slope, best first: taking them in that order until the budget is
   spent is the LP-relaxation optimum, except for the one increment that does not fit (the
   LP would take a fraction of it). Dropping it is the rounding: value >= LP - v_max >= OPT -
   v_max, where v_max is the largest value of one option.
4. A fill pass then goes on down the list and takes every further increment that still fits
   and continues the user's current choice (only adds value).
5. The answer is the better of that and the best single option, so it is at least
   max(OPT - v_max, v_max) >= OPT / 2 (the classic bound); `Allocation.upper_bound` (the LP
   value) gives each run's own proven gap, usually far below 1%.

Small problems (at most EXACT_LIMIT options in a pool) are solved exactly as a 0-1 program
with scipy's MILP solver (HiGHS); its answer is kept only when it is proven optimal and its
cost is within the budget, otherwise the greedy answer stands.

Segment shares: each segment with a share is a pool of its own (budget = share × total) and is
solved first; the other segments form one pool with whatever the total budget has left. The
bound above holds per pool. The budget is never exceeded: every step checks cost against
what is left, in floating point with no rounding up.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np

NO_OPTION = -1
EXACT_LIMIT = 20_000  # options in a pool solved exactly by MILP
EXACT_SECONDS = 20.0


@dataclass(frozen=True)
class PoolResult:
    """Outcome of one budget pool."""

    pool: int
    budget: float
    cost: float
    value: float
    upper_bound: float  # LP relaxation value (the optimum when solved exactly): nothing does better
    used_single_best: bool


@dataclass(frozen=True)
class Allocation:
    """Chosen offers per user and the accounting."""

    chosen: list[tuple[int, ...]]  # per user: indices of the chosen offers (empty: none)
    pools: list[PoolResult]

    @property
    def cost(self) -> float:
        """Total expected cost."""
        return sum(p.cost for p in self.pools)

    @property
    def value(self) -> float:
        """Total expected value."""
        return sum(p.value for p in self.pools)

    @property
    def upper_bound(self) -> float:
        """Sum of the pools' LP bounds."""
        return sum(p.upper_bound for p in self.pools)


def option_subsets(offers: int, max_per_user: int) -> list[tuple[int, ...]]:
    """Every non-empty subset of at most `max_per_user` offer indices."""
    return [s for size in range(1, max_per_user + 1) for s in combinations(range(offers), size)]


def option_matrix(values: np.ndarray, costs: np.ndarray, subsets: list[tuple[int, ...]],
                  budget: float) -> tuple[np.ndarray, np.ndarray]:
    """(users × options) value and cost; NaN value = not an option (missing or non-positive offer, over budget)."""
    usable = np.isfinite(values) & (values > 0) & (costs <= budget)
    option_values = np.full((values.shape[0], len(subsets)), np.nan)
    option_costs = np.zeros_like(option_values)
    for j, subset in enumerate(subsets):
        idx = list(subset)
        ok = usable[:, idx].all(axis=1)
        option_values[:, j] = np.where(ok, values[:, idx].sum(axis=1), np.nan)
        option_costs[:, j] = costs[:, idx].sum(axis=1)
    option_values[option_costs > budget] = np.nan
    return option_values, option_costs


def hull_increments(values: np.ndarray, costs: np.ndarray) -> dict[str, np.ndarray]:
    """Per user, the steps along the upper concave hull of its options from (0, 0), all users together.

    Returns arrays user, from_option, to_option, d_cost, d_value, slope; a user's steps come in
    hull order (decreasing slope) and the arrays list step 0 of every user, then step 1, ...
    """
    users = values.shape[0]
    rows = np.arange(users)
    cur_cost, cur_value = np.zeros(users), np.zeros(users)
    cur_option = np.full(users, NO_OPTION)
    active = np.ones(users, dtype=bool)
    parts: list[tuple[np.ndarray, ...]] = []
    valid = np.isfinite(values)
    for _ in range(values.shape[1]):
        d_cost = costs - cur_cost[:, None]
        d_value = np.where(valid, values, -np.inf) - cur_value[:, None]
        step_ok = valid & (d_cost > 0) & (d_value > 0) & active[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            slope = np.where(step_ok, d_value / np.where(d_cost > 0, d_cost, 1.0), -np.inf)
        best = np.argmax(slope, axis=1)
        moving = np.isfinite(slope[rows, best])
        if not moving.any():
            break
        who, to = rows[moving], best[moving]
        parts.append((who, cur_option[moving], to, d_cost[who, to], d_value[who, to], slope[who, to]))
        cur_cost[who], cur_value[who], cur_option[who] = costs[who, to], values[who, to], to
        active = moving
    names = ("user", "from_option", "to_option", "d_cost", "d_value", "slope")
    if not parts:
        return {n: np.array([], dtype=np.int64 if i < 3 else np.float64) for i, n in enumerate(names)}
    return {n: np.concatenate([p[i] for p in parts]) for i, n in enumerate(names)}


def _greedy(steps: dict[str, np.ndarray], users: int, budget: float) -> tuple[np.ndarray, float, float]:
    """LP-greedy prefix plus the fill pass; returns (option per user, cost, LP upper bound)."""
    order = np.argsort(-steps["slope"], kind="stable")  # stable: a user's steps keep hull order on ties
    d_cost, d_value = steps["d_cost"][order], steps["d_value"][order]
    spent = np.cumsum(d_cost)
    prefix = int(np.searchsorted(spent, budget, side="right"))
    choice = np.full(users, NO_OPTION)
    taken_users, taken_to = steps["user"][order[:prefix]], steps["to_option"][order[:prefix]]
    choice[taken_users] = taken_to  # later steps of a user overwrite earlier ones (hull order)
    cost = float(spent[prefix - 1]) if prefix else 0.0
    bound = float(d_value[:prefix].sum())
    if prefix < len(order):
        bound += (budget - cost) / d_cost[prefix] * d_value[prefix]
    rest = order[prefix:]
    rest = rest[steps["d_cost"][rest] <= budget - cost]
    users_, froms, tos, costs_ = (steps[k][rest].tolist() for k in ("user", "from_option", "to_option", "d_cost"))
    for user, from_option, to_option, step_cost in zip(users_, froms, tos, costs_, strict=True):
        if choice[user] == from_option and cost + step_cost <= budget:
            choice[user], cost = to_option, cost + step_cost
    return choice, cost, bound


def _exact(values: np.ndarray, costs: np.ndarray, budget: float) -> tuple[np.ndarray, float, float] | None:
    """Proven-optimal 0-1 solution by MILP (None when not proven in time or over budget after rounding)."""
    from scipy import sparse
    from scipy.optimize import Bounds, LinearConstraint, milp

    users, options = np.nonzero(np.isfinite(values))
    n = len(users)
    one_per_user = sparse.csr_matrix((np.ones(n), (users, np.arange(n))), shape=(values.shape[0], n))
    spend = costs[users, options].reshape(1, n)
    result = milp(-values[users, options], integrality=np.ones(n), bounds=Bounds(0, 1),
                  constraints=[LinearConstraint(one_per_user, 0, 1), LinearConstraint(spend, 0, budget)],
                  options={"time_limit": EXACT_SECONDS})
    if result.status != 0 or result.x is None:
        return None
    take = result.x > 0.5
    cost = float(costs[users[take], options[take]].sum())
    if cost > budget:
        return None
    choice = np.full(values.shape[0], NO_OPTION)
    choice[users[take]] = options[take]
    return choice, cost, float(values[users[take], options[take]].sum())


def solve_pool(values: np.ndarray, costs: np.ndarray, budget: float,
               exact_limit: int = EXACT_LIMIT) -> tuple[np.ndarray, float, float, float, bool]:
    """One pool over (users × options): (option per user, cost, value, upper bound, single option used)."""
    users = values.shape[0]
    if users == 0 or budget <= 0 or not np.isfinite(values).any():
        return np.full(users, NO_OPTION), 0.0, 0.0, 0.0, False
    choice, cost, bound = _greedy(hull_increments(values, costs), users, budget)
    picked = choice != NO_OPTION
    value = float(values[np.flatnonzero(picked), choice[picked]].sum())
    single = False
    best_user, best_option = divmod(int(np.argmax(np.where(np.isfinite(values), values, -np.inf))), values.shape[1])
    if values[best_user, best_option] > value:  # the single-option safeguard of the 1/2 bound
        choice = np.full(users, NO_OPTION)
        choice[best_user] = best_option
        cost, value, single = float(costs[best_user, best_option]), float(values[best_user, best_option]), True
    if np.isfinite(values).sum() <= exact_limit:
        exact = _exact(values, costs, budget)
        if exact is not None and exact[2] >= value:
            return exact[0], exact[1], exact[2], exact[2], False
    return choice, cost, value, max(bound, value), single


def allocate(values: np.ndarray, costs: np.ndarray, pools: np.ndarray, budget: float,
             pool_shares: dict[int, float] | None = None, max_per_user: int = 1,
             exact_limit: int = EXACT_LIMIT) -> Allocation:
    """Choose offers for users (rows of `values`/`costs`, one column per offer) within `budget`.

    `pools[u]` is the user's budget pool (segment id); pools named in `pool_shares` get
    share × budget each and are solved first, all other users share what is left.
    `exact_limit`: pools with at most this many options are solved exactly (0 = never).
    """
    values = np.asarray(values, dtype=np.float64)
    costs = np.broadcast_to(np.asarray(costs, dtype=np.float64), values.shape)
    pools = np.asarray(pools)
    shares = pool_shares or {}
    subsets = option_subsets(values.shape[1], max_per_user)
    chosen: list[tuple[int, ...]] = [() for _ in range(values.shape[0])]
    results, left = [], budget
    plan = [(pool, share * budget, pools == pool) for pool, share in sorted(shares.items())]
    plan.append((-1, None, ~np.isin(pools, list(shares))))
    for pool, pool_budget, members in plan:
        pool_budget = min(left, left if pool_budget is None else pool_budget)
        rows = np.flatnonzero(members)
        option_values, option_costs = option_matrix(values[rows], costs[rows], subsets, pool_budget)
        choice, cost, value, bound, single = solve_pool(option_values, option_costs, pool_budget, exact_limit)
        for row, option in zip(rows[choice != NO_OPTION], choice[choice != NO_OPTION], strict=True):
            chosen[row] = subsets[option]
        results.append(PoolResult(int(pool), float(pool_budget), cost, value, bound, single))
        left -= cost
    return Allocation(chosen, results)
