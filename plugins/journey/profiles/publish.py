"""Publish one daily snapshot from the lake to the warehouse, as one atomic table set.

History tables (segment_history, segment_summary, segment_transitions) replace the rows of
their snapshot date. Current tables (user_profiles, user_segments) are replaced whole, but
only when the snapshot is not older than what they already hold, so a backfill of an old
date never rolls the current view back.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import date

import pyarrow as pa
import pyarrow.dataset as ds

from journey import lake, warehouse
from journey.config import Settings
from journey.profiles.build import PROFILE_COLUMNS

log = logging.getLogger(__name__)

SNAPSHOT = "snapshot_date = %(snapshot_date)s"
RUN = "run_id = %(run_id)s"


def _json_text(column: pa.Array) -> pa.Array:
    """Map/struct values as JSON text for jsonb columns."""
    return pa.array([None if v is None else json.dumps(dict(v), sort_keys=True) for v in column.to_pylist()],
                    pa.string())


def snapshot_batches(path: str, constants: dict[str, object], columns: list[str]) -> Iterator[pa.RecordBatch]:
    """Record batches of a lake snapshot with constant columns added and maps as JSON."""
    dataset = ds.dataset(lake.local_path(path), format="parquet", partitioning=None)
    for batch in dataset.to_batches():
        arrays = {}
        for name in columns:
            if name in constants:
                arrays[name] = pa.array([constants[name]] * batch.num_rows)
            elif pa.types.is_map(batch.schema.field(name).type):
                arrays[name] = _json_text(batch.column(name))
            else:
                arrays[name] = batch.column(name)
        yield pa.RecordBatch.from_pydict(arrays)


def ingest_tables(summary: dict) -> list[warehouse.TableLoad]:
    """ingest_runs and quarantine_summary loads from an ingest run's summary."""
    dates = summary.get("event_dates") or [None]
    run = pa.Table.from_pylist([{
        "run_id": summary["run_id"], "dataset": summary["dataset"], "source": summary["source"],
        "format": summary["format"], "ingested_at": summary["ingested_at"],
        "rows_read": summary["rows_read"], "curated": summary["curated"],
        "quarantined": summary["quarantined"], "duplicates": summary["duplicates"],
        "min_event_date": min(d for d in dates if d) if dates[0] else None,
        "max_event_date": max(d for d in dates if d) if dates[0] else None,
    }])
    reasons = pa.Table.from_pylist(
        [{"run_id": summary["run_id"], "dataset": summary["dataset"], "reason": r, "rows": n}
         for r, n in summary["by_reason"].items()],
        schema=pa.schema([("run_id", pa.string()), ("dataset", pa.string()), ("reason", pa.string()),
                          ("rows", pa.int64())]),
    )
    params = {"run_id": summary["run_id"]}
    return [
        warehouse.TableLoad("ingest_runs", run, run.column_names, RUN, params),
        warehouse.TableLoad("quarantine_summary", reasons, reasons.column_names, RUN, params),
    ]


def snapshot_tables(settings: Settings, snapshot_date: date, run_id: str, include_current: bool) -> list[warehouse.TableLoad]:
    """Loads for the profile and segment tables of one snapshot."""
    constants = {"snapshot_date": snapshot_date, "run_id": run_id}
    params = {"snapshot_date": snapshot_date}

    def load(table: str, dataset: str, columns: list[str], replace: str | None) -> warehouse.TableLoad:
        path = lake.snapshot_path(settings, dataset, snapshot_date)
        return warehouse.TableLoad(table, snapshot_batches(path, constants, columns), columns, replace, params)

    loads = [
        load("segment_history", lake.SEGMENTS, ["snapshot_date", "user_id", "segment_id", "run_id"], SNAPSHOT),
        load("segment_summary", lake.SEGMENT_SUMMARY, SUMMARY_COLUMNS, SNAPSHOT),
        load("segment_transitions", lake.SEGMENT_TRANSITIONS, TRANSITION_COLUMNS, SNAPSHOT),
    ]
    if include_current:
        loads += [
            load("user_profiles", lake.PROFILES, [*PROFILE_COLUMNS, "run_id"], None),
            load("user_segments", lake.SEGMENTS,
                 ["user_id", "segment_id", "segment_name", "snapshot_date", "run_id"], None),
        ]
    return loads


SUMMARY_COLUMNS = [
    "snapshot_date", "segment_id", "segment_name", "users", "user_share", "revenue", "revenue_share",
    "avg_recency_days", "avg_frequency", "avg_monetary", "avg_conversion_rate", "top_category",
    "centroid", "k", "silhouette", "run_id",
]
TRANSITION_COLUMNS = ["snapshot_date", "previous_snapshot_date", "from_segment_id", "to_segment_id", "users", "run_id"]


def current_snapshot(conn) -> date | None:
    """Snapshot date the current tables hold (None when empty)."""
    with conn.cursor() as cur:
        cur.execute("SELECT max(snapshot_date) FROM journey.user_segments")
        return cur.fetchone()[0]


DAILY_PUBLISH_LOCK = "the daily snapshot"  # one daily publish at a time, whatever its date


def publish_daily(settings: Settings, snapshot_date: date, run_id: str, ingest_run_id: str | None = None) -> dict[str, int]:
    """Publish a daily snapshot (and its ingest accounting) in one transaction; rows per table.

    The transaction first takes the daily publish lock, so the snapshot the current tables hold
    is read after any other daily publish has committed, and the two never interleave.
    """
    with warehouse.connect(settings) as conn:
        warehouse.hold_publish_lock(conn, DAILY_PUBLISH_LOCK)
        held = current_snapshot(conn)
        include_current = held is None or held <= snapshot_date
        if not include_current:
            log.warning("current tables hold %s, newer than %s: publishing history only", held, snapshot_date)
        loads = snapshot_tables(settings, snapshot_date, run_id, include_current)
        if ingest_run_id:
            loads = ingest_tables(lake.read_json(lake.run_summary_path(settings, "ingest_events", ingest_run_id))) + loads
        return warehouse.publish(conn, loads)
