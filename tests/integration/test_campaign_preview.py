"""The builder's preview on the embedded PostgreSQL equals the campaign DAG's eligibility step on the same data.

A small published world (`publish_world`: 400 users in 4 segments and 5 lifecycle stages, consent
flags in the lake's curated users dimension with some users missing from it, a suppression list
with one expired entry, and a published campaign `spring` whose ads fill the frequency window)
is counted three ways: by the preview's SQL, by the DAG's own Spark code (`inputs.export_lookups`
+ `eligibility.audience` + `holdout.holdout_draw_column`, as `steps.eligibility`/`steps.holdout`
call them) and by the rules written out by hand here (`expected_counts`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from journey import lake, warehouse
from journey.campaigns.holdout import in_holdout
from journey.campaigns.params import parse_params
from journey.campaigns.publish import publish_campaign
from journey.dag_ids import CAMPAIGN_DAG
from journey.reports import write_run_report
from journey.schemas import LIFECYCLE_STAGES
from journey.serve import auth, campaign_preview, queries
from journey.serve.app import create_app
from journey.serve.pool import ConnectionPool
from tests.integration.test_campaign_publish import make_run, settings  # noqa: F401 (settings: fixture)

pytestmark = pytest.mark.postgres

SNAPSHOT = date(2026, 11, 2)
START = datetime(2026, 11, 3, 9, tzinfo=UTC)
USERS = [f"u{i:03d}" for i in range(400)]
SEGMENT_NAMES = ("bargain", "loyal", "dormant", "new_shoppers")
SPRING_USERS = [u for i, u in enumerate(USERS) if i % 6 == 0]  # make_run: the first is held out, the rest get an ad
CAMPAIGN = {"campaign_id": "winter-push", "name": "Winter push", "segments": ["bargain", "loyal"],
            "lifecycle_stages": ["active", "loyal", "at_risk"], "channels": ["email", "push"], "frequency_cap": 1,
            "holdout_fraction": 0.1, "budget": 500.0, "start_time": "2026-11-03T09:00:00Z",
            "end_time": "2026-11-10T09:00:00Z",
            "coupons": [{"name": "pct10", "kind": "percent", "value": 10, "min_spend": 0, "expected_cost": 4.0},
                        {"name": "fixed5", "kind": "fixed", "value": 5, "min_spend": 30, "expected_cost": 3.0}]}


def user_row(i: int) -> dict:
    """One user of the world: segment, stage, consents (None = not in the users dimension), suppression."""
    absent = i % 11 == 0
    return {"user_id": USERS[i], "segment_id": i % 4, "segment_name": SEGMENT_NAMES[i % 4],
            "lifecycle_stage": LIFECYCLE_STAGES[i % 5],
            "consent_email": None if absent else i % 3 != 0, "consent_push": None if absent else i % 7 == 0,
            "consent_sms": None if absent else i % 2 == 0,
            "suppressed": i % 13 == 0, "expired_suppression": i % 17 == 1}


WORLD = [user_row(i) for i in range(len(USERS))]


def expected_counts(params: dict, segment_ids: set[int]) -> dict:
    """The eligibility rules of campaigns/eligibility.py applied by hand, in their order; the holdout by holdout.py."""
    spring_messaged = set(SPRING_USERS[1:])  # users with an ad of `spring` before the start
    counts = {"not_target_segment": 0, "not_target_stage": 0, "suppressed": 0, "no_channel_consent": 0,
              "frequency_cap": 0, "eligible": 0, "holdout": 0}
    for user in WORLD:
        has_channel = any(user[f"consent_{c}"] for c in params["channels"])
        if user["segment_id"] not in segment_ids:
            reason = "not_target_segment"
        elif params.get("lifecycle_stages") and user["lifecycle_stage"] not in params["lifecycle_stages"]:
            reason = "not_target_stage"
        elif user["suppressed"]:
            reason = "suppressed"
        elif not has_channel:
            reason = "no_channel_consent"
        elif user["user_id"] in spring_messaged and params["frequency_cap"] <= 1:
            reason = "frequency_cap"
        else:
            reason = "eligible"
            counts["holdout"] += in_holdout(params["campaign_id"], user["user_id"], params["holdout_fraction"])
        counts[reason] += 1
    return counts


def write_parquet(target: str, rows: list[dict]) -> None:
    """A one-file Parquet folder in the lake."""
    folder = Path(lake.local_path(target))
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), folder / "part-0.parquet")


def write_lake_snapshot(home) -> None:
    """What the DAG's eligibility step reads from the lake: profiles, segments and the curated users."""
    write_parquet(lake.snapshot_path(home, lake.PROFILES, SNAPSHOT),
                  [{"user_id": u["user_id"], "lifecycle_stage": u["lifecycle_stage"]} for u in WORLD])
    write_parquet(lake.snapshot_path(home, lake.SEGMENTS, SNAPSHOT),
                  [{k: u[k] for k in ("user_id", "segment_id", "segment_name")} for u in WORLD])
    write_parquet(lake.path(home, lake.CURATED_USERS),
                  [{k: u[k] for k in ("user_id", "consent_email", "consent_push", "consent_sms")}
                   for u in WORLD if u["consent_email"] is not None])


PROFILE_SQL = """INSERT INTO journey.user_profiles (user_id, snapshot_date, run_id, frequency, monetary, r_score,
    f_score, m_score, rfm_segment, sessions, views, searches, carts, purchases, coupon_redemptions,
    category_affinity, top_categories, lifecycle_stage)
SELECT u, %s, 'd1', 1, 10, 3, 3, 3, '333', 1, 1, 0, 0, 1, 0, '{}', '{}', s
FROM unnest(%s::text[], %s::text[]) AS t(u, s)"""
SEGMENT_SQL = """INSERT INTO journey.user_segments SELECT u, sid, name, %s, 'd1'
FROM unnest(%s::text[], %s::int[], %s::text[]) AS t(u, sid, name)"""
SUMMARY_SQL = """INSERT INTO journey.segment_summary (snapshot_date, segment_id, segment_name, users, user_share,
    revenue, revenue_share, avg_monetary, top_category, centroid, k, silhouette, run_id)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 'home', '{}', 4, 0.4, 'd1')"""


def publish_tables(home) -> None:
    """The daily publish's tables for the world (plain INSERTs into the real tables) and the suppression list."""
    with warehouse.connect(home) as conn, conn.cursor() as cur:
        cur.execute(PROFILE_SQL, (SNAPSHOT, USERS, [u["lifecycle_stage"] for u in WORLD]))
        cur.execute(SEGMENT_SQL, (SNAPSHOT, USERS, [u["segment_id"] for u in WORLD],
                                  [u["segment_name"] for u in WORLD]))
        for sid, name in enumerate(SEGMENT_NAMES):
            cur.execute(SUMMARY_SQL, (SNAPSHOT, sid, name, 100, 0.25, 1000.0 * (sid + 1), 0.1 * (sid + 1),
                                      10.0 * (sid + 1)))
        for user in WORLD:
            if user["suppressed"]:
                cur.execute("INSERT INTO journey.suppression_list (user_id, reason) VALUES (%s, 'opt_out')",
                            (user["user_id"],))
            if user["expired_suppression"]:
                cur.execute("INSERT INTO journey.suppression_list (user_id, reason, expires_at) "
                            "VALUES (%s, 'complaint', %s)", (user["user_id"], START - timedelta(days=1)))
        conn.commit()


def publish_world(home) -> str:
    """The world in the warehouse and the lake, plus the published campaign `spring` with its HTML report; its run id."""
    write_lake_snapshot(home)
    publish_tables(home)
    request = make_run(home, "spring-r1", SPRING_USERS)
    publish_campaign(home, request)
    write_run_report(home, CAMPAIGN_DAG, request.run_id)
    return request.run_id


@pytest.fixture(scope="module")
def world(settings):  # noqa: F811 (the imported fixture)
    """(home, TestClient of the real app, {scope: token}) over the published world."""
    publish_world(settings)
    with warehouse.connect(settings) as conn:
        tokens = {"read": auth.create_key(conn, "analyst", ("read",))[1],
                  "write": auth.create_key(conn, "marketer", ("read", "write"))[1]}
    pool = ConnectionPool(warehouse.database_url(settings), size=2, setup=queries.prepare)
    with TestClient(create_app(pool, settings.inbox)) as client:
        yield settings, client, tokens
    pool.close()


def _as(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_preview_counts_equal_the_hand_applied_rules(world, monkeypatch):
    home, client, tokens = world
    monkeypatch.setenv("JOURNEY_HOME", str(home.home))
    answer = client.post("/v1/campaigns/preview", json=CAMPAIGN, headers=_as(tokens["read"]))
    assert answer.status_code == 200, answer.text
    body, expected = answer.json(), expected_counts(CAMPAIGN, {0, 1})
    assert body["users"] == 400
    assert body["excluded_by_reason"] == {k: expected[k] for k in body["excluded_by_reason"]}
    assert (body["eligible"], body["holdout"]) == (expected["eligible"], expected["holdout"])
    assert all(expected[k] > 0 for k in expected), expected  # every rule excludes somebody in this world
    assert [s["remaining"] for s in body["funnel"]][-1] == expected["eligible"]
    assert body["treated"] == expected["eligible"] - expected["holdout"]
    assert body["coupons"]["most_coupons"] == min(body["treated"], int(500 // 3.0))
    assert body["coupons"]["expected_incremental_revenue"] == "computed by the run"
    assert {s["segment_name"] for s in body["segments"]} == {"bargain", "loyal"}


@pytest.mark.spark
def test_preview_equals_the_dags_eligibility_and_holdout_steps(world, spark):
    """The DAG's own Spark code (steps.eligibility → steps.holdout) on the same lake and warehouse."""
    from pyspark.sql import functions as F

    from journey.campaigns import inputs
    from journey.campaigns.eligibility import Targets, audience
    from journey.campaigns.holdout import holdout_draw_column

    home = world[0]
    params = parse_params(CAMPAIGN)
    folder = lake.path(home, "campaigns", params.campaign_id, "run_id=preview-check")
    inputs.export_lookups(home, folder, params.campaign_id, params.start_time, SNAPSHOT)
    flagged = audience(inputs.snapshot_users(spark, home, SNAPSHOT), inputs.consents(spark, home),
                       inputs.read_lookup(spark, folder, "suppressed"),
                       inputs.read_lookup(spark, folder, "recent_messages"),
                       Targets((0, 1), params.lifecycle_stages, params.channels, params.frequency_cap))
    dag = {r["reason"]: r["n"] for r in flagged.groupBy(F.coalesce("exclusion_reason", F.lit("eligible")).alias(
        "reason")).agg(F.count("*").alias("n")).collect()}
    dag_holdout = flagged.where(F.col("exclusion_reason").isNull()).where(
        holdout_draw_column(params.campaign_id) < params.holdout_fraction).count()
    with warehouse.connect(home) as conn:
        found = campaign_preview.preview(conn, home, params)
        conn.rollback()
    assert found["eligible"] == dag.pop("eligible")
    assert {k: v for k, v in found["excluded_by_reason"].items() if v} == dag
    assert found["holdout"] == dag_holdout


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"holdout_fraction": 0.9}, "holdout_fraction", "must be within [0.01, 0.5], got 0.9"),
    ({"channels": ["whatsapp"]}, "channels", "unknown value(s) whatsapp"),
    ({"segments": ["vip"]}, "segments", "unknown segment 'vip'; the current segments are 0 (bargain)"),
    ({"campaign_id": "Bad Id"}, "campaign_id", "must be a slug"),
    ({"coupons": [{"name": "neg", "kind": "fixed", "value": 5, "expected_cost": -1}]}, "coupons[0].expected_cost",
     "must be within"),
])
def test_a_bad_value_is_refused_naming_its_field(world, change, field, words):
    _, client, tokens = world
    answer = client.post("/v1/campaigns/preview", json={**CAMPAIGN, **change}, headers=_as(tokens["read"]))
    assert answer.status_code == 422, answer.text
    detail = answer.json()["detail"]
    assert detail["field"] == field and words in detail["message"], detail


def test_launch_needs_the_write_scope_and_says_when_airflow_is_down(world, monkeypatch):
    home, client, tokens = world
    monkeypatch.setenv("JOURNEY_HOME", str(home.home))
    monkeypatch.setenv("JOURNEY_AIRFLOW_URL", "http://127.0.0.1:9")  # discard port: nothing listens
    monkeypatch.setenv("JOURNEY_AIRFLOW_PASSWORD", "x")
    assert client.post("/v1/campaigns", json=CAMPAIGN, headers=_as(tokens["read"])).status_code == 403
    answer = client.post("/v1/campaigns", json=CAMPAIGN, headers=_as(tokens["write"]))
    assert answer.status_code == 503 and "could not trigger the campaign in Airflow" in answer.json()["detail"]


def test_list_and_report_of_a_published_run(world, monkeypatch):
    home, client, tokens = world
    monkeypatch.setenv("JOURNEY_HOME", str(home.home))
    monkeypatch.setenv("JOURNEY_AIRFLOW_URL", "http://127.0.0.1:9")
    listed = client.get("/v1/campaigns", headers=_as(tokens["read"])).json()
    assert listed["airflow"] is False
    [spring] = [r for r in listed["runs"] if r["run_id"] == "spring-r1"]
    assert (spring["campaign_id"], spring["status"], spring["report"], spring["lift"]) == ("spring", "live", True, None)
    page = client.get("/campaigns/spring/spring-r1/report", headers=_as(tokens["read"]))
    assert page.status_code == 200 and "spring-r1" in page.text and page.text.startswith("<!DOCTYPE html>")
    assert client.get("/campaigns/spring/spring-r1/report").status_code == 401


RESULT_SQL = """INSERT INTO journey.campaign_results (campaign_id, run_id, measured_at, level, key, window_start,
    window_end, provisional, margin_rate, treated_users, treated_converters, treated_orders, treated_revenue,
    treated_redemptions, treated_coupon_cost, holdout_users, holdout_converters, holdout_orders, holdout_revenue,
    holdout_redemptions, holdout_coupon_cost, rate_lift, rate_lift_low, rate_lift_high)
VALUES ('spring', 'spring-r1', %s, %s, 'all', %s, %s, %s, 0.3, 66, 9, 9, 450, 3, 12, 1, 0, 0, 0, 0, 0, %s, %s, %s)"""


def test_the_list_shows_the_latest_campaign_level_lift(world, monkeypatch):
    home, client, tokens = world
    monkeypatch.setenv("JOURNEY_HOME", str(home.home))
    monkeypatch.setenv("JOURNEY_AIRFLOW_URL", "http://127.0.0.1:9")
    with warehouse.connect(home) as conn, conn.cursor() as cur:
        for measured, provisional, lift in ((START + timedelta(days=3), True, (0.05, -0.1, 0.2)),
                                            (START + timedelta(days=15), False, (0.08, 0.01, 0.15))):
            cur.execute(RESULT_SQL, (measured, "campaign", START, START + timedelta(days=14), provisional, *lift))
        conn.commit()
    [spring] = [r for r in client.get("/v1/campaigns", headers=_as(tokens["read"])).json()["runs"]
                if r["run_id"] == "spring-r1"]
    assert spring["lift"] == {"rate_lift": 0.08, "low": 0.01, "high": 0.15, "provisional": False}


@pytest.mark.parametrize("path", [
    "/campaigns/spring/..%2F..%2Fetc%2Fpasswd/report", "/campaigns/spring/../../etc/passwd/report",
    "/campaigns/spring/spring-r2/report", "/campaigns/other/spring-r1/report", "/campaigns/spring/.hidden/report",
])
def test_report_paths_cannot_leave_the_report_folder(world, monkeypatch, path):
    home, client, tokens = world
    monkeypatch.setenv("JOURNEY_HOME", str(home.home))
    answer = client.get(path, headers=_as(tokens["read"]))
    assert answer.status_code in (404, 422), (path, answer.status_code)
    assert "root:" not in answer.text
