"""A campaign's numbers before launch: the audience after each exclusion, the holdout, coupons and cost.

    preview(conn, settings, params) -> dict

Counted in PostgreSQL over the published tables (journey.user_segments joined with
journey.user_profiles: the latest snapshot) with the campaign DAG's eligibility rules in their
order (`journey.campaigns.eligibility`: segment, lifecycle stage, suppression, channel consent,
frequency cap; the first rule a user fails is their reason). The suppression list and the recent
messages are the very queries the DAG's eligibility step exports (`campaigns.inputs`); the
consent flags live in the lake's curated users dimension, so they are read with pyarrow and
copied into a temporary table of this transaction. The holdout draw is holdout.py's
SHA-256 draw written in SQL (`HOLDOUT_DRAW_SQL`). Coupons and cost are bounds from the catalog
and the budget: which coupon each user gets depends on the model scores and is decided by the
run, as is the expected incremental revenue.
"""

from __future__ import annotations

import functools
import io
import math
import operator
import os
from dataclasses import dataclass

import pyarrow.csv as pacsv
import pyarrow.dataset as pads

from journey import lake
from journey.campaigns.currency import campaign_currency
from journey.campaigns.eligibility import EXCLUSION_REASONS
from journey.campaigns.holdout import HEX_DIGITS, SCALE
from journey.campaigns.inputs import FREQUENCY_WINDOW, RECENT_MESSAGES_SQL, SUPPRESSED_SQL
from journey.campaigns.params import CONSENT_CHANNELS, CampaignParams, resolve_segments
from journey.config import Settings

CONSENT_COLUMNS = tuple(f"consent_{channel}" for channel in CONSENT_CHANNELS)
RUN_COMPUTES = "computed by the run"
HOLDOUT_DRAW_SQL = (f"('x' || substr(encode(sha256(convert_to(%(campaign_id)s || ':' || user_id, 'UTF8')), 'hex'), "
                    f"1, {HEX_DIGITS}))::bit({4 * HEX_DIGITS})::bigint / {SCALE!r}::float8")
KNOWN_SEGMENTS_SQL = """SELECT segment_id, segment_name FROM journey.segment_summary
WHERE snapshot_date = (SELECT max(snapshot_date) FROM journey.segment_summary)"""


def channel_open_sql(channel: str) -> str:
    """SQL twin of eligibility.channel_open: a consent channel needs its flag, the others are open."""
    return f"coalesce(c.consent_{channel}, false)" if channel in CONSENT_CHANNELS else "true"


def first_open_channel_sql(channels: tuple[str, ...]) -> str:
    """SQL twin of eligibility.first_open_channel: the first channel (priority order) open to the user."""
    whens = " ".join(f"WHEN {channel_open_sql(channel)} THEN '{channel}'" for channel in channels)
    return f"CASE {whens} END"


def audience_sql(channels: tuple[str, ...]) -> str:
    """Users per exclusion reason (NULL = eligible), channel, segment and holdout draw, in the DAG's rule order."""
    return f"""
WITH suppressed AS ({SUPPRESSED_SQL}),
recent AS ({RECENT_MESSAGES_SQL}),
base AS (
    SELECT s.user_id, s.segment_id, p.lifecycle_stage, x.suppression_reason,
           coalesce(r.recent_messages, 0) AS recent_messages, {first_open_channel_sql(channels)} AS channel
    FROM journey.user_segments s
    JOIN journey.user_profiles p USING (user_id)
    LEFT JOIN preview_consents c USING (user_id)
    LEFT JOIN suppressed x USING (user_id)
    LEFT JOIN recent r USING (user_id)
),
flagged AS (
    SELECT *, CASE
        WHEN NOT segment_id = ANY(%(segments)s) THEN 'not_target_segment'
        WHEN cardinality(%(stages)s::text[]) > 0 AND NOT lifecycle_stage = ANY(%(stages)s) THEN 'not_target_stage'
        WHEN suppression_reason IS NOT NULL THEN 'suppressed'
        WHEN channel IS NULL THEN 'no_channel_consent'
        WHEN recent_messages >= %(cap)s THEN 'frequency_cap' END AS reason
    FROM base
)
SELECT reason, segment_id, CASE WHEN reason IS NULL THEN channel END AS channel,
       count(*) AS users,
       count(*) FILTER (WHERE reason IS NULL AND {HOLDOUT_DRAW_SQL} < %(fraction)s) AS held_out
FROM flagged GROUP BY 1, 2, 3"""


def consent_csv(settings: Settings, channels: tuple[str, ...]) -> bytes:
    """Users who opted in to one of `channels` (consent channels only) as CSV: user_id + CONSENT_COLUMNS.

    Only those rows matter: a user missing from the table has no consent (as in the DAG's left join
    with coalesce to false). Empty when the dimension is absent or no consent channel is asked for.
    """
    path = lake.local_path(lake.path(settings, lake.CURATED_USERS))
    wanted = [f"consent_{c}" for c in channels if c in CONSENT_CHANNELS]
    if not wanted or not os.path.exists(path):
        return b""
    table = pads.dataset(path, format="parquet").to_table(
        columns=["user_id", *CONSENT_COLUMNS],
        filter=functools.reduce(operator.or_, [pads.field(c) == True for c in wanted]))  # noqa: E712 (an expression)
    buffer = io.BytesIO()
    pacsv.write_csv(table, buffer, pacsv.WriteOptions(include_header=False))
    return buffer.getvalue()


def load_consents(conn, settings: Settings, channels: tuple[str, ...]) -> None:
    """The opted-in users' flags into the temporary table preview_consents (dropped at the end of the transaction)."""
    columns = ", ".join(f"{c} boolean" for c in CONSENT_COLUMNS)
    with conn.cursor() as cur:
        cur.execute(f"CREATE TEMPORARY TABLE preview_consents (user_id text, {columns}) ON COMMIT DROP")
        cur.copy_expert("COPY preview_consents FROM STDIN WITH (FORMAT csv)", io.BytesIO(consent_csv(settings, channels)))
        cur.execute("ANALYZE preview_consents")


def known_segments(conn) -> dict[int, str]:
    """{segment_id: name} of the latest published snapshot."""
    with conn.cursor() as cur:
        cur.execute(KNOWN_SEGMENTS_SQL)
        return dict(cur.fetchall())


@dataclass(frozen=True)
class AudienceRow:
    """Users sharing one exclusion reason (None = eligible), segment and channel, and how many are held out."""

    reason: str | None
    segment_id: int
    channel: str | None
    users: int
    held_out: int


def count_audience(conn, settings: Settings, params: CampaignParams, segment_ids: tuple[int, ...]) -> list[AudienceRow]:
    """The grouped audience of the campaign over the published tables."""
    load_consents(conn, settings, params.channels)
    values = {"segments": list(segment_ids), "stages": list(params.lifecycle_stages), "cap": params.frequency_cap,
              "fraction": params.holdout_fraction, "campaign_id": params.campaign_id, "start": params.start_time,
              "since": params.start_time - FREQUENCY_WINDOW, "until": params.start_time}
    with conn.cursor() as cur:
        cur.execute(audience_sql(params.channels), values)
        return [AudienceRow(*row) for row in cur.fetchall()]


def funnel(rows: list[AudienceRow]) -> list[dict]:
    """Users left after each exclusion, in the rules' order: [{step, excluded, remaining}]."""
    remaining = sum(r.users for r in rows)
    steps = [{"step": "snapshot users", "excluded": 0, "remaining": remaining}]
    for reason in EXCLUSION_REASONS:
        excluded = sum(r.users for r in rows if r.reason == reason)
        remaining -= excluded
        steps.append({"step": reason, "excluded": excluded, "remaining": remaining})
    return steps


def coupon_bounds(params: CampaignParams, treated: int) -> dict:
    """Coupons and their expected cost against the budget: bounds from the catalog (the run allocates)."""
    cheapest = min(o.expected_cost for o in params.coupons)
    wanted = treated * params.max_coupons_per_user
    affordable = math.floor(params.budget / cheapest + 1e-9)
    coupons = min(wanted, affordable)
    return {"most_coupons": coupons, "coupons_wanted": wanted, "cheapest_cost": cheapest,
            "cost_at_most": round(min(params.budget, coupons * max(o.expected_cost for o in params.coupons)), 2),
            "budget": params.budget, "budget_binds": affordable < wanted,
            "expected_incremental_revenue": RUN_COMPUTES, "coupons_by_offer": RUN_COMPUTES}


def segment_rows(rows: list[AudienceRow], chosen: dict[int, str], params: CampaignParams) -> list[dict]:
    """Per targeted segment: eligible, held out, treated and its budget share (when one is set)."""
    shares = {sid: share for key, share in params.segment_budget_shares.items()
              for sid, name in chosen.items() if key in (name, str(sid))}
    out = []
    for sid, name in sorted(chosen.items()):
        eligible = sum(r.users for r in rows if r.reason is None and r.segment_id == sid)
        held = sum(r.held_out for r in rows if r.reason is None and r.segment_id == sid)
        share = shares.get(sid)
        out.append({"segment_id": sid, "segment_name": name, "eligible": eligible, "holdout": held,
                    "treated": eligible - held, "budget_share": share,
                    "budget": None if share is None else round(params.budget * share, 2)})
    return out


def preview(conn, settings: Settings, params: CampaignParams) -> dict:
    """Everything the builder shows before launch (see the module docstring)."""
    chosen = resolve_segments(params, known_segments(conn))
    rows = count_audience(conn, settings, params, tuple(chosen))
    eligible = sum(r.users for r in rows if r.reason is None)
    held = sum(r.held_out for r in rows)
    channels = {c: sum(r.users for r in rows if r.reason is None and r.channel == c) for c in params.channels}
    return {"campaign_id": params.campaign_id, "users": sum(r.users for r in rows), "eligible": eligible,
            "excluded_by_reason": {reason: sum(r.users for r in rows if r.reason == reason)
                                   for reason in EXCLUSION_REASONS},
            "funnel": funnel(rows), "eligible_by_channel": channels, "holdout": held, "treated": eligible - held,
            "holdout_fraction": params.holdout_fraction, "segments": segment_rows(rows, chosen, params),
            "coupons": coupon_bounds(params, eligible - held), "currency": campaign_currency()}
