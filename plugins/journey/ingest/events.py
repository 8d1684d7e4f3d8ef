"""Ingest event files into curated, typed, de-duplicated events; reject bad rows with a reason.

Flow: list the source files → read every column as text (so nothing is lost to a parse
error) → map the feed's format to the canonical columns (`journey.ingest.adapters`) → classify each
row (first failing rule gives its reason) → quarantine the rejected rows → de-duplicate the
valid rows by event_id against this batch and the curated lake → replace the touched
`event_date` partitions. Accounting: rows read = curated + quarantined + duplicates.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from journey import lake
from journey.config import Settings
from journey.errors import InputError
from journey.ingest.adapters import (
    FORMATS,
    ZONE_SUFFIX,
    content_event_id,
    feed_format,
    parsed_price,
    parsed_quantity,
    to_canonical,
)
from journey.ingest.sources import SourceError, read_source
from journey.schemas import CURATED_EVENT_COLUMNS, EVENT_COLUMNS, EVENT_TYPES, TIME_FLOOR, spark_schema

log = logging.getLogger(__name__)

FUTURE_TOLERANCE = timedelta(minutes=5)
PRICE_CEILING = 50_000.0  # same default as QualityParams.price_ceiling
PRICED_EVENT_TYPES = ("add_to_cart", "purchase", "return")


class IngestError(InputError):
    """A whole input (file, folder, format) cannot be ingested; the message says why."""


@dataclass
class IngestResult:
    """Accounting of one ingest run, written beside the data and published."""

    run_id: str
    dataset: str
    source: str
    format: str
    ingested_at: str
    rows_read: int
    curated: int
    quarantined: int
    duplicates: int
    duplicates_in_batch: int
    already_ingested: int
    by_reason: dict[str, int] = field(default_factory=dict)
    event_dates: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    curated_path: str = ""
    quarantine_path: str = ""
    mapping: str = ""  # mapping file of the `mapped` format
    time_floor: str = TIME_FLOOR.isoformat()  # earliest event day accepted (the mapping's timestamp.floor, if set)

    def as_dict(self) -> dict:
        """Plain dict for JSON."""
        return asdict(self)


def _parse_columns(df: DataFrame) -> DataFrame:
    """Add typed `_ts`, `_price`, `_quantity` parsed from the text columns."""
    return df.withColumns(
        {
            "_ts": F.trim(F.col("event_time")).try_cast("timestamp"),
            "_price": parsed_price(F.col("price")),
            "_quantity": parsed_quantity(F.col("quantity")),
        }
    )


def _blank(column: str) -> F.Column:
    """True when a text column is null or only whitespace."""
    return F.col(column).isNull() | (F.trim(F.col(column)) == "")


def _rules(now: datetime, floor: date) -> list[tuple[str, F.Column, F.Column]]:
    """(reason, failing condition, detail) in the order they are checked (`floor`: earliest UTC day accepted)."""
    ts_text = F.coalesce(F.col("event_time"), F.lit(""))
    price_text = F.coalesce(F.col("price"), F.lit(""))
    return [
        ("malformed_row", F.col("_corrupt_record").isNotNull(),
         F.coalesce(F.col("_malformed"),
                    F.concat(F.lit("line has the wrong number of fields: "), F.col("_corrupt_record")))),
        ("invalid_encoding", F.col("raw").contains("\ufffd"),
         F.lit("row holds bytes that are not UTF-8 text (shown as \ufffd in raw)")),
        ("missing_event_time", _blank("event_time"), F.lit("event_time is empty")),
        ("unparsable_timestamp", F.col("_ts").isNull(),
         F.concat(F.lit("event_time '"), ts_text, F.lit("' is not an ISO-8601 timestamp"))),
        ("timestamp_without_zone", ~F.trim(F.col("event_time")).rlike(ZONE_SUFFIX),
         F.concat(F.lit("event_time '"), ts_text, F.lit("' has no time zone (expected Z or +hh:mm)"))),
        ("future_timestamp", F.col("_ts") > F.lit(now + FUTURE_TOLERANCE),
         F.concat(F.lit("event_time '"), ts_text, F.lit(f"' is after ingest time {now.isoformat()}"))),
        ("timestamp_before_floor", F.col("_ts") < F.lit(datetime.combine(floor, time(), UTC)),
         F.concat(F.lit("event_time '"), ts_text, F.lit(f"' is before {floor.isoformat()}"))),
        ("missing_user_id", _blank("user_id"), F.lit("user_id is empty")),
        ("unknown_event_type", ~F.coalesce(F.col("event_type").isin(*EVENT_TYPES), F.lit(False)),
         F.concat(F.lit("event_type '"), F.coalesce(F.col("event_type"), F.lit("")),
                  F.lit(f"' is not one of {', '.join(EVENT_TYPES)}"))),
        ("invalid_price", (~_blank("price") & F.col("_price").isNull()) | F.isnan(F.col("_price"))
         | (F.abs(F.col("_price")) == float("inf")),
         F.concat(F.lit("price '"), price_text, F.lit("' is not a finite number"))),
        ("missing_price", F.col("event_type").isin(*PRICED_EVENT_TYPES) & F.col("_price").isNull(),
         F.concat(F.lit("price is empty on a "), F.col("event_type"), F.lit(" event"))),
        ("negative_price", F.col("_price") < 0,
         F.concat(F.lit("price "), price_text, F.lit(" is below zero"))),
        ("price_above_ceiling", F.col("_price") > PRICE_CEILING,
         F.concat(F.lit("price "), price_text, F.lit(f" is above the ceiling of {PRICE_CEILING:,.0f}"))),
        ("invalid_quantity", F.col("_quantity").isNull() | (F.col("_quantity") < 1),
         F.concat(F.lit("quantity '"), F.coalesce(F.col("quantity"), F.lit("")),
                  F.lit("' is not a whole number of at least 1"))),
    ]


def classify(df: DataFrame, now: datetime, floor: date = TIME_FLOOR) -> DataFrame:
    """Add `reason` and `detail` (null for a valid row): the first rule the row fails."""
    parsed = _parse_columns(df)
    reason, detail = F.lit(None).cast("string"), F.lit(None).cast("string")
    for code, failing, why in reversed(_rules(now, floor)):
        failing = F.coalesce(failing, F.lit(False))
        reason = F.when(failing, F.lit(code)).otherwise(reason)
        detail = F.when(failing, why).otherwise(detail)
    return parsed.withColumns({"reason": reason, "detail": detail})


def staged_rows(classified: DataFrame) -> DataFrame:
    """One narrow row per input row: the canonical typed columns, reason/detail, source file, raw text.

    The raw text (the row as JSON, tens of bytes per column) is kept for rejected rows only, so
    the batch that ingest keeps between its passes stays about as wide as the curated events;
    rows without an event_id get one from a hash of their raw text here, while it is still there.
    Typed columns of rejected rows are not used.
    """
    event_id = F.coalesce(F.nullif(F.trim(F.col("event_id")), F.lit("")), content_event_id(F.col("raw")))
    return classified.select(
        event_id.alias("event_id"),
        F.col("_ts").alias("event_time"),
        F.trim(F.col("user_id")).alias("user_id"),
        F.coalesce(F.nullif(F.trim(F.col("session_id")), F.lit("")), F.lit("unknown")).alias("session_id"),
        F.col("event_type"),
        F.nullif(F.trim(F.col("product_id")), F.lit("")).alias("product_id"),
        F.lower(F.coalesce(F.nullif(F.trim(F.col("category")), F.lit("")), F.lit("unknown"))).alias("category"),
        F.lower(F.nullif(F.trim(F.col("brand")), F.lit(""))).alias("brand"),
        F.col("_price").alias("price"),
        F.col("_quantity").alias("quantity"),
        F.lower(F.coalesce(F.nullif(F.trim(F.col("channel")), F.lit("")), F.lit("unknown"))).alias("channel"),
        F.nullif(F.trim(F.col("coupon_code")), F.lit("")).alias("coupon_code"),
        F.to_date(F.col("_ts")).alias("event_date"),
        F.col("source_file"),
        F.col("reason"),
        F.col("detail"),
        F.when(F.col("reason").isNotNull(), F.col("raw")).alias("raw"),
    )


def mark_duplicates(new: DataFrame, existing: DataFrame | None) -> DataFrame:
    """Union new rows with existing curated rows; flag the copy kept per event_id.

    Existing rows win (priority 0), then the earliest event in the batch; ties broken by
    source file and a hash of the row's values, so the choice does not depend on input order
    (rows that tie on all of these are the same event, whichever copy is kept).
    """
    batch = new.withColumn("_priority", F.lit(1))
    rows = batch
    if existing is not None:
        rows = existing.select(*batch.columns[:-1]).withColumn("_priority", F.lit(0)).unionByName(batch)
    row_key = F.xxhash64(*[F.col(c) for c in EVENT_COLUMNS])
    order = Window.partitionBy("event_id").orderBy("_priority", "event_time", "source_file", row_key)
    return rows.withColumns(
        {"_rank": F.row_number().over(order), "_first_priority": F.first("_priority").over(order)}
    )


def _existing_events(spark: SparkSession, curated: str, dates: list[str]) -> DataFrame | None:
    """Curated rows of the given event dates, or None when there are none yet."""
    present = set(lake.list_partitions(spark, curated, "event_date")) & set(dates)
    if not present:
        return None
    contract = spark_schema(CURATED_EVENT_COLUMNS)  # explicit: partitions written before coupon_code read it as null
    existing = spark.read.schema(contract).parquet(curated).where(F.col("event_date").cast("string").isin(*present))
    return existing.withColumn("source_file", F.lit("(curated)"))


def _reason_counts(staged: DataFrame) -> dict[str | None, int]:
    """Rows per reason (None = valid)."""
    return {row["reason"]: row["count"] for row in staged.groupBy("reason").count().collect()}


def _quarantine(staged: DataFrame, run_id: str, target: str) -> None:
    """Write the rejected rows, with their reason and raw text, to the run's quarantine path."""
    rejected = staged.where(F.col("reason").isNotNull()).select(
        F.lit(run_id).alias("run_id"), "source_file", "reason", "detail", "raw"
    )
    lake.write_parquet_atomic(rejected, target)


def run_ingest(
    spark: SparkSession,
    settings: Settings,
    source: str,
    fmt: str,
    run_id: str,
    now: datetime | None = None,
    mapping: str | None = None,
    rows_are_distinct: bool = False,
) -> IngestResult:
    """Ingest one batch of event files and return its accounting.

    `mapping`: YAML file of the `mapped` format; `rows_are_distinct`: identical lines are distinct events
    (identity: file + line number) instead of duplicates.
    """
    if fmt not in FORMATS:
        raise IngestError(f"unknown format '{fmt}': expected one of {', '.join(FORMATS)}")
    now = now or datetime.now(UTC)
    try:
        feed = feed_format(fmt, mapping, rows_are_distinct)
        raw, files = read_source(spark, source, feed)
    except (SourceError, ValueError) as exc:
        raise IngestError(str(exc)) from exc
    staged = staged_rows(classify(to_canonical(raw, feed), now, feed.time_floor)).persist(StorageLevel.MEMORY_AND_DISK)
    counts = _reason_counts(staged)
    if not counts:
        staged.unpersist()
        raise IngestError(f"no data rows in {source}: {len(files)} file(s) hold a header only")
    quarantine_target = lake.quarantine_path(settings, "events", run_id)
    _quarantine(staged, run_id, quarantine_target)

    valid = staged.where(F.col("reason").isNull()).select(*EVENT_COLUMNS, "event_date", "source_file")
    curated_path = lake.path(settings, lake.CURATED_EVENTS)
    dates = [r[0].isoformat() for r in valid.select("event_date").distinct().collect()]
    marked = mark_duplicates(valid, _existing_events(spark, curated_path, dates))
    marked = marked.persist(StorageLevel.MEMORY_AND_DISK)
    tally = _duplicate_tally(marked)
    kept = marked.where(F.col("_rank") == 1).select(*EVENT_COLUMNS, "event_date")
    if dates:
        lake.write_partitions_atomic(kept, curated_path, "event_date")
    lake.write_parquet_atomic(
        marked.where((F.col("_priority") == 1) & (F.col("_rank") > 1)).select(
            F.lit(run_id).alias("run_id"), "event_id", "source_file",
            F.to_json(F.struct(*EVENT_COLUMNS)).alias("raw"),
        ),
        lake.quarantine_path(settings, "events_duplicates", run_id),
    )
    marked.unpersist()
    staged.unpersist()
    quarantined = sum(n for reason, n in counts.items() if reason is not None)
    result = IngestResult(
        run_id=run_id,
        dataset="events",
        source=source,
        format=fmt,
        ingested_at=now.isoformat(),
        rows_read=sum(counts.values()),
        curated=tally["curated"],
        quarantined=quarantined,
        duplicates=tally["in_batch"] + tally["already"],
        duplicates_in_batch=tally["in_batch"],
        already_ingested=tally["already"],
        by_reason={k: v for k, v in sorted(counts.items(), key=lambda kv: -kv[1]) if k},
        event_dates=sorted(dates),
        files=files,
        curated_path=curated_path,
        quarantine_path=quarantine_target,
        mapping=mapping or "",
        time_floor=feed.time_floor.isoformat(),
    )
    lake.write_json(lake.run_summary_path(settings, "ingest_events", run_id), result.as_dict())
    return result


def _duplicate_tally(marked: DataFrame) -> dict[str, int]:
    """Counts of new rows kept, dropped as in-batch duplicates, and already ingested."""
    is_new = F.col("_priority") == 1
    row = marked.agg(
        F.sum(F.when(is_new & (F.col("_rank") == 1), 1).otherwise(0)).alias("curated"),
        F.sum(F.when(is_new & (F.col("_rank") > 1) & (F.col("_first_priority") == 1), 1).otherwise(0)).alias("in_batch"),
        F.sum(F.when(is_new & (F.col("_first_priority") == 0), 1).otherwise(0)).alias("already"),
    ).first()
    return {key: int(row[key] or 0) for key in ("curated", "in_batch", "already")}
