"""Inputs of a campaign run: the profile/segment snapshot, consents, and warehouse look-ups.

Warehouse look-ups (suppression list, earlier messages for the frequency cap, model scores)
are streamed with COPY ... TO STDOUT into a Parquet file of the run folder, so Spark reads
them like any lake input and the driver never holds them as Python objects.
"""

from __future__ import annotations

import io
import os
from datetime import date, datetime, timedelta

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from journey import lake, warehouse
from journey.config import Settings
from journey.errors import MissingInputError
from journey.schemas import USER_COLUMNS

FREQUENCY_WINDOW = timedelta(days=7)
SCORE_COLUMNS = {"user_id": pa.string(), "propensity": pa.float64(), "responsiveness": pa.float64(),
                 "predicted_scene": pa.string(), "scene_confidence": pa.float64(), "model_versions": pa.string()}

SUPPRESSED_SQL = """SELECT user_id, min(reason) AS suppression_reason FROM journey.suppression_list
WHERE expires_at IS NULL OR expires_at > %(start)s GROUP BY user_id"""
# Messages already planned for a user in the 7 days before this campaign starts, by other
# campaigns' current runs (a rerun of this campaign does not count against itself).
RECENT_MESSAGES_SQL = """SELECT user_id, count(*) AS recent_messages FROM journey.ad_assignments_current
WHERE campaign_id <> %(campaign_id)s AND send_at >= %(since)s AND send_at < %(until)s
GROUP BY user_id"""
SCORES_SQL = """SELECT DISTINCT ON (user_id) user_id, propensity, responsiveness, predicted_scene,
       scene_confidence, model_versions::text AS model_versions
FROM journey.user_scores WHERE snapshot_date <= %(snapshot)s
ORDER BY user_id, snapshot_date DESC, run_id DESC"""


def snapshot_users(spark: SparkSession, settings: Settings, snapshot_date: date) -> DataFrame:
    """Profiles of the snapshot with their segment (inner join: every profiled user has one)."""
    profiles_path = lake.snapshot_path(settings, lake.PROFILES, snapshot_date)
    segments_path = lake.snapshot_path(settings, lake.SEGMENTS, snapshot_date)
    for needed in (profiles_path, segments_path):
        if not lake.exists(spark, needed):
            raise MissingInputError(f"no snapshot at {needed}: run journey_daily_profiles for {snapshot_date} first")
    segments = spark.read.parquet(segments_path).select("user_id", "segment_id", "segment_name")
    return spark.read.parquet(profiles_path).join(segments, "user_id")


def consents(spark: SparkSession, settings: Settings) -> DataFrame:
    """user_id and consent_email/push/sms from the curated users dimension (empty when absent)."""
    path = lake.path(settings, lake.CURATED_USERS)
    columns = ["user_id", *[c for c in USER_COLUMNS if c.startswith("consent_")]]
    if not lake.exists(spark, path):
        return spark.createDataFrame([], ", ".join(f"{c} {'string' if c == 'user_id' else 'boolean'}"
                                                   for c in columns))
    return spark.read.parquet(path).select(*columns)


def table_exists(conn, table: str) -> bool:
    """True when journey.<table> exists (to_regclass: no error when it does not)."""
    rows = warehouse.fetch_all(conn, "SELECT to_regclass(%s) IS NOT NULL", (f"journey.{table}",))
    return bool(rows[0][0])


def export_query(conn, query: str, params: dict, schema: pa.Schema, target: str) -> int:
    """Stream a query's rows into a Parquet file (COPY TO STDOUT as CSV); returns the row count."""
    buffer = io.BytesIO()
    with conn.cursor() as cur:
        statement = cur.mogrify(query, params).decode("utf-8")
        cur.copy_expert(f"COPY ({statement}) TO STDOUT WITH (FORMAT csv, HEADER true)", buffer)
    buffer.seek(0)
    options = pacsv.ConvertOptions(column_types=schema, strings_can_be_null=True)
    table = pacsv.read_csv(buffer, convert_options=options) if buffer.getbuffer().nbytes else schema.empty_table()
    path = lake.local_path(target)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    pq.write_table(table.select(schema.names).cast(schema), path)
    return table.num_rows


def export_lookups(settings: Settings, run_folder: str, campaign_id: str, start: datetime,
                   snapshot_date: date) -> dict[str, int | bool]:
    """Suppression list, recent messages and (if the models have run) user scores into the run folder."""
    with warehouse.connect(settings) as conn:
        counts: dict[str, int | bool] = {
            "suppressed": export_query(conn, SUPPRESSED_SQL, {"start": start},
                                       pa.schema([("user_id", pa.string()), ("suppression_reason", pa.string())]),
                                       f"{run_folder}/lookups/suppressed.parquet"),
            "recently_messaged": export_query(
                conn, RECENT_MESSAGES_SQL, {"campaign_id": campaign_id, "since": start - FREQUENCY_WINDOW,
                                            "until": start},
                pa.schema([("user_id", pa.string()), ("recent_messages", pa.int64())]),
                f"{run_folder}/lookups/recent_messages.parquet"),
        }
        has_scores = table_exists(conn, "user_scores")
        counts["scores_table"] = has_scores
        counts["scored_users"] = export_query(conn, SCORES_SQL, {"snapshot": snapshot_date},
                                              pa.schema(SCORE_COLUMNS),
                                              f"{run_folder}/lookups/scores.parquet") if has_scores else 0
    return counts


def read_lookup(spark: SparkSession, run_folder: str, name: str) -> DataFrame | None:
    """One exported look-up as a DataFrame (None when it was not exported)."""
    path = f"{run_folder}/lookups/{name}.parquet"
    return spark.read.parquet(path) if lake.exists(spark, path) else None


def purchases(spark: SparkSession, settings: Settings, until: date) -> DataFrame:
    """(user_id, product_id) of every curated purchase up to the snapshot date."""
    events = spark.read.parquet(lake.path(settings, lake.CURATED_EVENTS))
    return (events.where((F.col("event_type") == "purchase") & (F.col("event_date") <= F.lit(until))
                         & F.col("product_id").isNotNull())
            .select("user_id", "product_id").distinct())
