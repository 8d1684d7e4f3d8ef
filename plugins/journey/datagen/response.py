"""A campaign's known causal effect: each user's purchase probability without and with the treatment.

The days after a campaign are simulated from the same latent traits as the generated window:
    baseline hazard  = sessions expected in the N days × P(a session buys)
                       (visit rate × weekday traffic; scene mix, cart and buy rates × the user's buy trait;
                        lapsed users have left: 0)
    p_untreated      = 1 − exp(−baseline hazard)        (at least one order in the N days)
The treatment acts by the persona's uplift role (world.PERSONA_ROLES):
    persuadable      p_treated = 1 − exp(−(baseline + PERSUADE_HAZARD × (COUPON_BASE + coupon trait)
                                 × strength × reach × CHANNEL_PULL[channel] × creative factor))
                     strength = share / (share + HALF_STRENGTH_SHARE), share = the order's share given away
                     (percent: value/100; fixed: value/order; free_shipping: fee/order, capped at 1);
                     reach = min(1, order / min_spend)² (1 without a minimum)
    sure_thing, lost_cause   p_treated = p_untreated (no effect)
    do_not_disturb   p_treated = p_untreated × (1 − PUT_OFF[channel])  (negative effect)
With `respond=False` nobody responds (p_treated = p_untreated): the null world.
true_effect = p_treated − p_untreated; the profit inputs (expected order value and margin, the
share of treated buyers who redeem, the cost of one redemption) give the expected incremental
profit of treating the user:
    p_treated × (order × margin − redeem × cost) − p_untreated × order × margin.
Pure numpy/pandas; no randomness here (the draws are in response_events.py).
"""

from __future__ import annotations

import hashlib
from datetime import date

import numpy as np
import pandas as pd

from journey.datagen.catalog import SUB_TOP, Catalog, Population
from journey.datagen.events import TOP_SUB_COUNT, scene_value
from journey.datagen.sessions import traffic_curve
from journey.datagen.world import (
    CHANNEL_PULL,
    COUPON_BASE,
    CREATIVE_RANGE,
    HALF_STRENGTH_SHARE,
    ORDER_ITEM_WEIGHTS,
    ORDER_ITEMS,
    PERSONA_ROLES,
    PERSONAS,
    PERSUADE_HAZARD,
    PUT_OFF,
    QUANTITIES,
    QUANTITY_WEIGHTS,
    RESPONSE_SHIPPING_FEE,
    SUB_CATEGORIES,
)
from journey.errors import DataError, InputError
from journey.schemas import SCENES

ARMS = ("treated", "holdout", "untargeted")  # untargeted: the rest of the world, outside the campaign
COUPON_KINDS = ("percent", "fixed", "free_shipping")
# One row per campaign user: the arm and, for treated users, what they got.
ASSIGNMENT_COLUMNS = ("user_id", "arm", "kind", "offer_value", "min_spend", "coupon_code", "channel", "creative_id")
TRUTH_COLUMNS = ("user_id", "persona", "role", "arm", "kind", "offer_value", "min_spend", "coupon_code", "channel",
                 "creative_id", "p_untreated", "p_treated", "true_effect", "order_value", "margin_rate",
                 "redeem_share", "coupon_cost", "true_incremental_profit")
ROLE_OF_PERSONA = np.array([PERSONA_ROLES[p.name] for p in PERSONAS], dtype=object)
MEAN_ITEMS = float(np.dot(ORDER_ITEMS, ORDER_ITEM_WEIGHTS))
MEAN_QUANTITY = float(np.dot(QUANTITIES, QUANTITY_WEIGHTS["default"]))


def user_rows(people: Population, user_ids: pd.Series) -> np.ndarray:
    """Row of each user id in the population; DataError naming the ids the world does not know."""
    rows = pd.Index(people.user_id).get_indexer(user_ids.to_numpy())
    if (rows < 0).any():
        unknown = user_ids[rows < 0].head(3).tolist()
        raise DataError(f"{int((rows < 0).sum())} campaign user(s) are not in the generated world, e.g. {unknown}")
    return rows


def session_buy_probability(people: Population, rows: np.ndarray) -> np.ndarray:
    """P(a session of the user ends in a purchase): the scene mix's cart and buy rates (as events.py)."""
    scenes = np.arange(len(SCENES))
    weights = np.array([[p.scenes.get(s, 0.0) for s in SCENES] for p in PERSONAS])
    weights = weights / weights.sum(axis=1, keepdims=True)
    buy = people.buy[rows][:, None]
    cart = np.minimum(0.98, scene_value(scenes, "cart")[None, :] * (0.4 + 0.6 * np.minimum(buy, 1.5)))
    bought = np.minimum(0.97, scene_value(scenes, "buy")[None, :] * buy)
    return (weights[people.persona[rows]] * cart * bought).sum(axis=1)


def baseline_hazard(people: Population, rows: np.ndarray, start: date, days: int) -> np.ndarray:
    """Expected purchasing sessions of each user in the `days` from `start` (0 for lapsed users)."""
    lapsed = np.array([p.active_days is not None for p in PERSONAS])[people.persona[rows]]
    sessions = people.visits_per_day[rows] * traffic_curve(start, days)[-1]
    return np.where(lapsed, 0.0, sessions * session_buy_probability(people, rows))


def sub_weights(people: Population, rows: np.ndarray) -> np.ndarray:
    """(users, sub-categories) probability that an ordered product is of each sub-category."""
    return people.taste[rows][:, SUB_TOP] / TOP_SUB_COUNT[SUB_TOP][None, :]


def user_products(people: Population, catalog: Catalog, rows: np.ndarray) -> np.ndarray:
    """(users, sub-categories) product row each user buys in each sub-category (at their price level)."""
    subs = np.arange(len(SUB_CATEGORIES))
    level = np.broadcast_to(people.price_level[rows][:, None], (len(rows), len(subs)))
    return catalog.at_quantile(np.broadcast_to(subs, level.shape).ravel(), level.ravel()).reshape(level.shape)


def catalog_margins(catalog: Catalog) -> np.ndarray:
    """Margin rate of every product row."""
    return catalog.table.set_index("product_id")["margin"].reindex(catalog.product_id).to_numpy(dtype=float)


def order_economics(people: Population, catalog: Catalog, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Expected order value and its revenue-weighted margin rate per user."""
    weights, products = sub_weights(people, rows), user_products(people, catalog, rows)
    prices = catalog.price[products]
    revenue = (weights * prices).sum(axis=1)
    margin = (weights * prices * catalog_margins(catalog)[products]).sum(axis=1) / revenue
    return revenue * MEAN_ITEMS * MEAN_QUANTITY, margin


def creative_factor(creative_id: pd.Series) -> np.ndarray:
    """A creative's known pull: a stable hash of its id spread over CREATIVE_RANGE (1 without a creative)."""
    low, high = CREATIVE_RANGE

    def one(name) -> float:
        if not isinstance(name, str) or not name:
            return 1.0
        return low + (high - low) * int(hashlib.sha256(name.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF

    return np.array([one(c) for c in creative_id], dtype=float)


def discount_share(kind: np.ndarray, value: np.ndarray, order_value: np.ndarray) -> np.ndarray:
    """Share of the order a coupon gives away (capped at 1); 0 without a coupon."""
    share = np.select([kind == "percent", kind == "fixed", kind == "free_shipping"],
                      [value / 100.0, value / order_value, RESPONSE_SHIPPING_FEE / order_value], 0.0)
    return np.minimum(np.nan_to_num(share), 1.0)


def coupon_cost(kind: np.ndarray, value: np.ndarray, order_value: np.ndarray) -> np.ndarray:
    """What one redemption costs the shop (0 without a coupon)."""
    cost = np.select([kind == "percent", kind == "fixed", kind == "free_shipping"],
                     [value / 100.0 * order_value, value, np.full(len(kind), RESPONSE_SHIPPING_FEE)], 0.0)
    return np.nan_to_num(cost)


def reach(min_spend: np.ndarray, order_value: np.ndarray) -> np.ndarray:
    """How much of the coupon's pull survives its minimum spend: min(1, order / min_spend)²."""
    spend = np.nan_to_num(min_spend)
    return np.where(spend > 0, np.minimum(1.0, order_value / np.where(spend > 0, spend, 1.0)) ** 2, 1.0)


def channel_values(channel: np.ndarray, table: dict[str, float], where: str) -> np.ndarray:
    """table[channel] per treated row; InputError naming an unknown channel."""
    unknown = sorted({c for c in channel if c not in table})
    if unknown:
        raise InputError(f"{where}: channel(s) {unknown} unknown, expected one of {', '.join(table)}")
    return np.array([table[c] for c in channel], dtype=float)


def check_assignments(assignments: pd.DataFrame) -> None:
    """InputError naming what is wrong with the campaign's rows."""
    missing = [c for c in ASSIGNMENT_COLUMNS if c not in assignments]
    if missing:
        raise InputError(f"campaign assignments lack column(s) {missing}; expected {list(ASSIGNMENT_COLUMNS)}")
    bad_arm = sorted(set(assignments["arm"]) - set(ARMS))
    if bad_arm:
        raise InputError(f"campaign assignments: arm(s) {bad_arm} unknown, expected one of {', '.join(ARMS)}")
    treated = assignments["arm"] == "treated"
    bad_kind = sorted(set(assignments.loc[treated, "kind"].dropna()) - set(COUPON_KINDS))
    if bad_kind:
        raise InputError(f"campaign assignments: coupon kind(s) {bad_kind} unknown, expected {', '.join(COUPON_KINDS)}")
    if assignments["user_id"].duplicated().any():
        dup = assignments.loc[assignments["user_id"].duplicated(), "user_id"].head(3).tolist()
        raise InputError(f"campaign assignments: a user may appear once, repeated: {dup}")


def treatment_probabilities(people: Population, rows: np.ndarray, assignments: pd.DataFrame, base: np.ndarray,
                            order_value: np.ndarray, respond: bool) -> np.ndarray:
    """p_treated of each row (as if treated with its own offer; = p_untreated where no offer or no response)."""
    p_untreated = 1.0 - np.exp(-base)
    treated = (assignments["arm"] == "treated").to_numpy()
    if not respond or not treated.any():
        return p_untreated.copy()
    role = ROLE_OF_PERSONA[people.persona[rows]]
    kind = assignments["kind"].to_numpy(dtype=object)
    value, spend = (assignments[c].to_numpy(dtype=float) for c in ("offer_value", "min_spend"))
    channel = assignments["channel"].to_numpy(dtype=object)
    pull, put_off = np.zeros(len(rows)), np.zeros(len(rows))
    pull[treated] = channel_values(channel[treated], CHANNEL_PULL, "campaign assignments")
    put_off[treated] = channel_values(channel[treated], PUT_OFF, "campaign assignments")
    share = discount_share(kind, value, order_value)
    gain = (PERSUADE_HAZARD * (COUPON_BASE + people.coupon[rows]) * share / (share + HALF_STRENGTH_SHARE)
            * reach(spend, order_value) * pull * creative_factor(assignments["creative_id"]))
    p_treated = np.select([role == "persuadable", role == "do_not_disturb"],
                          [1.0 - np.exp(-(base + gain)), p_untreated * (1.0 - put_off)], p_untreated)
    return np.where(treated, p_treated, p_untreated)


def true_effects(people: Population, catalog: Catalog, assignments: pd.DataFrame, start: date, days: int,
                 respond: bool = True) -> pd.DataFrame:
    """The ground truth of a campaign (TRUTH_COLUMNS), one row per assignment row, in its order.

    Holdout and untargeted rows carry p_treated = p_untreated and a NaN effect (no offer); call this with
    any allocation (arm 'treated') to price it against the simulator's truth.
    """
    check_assignments(assignments)
    frame = assignments.reset_index(drop=True)
    rows = user_rows(people, frame["user_id"])
    base = baseline_hazard(people, rows, start, days)
    order_value, margin = order_economics(people, catalog, rows)
    p_untreated = 1.0 - np.exp(-base)
    p_treated = treatment_probabilities(people, rows, frame, base, order_value, respond)
    treated = (frame["arm"] == "treated").to_numpy()
    kind, value = frame["kind"].to_numpy(dtype=object), frame["offer_value"].to_numpy(dtype=float)
    gained = np.clip(p_treated - p_untreated, 0.0, None) / np.maximum(p_treated, 1e-12)
    coupon_reach = reach(frame["min_spend"].to_numpy(dtype=float), order_value)
    redeem = np.where(treated, gained + (1.0 - gained) * people.coupon[rows] * coupon_reach, 0.0)
    cost = np.where(treated, coupon_cost(kind, value, order_value), 0.0)
    profit = p_treated * (order_value * margin - redeem * cost) - p_untreated * order_value * margin
    truth = frame[list(ASSIGNMENT_COLUMNS)].copy()
    truth["persona"] = np.array([p.name for p in PERSONAS], dtype=object)[people.persona[rows]]
    truth["role"] = ROLE_OF_PERSONA[people.persona[rows]]
    truth["p_untreated"], truth["p_treated"] = p_untreated, p_treated
    truth["true_effect"] = np.where(treated, p_treated - p_untreated, np.nan)
    truth["order_value"], truth["margin_rate"] = np.round(order_value, 4), margin
    truth["redeem_share"], truth["coupon_cost"] = redeem, cost
    truth["true_incremental_profit"] = np.where(treated, profit, np.nan)
    return truth[list(TRUTH_COLUMNS)]
