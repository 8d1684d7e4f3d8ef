"""The API's in-memory snapshot (journey.serve.snapshot / refresh) on an embedded PostgreSQL.

- Every read answer from the snapshot is byte-for-byte the database path's answer (the prepared
  statements on the published views), on the rows of test_serve_api plus cases of their own
  (two campaigns, two offers, an ad-only treatment, a campaign not started yet, an expired
  suppression, a non-ASCII id).
- On a real server (free loopback port): a second campaign publish through
  `warehouse.publish` switches the answers within the documented time, and once the new run
  is seen the old never comes back; a new suppression row and a revoked key take effect
  within their documented times.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import httpx
import pyarrow as pa
import pytest
from fastapi.testclient import TestClient

from journey import warehouse
from journey.config import get_settings
from journey.perf.serve import free_port, start_api
from journey.serve import auth, queries
from journey.serve.app import create_app
from journey.serve.pool import ConnectionPool
from journey.serve.refresh import POLL_SECONDS, SnapshotHolder
from journey.warehouse.publish import PUBLISH_CHANNEL
from tests.integration.test_serve_api import AD, CAMPAIGN, COUPON, DAY, NOW, _publish_fixture_rows

pytestmark = pytest.mark.postgres

SWITCH_BOUND_S = 5.0  # docs/api.md: a publish is served within seconds (NOTIFY, then a reload)
SUPPRESSION_BOUND_S = POLL_SECONDS + 3.0  # docs/api.md: a suppression row within the poll interval
KEY_BOUND_S = auth.KeyCache().ttl_s + 2.0  # docs/api.md: a revoked key within the cache's 5 s

USERS = ["u_treated", "u_holdout", "u_suppressed", "u_expired", "u_known", "nobody", "u_two_offers",
         "u_future", "u_lapsed_suppression", "ü_ß \"quoted\"", "u_ad_only", "x'; DROP TABLE journey.api_keys; --"]


def _more_rows(conn) -> None:
    """Cases beyond test_serve_api's: a second live campaign, two offers, a future campaign, expired suppression."""
    with conn.cursor() as cur:
        cur.execute(CAMPAIGN, ("autumn", "a1", DAY, "Autumn", NOW - timedelta(days=1), NOW + timedelta(days=3),
                               NOW - timedelta(minutes=30)))
        cur.execute(CAMPAIGN, ("summer", "s1", DAY, "Summer", NOW + timedelta(days=1), NOW + timedelta(days=9),
                               NOW - timedelta(minutes=10)))
        cur.execute(AD, ("autumn", "a1", DAY, "u_treated", "push", "creative_push", NOW + timedelta(hours=1), None))
        cur.execute(AD, ("autumn", "a1", DAY, "u_ad_only", "push", "creative_push", NOW + timedelta(hours=1), None))
        cur.execute(COUPON, ("spring", "r1", DAY, "u_two_offers", "five_off", 5, "TWO-5", 3.0, '{"p": 0.2}'))
        cur.execute(COUPON, ("spring", "r1", DAY, "u_two_offers", "twenty_off", 20, "TWO-20", 5.25, '{"p": 0.3}'))
        cur.execute(COUPON, ("summer", "s1", DAY, "u_future", "five_off", 5, "SUMMER-F", 9.0, '{}'))
        cur.execute(COUPON, ("spring", "r1", DAY, "u_lapsed_suppression", "ten_off", 10, "LAPSED-1", 4.0, '{}'))
        cur.execute("INSERT INTO journey.suppression_list (user_id, reason, expires_at) "
                    "VALUES ('u_lapsed_suppression', 'complaint', now() - interval '1 day')")
        cur.execute("INSERT INTO journey.user_segments VALUES (%s, 2, 'dormant', %s, 'd1')", ("ü_ß \"quoted\"", DAY))
        cur.execute("INSERT INTO journey.user_scores (user_id, snapshot_date, run_id, propensity, p_alive) "
                    "VALUES ('u_known', %s, 's1', 0.125, 0.75)", (DAY,))
    conn.commit()


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """(settings, connection, read token) of an embedded PostgreSQL with the published rows."""
    settings = get_settings({"JOURNEY_HOME": str(tmp_path_factory.mktemp("snapshot") / "home")})
    warehouse.start_server(settings)
    conn = warehouse.connect(settings)
    _publish_fixture_rows(conn)
    _more_rows(conn)
    token = auth.create_key(conn, "shop", ("read",))[1]
    yield settings, conn, token
    conn.close()
    warehouse.stop_server(settings)


def _as(token: str) -> dict[str, str]:
    """Authorization header of a token."""
    return {"Authorization": f"Bearer {token}"}


def _read_paths() -> list[tuple[str, dict]]:
    """Every read request the comparison sends."""
    paths = [("/v1/segments", {}), ("/v1/segments/1", {}), ("/v1/segments/2", {}), ("/v1/segments/9", {})]
    for user in USERS:
        quoted = quote(user, safe="")
        for params in ({}, {"channel": "email"}, {"channel": "push"}, {"k": 1}, {"k": 2, "channel": "email"}):
            paths.append((f"/v1/users/{quoted}/next-best-action", params))
        for params in ({}, {"k": 1}, {"k": 2}):
            paths.append((f"/v1/users/{quoted}/recommendations", params))
    return paths


def test_snapshot_answers_are_the_databases_byte_for_byte(published, tmp_path):
    settings, _, token = published
    url = warehouse.database_url(settings)
    pool = ConnectionPool(url, size=2, setup=queries.prepare)
    holder = SnapshotHolder(url)
    try:
        with TestClient(create_app(pool, tmp_path)) as database, \
                TestClient(create_app(pool, tmp_path, holder)) as snapshot:
            for path, params in _read_paths():
                expected = database.get(path, params=params, headers=_as(token))
                answer = snapshot.get(path, params=params, headers=_as(token))
                assert (answer.status_code, answer.content) == (expected.status_code, expected.content), (path, params)
                assert answer.headers["content-type"] == expected.headers["content-type"]
            two = snapshot.get("/v1/users/u_two_offers/next-best-action", headers=_as(token)).json()
            push = snapshot.get("/v1/users/u_treated/next-best-action", params={"channel": "push"},
                                headers=_as(token)).json()
            lapsed = snapshot.get("/v1/users/u_lapsed_suppression/next-best-action", headers=_as(token)).json()
            future = snapshot.get("/v1/users/u_future/next-best-action", headers=_as(token)).json()
    finally:
        pool.close()
    assert (two["offer"]["coupon_code"], two["offer"]["expected_value"]) == ("TWO-20", 5.25)
    assert (push["campaign"]["campaign_id"], push["offer"], push["creative"]["creative_id"]) == (
        "autumn", None, "creative_push")
    assert push["recommendations"] == [] and push["reason"] == {"creative": {"hour": 9}}
    assert (lapsed["decision"], lapsed["offer"]["coupon_code"]) == ("treatment", "LAPSED-1")
    assert (future["decision"], future["fallback_reason"]) == ("fallback", "unknown_user")
    users = holder.current.users
    assert len(users) == 10 and "nobody" not in users  # every user with a published row, no others


# ------------------------------------------------------------------ a real server and a second publish


@pytest.fixture(scope="module")
def server(published):
    """Base URL of `journey serve`'s app (uvicorn, snapshot read path) on a free loopback port."""
    settings = published[0]
    port = free_port()
    process = start_api(settings.home, port, workers=1)
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=30)


def _second_run() -> list[warehouse.TableLoad]:
    """Run r2 of campaign spring: new coupon codes for u_treated and u_new, published now."""
    published_at = datetime.now(UTC)
    run = "campaign_id = 'spring' AND run_id = 'r2'"
    campaign = pa.table({"campaign_id": ["spring"], "run_id": ["r2"], "snapshot_date": [DAY], "name": ["Spring v2"],
                         "objective": ["revenue"], "params": ["{}"], "signals": ["{}"], "budget": [100.0],
                         "budget_used": [12.0], "expected_value": [55.0], "value_upper_bound": [60.0],
                         "eligible_users": [2], "holdout_users": [0], "start_time": [NOW - timedelta(days=1)],
                         "end_time": [NOW + timedelta(days=5)], "published_at": [published_at]})
    coupons = pa.table({"campaign_id": ["spring"] * 2, "run_id": ["r2"] * 2, "snapshot_date": [DAY] * 2,
                        "user_id": ["u_treated", "u_new"], "segment_id": [1, 1], "offer_name": ["fifteen_off"] * 2,
                        "kind": ["percent"] * 2, "offer_value": [15.0] * 2, "min_spend": [20.0] * 2,
                        "coupon_code": ["SPRING-T2", "SPRING-N2"], "channel": ["email"] * 2,
                        "expected_cost": [2.5] * 2, "expected_value": [8.0, 6.0], "reason": ['{"p": 2}'] * 2})
    return [warehouse.TableLoad("campaigns", campaign, campaign.column_names, run),
            warehouse.TableLoad("coupon_assignments", coupons, coupons.column_names, run)]


def _watch(base: str, token: str, stop: threading.Event, seen: list) -> None:
    """Ask for u_treated and u_new until stopped: (time, u_treated's run and code, u_new's decision)."""
    with httpx.Client(base_url=base, headers=_as(token), timeout=10) as client:
        while not stop.is_set():
            treated = client.get("/v1/users/u_treated/next-best-action").json()
            new = client.get("/v1/users/u_new/next-best-action").json()
            seen.append((time.monotonic(), treated["campaign"]["run_id"], treated["offer"]["coupon_code"],
                         new["decision"], (new["offer"] or {}).get("coupon_code")))


def test_a_second_publish_is_served_within_seconds_and_never_half(published, server):
    _, conn, token = published
    seen: list[tuple] = []
    stop = threading.Event()
    watcher = threading.Thread(target=_watch, args=(server, token, stop, seen))
    watcher.start()
    try:
        time.sleep(0.5)
        warehouse.publish(conn, _second_run(), lock="campaign spring")
        committed = time.monotonic()
        while time.monotonic() - committed < SWITCH_BOUND_S and not (seen and seen[-1][1] == "r2"):
            time.sleep(0.05)
        time.sleep(0.3)
    finally:
        stop.set()
        watcher.join(timeout=30)
    # each answer is one publish or the other: u_treated's campaign run and coupon come from the same one
    treated = [(run, code) for _, run, code, _, _ in seen]
    assert set(treated) <= {("r1", "SPRING-T1"), ("r2", "SPRING-T2")}, set(treated)
    assert set((decision, code) for *_, decision, code in seen) <= {("fallback", None), ("treatment", "SPRING-N2")}
    first_new = treated.index(("r2", "SPRING-T2"))
    assert first_new > 0, "the watcher saw no answer from before the publish"
    assert set(treated[first_new:]) == {("r2", "SPRING-T2")}  # once served, the new publish stays
    assert {decision for *_, decision, _ in seen[first_new + 1:]} == {"treatment"}  # u_new is asked after u_treated
    switched = seen[first_new][0] - committed
    assert switched <= SWITCH_BOUND_S, f"the new run was served {switched:.1f} s after the publish"
    health = httpx.get(f"{server}/healthz").json()
    # r2 replaced spring's r1: its holdout, suppressed, two-offer and lapsed users left the snapshot, u_new came
    assert health["snapshot"]["users"] == 7 and health["snapshot"]["reloads"] >= 2


def test_a_new_suppression_row_is_honoured_within_the_poll_interval(published, server):
    _, conn, token = published
    url = f"{server}/v1/users/u_ad_only/next-best-action"
    assert httpx.get(url, headers=_as(token)).json()["decision"] == "treatment"
    with conn.cursor() as cur:
        cur.execute("INSERT INTO journey.suppression_list (user_id, reason) VALUES ('u_ad_only', 'opt_out')")
    conn.commit()
    added = time.monotonic()
    while time.monotonic() - added < SUPPRESSION_BOUND_S + 2:
        answer = httpx.get(url, headers=_as(token)).json()
        if answer["decision"] == "fallback":
            break
        time.sleep(0.1)
    took = time.monotonic() - added
    assert (answer["decision"], answer["fallback_reason"], answer["offer"]) == ("fallback", "suppressed", None)
    assert took <= SUPPRESSION_BOUND_S, f"suppressed only after {took:.1f} s"


def test_a_revoked_key_is_refused_within_the_cache_time(published, server):
    _, conn, _ = published
    key_id, token = auth.create_key(conn, "short-lived", ("read",))
    url = f"{server}/v1/segments"
    assert httpx.get(url, headers=_as(token)).status_code == 200
    auth.revoke_key(conn, key_id)
    revoked = time.monotonic()
    statuses = []
    while time.monotonic() - revoked < KEY_BOUND_S + 2:
        statuses.append(httpx.get(url, headers=_as(token)).status_code)
        if statuses[-1] == 401:
            break
        time.sleep(0.1)
    took = time.monotonic() - revoked
    assert statuses[-1] == 401 and set(statuses[:-1]) <= {200}
    assert took <= KEY_BOUND_S, f"a revoked key still worked {took:.1f} s after revoke"


def test_a_segment_publish_reaches_the_answers_through_its_notification(published, server):
    # no campaign row changes: only the publish's NOTIFY (not the 2 s poll) can trigger this reload
    _, conn, token = published
    url = f"{server}/v1/users/u_segment_only/next-best-action"
    assert httpx.get(url, headers=_as(token)).json()["fallback_reason"] == "unknown_user"
    segments = pa.table({"user_id": ["u_segment_only"], "segment_id": [3], "segment_name": ["champions"],
                         "snapshot_date": [DAY], "run_id": ["d2"]})
    warehouse.publish(conn, [warehouse.TableLoad("user_segments", segments, segments.column_names,
                                                 "user_id = 'u_segment_only'")])
    committed = time.monotonic()
    while time.monotonic() - committed < SWITCH_BOUND_S:
        answer = httpx.get(url, headers=_as(token)).json()
        if answer["segment"] is not None:
            break
        time.sleep(0.05)
    took = time.monotonic() - committed
    assert (answer["fallback_reason"], answer["segment"]) == (
        "no_assignment", {"segment_id": 3, "segment_name": "champions", "snapshot_date": DAY.isoformat()})
    assert took <= SWITCH_BOUND_S, f"the segment publish was served {took:.1f} s after its commit"


def test_a_publish_notifies_on_commit_only(published):
    settings, conn, _ = published
    listener = warehouse.connect(settings)
    listener.autocommit = True
    try:
        with listener.cursor() as cur:
            cur.execute(f"LISTEN {PUBLISH_CHANNEL}")
        segments = pa.table({"user_id": ["u_note"], "segment_id": [1], "segment_name": ["loyal"],
                             "snapshot_date": [DAY], "run_id": ["d3"]})
        bad = pa.table({"user_id": ["u_elsewhere"], "segment_id": [1], "segment_name": ["loyal"],
                        "snapshot_date": [DAY], "run_id": ["d3"]})
        with pytest.raises(warehouse.WarehouseError, match="do not match its replace condition"):
            warehouse.publish(conn, [warehouse.TableLoad("user_segments", bad, bad.column_names, "user_id = 'u_note'")])
        warehouse.publish(conn, [warehouse.TableLoad("user_segments", segments, segments.column_names,
                                                     "user_id = 'u_note'")])
        time.sleep(0.2)
        listener.poll()
        assert [(note.channel, note.payload) for note in listener.notifies] == [(PUBLISH_CHANNEL, "user_segments")]
    finally:
        listener.close()
