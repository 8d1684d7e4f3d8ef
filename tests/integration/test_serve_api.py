"""The next-best-action API (journey.serve) on the real FastAPI app and an embedded PostgreSQL.

The published tables are filled with plain INSERTs into the real tables (two runs of one live
campaign, an expired campaign, a held-out and a suppressed user who also have assignment rows);
every answer is checked against those rows.
"""

from __future__ import annotations

import json
import signal
import threading
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from urllib.parse import quote

import httpx
import pytest
from fastapi.testclient import TestClient

from journey import cli, warehouse
from journey.config import get_settings
from journey.ingest.events import run_ingest
from journey.perf.serve import free_port, start_api
from journey.schemas import EVENT_COLUMNS, REJECT_REASONS
from journey.serve import auth, inbox, queries
from journey.serve.app import MAX_BODY_BYTES, create_app
from journey.serve.pool import ConnectionPool
from journey.serve.refresh import SnapshotHolder

pytestmark = pytest.mark.postgres

NOW = datetime.now(UTC)
DAY = date(2026, 11, 1)
NBA = "/v1/users/{}/next-best-action"
NBA_ROUTE = "/v1/users/{user_id}/next-best-action"

CAMPAIGN = """INSERT INTO journey.campaigns (campaign_id, run_id, snapshot_date, name, objective, params, signals,
    budget, budget_used, expected_value, value_upper_bound, eligible_users, holdout_users, start_time, end_time,
    published_at) VALUES (%s, %s, %s, %s, 'revenue', '{}', '{}', 100, 10, 50, 60, 4, 1, %s, %s, %s)"""
COUPON = """INSERT INTO journey.coupon_assignments (campaign_id, run_id, snapshot_date, user_id, segment_id,
    offer_name, kind, offer_value, min_spend, coupon_code, channel, expected_cost, expected_value, reason)
    VALUES (%s, %s, %s, %s, 1, %s, 'percent', %s, 20, %s, 'email', 2.5, %s, %s)"""
AD = """INSERT INTO journey.ad_assignments (campaign_id, run_id, snapshot_date, user_id, segment_id, channel,
    creative_id, send_at, coupon_code, reason) VALUES (%s, %s, %s, %s, 1, %s, %s, %s, %s, '{"hour": 9}')"""
RECOMMENDATION = """INSERT INTO journey.recommendation_assignments (campaign_id, run_id, snapshot_date, user_id,
    rank, product_id, category, score, source) VALUES (%s, %s, %s, %s, %s, %s, 'electronics', %s, 'hybrid')"""
SEGMENT = """INSERT INTO journey.segment_summary (snapshot_date, segment_id, segment_name, users, user_share,
    revenue, revenue_share, centroid, k, silhouette, run_id) VALUES (%s, %s, %s, %s, %s, %s, %s, '{}', 2, 0.4, 'd1')"""


def _publish_fixture_rows(conn) -> None:
    """A live campaign `spring` (old run r0, current run r1), an expired campaign `winter`, segments, one user's scores."""
    with conn.cursor() as cur:
        cur.execute(CAMPAIGN, ("spring", "r0", DAY, "Spring (old run)", NOW - timedelta(days=3), NOW + timedelta(days=5),
                               NOW - timedelta(days=2)))
        cur.execute(CAMPAIGN, ("spring", "r1", DAY, "Spring", NOW - timedelta(days=1), NOW + timedelta(days=5),
                               NOW - timedelta(hours=1)))
        cur.execute(CAMPAIGN, ("winter", "w1", DAY, "Winter", NOW - timedelta(days=30), NOW - timedelta(days=2),
                               NOW - timedelta(days=30)))
        cur.execute(COUPON, ("spring", "r0", DAY, "u_treated", "ten_off", 10, "OLD-CODE", 4.0, '{"p": 0.1}'))
        cur.execute(COUPON, ("spring", "r1", DAY, "u_treated", "fifteen_off", 15, "SPRING-T1", 7.5,
                             '{"propensity": 0.42}'))
        cur.execute(COUPON, ("winter", "w1", DAY, "u_expired", "five_off", 5, "WINTER-E1", 9.0, '{}'))
        cur.execute(AD, ("spring", "r1", DAY, "u_treated", "email", "creative_a", NOW + timedelta(hours=2), "SPRING-T1"))
        for rank, product in enumerate(["p9", "p3", "p7"], start=1):
            cur.execute(RECOMMENDATION, ("spring", "r1", DAY, "u_treated", rank, product, 1.0 / rank))
        # Rows a correct service must never hand out: the held-out and the suppressed user's assignments.
        cur.execute(COUPON, ("spring", "r1", DAY, "u_holdout", "fifteen_off", 15, "SPRING-H1", 7.5, '{}'))
        cur.execute(RECOMMENDATION, ("spring", "r1", DAY, "u_holdout", 1, "p1", 1.0))
        cur.execute("INSERT INTO journey.campaign_holdout VALUES ('spring', 'r1', %s, 'u_holdout', 1, 0.01)", (DAY,))
        cur.execute(COUPON, ("spring", "r1", DAY, "u_suppressed", "fifteen_off", 15, "SPRING-S1", 7.5, '{}'))
        cur.execute("INSERT INTO journey.suppression_list (user_id, reason) VALUES ('u_suppressed', 'opt_out')")
        cur.execute("INSERT INTO journey.user_segments VALUES ('u_treated', 1, 'loyal', %s, 'd1'), "
                    "('u_known', 2, 'dormant', %s, 'd1')", (DAY, DAY))
        cur.execute("INSERT INTO journey.user_scores (user_id, snapshot_date, run_id, propensity, responsiveness) "
                    "VALUES ('u_treated', %s, 's1', 0.42, 0.3)", (DAY,))
        cur.execute(SEGMENT, (DAY - timedelta(days=1), 1, "stale", 1, 1.0, 1.0, 1.0))
        cur.execute(SEGMENT, (DAY, 1, "loyal", 3, 0.75, 900.0, 0.9))
        cur.execute(SEGMENT, (DAY, 2, "dormant", 1, 0.25, 100.0, 0.1))
    conn.commit()


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    """(TestClient of the real app reading from its snapshot, settings, {scope: token}, revoked token, connection)."""
    settings = get_settings({"JOURNEY_HOME": str(tmp_path_factory.mktemp("serve") / "home")})
    warehouse.start_server(settings)
    conn = warehouse.connect(settings)
    _publish_fixture_rows(conn)
    tokens = {"read": auth.create_key(conn, "shop", ("read",))[1],
              "write": auth.create_key(conn, "sender", ("write",))[1]}
    revoked_id, revoked = auth.create_key(conn, "old", ("read", "write"))
    auth.revoke_key(conn, revoked_id)
    pool = ConnectionPool(warehouse.database_url(settings), size=4, setup=queries.prepare)
    snapshot = SnapshotHolder(warehouse.database_url(settings))  # the service's read path
    with TestClient(create_app(pool, settings.inbox, snapshot)) as client:
        yield client, settings, tokens, revoked, conn
    pool.close()
    conn.close()
    warehouse.stop_server(settings)


def _as(token: str) -> dict[str, str]:
    """Authorization header of a token."""
    return {"Authorization": f"Bearer {token}"}


def test_treated_user_gets_the_current_runs_assignment(service):
    client, _, tokens, _, _ = service
    answer = client.get(NBA.format("u_treated"), headers=_as(tokens["read"]))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["decision"] == "treatment" and body["fallback_reason"] is None
    assert body["campaign"]["campaign_id"] == "spring" and body["campaign"]["run_id"] == "r1"
    assert body["offer"]["coupon_code"] == "SPRING-T1" and body["offer"]["offer_value"] == 15
    assert body["creative"]["creative_id"] == "creative_a" and body["creative"]["channel"] == "email"
    assert [r["product_id"] for r in body["recommendations"]] == ["p9", "p3", "p7"]
    assert body["reason"] == {"offer": {"propensity": 0.42}, "creative": {"hour": 9}}
    assert body["segment"]["segment_name"] == "loyal"
    assert body["scores"]["propensity"] == 0.42


def test_channel_filter_and_k(service):
    client, _, tokens, _, _ = service
    push = client.get(NBA.format("u_treated"), params={"channel": "push"}, headers=_as(tokens["read"])).json()
    assert push["decision"] == "fallback" and push["fallback_reason"] == "no_assignment"
    top = client.get(NBA.format("u_treated"), params={"channel": "email", "k": 2}, headers=_as(tokens["read"])).json()
    assert [r["rank"] for r in top["recommendations"]] == [1, 2]


@pytest.mark.parametrize(("user_id", "reason"), [
    ("u_holdout", "holdout"),
    ("u_suppressed", "suppressed"),
    ("u_expired", "unknown_user"),  # its only campaign has ended
    ("u_known", "no_assignment"),
    ("nobody", "unknown_user"),
    ("x'; DROP TABLE journey.api_keys; --", "unknown_user"),
    ("<img src=x onerror=alert(1)>", "unknown_user"),
])
def test_fallback_never_hands_out_a_treatment(service, user_id, reason):
    client, _, tokens, _, _ = service
    answer = client.get(NBA.format(quote(user_id, safe="")), headers=_as(tokens["read"]))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["decision"], body["fallback_reason"], body["user_id"]) == ("fallback", reason, user_id)
    assert body["offer"] is None and body["creative"] is None and body["recommendations"] == []
    assert answer.headers["content-type"] == "application/json"


def test_recommendations_skip_the_holdout(service):
    client, _, tokens, _, _ = service
    treated = client.get("/v1/users/u_treated/recommendations", params={"k": 2}, headers=_as(tokens["read"]))
    assert [(r["rank"], r["product_id"], r["score"]) for r in treated.json()] == [(1, "p9", 1.0), (2, "p3", 0.5)]
    held_out = client.get("/v1/users/u_holdout/recommendations", headers=_as(tokens["read"]))
    assert held_out.status_code == 200 and held_out.json() == []


def test_segments_of_the_latest_snapshot(service):
    client, _, tokens, _, _ = service
    listed = client.get("/v1/segments", headers=_as(tokens["read"])).json()
    assert [(s["segment_id"], s["segment_name"], s["users"], s["snapshot_date"]) for s in listed] == [
        (1, "loyal", 3, "2026-11-01"), (2, "dormant", 1, "2026-11-01")]
    one = client.get("/v1/segments/2", headers=_as(tokens["read"]))
    assert one.json()["revenue"] == 100.0
    assert client.get("/v1/segments/9", headers=_as(tokens["read"])).status_code == 404


def test_keys_scopes_and_revocation(service):
    client, _, tokens, revoked, conn = service
    assert client.get("/v1/segments").status_code == 401
    assert client.get("/v1/segments", headers=_as("jrn_00000000_made-up")).status_code == 401
    assert client.get("/v1/segments", headers=_as(revoked)).status_code == 401
    assert client.get("/v1/segments", headers=_as(tokens["write"])).status_code == 403
    refused = client.post("/v1/exposures", headers=_as(tokens["read"]), json={"exposures": []})
    assert refused.status_code == 403 and "lacks scope 'write'" in refused.json()["detail"]
    stored = warehouse.fetch_all(conn, "SELECT key_hash FROM journey.api_keys")
    conn.rollback()
    assert len(stored) >= 3 and not {h for (h,) in stored} & set(tokens.values())
    assert {h for (h,) in stored} >= {auth.token_hash(t) for t in tokens.values()}


def test_a_revoked_key_is_refused_once_its_cache_entry_expires(service):
    client, _, _, _, conn = service
    key_id, token = auth.create_key(conn, "short-lived", ("read",))
    default_cache, client.app.state.keys = client.app.state.keys, auth.KeyCache(ttl_s=0.5)
    try:
        assert client.get("/v1/segments", headers=_as(token)).status_code == 200
        auth.revoke_key(conn, key_id)
        time.sleep(0.6)
        assert client.get("/v1/segments", headers=_as(token)).status_code == 401
    finally:
        client.app.state.keys = default_cache


def test_api_keys_command_line(service, monkeypatch, capsys):
    client, settings, _, _, _ = service
    monkeypatch.setenv("JOURNEY_HOME", str(settings.home))
    assert cli.main(["api-keys", "create", "--name", "cli sender", "--scopes", "write,read"]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    key_id = token.split("_")[1]
    assert client.get("/v1/segments", headers=_as(token)).status_code == 200
    assert cli.main(["api-keys", "list"]) == 0
    listed = [line for line in capsys.readouterr().out.splitlines() if line.startswith(key_id)]
    assert len(listed) == 1 and "write,read" in listed[0] and "active" in listed[0] and token not in listed[0]
    assert cli.main(["api-keys", "revoke", key_id]) == 0
    assert cli.main(["api-keys", "list"]) == 0
    assert "revoked" in next(line for line in capsys.readouterr().out.splitlines() if line.startswith(key_id))
    assert cli.main(["api-keys", "revoke", key_id]) == 2
    assert f"no active API key '{key_id}'" in capsys.readouterr().err
    assert cli.main(["api-keys", "create", "--name", "x", "--scopes", "admin"]) == 2
    assert "scopes 'admin'" in capsys.readouterr().err


@pytest.mark.parametrize(("path", "params", "field"), [
    (NBA.format("u_treated"), {"channel": "fax"}, "channel"),
    (NBA.format("u_treated"), {"k": 0}, "k"),
    ("/v1/users/u_treated/recommendations", {"k": "many"}, "k"),
    ("/v1/segments/abc", {}, "segment_id"),
])
def test_bad_parameters_are_422_naming_the_field(service, path, params, field):
    client, _, tokens, _, _ = service
    answer = client.get(path, params=params, headers=_as(tokens["read"]))
    assert answer.status_code == 422
    assert [error["loc"][-1] for error in answer.json()["detail"]] == [field]


def test_events_good_rows_to_the_inbox_bad_rows_back_with_index_and_reason(service):
    client, settings, tokens, _, _ = service
    stamp = (NOW - timedelta(hours=1)).isoformat()
    events = [
        {"event_id": "e1", "event_time": stamp, "user_id": "u1", "event_type": "view", "product_id": "p1"},
        {"event_id": "e2", "event_time": stamp, "user_id": " ", "event_type": "view"},
        {"event_id": "e3", "event_time": stamp, "user_id": "u2", "event_type": "purchase", "price": 12.5,
         "quantity": 2, "channel": "web"},
        {"event_id": "e4", "event_time": stamp, "user_id": "u3", "event_type": "teleport"},
        {"event_id": "e5", "event_time": "2026-11-01 10:00:00", "user_id": "u4", "event_type": "view"},
        {"event_id": "e6", "event_time": stamp, "user_id": "u5", "event_type": "purchase"},
        {"event_id": "e7", "event_time": stamp, "user_id": "'; DELETE FROM x; --", "event_type": "view",
         "category": "<b>x</b>"},
        "not an object",
        {"event_id": "e9", "event_time": stamp, "user_id": "u6", "event_type": "view", "colour": "red"},
    ]
    answer = client.post("/v1/events", json={"events": events}, headers=_as(tokens["write"]))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["accepted"] == 3
    assert [(r["index"], r["reason"]) for r in body["rejected"]] == [
        (1, "missing_user_id"), (3, "unknown_event_type"), (4, "timestamp_without_zone"), (5, "missing_price"),
        (7, "malformed_row"), (8, "malformed_row")]
    assert {r["reason"] for r in body["rejected"]} <= set(REJECT_REASONS)
    folder = settings.inbox / "events"
    assert [p.name for p in folder.iterdir()] == [body["file"]]  # no temporary file left behind
    rows = [json.loads(line) for line in (folder / body["file"]).read_text().splitlines()]
    assert [r["event_id"] for r in rows] == ["e1", "e3", "e7"]
    assert all(list(r) == list(EVENT_COLUMNS) for r in rows)
    assert rows[1]["price"] == "12.5" and rows[1]["quantity"] == "2"
    assert rows[2]["user_id"] == "'; DELETE FROM x; --" and rows[2]["category"] == "<b>x</b>"


def test_bodies_bad_json_oversized_and_exposures(service):
    client, _, tokens, _, conn = service
    writer = _as(tokens["write"])
    bad_json = client.post("/v1/events", content=b'{"events": [', headers={**writer, "Content-Type": "application/json"})
    assert bad_json.status_code == 422
    huge = client.post("/v1/events", content=b"x" * (MAX_BODY_BYTES + 1), headers=writer)
    assert huge.status_code == 413
    naive = {"user_id": "u_treated", "campaign_id": "spring", "channel": "email", "kind": "sent",
             "exposed_at": "2026-11-02T09:00:00"}
    refused = client.post("/v1/exposures", json={"exposures": [naive]}, headers=writer)
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"][-1] == "exposed_at"
    shown = {**naive, "exposed_at": "2026-11-02T09:00:00Z", "run_id": "r1", "coupon_code": "SPRING-T1"}
    stored = client.post("/v1/exposures", json={"exposures": [shown, {**shown, "kind": "shown"}]}, headers=writer)
    assert stored.status_code == 200 and stored.json() == {"stored": 2}
    rows = warehouse.fetch_all(conn, "SELECT user_id, campaign_id, run_id, kind, exposed_at, coupon_code, k.name "
                                     "FROM journey.exposures e JOIN journey.api_keys k USING (key_id) ORDER BY kind")
    conn.rollback()
    assert rows == [("u_treated", "spring", "r1", kind, datetime(2026, 11, 2, 9, tzinfo=UTC), "SPRING-T1", "sender")
                    for kind in ("sent", "shown")]


def test_healthz_and_metrics(service):
    client, _, tokens, _, _ = service
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["database"] == "reachable"
    assert datetime.fromisoformat(health["latest_campaign_publish"]) == (NOW - timedelta(hours=1)).replace(
        microsecond=(NOW - timedelta(hours=1)).microsecond)
    assert health["latest_segment_snapshot"] == "2026-11-01"
    # published at NOW - 1 h; NOW was taken when the module was imported, maybe long before this test ran
    since_import = (datetime.now(UTC) - NOW).total_seconds()
    assert 3600 - 5 <= health["campaign_publish_age_seconds"] <= 3600 + since_import + 5
    before = client.get("/metrics").text
    line = f'journey_api_requests_total{{method="GET",route="{NBA_ROUTE}",status="200"}} '
    counted = int(before.split(line)[1].split()[0]) if line in before else 0
    for _ in range(3):
        client.get(NBA.format("nobody"), headers=_as(tokens["read"]))
    after = client.get("/metrics")
    assert after.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert f"{line}{counted + 3}\n" in after.text
    assert f'journey_api_request_duration_seconds_count{{method="GET",route="{NBA_ROUTE}"}} ' in after.text
    assert "nobody" not in after.text  # route templates, not raw paths


# ------------------------------------------------------------------ a real server, killed, and the next ingest


def _batch(first: int, size: int) -> list[dict]:
    """`size` good view events with ids e<first>…"""
    stamp = (NOW - timedelta(hours=2)).isoformat()
    return [{"event_id": f"k{first + i}", "event_time": stamp, "user_id": f"u{(first + i) % 97}",
             "event_type": "view", "product_id": f"p{i % 13}"} for i in range(size)]


def test_sigkill_mid_batch_loses_no_acknowledged_event(service):
    _, settings, tokens, _, _ = service
    port = free_port()
    server = start_api(settings.home, port, workers=1)
    folder = settings.inbox / "events"
    before = {p.name for p in folder.glob("*.jsonl")}
    acknowledged: dict[str, list[str]] = {}
    url, headers = f"http://127.0.0.1:{port}/v1/events", _as(tokens["write"])

    def post_until_refused() -> None:
        first = 0
        with httpx.Client(headers=headers, timeout=10) as client:
            while True:
                batch = _batch(first, 500)
                try:
                    answer = client.post(url, json={"events": batch})
                except httpx.HTTPError:
                    return
                assert answer.status_code == 200, answer.text
                acknowledged[answer.json()["file"]] = [e["event_id"] for e in batch]
                first += 500

    sender = threading.Thread(target=post_until_refused)
    try:
        sender.start()
        time.sleep(1.5)
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=30)
        sender.join(timeout=30)
    assert acknowledged, "no batch was acknowledged before the kill"
    visible = {p.name for p in folder.glob("*.jsonl")} - before
    assert set(acknowledged) <= visible
    for name, ids in acknowledged.items():
        assert [json.loads(line)["event_id"] for line in (folder / name).read_text().splitlines()] == ids
    assert not [p for p in folder.iterdir() if not p.name.startswith(".") and not p.name.endswith(".jsonl")]
    for name in visible - set(acknowledged):  # written but killed before the answer: still whole
        lines = (folder / name).read_text().splitlines()
        assert len(lines) == 500 and all(json.loads(line)["event_type"] == "view" for line in lines)


@pytest.mark.spark
def test_posted_events_are_ingested_by_the_next_run(service, spark, tmp_path):
    client, settings, tokens, _, _ = service
    own_inbox = tmp_path / "inbox"
    own = create_app(client.app.state.pool, own_inbox)
    good = _batch(10_000, 40)
    bad = [{"event_time": NOW.isoformat(), "user_id": "u1", "event_type": "purchase", "price": "-3"}]
    with TestClient(own) as private:
        answer = private.post("/v1/events", json={"events": good[:25] + bad}, headers=_as(tokens["write"]))
        second = private.post("/v1/events", json={"events": good[25:]}, headers=_as(tokens["write"]))
    assert answer.json()["accepted"] == 25 and answer.json()["rejected"][0]["reason"] == "negative_price"
    assert second.json()["accepted"] == 15
    lake_settings = get_settings({"JOURNEY_HOME": str(tmp_path / "home"), "JOURNEY_SHUFFLE_PARTITIONS": "4"})
    result = run_ingest(spark, lake_settings, str(own_inbox / "events"), "canonical", "api-roundtrip")
    assert (result.rows_read, result.curated, result.quarantined, result.duplicates) == (40, 40, 0, 0)
    curated = spark.read.parquet(result.curated_path).where("event_id LIKE 'k1%'").select("event_id")
    assert sorted(r.event_id for r in curated.collect()) == sorted(e["event_id"] for e in good)

    # The API's row checks and the Spark ingest give the same verdicts on the same rows.
    hostile = [dict(row, event_id=f"h{i}") for i, row in enumerate(_contract_cases())]
    verdicts = {row["event_id"]: None for row in inbox.check_batch(hostile, NOW)[0]}
    verdicts.update({hostile[r["index"]]["event_id"]: r["reason"] for r in inbox.check_batch(hostile, NOW)[1]})
    raw = tmp_path / "raw" / "hostile.jsonl"
    raw.parent.mkdir()
    raw.write_text("".join(json.dumps(row) + "\n" for row in hostile))
    checked = run_ingest(spark, lake_settings, str(raw), "canonical", "api-contract", now=NOW)
    assert checked.by_reason == dict(Counter(reason for reason in verdicts.values() if reason))
    assert checked.curated == sum(reason is None for reason in verdicts.values())


def _contract_cases() -> list[dict]:
    """One row per ingest rule (and a few that pass), as a sender might post them."""
    stamp = (NOW - timedelta(hours=1)).isoformat()
    row = {"event_time": stamp, "user_id": "u1", "event_type": "view"}
    return [
        row, {**row, "event_type": "purchase", "price": 10, "quantity": 3},
        {**row, "event_time": "2026-11-01 10:00:00 UTC"}, {**row, "event_time": ""},
        {**row, "event_time": "yesterday"}, {**row, "event_time": "2026-11-01T10:00:00"},
        {**row, "event_time": (NOW + timedelta(days=1)).isoformat()}, {**row, "event_time": "1969-12-31T00:00:00Z"},
        {**row, "user_id": ""}, {**row, "event_type": "click"}, {**row, "price": "ten"},
        {**row, "event_type": "add_to_cart"}, {**row, "price": -1}, {**row, "price": 50001},
        {**row, "quantity": 0}, {**row, "quantity": "two"},
    ]
