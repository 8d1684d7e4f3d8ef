"""Ad assignment: the campaign's creative rules (first match wins) and the send time."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from journey.campaigns.ads import ad_assignments
from journey.campaigns.params import parse_params
from journey.campaigns.request import CampaignRequest

pytestmark = pytest.mark.spark

RULES = [
    {"segment": "Deal seekers", "scene": "*", "lifecycle_stage": "*", "theme": "flash_sale", "format": "banner"},
    {"segment": "*", "scene": "gift", "lifecycle_stage": "loyal", "theme": "vip_gifts", "format": "carousel"},
    {"segment": "*", "scene": "*", "lifecycle_stage": "*", "theme": "picked", "format": "list"},
]
TREATED = [  # user, segment, scene, stage, preferred hour
    ("u1", "Deal seekers", "gift", "loyal", 20),  # segment rule comes first
    ("u2", "Browsers", "gift", "loyal", None),  # scene + stage rule; no preferred hour -> 10:00
    ("u3", "Browsers", "gift", "new", 3),  # stage does not match -> catch-all; 03:00 passed at start -> next day
]


def test_first_matching_creative_rule_and_send_time(spark):
    params = parse_params({"campaign_id": "xmas", "objective": "retention", "budget": 10.0, "creatives": RULES,
                           "coupons": [{"name": "ship", "kind": "free_shipping", "value": 0, "expected_cost": 1.0}],
                           "start_time": "2026-12-01T08:00:00Z", "end_time": "2026-12-05T00:00:00Z"})
    request = CampaignRequest(params, "run-1", date(2026, 11, 30), {1: "Deal seekers", 2: "Browsers"}, {})
    treated = spark.createDataFrame(
        [(u, 1 if seg == "Deal seekers" else 2, "email", seg, scene, stage, hour, "profile")
         for u, seg, scene, stage, hour in TREATED],
        "user_id string, segment_id int, channel string, segment_name string, predicted_scene string, "
        "lifecycle_stage string, preferred_hour int, signal_source string")
    coupons = spark.createDataFrame([("u2", "XMAS-AAAA")], "user_id string, coupon_code string")
    rows = {r.user_id: r for r in ad_assignments(treated, coupons, request).collect()}
    assert {u: r.creative_id for u, r in rows.items()} == {
        "u1": "retention.flash_sale.banner", "u2": "retention.vip_gifts.carousel", "u3": "retention.picked.list"}
    assert rows["u1"].send_at == datetime(2026, 12, 1, 20)
    assert rows["u2"].send_at == datetime(2026, 12, 1, 10)
    assert rows["u3"].send_at == datetime(2026, 12, 2, 3)
    assert (rows["u2"].coupon_code, rows["u1"].coupon_code) == ("XMAS-AAAA", None)
