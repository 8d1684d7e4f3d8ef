"""Ingest through the real file readers and Spark: reasons, accounting, duplicates, REES46."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from journey import lake
from journey.ingest.events import IngestError, run_ingest

NOW = datetime(2026, 10, 31, 12, 0, tzinfo=UTC)
SAMPLE = Path(__file__).resolve().parents[3] / "shared" / "data" / "rees46_2019-10-01_sample.csv"
HEADER = "event_id,event_time,user_id,session_id,event_type,product_id,category,brand,price,quantity,channel"

GOOD = [
    "g1,2026-10-30T10:00:00Z,u1,s1,view,p1,Electronics.Audio,Acme,10.5,1,web",
    "g2,2026-10-30T10:01:00+00:00,u1,s1,add_to_cart,p1,electronics.audio,acme,10.5,,app",
    "g3,2026-10-31 09:00:00 UTC,u2,s2,purchase,p2,home.kitchen,,20,2,",
    "g3,2026-10-31 09:00:00 UTC,u2,s2,purchase,p2,home.kitchen,,20,2,",  # exact duplicate
]
BAD = {
    "malformed_row": "b1,2026-10-30T10:00:00Z,u1,s1,view",
    "missing_event_time": "b2,,u1,s1,view,p1,c,b,1,1,web",
    "unparsable_timestamp": "b3,31/10/2026,u1,s1,view,p1,c,b,1,1,web",
    "timestamp_without_zone": "b4,2026-10-30 10:00:00,u1,s1,view,p1,c,b,1,1,web",
    "future_timestamp": "b5,2027-10-30T10:00:00Z,u1,s1,view,p1,c,b,1,1,web",
    "missing_user_id": "b6,2026-10-30T10:00:00Z,,s1,view,p1,c,b,1,1,web",
    "unknown_event_type": "b7,2026-10-30T10:00:00Z,u1,s1,wishlist_add,p1,c,b,1,1,web",
    "invalid_price": "b8,2026-10-30T10:00:00Z,u1,s1,view,p1,c,b,NaN,1,web",
    "missing_price": "b9,2026-10-30T10:00:00Z,u1,s1,purchase,p1,c,b,,1,web",
    "negative_price": "b10,2026-10-30T10:00:00Z,u1,s1,view,p1,c,b,-3,1,web",
    "invalid_quantity": "b11,2026-10-30T10:00:00Z,u1,s1,purchase,p1,c,b,5,0,web",
}


def write_csv(folder: Path, name: str, lines: list[str]) -> Path:
    """Write a canonical CSV file and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def batch(tmp_path):
    """A folder with one canonical CSV holding good, duplicate and bad rows."""
    return write_csv(tmp_path / "in", "events.csv", GOOD + list(BAD.values()))


def test_every_bad_row_is_quarantined_with_its_reason(spark, settings, batch):
    result = run_ingest(spark, settings, str(batch.parent), "canonical", "run-1", now=NOW)
    assert result.by_reason == {reason: 1 for reason in BAD}
    quarantined = spark.read.parquet(result.quarantine_path).select("reason", "source_file", "raw", "detail")
    rows = {r["reason"]: r for r in quarantined.collect()}
    assert set(rows) == set(BAD)
    assert rows["negative_price"]["detail"] == "price -3 is below zero"
    assert rows["unparsable_timestamp"]["detail"].startswith("event_time '31/10/2026' is not")
    assert rows["malformed_row"]["raw"] == BAD["malformed_row"]
    assert all(r["source_file"].endswith("events.csv") for r in rows.values())


def test_accounting_adds_up_and_rows_are_typed(spark, settings, batch):
    result = run_ingest(spark, settings, str(batch), "canonical", "run-1", now=NOW)
    assert (result.rows_read, result.curated, result.quarantined, result.duplicates) == (15, 3, 11, 1)
    assert result.rows_read == result.curated + result.quarantined + result.duplicates
    curated = spark.read.parquet(lake.path(settings, lake.CURATED_EVENTS))
    rows = {r["event_id"]: r for r in curated.collect()}
    assert sorted(rows) == ["g1", "g2", "g3"]
    assert rows["g1"]["category"] == "electronics.audio" and rows["g1"]["brand"] == "acme"
    assert rows["g2"]["quantity"] == 1 and rows["g2"]["channel"] == "app"
    assert rows["g3"]["quantity"] == 2 and rows["g3"]["price"] == 20.0 and rows["g3"]["channel"] == "unknown"
    assert rows["g3"]["event_time"] == datetime(2026, 10, 31, 9, 0)  # session time zone is UTC
    assert sorted(str(d) for d in curated.select("event_date").distinct().toPandas()["event_date"]) == [
        "2026-10-30", "2026-10-31"]


def test_rerun_of_the_same_batch_adds_nothing(spark, settings, batch):
    run_ingest(spark, settings, str(batch), "canonical", "run-1", now=NOW)
    again = run_ingest(spark, settings, str(batch), "canonical", "run-2", now=NOW)
    assert (again.curated, again.already_ingested, again.duplicates_in_batch) == (0, 4, 0)
    assert spark.read.parquet(lake.path(settings, lake.CURATED_EVENTS)).count() == 3


def test_new_events_merge_into_existing_partitions(spark, settings, tmp_path, batch):
    run_ingest(spark, settings, str(batch), "canonical", "run-1", now=NOW)
    later = write_csv(tmp_path / "later", "more.csv", ["g4,2026-10-30T11:00:00Z,u3,s9,view,p1,c,b,1,1,web"])
    result = run_ingest(spark, settings, str(later), "canonical", "run-2", now=NOW)
    assert result.curated == 1
    curated = spark.read.parquet(lake.path(settings, lake.CURATED_EVENTS))
    assert curated.where(F.col("event_date") == "2026-10-30").count() == 3


def test_missing_column_names_the_file(spark, settings, tmp_path):
    path = tmp_path / "bad" / "events.csv"
    path.parent.mkdir()
    path.write_text("event_time;user_id;event_type\n2026-10-30T10:00:00Z;u1;view\n")
    with pytest.raises(IngestError, match=r"events\.csv: missing column\(s\) event_time, user_id, event_type.*delimiter"):
        run_ingest(spark, settings, str(path), "canonical", "run-x", now=NOW)


def test_missing_source_and_unknown_format(spark, settings, tmp_path):
    with pytest.raises(IngestError, match="input not found"):
        run_ingest(spark, settings, str(tmp_path / "nope"), "canonical", "r", now=NOW)
    with pytest.raises(IngestError, match="unknown format 'xml'"):
        run_ingest(spark, settings, str(tmp_path), "xml", "r", now=NOW)


@pytest.mark.skipif(not SAMPLE.exists(), reason=f"REES46 sample not found at {SAMPLE}")
def test_rees46_sample_is_fully_accounted(spark, settings):
    result = run_ingest(spark, settings, str(SAMPLE), "rees46", "rees46-1", now=NOW)
    # 17,434 data lines; five are exact repeats (one line appears 4 times, two twice).
    assert (result.rows_read, result.curated, result.quarantined, result.duplicates) == (17434, 17429, 0, 5)
    curated = spark.read.parquet(lake.path(settings, lake.CURATED_EVENTS))
    counts = {r["event_type"]: r["count"] for r in curated.groupBy("event_type").count().collect()}
    assert counts == {"view": 17051, "add_to_cart": 164, "purchase": 214}
    first = curated.where(F.col("session_id") == "72d76fde-8bb3-4e00-8c23-a032dfed738c").orderBy("event_time").first()
    assert (first["user_id"], first["product_id"], first["brand"], first["price"]) == (
        "541312140", "44600062", "shiseido", 35.79)
    assert first["event_time"] == datetime(2019, 10, 1, 0, 0, 0)
