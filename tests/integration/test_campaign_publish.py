"""Publishing campaign runs: atomic, a rerun replaces, a new run keeps history and becomes current.

The run outputs are small hand-written Parquet files in the lake layout the Spark steps use,
so the expected rows are known exactly.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from journey import warehouse
from journey.campaigns.params import parse_params
from journey.campaigns.publish import publish_campaign
from journey.campaigns.request import CampaignRequest, output_path, save_request, save_step_summary

pytestmark = pytest.mark.postgres

DAY = date(2026, 10, 31)
OFFERS = [{"name": "pct10", "kind": "percent", "value": 10, "expected_cost": 4.0}]


@pytest.fixture(scope="module")
def settings(warehouse_settings):
    """A Journey home with a running embedded PostgreSQL (tests/integration/conftest.py)."""
    return warehouse_settings


def write(target: str, rows: list[dict]) -> None:
    """One Parquet output folder of a run."""
    Path(target).mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), f"{target}/part-0.parquet")


def make_run(settings, run_id: str, users: list[str], dry_run: bool = False) -> CampaignRequest:
    """Lake outputs of a run: users[0] held out, every other user one coupon, one ad, two products."""
    params = parse_params({"campaign_id": "spring", "coupons": OFFERS, "budget": 100.0, "dry_run": dry_run})
    request = CampaignRequest(params, run_id, DAY, {1: "Shoppers"}, {})
    save_request(settings, request)
    base = {"campaign_id": "spring", "run_id": run_id, "snapshot_date": DAY}

    def out(name: str) -> str:
        return output_path(settings, "spring", run_id, name)

    treated = users[1:]
    write(out("holdout"), [{"user_id": u, "segment_id": 1, "draw": 0.05 if i == 0 else 0.5, "in_holdout": i == 0}
                           for i, u in enumerate(users)])
    write(out("audience_counts"), [{**base, "segment_id": 1, "segment_name": "Shoppers", "status": s, "reason": r,
                                    "users": n} for s, r, n in (("holdout", "eligible", 1),
                                                                ("treated", "eligible", len(treated)),
                                                                ("excluded", "suppressed", 2))])
    write(out("coupons"), [{**base, "user_id": u, "segment_id": 1, "offer_name": "pct10", "kind": "percent",
                            "offer_value": 10.0, "min_spend": 0.0, "coupon_code": f"J{run_id}{u}", "channel": "email",
                            "expected_cost": 4.0, "expected_value": 1.5, "reason": '{"uplift": 0.1}'} for u in treated])
    write(out("ads"), [{**base, "user_id": u, "segment_id": 1, "channel": "email", "creative_id": "c",
                        "send_at": datetime(2026, 11, 1, 10, tzinfo=UTC), "coupon_code": f"J{run_id}{u}",
                        "reason": "{}"} for u in treated])
    write(out("recommendations"), [{**base, "user_id": u, "rank": r, "product_id": f"p{r}", "category": "home",
                                    "score": 1.0 / r, "source": "hybrid"} for u in treated for r in (1, 2)])
    save_step_summary(settings, request, "holdout", {"eligible": len(users), "holdout": 1})
    save_step_summary(settings, request, "coupons", {"budget_used": 4.0 * len(treated), "expected_value": 1.5 * len(treated),
                                                     "value_upper_bound": 2.0 * len(treated)})
    return request


def table_counts(settings, run_id: str) -> dict[str, int]:
    """Rows of each campaign table for one run."""
    tables = ("campaigns", "campaign_holdout", "campaign_audience", "coupon_assignments", "ad_assignments",
              "recommendation_assignments")
    with warehouse.connect(settings) as conn:
        return {t: warehouse.fetch_all(conn, f"SELECT count(*) FROM journey.{t} WHERE run_id = %s", (run_id,))[0][0]
                for t in tables}


EXPECTED_RUN_1 = {"campaigns": 1, "campaign_holdout": 1, "campaign_audience": 3, "coupon_assignments": 3,
                  "ad_assignments": 3, "recommendation_assignments": 6}


def test_publish_then_rerun_of_the_same_run_replaces_its_rows(settings):
    request = make_run(settings, "run-1", ["u1", "u2", "u3", "u4"])
    publish_campaign(settings, request)
    assert table_counts(settings, "run-1") == EXPECTED_RUN_1
    publish_campaign(settings, request)
    assert table_counts(settings, "run-1") == EXPECTED_RUN_1


def test_new_run_keeps_history_and_becomes_current(settings):
    publish_campaign(settings, make_run(settings, "run-2", ["u1", "u5"]))
    assert table_counts(settings, "run-1") == EXPECTED_RUN_1  # history kept
    with warehouse.connect(settings) as conn:
        current = warehouse.fetch_all(conn, "SELECT run_id FROM journey.campaign_runs_current "
                                            "WHERE campaign_id = 'spring'")
        live = warehouse.fetch_all(conn, "SELECT user_id FROM journey.coupon_assignments_current ORDER BY 1")
        summary = warehouse.fetch_all(conn, "SELECT run_id, eligible, excluded, excluded_by_reason, holdout, coupons, "
                                            "coupons_by_offer, budget_used, ads, ads_by_channel "
                                            "FROM journey.bi_campaign_summary WHERE campaign_id = 'spring'")
    assert current == [("run-2",)]
    assert live == [("u5",)]
    assert summary == [("run-2", 2, 2, {"suppressed": 2}, 1, 1, {"pct10": 1}, 4.0, 1, {"email": 1})]


def test_dry_run_publishes_nothing(settings):
    before = table_counts(settings, "run-3")
    publish_campaign(settings, make_run(settings, "run-3", ["u1", "u6", "u7"], dry_run=True))
    assert table_counts(settings, "run-3") == before == dict.fromkeys(EXPECTED_RUN_1, 0)


def test_bi_role_can_read_the_summary(settings):
    conn = warehouse.open_connection(warehouse.bi_url(settings))
    try:
        rows = warehouse.fetch_all(conn, "SELECT count(*) FROM journey.bi_campaign_summary")
    finally:
        conn.close()
    assert rows == [(1,)]
