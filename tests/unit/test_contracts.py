"""Each transform's output schema against its contract, on tiny hand-made inputs.

Where journey.schemas holds the contract (curated events, quarantine rows, users) the expected
schema is built from it; segments have no typed contract, so theirs is written here by hand.
The profile contract is checked in test_profiles.py, beside the profile transforms.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pyspark.sql import Row
from pyspark.sql.types import IntegerType, LongType, StringType, StructField, StructType
from pyspark.testing import assertDataFrameEqual, assertSchemaEqual

from journey import lake
from journey.config import get_settings
from journey.ingest.events import run_ingest
from journey.ingest.users import ingest_users
from journey.profiles.segments import SegmentParams, segment_users
from journey.schemas import CURATED_EVENT_COLUMNS, QUARANTINE_COLUMNS, USER_COLUMNS, ddl, spark_schema

NOW = datetime(2026, 10, 31, 12, 0, tzinfo=UTC)
EVENTS_CSV = """event_id,event_time,user_id,session_id,event_type,product_id,category,brand,price,quantity,channel,coupon_code
e1,2026-10-30T10:00:00Z,u1,s1,purchase,p1,Electronics.Audio,Acme,10.5,2,app, JX1
e2,2026-10-30T11:00:00Z,,s2,view,p2,home,zed,3,1,web,
"""
USERS_CSV = """user_id,signup_date,country,consent_email,consent_push,consent_sms
u1,2026-01-02,de,yes,0,false
"""
SEGMENTS_SCHEMA = StructType([StructField("user_id", StringType()), StructField("segment_id", IntegerType()),
                              StructField("segment_name", StringType())])
TRANSITIONS_SCHEMA = StructType([StructField("from_segment_id", IntegerType()),
                                 StructField("to_segment_id", IntegerType()), StructField("users", LongType())])
# The profile columns segmentation reads: three big spenders and three visitors who never bought.
PROFILE_INPUT = (
    "user_id string, days_since_last_event int, recency_days int, frequency bigint, monetary double, "
    "sessions bigint, avg_order_value double, conversion_rate double, cart_abandonment_rate double, "
    "coupon_usage_rate double, category_affinity map<string, double>"
)
PROFILES = [
    ("b1", 1, 1, 9, 900.0, 10, 100.0, 0.9, 0.1, 0.0, {"electronics": 1.0}),
    ("b2", 2, 2, 8, 800.0, 9, 100.0, 0.9, 0.1, 0.0, {"electronics": 1.0}),
    ("b3", 1, 3, 9, 950.0, 10, 105.6, 0.9, 0.0, 0.0, {"electronics": 1.0}),
    ("v1", 40, None, 0, 0.0, 1, None, 0.0, None, None, {"toys": 1.0}),
    ("v2", 45, None, 0, 0.0, 1, None, 0.0, None, None, {"toys": 1.0}),
    ("v3", 50, None, 0, 0.0, 2, None, 0.0, None, None, {"toys": 1.0}),
]


@pytest.fixture(scope="module")
def ingested(spark, tmp_path_factory):
    """run_ingest over a CSV with one good and one bad row, in a Journey home of its own."""
    folder = tmp_path_factory.mktemp("contracts")
    settings = get_settings({"JOURNEY_HOME": str(folder / "home"), "JOURNEY_SHUFFLE_PARTITIONS": "4"})
    (folder / "in").mkdir()
    (folder / "in" / "events.csv").write_text(EVENTS_CSV, encoding="utf-8")
    return run_ingest(spark, settings, str(folder / "in"), "canonical", "run-1", now=NOW)


@pytest.fixture(scope="module")
def segmented(spark):
    """segment_users over the six hand-made profiles, k fixed at 2."""
    profiles = spark.createDataFrame(PROFILES, PROFILE_INPUT)
    return segment_users(profiles, SegmentParams(k_min=2, k_max=2, max_iter=10, partitions=2))


def test_curated_events_have_the_event_contract(spark, ingested):
    curated = spark.read.parquet(ingested.curated_path)

    assertSchemaEqual(curated.schema, spark_schema(CURATED_EVENT_COLUMNS))
    expected = spark.createDataFrame(
        [("e1", datetime(2026, 10, 30, 10, 0, tzinfo=UTC), "u1", "s1", "purchase", "p1", "electronics.audio", "acme",
          10.5, 2, "app", "JX1", date(2026, 10, 30))],
        ddl(CURATED_EVENT_COLUMNS),
    )
    assertDataFrameEqual(curated, expected)


def test_quarantined_events_have_the_quarantine_contract(spark, ingested):
    quarantined = spark.read.parquet(ingested.quarantine_path)

    assertSchemaEqual(quarantined.schema, spark_schema(QUARANTINE_COLUMNS))
    assertDataFrameEqual(quarantined.select("run_id", "reason"), [Row(run_id="run-1", reason="missing_user_id")])


def test_curated_users_have_the_user_contract(spark, settings, tmp_path):
    source = tmp_path / "users.csv"
    source.write_text(USERS_CSV, encoding="utf-8")

    ingest_users(spark, settings, str(source), "run-1")

    users = spark.read.parquet(lake.path(settings, lake.CURATED_USERS))
    assertSchemaEqual(users.schema, spark_schema(USER_COLUMNS))
    assertDataFrameEqual(users, [Row(user_id="u1", signup_date=date(2026, 1, 2), country="DE", consent_email=True,
                                     consent_push=False, consent_sms=False)])


def test_segments_have_the_segment_schema(segmented):
    assertSchemaEqual(segmented.segments.schema, SEGMENTS_SCHEMA)
    by_segment = {}
    for row in segmented.segments.collect():
        by_segment.setdefault(row["segment_id"], set()).add(row["user_id"])
    assert sorted(by_segment.values(), key=min) == [{"b1", "b2", "b3"}, {"v1", "v2", "v3"}]


def test_transitions_have_the_transition_schema(segmented):
    assertSchemaEqual(segmented.transitions.schema, TRANSITIONS_SCHEMA)
    # no previous snapshot: both segments (new ids 1 and 2, three users each) arrive from no segment
    assertDataFrameEqual(segmented.transitions, [Row(from_segment_id=None, to_segment_id=1, users=3),
                                                 Row(from_segment_id=None, to_segment_id=2, users=3)])
