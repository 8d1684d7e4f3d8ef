"""Profiles and segments on a real feed (the CDNOW purchase log, ingested unedited): lifecycle stages
in the feed's own purchase cadence and segment names without browsing traits, checked against figures
computed here from the raw file with pandas."""

from __future__ import annotations

from datetime import date

import pytest
from pyspark.sql import functions as F

from journey import lake
from journey.ingest.events import run_ingest
from journey.profiles.build import ProfileParams, build_profiles_with_cadence, left_out
from journey.profiles.segments import SegmentParams, segment_users
from journey.schemas import LIFECYCLE_STAGES
from tests.samples import CDNOW_MAPPING, cdnow_file

pytestmark = pytest.mark.spark

SNAPSHOT = date(1998, 6, 30)  # the last day of the file


@pytest.fixture(scope="module")
def raw():
    """The raw file's purchase days per customer, with pandas: one row per (customer, day)."""
    import pandas as pd

    lines = pd.read_csv(cdnow_file(), sep=r"\s+", header=None, names=["full_id", "customer", "date", "cds", "dollars"])
    lines["day"] = pd.to_datetime(lines["date"].astype(str))
    return lines[["customer", "day"]]


@pytest.fixture(scope="module")
def cdnow(spark, tmp_path_factory):
    """The CDNOW sample ingested with docs/examples/cdnow.yaml: (curated events, profiles of all history, cadence)."""
    from journey.config import get_settings

    home = tmp_path_factory.mktemp("cdnow-profiles")
    settings = get_settings({"JOURNEY_HOME": str(home / "home"), "JOURNEY_SHUFFLE_PARTITIONS": "4"})
    run_ingest(spark, settings, str(cdnow_file()), "mapped", "cdnow-profiles", mapping=str(CDNOW_MAPPING))
    events = spark.read.parquet(lake.path(settings, lake.CURATED_EVENTS))
    profiles, cadence = build_profiles_with_cadence(events, None, ProfileParams(snapshot_date=SNAPSHOT))
    return events, profiles.cache(), cadence


def test_every_customer_is_profiled_with_its_orders(cdnow, raw):
    _, profiles, _ = cdnow
    days = raw.drop_duplicates().groupby("customer")["day"].count()

    assert profiles.count() == raw["customer"].nunique() == 2357
    assert profiles.where(F.col("frequency") >= 2).count() == int((days >= 2).sum())
    assert profiles.agg(F.sum("frequency")).first()[0] == int(days.sum())


def test_the_cadence_is_the_median_gap_of_repeat_buyers(cdnow, raw):
    _, _, cadence = cdnow
    span = raw.drop_duplicates().groupby("customer")["day"].agg(["min", "max", "count"])
    repeat = span[span["count"] >= 2]
    mean_gaps = (repeat["max"] - repeat["min"]).dt.days / (repeat["count"] - 1)

    assert cadence.repeat_buyers == len(repeat)
    assert cadence.days == pytest.approx(mean_gaps.median(), abs=0.1)  # 79 days


def test_the_lifecycle_is_not_all_churned(cdnow):
    _, profiles, _ = cdnow
    stages = {r["lifecycle_stage"]: r["count"] for r in profiles.groupBy("lifecycle_stage").count().collect()}
    print(f"CDNOW lifecycle at {SNAPSHOT}: {stages}")

    assert set(stages) <= set(LIFECYCLE_STAGES)
    assert stages["churned"] / sum(stages.values()) < 0.95  # the fixed 21-day rule churns 95 %
    assert stages.get("loyal", 0) > 0 and stages.get("at_risk", 0) > 0


def test_a_positive_lookback_counts_what_it_leaves_out(cdnow, raw):
    events, _, _ = cdnow
    before = raw[raw["day"] <= "1997-06-30"]  # a 365-day window ending 1998-06-30 starts on 1997-07-01
    lines = (before["customer"].count(), before["customer"].nunique())

    assert left_out(events, ProfileParams(snapshot_date=SNAPSHOT, lookback_days=365)) == lines
    assert left_out(events, ProfileParams(snapshot_date=SNAPSHOT)) == (0, 0)


def test_segment_names_on_order_lines_do_not_speak_of_browsing(cdnow):
    _, profiles, _ = cdnow
    result = segment_users(profiles, SegmentParams(k_min=3, k_max=5))
    names = [row["segment_name"] for row in result.summary]
    print(f"CDNOW segments: {names}")

    assert "view" in result.absent
    assert not [n for n in names if any(word in n.lower() for word in ("brows", "visit", "decisive"))]
    assert all("buyers" in n or "customers" in n for n in names)
