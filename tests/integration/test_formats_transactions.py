"""Order-line feeds ("Online Retail" layout) through the real reader, ingest and profiles.

Every expected row below is worked out by hand from the CSV lines.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from journey import lake
from journey.ingest.events import run_ingest
from journey.profiles.build import ProfileParams, absent_behaviour, build_profiles

pytestmark = pytest.mark.spark

NOW = datetime(2026, 10, 31, 12, 0, tzinfo=UTC)
HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country"
LINES = [
    "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,12/1/2010 8:26,2.55,17850.0,United Kingdom",
    "536365,71053,WHITE METAL LANTERN,6,12/1/2010 8:26,3.39,17850.0,United Kingdom",
    '536366,22633,"HAND WARMER, UNION JACK",6,12/1/2010 8:28,1.85,17850,United Kingdom',
    "536380,22961,JAM MAKING SET PRINTED,24,2011-06-01 10:15:00,1.45,14527,United Kingdom",  # summer: BST
    "C536379,22961,JAM MAKING SET PRINTED,-1,2011-06-01 11:00:00,27.50,14527.0,United Kingdom",  # cancellation
    "C536500,22423,REGENCY CAKESTAND 3 TIER,-1,12/2/2010 10:00,12.75,15000.0,France",  # return only
    "536414,22139,,56,12/1/2010 11:52,0,,United Kingdom",  # no customer
    "536415,22423,REGENCY CAKESTAND 3 TIER,-2,12/1/2010 11:57,12.75,13047.0,United Kingdom",  # not a C invoice
    "536416,22752,SET 7 BABUSHKA NESTING BOXES,2,13/1/2010 8:26,7.65,13047,United Kingdom",  # month 13
]


@pytest.fixture(scope="module")
def ingested(spark, tmp_path_factory):
    """The hand-written order lines ingested once: (result, curated rows by (invoice, stock code), quarantine)."""
    from journey.config import get_settings

    root = tmp_path_factory.mktemp("transactions")
    settings = get_settings({"JOURNEY_HOME": str(root / "home"), "JOURNEY_SHUFFLE_PARTITIONS": "4"})
    source = root / "online_retail.csv"
    source.write_text("\n".join([HEADER, *LINES]) + "\n", encoding="utf-8")
    result = run_ingest(spark, settings, str(source), "transactions", "tx-1", now=NOW)
    curated = spark.read.parquet(lake.path(settings, lake.CURATED_EVENTS))
    rows = {(r["session_id"], r["product_id"]): r.asDict() for r in curated.collect()}
    quarantine = {r["reason"]: r.asDict() for r in spark.read.parquet(result.quarantine_path).collect()}
    return result, rows, quarantine, curated


def test_accounting_and_reasons(ingested):
    result, rows, quarantine, _ = ingested
    assert (result.rows_read, result.curated, result.quarantined, result.duplicates) == (9, 6, 3, 0)
    assert result.by_reason == {"missing_user_id": 1, "invalid_quantity": 1, "unparsable_timestamp": 1}
    assert result.format == "transactions"


def test_order_lines_become_purchases_with_utc_times(ingested):
    _, rows, _, _ = ingested
    line = rows[("536365", "85123A")]
    assert (line["event_type"], line["user_id"], line["quantity"], line["price"]) == ("purchase", "17850", 6, 2.55)
    assert line["event_time"] == datetime(2010, 12, 1, 8, 26)  # GMT in December = UTC
    assert (line["category"], line["channel"], line["brand"]) == ("unknown", "unknown", None)
    assert rows[("536366", "22633")]["user_id"] == "17850"  # 17850 and 17850.0 are the same customer
    assert rows[("536380", "22961")]["event_time"] == datetime(2011, 6, 1, 9, 15)  # 10:15 BST


def test_cancellations_are_returns_never_purchases(ingested):
    _, rows, _, _ = ingested
    cancel = rows[("C536379", "22961")]
    assert (cancel["event_type"], cancel["quantity"], cancel["price"], cancel["user_id"]) == ("return", 1, 27.5, "14527")
    assert rows[("C536500", "22423")]["event_type"] == "return"
    purchases = [key for key, row in rows.items() if row["event_type"] == "purchase"]
    assert sorted(purchases) == [("536365", "71053"), ("536365", "85123A"), ("536366", "22633"),
                                 ("536380", "22961")]


def test_bad_lines_are_quarantined_with_their_reason(ingested):
    _, _, quarantine, _ = ingested
    assert quarantine["missing_user_id"]["detail"] == "user_id is empty"
    assert '"InvoiceNo":"536414"' in quarantine["missing_user_id"]["raw"]
    assert quarantine["invalid_quantity"]["detail"] == "quantity '-2' is not a whole number of at least 1"
    assert quarantine["unparsable_timestamp"]["detail"] == "event_time '13/1/2010 8:26' is not an ISO-8601 timestamp"
    assert quarantine["unparsable_timestamp"]["source_file"].endswith("online_retail.csv")


def test_profiles_count_returns_as_negative_spend(ingested):
    _, _, _, curated = ingested

    rows = build_profiles(curated, None, ProfileParams(snapshot_date=date(2011, 6, 1))).collect()

    profiles = {r["user_id"]: r.asDict() for r in rows}
    assert sorted(profiles) == ["14527", "15000", "17850"]
    buyer = profiles["17850"]  # 6 × 2.55 + 6 × 3.39 + 6 × 1.85 over two invoices
    assert (buyer["frequency"], buyer["sessions"], buyer["purchases"]) == (2, 2, 3)
    assert buyer["monetary"] == pytest.approx(46.74)
    returner = profiles["14527"]  # 24 × 1.45 bought, 1 × 27.50 cancelled
    assert (returner["frequency"], returner["sessions"]) == (1, 2)
    assert returner["monetary"] == pytest.approx(7.30)
    assert returner["conversion_rate"] == pytest.approx(0.5)
    only_return = profiles["15000"]  # a cancellation of an order bought before the window: spend stays 0
    assert (only_return["frequency"], only_return["monetary"], only_return["rfm_segment"]) == (0, 0.0, "prospect")
    assert all(p["views"] == 0 and p["carts"] == 0 and p["cart_abandonment_rate"] is None for p in profiles.values())
    assert profiles["17850"]["category_affinity"] == {"unknown": 1.0}


def test_transaction_only_profiles_report_what_is_absent(ingested, spark):
    _, _, _, curated = ingested
    profiles = build_profiles(curated, None, ProfileParams(snapshot_date=date(2011, 6, 1)))

    assert absent_behaviour(profiles) == ["view", "add_to_cart"]


def test_descriptions_become_product_titles(spark, tmp_path):
    from journey.config import get_settings
    from journey.ingest.products import ingest_product_titles

    settings = get_settings({"JOURNEY_HOME": str(tmp_path / "home")})
    first = tmp_path / "day1.csv"
    first.write_text("\n".join([HEADER, *LINES]) + "\n", encoding="utf-8")
    second = tmp_path / "day2.csv"
    second.write_text("\n".join([
        HEADER,
        "536900,22961,JAM MAKING SET WITH JARS,3,2011-06-02 09:00:00,1.65,14527,United Kingdom",
        "536901,22961,JAM MAKING SET WITH JARS,3,2011-06-02 10:00:00,1.60,14527,United Kingdom",
    ]) + "\n", encoding="utf-8")

    load = ingest_product_titles(spark, settings, str(first), "tx-1")
    later = ingest_product_titles(spark, settings, str(second), "tx-2")

    products = {r["product_id"]: r.asDict() for r in spark.read.parquet(later.path).collect()}
    # 85123A, 71053, 22633, 22961, 22423, 22752 (22139 has no description)
    assert (load.products, load.total, later.products, later.total) == (6, 6, 1, 6)
    assert products["22633"]["title"] == "HAND WARMER, UNION JACK"
    assert products["85123A"]["price"] == 2.55
    # 22423 was only cancelled or sold in a negative quantity: a title, no price
    assert (products["22423"]["title"], products["22423"]["price"]) == ("REGENCY CAKESTAND 3 TIER", None)
    # the second batch renames 22961 and sets the price of its latest sale
    assert (products["22961"]["title"], products["22961"]["price"], products["22961"]["run_id"]) == (
        "JAM MAKING SET WITH JARS", 1.60, "tx-2")
    assert products["85123A"]["run_id"] == "tx-1"
    assert "22139" not in products  # its only line has no description


@pytest.mark.parametrize(("distinct", "curated", "duplicates"), [(True, 4, 0), (False, 3, 1)])
def test_repeated_order_lines_are_kept_when_rows_are_distinct(spark, tmp_path, distinct, curated, duplicates):
    from journey.config import get_settings

    settings = get_settings({"JOURNEY_HOME": str(tmp_path / "home"), "JOURNEY_SHUFFLE_PARTITIONS": "2"})
    source = tmp_path / "repeats.csv"
    repeat = '536366,22633,"HAND WARMER, UNION JACK",6,12/1/2010 8:28,1.85,17850,United Kingdom'
    source.write_text("\n".join([HEADER, LINES[0], repeat, repeat, LINES[1]]) + "\n", encoding="utf-8")

    result = run_ingest(spark, settings, str(source), "transactions", "tx-repeats", now=NOW, rows_are_distinct=distinct)

    assert (result.rows_read, result.curated, result.quarantined, result.duplicates) == (4, curated, 0, duplicates)
    warmers = spark.read.parquet(lake.path(settings, lake.CURATED_EVENTS)).where("product_id = '22633'").collect()
    assert [(r["quantity"], r["price"], r["user_id"]) for r in warmers] == [(6, 1.85, "17850")] * (2 if distinct else 1)
