"""Reading campaign results back: the current measurement of a run, and its table for people.

`current_results` reads journey.campaign_results_current (the latest measurement per row) for a
campaign's current run or a named run; `result_lines` formats it: per breakdown row both arms
and each increment with its 95 % interval, and "provisional" while the window is open; when
the run has exposures, the treated users' exposure rate and the lift per exposed user, with a
warning when held-out users were exposed. Used by
`journey campaigns results` and the campaign report.
"""

from __future__ import annotations

from journey import warehouse
from journey.errors import InputError

FIELDS = ("campaign_id", "run_id", "measured_at", "level", "key", "window_start", "window_end", "provisional",
          "treated_users", "treated_converters", "treated_rate", "treated_revenue_per_user", "treated_redemptions",
          "treated_coupon_cost", "holdout_users", "holdout_converters", "holdout_rate", "holdout_revenue_per_user",
          "rate_lift", "rate_lift_low", "rate_lift_high", "incremental_conversions", "incremental_conversions_low",
          "incremental_conversions_high", "incremental_revenue", "incremental_revenue_low", "incremental_revenue_high",
          "incremental_profit", "incremental_profit_low", "incremental_profit_high", "exposed_users", "exposure_rate",
          "holdout_exposed_users", "exposed_rate_lift", "exposed_rate_lift_low", "exposed_rate_lift_high")
SQL = f"""SELECT {', '.join(FIELDS)} FROM journey.campaign_results_current
WHERE campaign_id = %(campaign_id)s
  AND run_id = coalesce(%(run_id)s, (SELECT run_id FROM journey.campaign_runs_current WHERE campaign_id = %(campaign_id)s))
ORDER BY CASE level WHEN 'campaign' THEN 0 WHEN 'segment' THEN 1 WHEN 'offer' THEN 2 ELSE 3 END, key"""
LEVEL_ORDER = ("campaign", "segment", "offer", "segment_offer")
LABEL = 36  # characters of the level-and-key column


def current_results(conn, campaign_id: str, run_id: str | None = None) -> list[dict]:
    """The latest measurement's rows of the run (the campaign's current run without `run_id`)."""
    rows = warehouse.fetch_all(conn, SQL, {"campaign_id": campaign_id, "run_id": run_id or None})
    return [dict(zip(FIELDS, row, strict=True)) for row in rows]


def require_results(conn, campaign_id: str, run_id: str | None = None) -> list[dict]:
    """current_results, or an error saying how to measure the run."""
    rows = current_results(conn, campaign_id, run_id)
    if not rows:
        what = f"run {run_id!r} of campaign {campaign_id!r}" if run_id else f"campaign {campaign_id!r}"
        raise InputError(f"no results for {what}: measure it first with `journey run results "
                         f"--param campaign_id={campaign_id}` (DAG journey_campaign_results)")
    return rows


def interval(row: dict, name: str, fmt: str) -> str:
    """`estimate [low, high]` of an increment, or n/a without one."""
    if row[name] is None:
        return "n/a"
    return f"{row[name]:{fmt}} [{row[name + '_low']:{fmt}}, {row[name + '_high']:{fmt}}]"


def _rate(value: float | None) -> str:
    """A rate as a percentage (n/a for an empty arm)."""
    return "n/a" if value is None else f"{value:.2%}"


def label(row: dict) -> str:
    """A row's level and key (at most LABEL characters; a short level padded to 8)."""
    return f"{row['level']:<8} {row['key']}"[:LABEL]


def has_exposures(rows: list[dict]) -> bool:
    """True when the measurement had exposures reported (journey.exposures) for the run."""
    return any(row.get("exposed_users") is not None for row in rows)


def exposure_notes(rows: list[dict]) -> list[str]:
    """The campaign's exposure rate and lift per exposed user, how to read it, and a warning when held-out
    users were exposed (a leaked holdout); nothing without exposures. Also used by the campaign report."""
    if not has_exposures(rows):
        return []
    campaign = next(row for row in rows if row["level"] == "campaign")
    leaked = campaign["holdout_exposed_users"] or 0
    notes = [f"exposure-based estimate: {campaign['exposed_users']:,} of {campaign['treated_users']:,} treated users "
             f"exposed ({_rate(campaign['exposure_rate'])}); conversion lift per exposed user "
             f"{interval(campaign, 'exposed_rate_lift', '+.2%')} (Bloom: the lift and its interval / the exposure "
             "rate; assumes held-out users are never exposed and assignment alone does nothing)"]
    if leaked:
        notes.append(f"WARNING: {leaked:,} held-out users have exposures: the holdout leaked, so both the "
                     "assignment- and the exposure-based lift are biased towards zero")
    return notes


def result_lines(rows: list[dict]) -> list[str]:
    """The table of a run's current results (with the exposure-based columns when the run has exposures)."""
    first = rows[0]
    exposures = has_exposures(rows)
    days = (first["window_end"] - first["window_start"]).days
    lines = [f"campaign {first['campaign_id']}, run {first['run_id']}: measured {first['measured_at']:%Y-%m-%d %H:%M} "
             f"UTC; window {first['window_start']:%Y-%m-%d %H:%M} + {days} days"
             + (" - PROVISIONAL: the window is still open" if first["provisional"] else " (closed)"),
             f"{'level    key':<{LABEL}} {'treated':>8} {'rate':>7} {'holdout':>8} {'rate':>7} {'redeemed':>8} "
             f"{'cost':>9}  conversion lift [95 % CI]   incr. conversions   incr. revenue   incr. profit"
             + ("   exposed  lift per exposed user [95 % CI]" if exposures else "")]
    for row in rows:
        lines.append(f"{label(row):<{LABEL}} {row['treated_users']:>8,} {_rate(row['treated_rate']):>7} "
                     f"{row['holdout_users']:>8,} {_rate(row['holdout_rate']):>7} {row['treated_redemptions']:>8,} "
                     f"{row['treated_coupon_cost']:>9,.2f}  {interval(row, 'rate_lift', '+.2%')}   "
                     f"{interval(row, 'incremental_conversions', '+,.1f')}   "
                     f"{interval(row, 'incremental_revenue', '+,.2f')}   {interval(row, 'incremental_profit', '+,.2f')}"
                     + (f"   {_rate(row['exposure_rate']):>7}  {interval(row, 'exposed_rate_lift', '+.2%')}"
                        if exposures else "")
                     + ("  provisional" if row["provisional"] else ""))
    lines.append("intervals: 95 %; conversion: Newcombe score; revenue, profit: Welch t; offers are compared with the "
                 "whole holdout (not randomised per offer); segment_offer rows with the segment's holdout")
    return lines + exposure_notes(rows)
