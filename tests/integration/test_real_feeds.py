"""Real feeds as distributed, ingested unedited through a mapping file, checked against figures
computed here from the raw file with pandas (not by the code under test)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from journey import lake
from journey.ingest.events import run_ingest
from tests.samples import CDNOW_MAPPING, cdnow_file

pytestmark = pytest.mark.spark

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def cdnow_expected():
    """Figures of the raw file computed with pandas: customers, lines, CDs, spend, (customer, day) orders."""
    import pandas as pd

    raw = pd.read_csv(cdnow_file(), sep=r"\s+", header=None,
                      names=["full_id", "customer", "date", "cds", "dollars"])
    return {
        "lines": len(raw),
        "customers": set(raw["customer"]),
        "cds": int(raw["cds"].sum()),
        "spend": round(float(raw["dollars"].sum()), 2),
        "spend_by_customer": raw.groupby("customer")["dollars"].sum().round(2).to_dict(),
        "orders": len(raw[["customer", "date"]].drop_duplicates()),
        "days": (pd.to_datetime(raw["date"].astype(str)).min().date(),
                 pd.to_datetime(raw["date"].astype(str)).max().date()),
        "repeated_lines": int(raw.duplicated().sum()),
    }


@pytest.fixture(scope="module")
def cdnow_run(spark, tmp_path_factory):
    """The CDNOW sample ingested once, unedited, with docs/examples/cdnow.yaml: (settings, result, curated rows)."""
    from journey.config import get_settings

    source = cdnow_file()
    home = tmp_path_factory.mktemp("cdnow")
    settings = get_settings({"JOURNEY_HOME": str(home / "home"), "JOURNEY_SHUFFLE_PARTITIONS": "4"})
    result = run_ingest(spark, settings, str(source), "mapped", "cdnow-1", now=NOW, mapping=str(CDNOW_MAPPING))
    curated = spark.read.parquet(lake.path(settings, lake.CURATED_EVENTS))
    return settings, result, curated


def test_every_line_is_curated_none_lost(cdnow_run, cdnow_expected):
    _, result, curated = cdnow_run

    assert (result.rows_read, result.curated, result.quarantined, result.duplicates) == (
        cdnow_expected["lines"], cdnow_expected["lines"], 0, 0)
    assert cdnow_expected["repeated_lines"] > 0  # identical lines are there, and were kept
    assert curated.count() == cdnow_expected["lines"]
    assert curated.select("event_id").distinct().count() == cdnow_expected["lines"]


def test_customers_cds_days_and_types_match_the_raw_file(cdnow_run, cdnow_expected):
    from pyspark.sql import functions as F

    _, _, curated = cdnow_run

    users = {int(r["user_id"]) for r in curated.select("user_id").distinct().collect()}
    summary = curated.agg(F.sum("quantity").alias("cds"), F.min("event_date").alias("first"),
                          F.max("event_date").alias("last"),
                          F.collect_set("event_type").alias("types")).first()
    assert users == cdnow_expected["customers"] and len(users) == 2357
    assert summary["cds"] == cdnow_expected["cds"]
    assert (summary["first"], summary["last"]) == cdnow_expected["days"] == (date(1997, 1, 1), date(1998, 6, 30))
    assert summary["types"] == ["purchase"]


def test_spend_is_the_dollar_value_of_the_lines_to_the_cent(cdnow_run, cdnow_expected):
    from pyspark.sql import functions as F

    _, _, curated = cdnow_run
    spend = F.col("price") * F.col("quantity")  # how profiles count spend (journey.profiles.build)

    total = curated.agg(F.sum(spend)).first()[0]
    by_user = {int(r["user_id"]): r["spend"]
               for r in curated.groupBy("user_id").agg(F.round(F.sum(spend), 2).alias("spend")).collect()}
    assert round(total, 2) == cdnow_expected["spend"]
    assert by_user == pytest.approx(cdnow_expected["spend_by_customer"], abs=0.005)


def test_orders_are_one_per_customer_and_day(cdnow_run, cdnow_expected):
    from pyspark.sql import functions as F

    _, _, curated = cdnow_run

    orders = curated.agg(F.countDistinct("session_id").alias("sessions"),
                         F.countDistinct("user_id", "event_date").alias("user_days")).first()
    assert orders["sessions"] == orders["user_days"] == cdnow_expected["orders"]
    first = curated.where(F.col("user_id") == "0001").orderBy("event_time").first()
    assert (first["session_id"], first["price"], first["quantity"]) == ("0001@1997-01-01", 29.33 / 2, 2)


def test_the_same_file_again_is_recognised_line_by_line(spark, cdnow_run, cdnow_expected):
    settings, _, _ = cdnow_run

    again = run_ingest(spark, settings, str(cdnow_file()), "mapped", "cdnow-2", now=NOW, mapping=str(CDNOW_MAPPING))

    assert (again.rows_read, again.curated, again.already_ingested) == (
        cdnow_expected["lines"], 0, cdnow_expected["lines"])
    assert spark.read.parquet(lake.path(settings, lake.CURATED_EVENTS)).count() == cdnow_expected["lines"]
