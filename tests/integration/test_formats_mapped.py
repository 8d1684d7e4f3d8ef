"""A shop's own CSV export through a YAML mapping: renamed, re-coded, re-timed by hand-checked rules."""

from __future__ import annotations

from datetime import UTC, datetime

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
