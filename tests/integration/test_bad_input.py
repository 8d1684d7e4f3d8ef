"""The bad-input matrix: every defect gets a clear message or a quarantine reason, and
rows read = curated + quarantined + duplicates always holds."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from journey import lake
from journey.ingest.events import IngestError, run_ingest

NOW = datetime(2026, 10, 31, 12, 0, tzinfo=UTC)
HEADER = "event_id,event_time,user_id,session_id,event_type,product_id,category,brand,price,quantity,channel"
GOOD = "ok1,2026-10-30T10:00:00Z,u1,s1,view,p1,home.decor,acme,10,1,web"


def ingest_lines(spark, settings, tmp_path, lines: list[str], header: str = HEADER, run_id: str = "matrix"):
    """Write a CSV with the header and lines, ingest it, return the result."""
    path = tmp_path / "batch.csv"
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return run_ingest(spark, settings, str(path), "canonical", run_id, now=NOW)


def quarantined(spark, result) -> list[dict]:
    """The rows the run quarantined."""
    return [r.asDict() for r in spark.read.parquet(result.quarantine_path).collect()]


ROW_CASES = [
    ("wrong type", "x,2026-10-30T10:00:00Z,u1,s1,view,p1,c,b,ten,1,web", "invalid_price", "price 'ten' is not a finite number"),
    ("unparsable timestamp", "x,yesterday,u1,s1,view,p1,c,b,1,1,web", "unparsable_timestamp", "event_time 'yesterday'"),
    ("timestamp without zone", "x,2026-10-30T10:00:00,u1,s1,view,p1,c,b,1,1,web", "timestamp_without_zone", "has no time zone"),
    ("future timestamp", "x,2030-01-01T00:00:00Z,u1,s1,view,p1,c,b,1,1,web", "future_timestamp", "is after ingest time"),
    ("ancient timestamp", "x,1969-12-31T23:59:59Z,u1,s1,view,p1,c,b,1,1,web", "timestamp_before_floor", "before 1970-01-01"),
    ("negative price", "x,2026-10-30T10:00:00Z,u1,s1,view,p1,c,b,-1,1,web", "negative_price", "price -1 is below zero"),
    ("NaN price", "x,2026-10-30T10:00:00Z,u1,s1,view,p1,c,b,NaN,1,web", "invalid_price", "price 'NaN'"),
    ("absurd price", "x,2026-10-30T10:00:00Z,u1,s1,view,p1,c,b,99999999,1,web", "price_above_ceiling", "above the ceiling of 50,000"),
    ("zero quantity", "x,2026-10-30T10:00:00Z,u1,s1,purchase,p1,c,b,5,0,web", "invalid_quantity", "quantity '0'"),
    ("negative quantity", "x,2026-10-30T10:00:00Z,u1,s1,purchase,p1,c,b,5,-2,web", "invalid_quantity", "quantity '-2'"),
    ("unknown event type", "x,2026-10-30T10:00:00Z,u1,s1,like,p1,c,b,1,1,web", "unknown_event_type", "event_type 'like' is not one of"),
    ("null user_id", "x,2026-10-30T10:00:00Z,,s1,view,p1,c,b,1,1,web", "missing_user_id", "user_id is empty"),
    ("truncated last line", "x,2026-10-30T10:00:00Z,u1,s1,vi", "malformed_row", "wrong number of fields"),
]


@pytest.mark.parametrize(("case", "line", "reason", "detail"), ROW_CASES, ids=[c[0] for c in ROW_CASES])
def test_bad_row_is_quarantined_with_reason_and_file(spark, settings, tmp_path, case, line, reason, detail):
    result = ingest_lines(spark, settings, tmp_path, [GOOD, line])
    assert (result.rows_read, result.curated, result.quarantined, result.duplicates) == (2, 1, 1, 0)
    (row,) = quarantined(spark, result)
    assert row["reason"] == reason
    assert detail in row["detail"]
    assert row["source_file"].endswith("batch.csv")


def test_duplicate_event_id_is_counted_not_lost(spark, settings, tmp_path):
    result = ingest_lines(spark, settings, tmp_path, [GOOD, GOOD.replace("u1", "u2")])
    assert (result.rows_read, result.curated, result.quarantined, result.duplicates) == (2, 1, 0, 1)
    kept = spark.read.parquet(lake.quarantine_path(settings, "events_duplicates", "matrix")).collect()
    assert [r["event_id"] for r in kept] == ["ok1"]  # the dropped copy is kept for audit


def test_non_utf8_bytes_are_quarantined(spark, settings, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes((HEADER + "\n" + GOOD + "\n").encode() + "x,2026-10-30T10:00:00Z,u1,s1,view,p1,caf\xe9,b,1,1,web\n".encode("latin-1"))
    result = run_ingest(spark, settings, str(path), "canonical", "latin", now=NOW)
    assert (result.curated, result.quarantined) == (1, 1)
    assert quarantined(spark, result)[0]["reason"] == "invalid_encoding"


def test_extra_column_is_kept_out_and_warned(spark, settings, tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        result = ingest_lines(spark, settings, tmp_path, [GOOD + ",gold"], header=HEADER + ",loyalty_tier")
    assert result.curated == 1
    assert "loyalty_tier" not in spark.read.parquet(result.curated_path).columns
    assert any("ignoring unknown column(s) loyalty_tier" in m and "batch.csv" in m for m in caplog.messages)


FILE_CASES = [
    ("missing column", HEADER.replace(",user_id", "") + "\n", r"batch\.csv: missing column\(s\) user_id for format 'canonical'"),
    ("wrong delimiter", HEADER.replace(",", ";") + "\n", r"batch\.csv: missing column\(s\).*another delimiter"),
    ("empty file", "", r"no rows in .*batch\.csv: all 1 file\(s\) are empty"),
    ("header only", HEADER + "\n", r"no data rows in .*batch\.csv: 1 file\(s\) hold a header only"),
    ("product catalog given as events", "product_id,title,category,brand,price,margin\np1,Lamp,home.decor,acme,10,0.3\n",
     r"batch\.csv: missing column\(s\) event_time, user_id, event_type .*found: product_id, title"),
]


@pytest.mark.parametrize(("case", "content", "message"), FILE_CASES, ids=[c[0] for c in FILE_CASES])
def test_bad_file_is_refused_with_a_clear_message(spark, settings, tmp_path, case, content, message):
    path = tmp_path / "batch.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(IngestError, match=message):
        run_ingest(spark, settings, str(path), "canonical", "bad-file", now=NOW)
