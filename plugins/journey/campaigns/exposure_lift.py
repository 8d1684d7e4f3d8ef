"""Exposure-based lift beside the assignment-based one: the campaign's effect per exposed user.

Campaign results compare every treated (assigned) user with the holdout: an intention-to-treat
(ITT) effect. When senders report what they actually showed or sent (`POST /v1/exposures` →
journey.exposures), only a share of the treated users was reached: the exposure rate. Bloom's
estimator (Bloom 1984, "Accounting for no-shows in experimental evaluation designs") turns the
ITT effect into the effect per exposed user (the complier average causal effect, CACE):

    effect per exposed user = ITT effect / exposure rate,  95 % interval = ITT bounds / exposure rate

It assumes held-out users are never exposed and that assignment without exposure does nothing
(all of the effect goes through an exposure). A held-out user with an exposure breaks the first
assumption (a leaked holdout): such users are counted in `holdout_exposed_users` and flagged by
the CLI and the report. The interval treats the exposure rate as known (it is measured on the
whole treated arm); it is Bloom's and keeps the ITT interval's significance (zero in or out).

Without any exposure reported for the run every column here is null (not measured), never 0;
with exposures but no exposed treated user in a row the rate is 0 and the estimates are null.
"""

from __future__ import annotations

from journey.campaigns.lift import Interval, interval_columns
from journey.errors import InputError

EXPOSURE_COUNTS = ("exposed_users", "exposure_rate", "holdout_exposed_users")
PER_EXPOSED = ("exposed_rate_lift", "exposed_revenue_lift")  # conversion-rate and revenue lift per exposed user
EXPOSURE_COLUMNS = (*EXPOSURE_COUNTS, *[f"{name}{end}" for name in PER_EXPOSED for end in ("", "_low", "_high")])


def per_exposed(itt: Interval | None, exposure_rate: float | None) -> Interval | None:
    """Bloom's estimator: an ITT effect per assigned user as the effect per exposed user (None when undefined)."""
    if itt is None or exposure_rate is None or exposure_rate == 0:
        return None
    if not 0 < exposure_rate <= 1:
        raise InputError(f"exposure lift: the exposure rate must be in (0, 1], got {exposure_rate}")
    return itt.scaled(1 / exposure_rate)


def exposure_figures(treated_users: int, exposed_users: int | None, holdout_exposed_users: int | None,
                     rate_lift: Interval | None, revenue_lift: Interval | None) -> dict:
    """EXPOSURE_COLUMNS of one result row.

    exposed_users / holdout_exposed_users: users of each arm with at least one exposure, None when
    the run has no exposure at all; rate_lift / revenue_lift: the ITT differences per treated user.
    """
    if exposed_users is None:
        return dict.fromkeys(EXPOSURE_COLUMNS)
    if not 0 <= exposed_users <= treated_users:
        raise InputError(f"exposure lift: {exposed_users} exposed users for {treated_users} treated users")
    rate = exposed_users / treated_users if treated_users else None
    return {"exposed_users": exposed_users, "exposure_rate": rate, "holdout_exposed_users": holdout_exposed_users,
            **interval_columns("exposed_rate_lift", per_exposed(rate_lift, rate)),
            **interval_columns("exposed_revenue_lift", per_exposed(revenue_lift, rate))}
