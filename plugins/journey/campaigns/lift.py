"""Measured lift of a campaign: treated against held-out users, with 95 % confidence intervals.

The holdout is a random draw of the eligible audience (campaigns/holdout.py), so the difference
between the treated and the held-out arm estimates the campaign's average effect on the treated.
Intervals come from statsmodels: Newcombe's hybrid score interval for a difference of two
proportions (good coverage with small or extreme rates, unlike the Wald interval) and Welch's
t interval for a difference of means (revenue, profit per user). Incremental totals scale the
per-user difference to the treated count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from statsmodels.stats.proportion import confint_proportions_2indep
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from journey.errors import InputError

CONFIDENCE = 0.95


@dataclass(frozen=True)
class Interval:
    """An estimate with its confidence interval."""

    estimate: float
    low: float
    high: float

    @property
    def significant(self) -> bool:
        """True when the interval excludes zero."""
        return self.low > 0 or self.high < 0

    def scaled(self, factor: float) -> Interval:
        """The same interval multiplied by a positive factor (per-user → per-arm totals)."""
        return Interval(self.estimate * factor, self.low * factor, self.high * factor)


@dataclass(frozen=True)
class ConversionLift:
    """Conversion in each arm and the treated − holdout difference."""

    treated_users: int
    treated_converters: int
    holdout_users: int
    holdout_converters: int
    rate_difference: Interval

    @property
    def treated_rate(self) -> float:
        """Share of treated users who converted."""
        return self.treated_converters / self.treated_users

    @property
    def holdout_rate(self) -> float:
        """Share of held-out users who converted."""
        return self.holdout_converters / self.holdout_users

    @property
    def incremental_conversions(self) -> Interval:
        """Conversions the campaign caused among the treated (difference × treated users)."""
        return self.rate_difference.scaled(self.treated_users)


def interval_columns(name: str, interval: Interval | None) -> dict:
    """An interval as `name`, `name_low` and `name_high` columns (null without one)."""
    if interval is None:
        return {name: None, f"{name}_low": None, f"{name}_high": None}
    return {name: interval.estimate, f"{name}_low": interval.low, f"{name}_high": interval.high}


def _check_arm(name: str, users: int, converters: int) -> None:
    """Refuse counts that cannot describe an arm, naming the arm."""
    if users <= 0:
        raise InputError(f"lift: the {name} arm has {users} users; both arms need at least one user")
    if not 0 <= converters <= users:
        raise InputError(f"lift: the {name} arm has {converters} converters for {users} users")


def conversion_lift(
    treated_users: int,
    treated_converters: int,
    holdout_users: int,
    holdout_converters: int,
    confidence: float = CONFIDENCE,
) -> ConversionLift:
    """Treated − holdout conversion rate with Newcombe's score interval."""
    _check_arm("treated", treated_users, treated_converters)
    _check_arm("holdout", holdout_users, holdout_converters)
    low, high = confint_proportions_2indep(
        treated_converters,
        treated_users,
        holdout_converters,
        holdout_users,
        method="newcomb",
        compare="diff",
        alpha=1 - confidence,
    )
    estimate = treated_converters / treated_users - holdout_converters / holdout_users
    return ConversionLift(
        treated_users,
        treated_converters,
        holdout_users,
        holdout_converters,
        Interval(estimate, float(low), float(high)),
    )


def mean_difference(treated: Sequence[float], holdout: Sequence[float], confidence: float = CONFIDENCE) -> Interval:
    """Treated − holdout mean per user (revenue, profit) with Welch's t interval.

    Each sequence holds one value per user of the arm, zeros included. With fewer than two
    users in an arm, or no spread in either, the interval collapses to the point estimate.
    """
    treated_values = np.asarray(treated, dtype=float)
    holdout_values = np.asarray(holdout, dtype=float)
    if treated_values.size == 0 or holdout_values.size == 0:
        raise InputError(
            f"lift: mean difference needs users in both arms (treated {treated_values.size}, holdout {holdout_values.size})"
        )
    estimate = float(treated_values.mean() - holdout_values.mean())
    if min(treated_values.size, holdout_values.size) < 2 or (treated_values.std() == 0 and holdout_values.std() == 0):
        return Interval(estimate, estimate, estimate)
    compare = CompareMeans(DescrStatsW(treated_values), DescrStatsW(holdout_values))
    low, high = compare.tconfint_diff(alpha=1 - confidence, usevar="unequal")
    return Interval(estimate, float(low), float(high))
