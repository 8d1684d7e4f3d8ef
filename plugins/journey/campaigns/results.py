"""Campaign results: what each arm did in the attribution window, and the lift with its 95 % interval.

Input: one row per measured user and assigned coupon (`per_user_rows`): the arm (treated: users
with a coupon or an ad of the run; holdout: journey.campaign_holdout), segment, offer and coupon
code, and the user's outcomes in [start_time, start_time + attribution window): orders (distinct
sessions with a purchase), revenue (price × quantity of the purchases) and the coupon_redeem
events whose coupon_code is the user's own assigned code. Output (`result_rows`): one row per
breakdown (campaign, segment, offer, segment × offer) with both arms' figures and the treated − holdout
increments, scaled to the treated count, with intervals from campaigns/lift.py (Newcombe for
conversion, Welch for revenue and profit per user).

Coupon cost of a redemption: the redeem event's price when the feed gives one (the discount
granted), else the offer's face value: fixed = its value, free shipping = SHIPPING_FEE, percent
= value % of the user's revenue per order in the window (DEFAULT_ORDER_VALUE without an order).
Profit per user = revenue × margin rate − coupon cost. Offer rows compare the users given the
offer with the whole holdout (offers are not assigned at random: read them as a description,
not a randomised contrast); segment rows compare within the segment, and segment × offer rows
(key "segment / offer") the users of the segment given the offer with the segment's holdout:
the evidence campaigns/exploration.py learns each segment's offer shares from.

With exposures reported for the run (journey.exposures, `POST /v1/exposures`) every row also gets
the users of each arm with an exposure, the exposure rate of the treated and the exposure-based
estimate beside the assignment-based one: the lift per exposed user (campaigns/exposure_lift.py).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from journey.campaigns.exposure_lift import EXPOSURE_COLUMNS, exposure_figures
from journey.campaigns.lift import Interval, conversion_lift, interval_columns, mean_difference
from journey.campaigns.valuation import DEFAULT_ORDER_VALUE, SHIPPING_FEE
from journey.errors import DataError

LEVELS = ("campaign", "segment", "offer", "segment_offer")
ARMS = ("treated", "holdout")
NO_COUPON = "(no coupon)"  # offer key of treated users who got an ad only
ASSIGNED_COLUMNS = ("user_id", "arm", "segment_id", "segment_name", "offer_name", "kind", "offer_value", "coupon_code")
ARM_FIGURES = ("users", "converters", "rate", "orders", "revenue", "revenue_per_user", "redemptions", "coupon_cost")
INCREMENTS = ("rate_lift", "incremental_conversions", "incremental_revenue", "incremental_profit")
RESULT_COLUMNS = (
    "campaign_id", "run_id", "measured_at", "level", "key", "segment_id", "offer_name", "window_start", "window_end",
    "provisional", "margin_rate",
    *[f"{arm}_{name}" for arm in ARMS for name in ARM_FIGURES],
    *[f"{name}{end}" for name in INCREMENTS for end in ("", "_low", "_high")],
    *EXPOSURE_COLUMNS,
)


@dataclass(frozen=True)
class Window:
    """The attribution window of a run and when it is measured."""

    start: datetime
    days: int
    measured_at: datetime

    @property
    def end(self) -> datetime:
        """First instant after the window."""
        return self.start + timedelta(days=self.days)

    @property
    def provisional(self) -> bool:
        """True while the window is still open: later events can change the figures."""
        return self.measured_at < self.end


def coupon_face_cost(kind: pd.Series, value: pd.Series, revenue_per_order: pd.Series) -> pd.Series:
    """Cost of one redemption of each row's offer when the redeem event carries no price."""
    per_order = revenue_per_order.where(revenue_per_order > 0, DEFAULT_ORDER_VALUE)
    cost = np.select([kind == "fixed", kind == "free_shipping", kind == "percent"],
                     [value, SHIPPING_FEE, value / 100.0 * per_order], default=0.0)
    return pd.Series(cost, index=kind.index, dtype=float)


def per_user_rows(assigned: pd.DataFrame, outcomes: pd.DataFrame, redemptions: pd.DataFrame,
                  exposed_users: Iterable[str] | None = None) -> pd.DataFrame:
    """Assigned rows with outcomes: converted, orders, revenue, redemptions (own code only), coupon_cost, and
    `exposed` (the user has an exposure) when `exposed_users` is given (None: the run has none reported).

    assigned: ASSIGNED_COLUMNS (one row per user and coupon; offer_name/coupon_code null without one);
    outcomes: user_id, orders, revenue (users without a purchase may be absent);
    redemptions: user_id, coupon_code, redemptions, priced_discount, unpriced (per code redeemed).
    """
    missing = [c for c in ASSIGNED_COLUMNS if c not in assigned.columns]
    if missing:
        raise DataError(f"campaign results: assigned users lack column(s) {', '.join(missing)}")
    bad_arms = sorted(set(assigned["arm"]) - set(ARMS))
    if bad_arms:
        raise DataError(f"campaign results: unknown arm(s) {bad_arms}; expected {', '.join(ARMS)}")
    rows = assigned.merge(outcomes[["user_id", "orders", "revenue"]], on="user_id", how="left")
    rows[["orders", "revenue"]] = rows[["orders", "revenue"]].fillna(0)
    rows["converted"] = rows["orders"] > 0
    redeemed = redemptions[["user_id", "coupon_code", "redemptions", "priced_discount", "unpriced"]]
    rows = rows.merge(redeemed, on=["user_id", "coupon_code"], how="left")  # a code not assigned to the user: no match
    rows[["redemptions", "priced_discount", "unpriced"]] = rows[["redemptions", "priced_discount", "unpriced"]].fillna(0)
    per_order = (rows["revenue"] / rows["orders"].where(rows["orders"] > 0)).fillna(0.0)
    face = coupon_face_cost(rows["kind"], rows["offer_value"].astype(float), per_order)
    rows["coupon_cost"] = rows["priced_discount"] + rows["unpriced"] * face
    if exposed_users is not None:
        rows["exposed"] = rows["user_id"].isin(set(exposed_users))
    return rows


def _users(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per user: outcomes once, redemptions and coupon cost summed over the user's coupons."""
    exposed = {"exposed": ("exposed", "first")} if "exposed" in rows.columns else {}
    return rows.groupby("user_id", sort=True).agg(
        converted=("converted", "first"), orders=("orders", "first"), revenue=("revenue", "first"),
        redemptions=("redemptions", "sum"), coupon_cost=("coupon_cost", "sum"), **exposed)


def arm_figures(users: pd.DataFrame) -> dict:
    """ARM_FIGURES of one arm (one row per user)."""
    n = len(users)
    revenue = float(users["revenue"].sum())
    converters = int(users["converted"].sum())
    return {"users": n, "converters": converters, "rate": converters / n if n else None,
            "orders": int(users["orders"].sum()), "revenue": revenue, "revenue_per_user": revenue / n if n else None,
            "redemptions": int(users["redemptions"].sum()), "coupon_cost": float(users["coupon_cost"].sum())}


def per_user_lifts(treated: pd.DataFrame, holdout: pd.DataFrame, margin_rate: float) -> dict[str, Interval] | None:
    """Treated − holdout per user: conversion rate (Newcombe), revenue and profit (Welch); None when an arm is empty."""
    if treated.empty or holdout.empty:
        return None

    def profit(users: pd.DataFrame) -> np.ndarray:
        return users["revenue"].to_numpy(float) * margin_rate - users["coupon_cost"].to_numpy(float)

    conversion = conversion_lift(len(treated), int(treated["converted"].sum()),
                                 len(holdout), int(holdout["converted"].sum()))
    return {"rate": conversion.rate_difference, "revenue": mean_difference(treated["revenue"], holdout["revenue"]),
            "profit": mean_difference(profit(treated), profit(holdout))}


def increments(lifts: dict[str, Interval] | None, treated_users: int) -> dict:
    """INCREMENTS: the rate lift, and conversions, revenue and profit scaled to the treated count (null without lifts)."""
    if lifts is None:
        return {k: v for name in INCREMENTS for k, v in interval_columns(name, None).items()}
    return {**interval_columns("rate_lift", lifts["rate"]),
            **interval_columns("incremental_conversions", lifts["rate"].scaled(treated_users)),
            **interval_columns("incremental_revenue", lifts["revenue"].scaled(treated_users)),
            **interval_columns("incremental_profit", lifts["profit"].scaled(treated_users))}


def _exposed(users: pd.DataFrame) -> int | None:
    """Users with at least one exposure (None when the run has no exposure reported)."""
    return int(users["exposed"].sum()) if "exposed" in users.columns else None


def compare(level: str, key: str, treated: pd.DataFrame, holdout: pd.DataFrame, margin_rate: float) -> dict:
    """One result row's figures: both arms, the increments and the exposure-based estimate."""
    figures = {"level": level, "key": key}
    for arm, users in (("treated", treated), ("holdout", holdout)):
        figures.update({f"{arm}_{name}": value for name, value in arm_figures(users).items()})
    lifts = per_user_lifts(treated, holdout, margin_rate)
    rate, revenue = (lifts["rate"], lifts["revenue"]) if lifts else (None, None)
    exposure = exposure_figures(len(treated), _exposed(treated), _exposed(holdout), rate, revenue)
    return {**figures, **increments(lifts, len(treated)), **exposure}


def _segment_key(segment_id, segment_name) -> str:
    """A segment's breakdown key: its name, else its id, else 'unknown'."""
    if isinstance(segment_name, str) and segment_name:
        return segment_name
    if segment_id is None or (isinstance(segment_id, float) and math.isnan(segment_id)):
        return "unknown"
    return str(int(segment_id))


def breakdown(rows: pd.DataFrame, margin_rate: float) -> list[dict]:
    """Campaign, segment, offer and segment × offer rows (per_user_rows input), in that order."""
    rows = rows.assign(segment_key=[_segment_key(i, n) for i, n in zip(rows["segment_id"], rows["segment_name"],
                                                                         strict=True)],
                       offer_key=rows["offer_name"].fillna(NO_COUPON))
    treated, holdout = rows[rows["arm"] == "treated"], rows[rows["arm"] == "holdout"]
    held_users = _users(holdout)
    out = [{**compare("campaign", "all", _users(treated), held_users, margin_rate), "segment_id": None,
            "offer_name": None}]
    for key, part in rows.groupby("segment_key", sort=True):
        segment_ids = part["segment_id"].dropna()
        out.append({**compare("segment", key, _users(part[part["arm"] == "treated"]),
                              _users(part[part["arm"] == "holdout"]), margin_rate),
                    "segment_id": int(segment_ids.iloc[0]) if len(segment_ids) else None, "offer_name": None})
    for key, part in treated.groupby("offer_key", sort=True):  # each offer against the whole holdout
        out.append({**compare("offer", key, _users(part), held_users, margin_rate), "segment_id": None,
                    "offer_name": None if key == NO_COUPON else key})
    return out + segment_offer_rows(treated, holdout, margin_rate)


def segment_offer_rows(treated: pd.DataFrame, holdout: pd.DataFrame, margin_rate: float) -> list[dict]:
    """Per segment and offer: the segment's users given the offer against the segment's held-out users."""
    out = []
    for (segment, offer), part in treated.groupby(["segment_key", "offer_key"], sort=True):
        segment_ids = part["segment_id"].dropna()
        out.append({**compare("segment_offer", f"{segment} / {offer}", _users(part),
                              _users(holdout[holdout["segment_key"] == segment]), margin_rate),
                    "segment_id": int(segment_ids.iloc[0]) if len(segment_ids) else None,
                    "offer_name": None if offer == NO_COUPON else offer})
    return out


def result_rows(campaign_id: str, run_id: str, window: Window, rows: pd.DataFrame, margin_rate: float) -> pd.DataFrame:
    """journey.campaign_results rows (RESULT_COLUMNS) of one measurement of one run."""
    run = {"campaign_id": campaign_id, "run_id": run_id, "measured_at": window.measured_at,
           "window_start": window.start, "window_end": window.end, "provisional": window.provisional,
           "margin_rate": margin_rate}
    return pd.DataFrame([{**run, **row} for row in breakdown(rows, margin_rate)], columns=list(RESULT_COLUMNS))
