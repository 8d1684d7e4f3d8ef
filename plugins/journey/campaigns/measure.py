"""Measure published campaign runs: users from the warehouse, their window events from the lake (Spark).

For each run (`runs_to_measure`): the treated users (coupon or ad assignments of the run) and the
held-out users (journey.campaign_holdout) with their segment and coupon; the curated events of
those users in [start_time, start_time + attribution window) summed per user (Spark); the
breakdown of campaigns/results.py; one publish per run into journey.campaign_results under the
campaign's publish lock (a rerun at the same measured_at replaces its rows).

The run's exposures (journey.exposures, reported by senders through `POST /v1/exposures`) in the
same window give the exposure-based estimate beside the assignment-based one (`exposed_users`).

The attribution window is the campaign's own (`attribution_window_days` in its stored params),
else the window given here (runs published before the field existed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd
import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from journey import lake, warehouse
from journey.campaigns.outcomes import write_outcomes
from journey.campaigns.results import ASSIGNED_COLUMNS, RESULT_COLUMNS, Window, per_user_rows, result_rows
from journey.config import Settings
from journey.errors import InputError
from journey.schemas import CURATED_EVENT_COLUMNS, spark_schema

RUN = "campaign_id = %(campaign_id)s AND run_id = %(run_id)s"
RUNS_SQL = """SELECT c.campaign_id, c.run_id, c.start_time,
       coalesce((c.params->>'attribution_window_days')::int, %(window_days)s) AS window_days
FROM journey.campaigns c
LEFT JOIN journey.campaign_runs_current r USING (campaign_id, run_id)
WHERE (%(campaign_id)s::text IS NULL OR c.campaign_id = %(campaign_id)s)
  AND (%(run_id)s::text IS NOT NULL OR %(campaign_id)s::text IS NULL OR r.run_id IS NOT NULL)
  AND (%(run_id)s::text IS NULL OR c.run_id = %(run_id)s)
  AND (%(campaign_id)s::text IS NOT NULL OR (c.start_time <= %(now)s AND c.start_time
       + make_interval(days => coalesce((c.params->>'attribution_window_days')::int, %(window_days)s))
       > %(now)s - make_interval(days => %(recent_days)s)))
ORDER BY c.campaign_id, c.start_time, c.run_id"""
ASSIGNED_SQL = f"""WITH names AS (
    SELECT segment_id, max(segment_name) AS segment_name FROM journey.campaign_audience WHERE {RUN} GROUP BY segment_id
), users AS (
    SELECT user_id, 'treated' AS arm, segment_id, offer_name, kind, offer_value, coupon_code
    FROM journey.coupon_assignments WHERE {RUN}
    UNION ALL
    SELECT a.user_id, 'treated', a.segment_id, NULL, NULL, NULL, NULL FROM journey.ad_assignments a
    WHERE a.campaign_id = %(campaign_id)s AND a.run_id = %(run_id)s AND NOT EXISTS (SELECT 1 FROM journey.coupon_assignments c
        WHERE c.campaign_id = a.campaign_id AND c.run_id = a.run_id AND c.user_id = a.user_id)
    UNION ALL
    SELECT user_id, 'holdout', segment_id, NULL, NULL, NULL, NULL FROM journey.campaign_holdout WHERE {RUN}
)
SELECT u.user_id, u.arm, u.segment_id, n.segment_name, u.offer_name, u.kind, u.offer_value, u.coupon_code
FROM users u LEFT JOIN names n USING (segment_id) ORDER BY u.user_id, u.offer_name"""
EXPOSED_SQL = """SELECT DISTINCT user_id FROM journey.exposures
WHERE campaign_id = %(campaign_id)s AND (run_id = %(run_id)s OR run_id IS NULL)
  AND exposed_at >= %(start)s AND exposed_at < %(end)s"""


@dataclass(frozen=True)
class CampaignRun:
    """A published run to measure and its attribution window length."""

    campaign_id: str
    run_id: str
    start_time: datetime
    window_days: int


def runs_to_measure(conn, campaign_id: str | None, run_id: str | None, window_days: int, recent_days: int,
                    now: datetime) -> list[CampaignRun]:
    """The runs to measure: one run, a campaign's current run, or every run whose window is open or
    closed within `recent_days` (and has started). A named campaign or run that is not published fails."""
    if run_id and not campaign_id:
        raise InputError("campaign results: run_id needs campaign_id too")
    rows = warehouse.fetch_all(conn, RUNS_SQL, {"campaign_id": campaign_id or None, "run_id": run_id or None,
                                                "window_days": window_days, "recent_days": recent_days, "now": now})
    if campaign_id and not rows:
        what = f"run {run_id!r} of campaign {campaign_id!r}" if run_id else f"campaign {campaign_id!r}"
        raise InputError(f"campaign results: {what} is not published in journey.campaigns (dry runs are not)")
    return [CampaignRun(*row) for row in rows]


def assigned_users(conn, run: CampaignRun) -> pd.DataFrame:
    """ASSIGNED_COLUMNS of the run: treated users (one row per coupon, or one without) and held-out users."""
    rows = warehouse.fetch_all(conn, ASSIGNED_SQL, {"campaign_id": run.campaign_id, "run_id": run.run_id})
    return pd.DataFrame(rows, columns=list(ASSIGNED_COLUMNS))


def exposed_users(conn, run: CampaignRun, window: Window) -> list[str] | None:
    """Users with an exposure of the run in [window.start, window.end) (journey.exposures); None without any.

    An exposure belongs to the run when it names the run, or names no run and falls in the run's window.
    """
    rows = warehouse.fetch_all(conn, EXPOSED_SQL, {"campaign_id": run.campaign_id, "run_id": run.run_id,
                                                   "start": window.start, "end": window.end})
    return [user for (user,) in rows] or None


def window_events(spark: SparkSession, settings: Settings, users: pd.DataFrame, window: Window) -> DataFrame:
    """Curated events of the measured users in [window.start, window.end) (older partitions: null coupon_code)."""
    events = spark.read.schema(spark_schema(CURATED_EVENT_COLUMNS)).parquet(lake.path(settings, lake.CURATED_EVENTS))
    start, end = window.start.astimezone(UTC), window.end.astimezone(UTC)
    measured = spark.createDataFrame(users[["user_id"]].drop_duplicates(), "user_id string")
    return (events.where(F.col("event_date").between(start.date(), end.date()))
            .where((F.col("event_time") >= F.lit(start)) & (F.col("event_time") < F.lit(end)))
            .join(measured, "user_id"))


def user_outcomes(events: DataFrame) -> pd.DataFrame:
    """user_id, orders (distinct sessions with a purchase), revenue (price × quantity) of the buyers."""
    bought = events.where(F.col("event_type") == "purchase")
    return bought.groupBy("user_id").agg(
        F.countDistinct("session_id").alias("orders"),
        F.sum(F.coalesce(F.col("price"), F.lit(0.0)) * F.coalesce(F.col("quantity"), F.lit(1))).alias("revenue"),
    ).toPandas()


def user_redemptions(events: DataFrame) -> pd.DataFrame:
    """Per user and redeemed code: redemptions, the sum of the redeem events' prices, those without one."""
    redeemed = events.where((F.col("event_type") == "coupon_redeem") & F.col("coupon_code").isNotNull())
    return redeemed.groupBy("user_id", "coupon_code").agg(
        F.count("*").alias("redemptions"), F.coalesce(F.sum("price"), F.lit(0.0)).alias("priced_discount"),
        F.sum(F.col("price").isNull().cast("int")).alias("unpriced"),
    ).toPandas()


def measure_run(spark: SparkSession, settings: Settings, conn, run: CampaignRun, measured_at: datetime,
                margin_rate: float) -> pd.DataFrame:
    """Result rows of one run at `measured_at` (not published)."""
    window = Window(run.start_time, run.window_days, measured_at)
    users = assigned_users(conn, run)
    if users.empty:
        raise InputError(f"campaign results: run {run.run_id!r} of campaign {run.campaign_id!r} has no assigned "
                         f"or held-out users in the warehouse")
    events = window_events(spark, settings, users, window).cache()
    try:
        rows = per_user_rows(users, user_outcomes(events), user_redemptions(events), exposed_users(conn, run, window))
    finally:
        events.unpersist()
    write_outcomes(settings, run.campaign_id, run.run_id, rows, window.provisional)
    return result_rows(run.campaign_id, run.run_id, window, rows, margin_rate)


def publish_results(conn, run: CampaignRun, frame: pd.DataFrame) -> int:
    """One measurement of a run into journey.campaign_results (replacing the same measured_at)."""
    measured_at = frame["measured_at"].iloc[0]
    load = warehouse.TableLoad("campaign_results", pa.Table.from_pandas(frame, preserve_index=False),
                               list(RESULT_COLUMNS), f"{RUN} AND measured_at = %(measured_at)s",
                               {"campaign_id": run.campaign_id, "run_id": run.run_id, "measured_at": measured_at})
    return warehouse.publish(conn, [load], lock=f"campaign {run.campaign_id}")["campaign_results"]


def exposure_note(row) -> str:
    """'; N treated users exposed' and a holdout leak warning; empty without exposures."""
    if pd.isna(row["exposed_users"]):
        return ""
    leak = row["holdout_exposed_users"]
    return (f"; {int(row['exposed_users']):,} treated users exposed"
            + (f"; WARNING {int(leak):,} held-out users exposed (holdout leak)" if leak else ""))


def describe(frame: pd.DataFrame) -> str:
    """One line about a run's campaign-level result."""
    row = frame[frame["level"] == "campaign"].iloc[0]
    lift = ("no lift (an arm is empty)" if pd.isna(row["rate_lift"]) else
            f"conversion lift {row['rate_lift']:+.2%} [{row['rate_lift_low']:+.2%}, {row['rate_lift_high']:+.2%}]")
    return (f"campaign results {row['campaign_id']} {row['run_id']}: {row['treated_users']:,} treated, {row['holdout_users']:,} held out; "
            f"{lift}{exposure_note(row)}{' (provisional)' if row['provisional'] else ''}")


def measure_campaigns(spark: SparkSession, settings: Settings, campaign_id: str | None = None,
                      run_id: str | None = None, window_days: int = 14, recent_days: int = 7,
                      margin_rate: float | None = None, now: datetime | None = None) -> dict[str, int]:
    """Measure and publish every selected run; rows published per run id."""
    from journey.campaigns.steps import margin_rate as products_margin

    now = (now or datetime.now(UTC)).replace(microsecond=0)
    margin = products_margin(str(settings.inbox / "products.csv")) if margin_rate is None else margin_rate
    published = {}
    with warehouse.connect(settings) as conn:
        runs = runs_to_measure(conn, campaign_id, run_id, window_days, recent_days, now)
        print(f"campaign results: {len(runs)} run(s) to measure at {now.isoformat()}, margin rate {margin:.2f}")
        for run in runs:
            frame = measure_run(spark, settings, conn, run, now, margin)
            published[run.run_id] = publish_results(conn, run, frame)
            print(f"{describe(frame)}; {published[run.run_id]} rows published")
    return published
