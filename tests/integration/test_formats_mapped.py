"""A shop's own CSV export through a YAML mapping: renamed, re-coded, re-timed by hand-checked rules."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from journey import lake
from journey.ingest.events import IngestError, run_ingest

pytestmark = pytest.mark.spark

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
MAPPING = """
columns:
  when: event_time
  customer: user_id
  action: event_type
  sku: product_id
  amount: price
  qty: quantity
  visit: session_id
timestamp:
  format: dd/MM/yyyy HH:mm
  zone: Europe/Berlin
event_types:
  pageview: view
  basket: add_to_cart
  order: purchase
constants:
  channel: app
"""
HEADER = "when,customer,action,sku,amount,qty,visit,note"
LINES = [
    "01/10/2026 09:30,c1,pageview,p1,10.00,,v1,first visit",
    "01/10/2026 09:31,c1,basket,p1,10.00,1,v1,",
    "01/10/2026 09:35,c1,order,p1,10.00,2,v1,",
    "31/10/2026 23:30,c2,order,p2,5.50,1,v2,after the clocks went back",
    "01/10/2026 09:40,c2,wishlist,p3,1.00,1,v3,",  # a value the mapping does not know
    "2026/10/02 08:00,c3,order,p4,3.00,1,v4,",  # not the mapped timestamp pattern
]


@pytest.fixture(scope="module")
def mapped_run(spark, tmp_path_factory):
    """The export ingested once through its mapping: (result, curated rows by product, quarantine by reason)."""
    from journey.config import get_settings

    root = tmp_path_factory.mktemp("mapped")
    settings = get_settings({"JOURNEY_HOME": str(root / "home"), "JOURNEY_SHUFFLE_PARTITIONS": "4"})
    (root / "shop.yaml").write_text(MAPPING, encoding="utf-8")
    (root / "export.csv").write_text("\n".join([HEADER, *LINES]) + "\n", encoding="utf-8")
    result = run_ingest(spark, settings, str(root / "export.csv"), "mapped", "mapped-1", now=NOW,
                        mapping=str(root / "shop.yaml"))
    curated = spark.read.parquet(lake.path(settings, lake.CURATED_EVENTS)).collect()
    quarantine = spark.read.parquet(result.quarantine_path).collect()
    return result, {(r["product_id"], r["event_type"]): r.asDict() for r in curated}, {
        r["reason"]: r.asDict() for r in quarantine}, root


def test_accounting_and_reasons(mapped_run):
    result, _, quarantine, root = mapped_run
    assert (result.rows_read, result.curated, result.quarantined, result.duplicates) == (6, 4, 2, 0)
    assert result.mapping == str(root / "shop.yaml")
    assert quarantine["unknown_event_type"]["detail"].startswith("event_type 'wishlist' is not one of view,")
    assert quarantine["unparsable_timestamp"]["detail"] == (
        "event_time '2026/10/02 08:00' is not an ISO-8601 timestamp")


def test_fields_are_renamed_recoded_and_completed(mapped_run):
    _, rows, _, _ = mapped_run
    view = rows[("p1", "view")]
    assert (view["user_id"], view["session_id"], view["price"], view["quantity"], view["channel"]) == (
        "c1", "v1", 10.0, 1, "app")
    assert view["event_time"] == datetime(2026, 10, 1, 7, 30)  # 09:30 CEST
    assert rows[("p1", "purchase")]["quantity"] == 2
    assert rows[("p2", "purchase")]["event_time"] == datetime(2026, 10, 31, 22, 30)  # 23:30 CET
    assert sorted(rows) == [("p1", "add_to_cart"), ("p1", "purchase"), ("p1", "view"), ("p2", "purchase")]


def test_a_file_without_the_mapped_columns_is_refused_naming_them(spark, settings, mapped_run):
    root = mapped_run[3]
    wrong = root / "other_export.csv"
    wrong.write_text("when,client,action,item\n01/10/2026 09:30,c1,pageview,p1\n", encoding="utf-8")

    with pytest.raises(IngestError) as raised:
        run_ingest(spark, settings, str(wrong), "mapped", "mapped-2", now=NOW, mapping=str(root / "shop.yaml"))

    assert str(raised.value) == (
        f"{wrong}: missing column(s) customer, sku, amount, qty, visit for format 'mapped ({root / 'shop.yaml'})'; "
        "found: when, client, action, item")


def test_a_bad_mapping_stops_the_ingest_before_reading(spark, settings, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("columns:\n  ts: event_time\n  kind: type\n", encoding="utf-8")

    with pytest.raises(IngestError, match=r"unknown canonical field\(s\): type .*required field\(s\) not mapped: "
                                          r"user_id, event_type"):
        run_ingest(spark, settings, str(tmp_path / "missing.csv"), "mapped", "m", now=NOW, mapping=str(bad))


CDNOW_MAPPING = Path(__file__).resolve().parents[2] / "docs" / "examples" / "cdnow.yaml"


def test_a_whitespace_file_without_header_keeps_every_line(spark, settings, tmp_path):
    lines = [
        " 00004 0001 19970101  2   29.33",
        "",  # blank lines are skipped, not rows
        "00004\t0001\t19970118\t2\t29.73",  # tabs are whitespace too
        " 00021 0002 19970101  3",  # a field short
        " 00021 0002 19891231  1   11.77",  # before the mapping's floor (1990-01-01)
        " 00021 0002 19970101  3   63.34",
    ]
    source = tmp_path / "cdnow_part.txt"
    source.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")

    result = run_ingest(spark, settings, str(source), "mapped", "ws-1", now=NOW, mapping=str(CDNOW_MAPPING))

    assert (result.rows_read, result.curated, result.quarantined, result.duplicates) == (5, 3, 2, 0)
    assert result.time_floor == "1990-01-01"  # recorded for the events gate
    rejected = {r["reason"]: r for r in spark.read.parquet(result.quarantine_path).collect()}
    assert rejected["malformed_row"]["detail"] == (
        "line 4 has 4 field(s), expected 5 (full_customer_id, customer_id, date, number_of_cds, dollar_value): "
        " 00021 0002 19970101  3")
    assert rejected["malformed_row"]["raw"] == " 00021 0002 19970101  3"
    assert rejected["timestamp_before_floor"]["detail"] == (
        "event_time '1989-12-31T00:00:00Z' is before 1990-01-01")
    curated = sorted((r["user_id"], r["session_id"], r["price"], r["quantity"])
                     for r in spark.read.parquet(lake.path(settings, lake.CURATED_EVENTS)).collect())
    assert curated == [("0001", "0001@1997-01-01", 14.665, 2), ("0001", "0001@1997-01-18", 14.865, 2),
                       ("0002", "0002@1997-01-01", 63.34 / 3, 3)]


DISTINCT_MAPPING = """
columns:
  day: event_time
  customer: user_id
  amount: price
constants:
  event_type: purchase
orders: per_row
rows_are_distinct: {distinct}
"""


@pytest.mark.parametrize(("distinct", "curated", "duplicates"), [("true", 4, 0), ("false", 2, 2)])
def test_identical_lines_are_kept_when_rows_are_distinct(spark, settings, tmp_path, distinct, curated, duplicates):
    mapping = tmp_path / "lines.yaml"
    mapping.write_text(DISTINCT_MAPPING.format(distinct=distinct), encoding="utf-8")
    source = tmp_path / "orders.csv"
    source.write_text("day,customer,amount\n" + "2026-10-01T10:00:00Z,c1,9.99\n" * 3
                      + "2026-10-01T10:00:00Z,c2,9.99\n", encoding="utf-8")

    result = run_ingest(spark, settings, str(source), "mapped", "d-1", now=NOW, mapping=str(mapping))

    assert (result.rows_read, result.curated, result.quarantined, result.duplicates) == (4, curated, 0, duplicates)
    assert result.time_floor == "1970-01-01"  # the default floor
    rows = spark.read.parquet(lake.path(settings, lake.CURATED_EVENTS)).collect()
    assert sorted(r["user_id"] for r in rows) == (["c1", "c1", "c1", "c2"] if distinct == "true" else ["c1", "c2"])
    assert len({r["session_id"] for r in rows}) == curated  # per_row: each line its own order


def test_a_semicolon_latin1_file_without_header_and_the_default_orders(spark, settings, tmp_path, caplog):
    mapping = tmp_path / "shop.yaml"
    mapping.write_text("read:\n  delimiter: ';'\n  header: false\n  names: [kunde, zeit, marke, preis]\n"
                       "  encoding: latin-1\ncolumns:\n  kunde: user_id\n  zeit: event_time\n  marke: brand\n"
                       "  preis: price\nconstants:\n  event_type: purchase\ntimestamp:\n  zone: Europe/Berlin\n",
                       encoding="utf-8")
    source = tmp_path / "export.csv"
    source.write_bytes("k1;2026-10-01 23:30:00;Müller;5.5\nk1;2026-10-01 23:45:00;\"Weiß; Söhne\";2\n"
                       "k1;2026-10-02 00:30:00;Müller;1\n".encode("latin-1"))

    with caplog.at_level("WARNING", logger="journey.ingest.mapping"):
        result = run_ingest(spark, settings, str(source), "mapped", "s-1", now=NOW, mapping=str(mapping))

    assert (result.rows_read, result.curated, result.quarantined) == (3, 3, 0)
    assert any("orders cannot be told apart" in r.getMessage() for r in caplog.records)
    rows = sorted((r["event_time"], r["brand"], r["session_id"])
                  for r in spark.read.parquet(lake.path(settings, lake.CURATED_EVENTS)).collect())
    assert rows == [  # the day of an order is the shop's day (Berlin), not the UTC one
        (datetime(2026, 10, 1, 21, 30), "müller", "k1@2026-10-01"),
        (datetime(2026, 10, 1, 21, 45), "weiß; söhne", "k1@2026-10-01"),
        (datetime(2026, 10, 1, 22, 30), "müller", "k1@2026-10-02"),
    ]
