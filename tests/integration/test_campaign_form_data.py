"""What the campaign form and page read from the real warehouse (issue #24), on an embedded PostgreSQL.

The segment picker's names come from the published segments (one query, written to a file the DAG
parses); the HTML page's funnel and per-segment table come from journey.bi_campaign_summary of the
run just published (the hand-written run of test_campaign_publish: 3 eligible, 1 held out,
2 suppressed, 2 coupons at 4.0).
"""

from __future__ import annotations

from datetime import date

import pytest

from journey import warehouse
from journey.campaigns.params import CampaignParamsError, dag_params, parse_params
from journey.campaigns.publish import publish_campaign
from journey.campaigns.segment_names import publish_segment_names, read_segment_names
from journey.campaigns.validate import validate_request
from journey.reports import data, sections
from tests.integration.test_campaign_publish import make_run, settings  # noqa: F401 (settings: fixture)

pytestmark = pytest.mark.postgres

SNAPSHOT = date(2026, 11, 29)
SEGMENTS = {0: "Loyal big spenders", 1: "Deal seekers"}
SUMMARY_SQL = """INSERT INTO journey.segment_summary (snapshot_date, segment_id, segment_name, users, user_share,
revenue, revenue_share, centroid, k, silhouette, run_id) VALUES (%s, %s, %s, 1, 0.5, 0, 0, '{}', 2, 0.5, 'd1')"""


def test_no_published_segment_leaves_the_picker_empty_and_the_daily_publish_unharmed(settings):  # noqa: F811 (the imported fixture)
    assert publish_segment_names(settings) is None
    assert read_segment_names(settings) == ()


def test_published_segments_become_the_pickers_choices_and_an_unknown_one_lists_them(settings):  # noqa: F811 (the imported fixture)
    with warehouse.connect(settings) as conn, conn.cursor() as cur:
        for sid, name in SEGMENTS.items():
            cur.execute(SUMMARY_SQL, (SNAPSHOT, sid, name))
            cur.execute("INSERT INTO journey.user_segments VALUES (%s, %s, %s, %s, 'd1')", (f"u{sid}", sid, name,
                                                                                             SNAPSHOT))
    publish_segment_names(settings)

    assert read_segment_names(settings) == ("Loyal big spenders", "Deal seekers")
    assert dag_params(read_segment_names(settings))["segments"].schema["examples"] == [
        "all", "Loyal big spenders", "Deal seekers"]
    raw = {"campaign_id": "spring", "coupons": [{"name": "pct10", "kind": "percent", "value": 10,
                                                 "expected_cost": 4.0}], "budget": 100.0, "segments": ["VIP"]}
    with pytest.raises(CampaignParamsError, match=r"^parameter 'segments': unknown segment 'VIP'; the current "
                                                  r"segments are 0 \(Loyal big spenders\), 1 \(Deal seekers\)$"):
        validate_request(settings, raw, "manual__1")
    assert parse_params(raw).segments == ("VIP",)  # the schema alone cannot know: the first task says it


def test_the_page_gets_the_funnel_and_the_segment_rows_of_the_published_run(settings):  # noqa: F811 (the imported fixture)
    publish_campaign(settings, make_run(settings, "run-form", ["u1", "u2", "u3"]))

    with warehouse.connect(settings) as conn:
        rows = data.campaign_data(conn, "run-form")

    assert [c["name"] for c in rows["campaigns"]] == ["spring"]
    built = {s.id: s for s in sections.campaign_sections(rows)}
    assert built["funnel"].table == [("step", "users"), ("audience (targeted segments)", "5"),
                                     ("excluded: suppressed", "−2"), ("eligible", "3"),
                                     ("held out (control group)", "−1"), ("treated", "2"), ("with a coupon", "2")]
    assert built["segments"].table[1] == ("#1 Shoppers", "3", "2", "1", "2", "8.00", "3.00", "2")
    assert "quarantine" not in built
