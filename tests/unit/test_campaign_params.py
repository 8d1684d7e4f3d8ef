"""Campaign parameters: valid requests parse; each invalid one fails naming its field."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from journey.campaigns.params import CampaignParamsError, parse_params, resolve_segments, share_by_segment_id

OFFERS = [{"name": "pct10", "kind": "percent", "value": 10, "min_spend": 0, "expected_cost": 4.0},
          {"name": "ship", "kind": "free_shipping", "value": 0, "expected_cost": 2.0}]
SEGMENTS = {1: "High-value shoppers", 2: "Deal seekers", 3: "Browsers"}
CATCH_ALL = {"segment": "*", "scene": "*", "lifecycle_stage": "*", "theme": "picked", "format": "carousel"}


def valid(**changes) -> dict:
    """A valid raw request with some fields changed."""
    raw = {"campaign_id": "autumn-sale", "name": "Autumn", "objective": "winback", "segments": ["all"],
           "channels": ["email", "display"], "coupons": OFFERS, "budget": 500.0,
           "start_time": "2026-11-01T09:00:00Z", "end_time": "2026-11-08T09:00:00Z"}
    raw.update(changes)
    return raw


def test_valid_request_parses_with_defaults():
    params = parse_params(valid())
    assert params.campaign_id == "autumn-sale"
    assert params.objective == "winback"
    assert [o.name for o in params.coupons] == ["pct10", "ship"]
    assert params.coupons[1].min_spend == 0.0
    assert (params.max_coupons_per_user, params.holdout_fraction, params.recommendations_k) == (1, 0.10, 10)
    assert params.start_time == datetime(2026, 11, 1, 9, tzinfo=UTC)
    assert params.all_segments and not params.dry_run


@pytest.mark.parametrize(("changes", "field", "words"), [
    ({"budget": -1.0}, "budget", "within [0.0, inf]"),
    ({"holdout_fraction": 0.6}, "holdout_fraction", "within [0.0, 0.5]"),
    ({"holdout_fraction": -0.1}, "holdout_fraction", "within"),
    ({"coupons": []}, "coupons", "empty"),
    ({"end_time": "2026-10-30T00:00:00Z"}, "end_time", "is not after start_time"),
    ({"campaign_id": "Autumn Sale!"}, "campaign_id", "slug"),
    ({"objective": "awareness"}, "objective", "must be one of"),
    ({"channels": ["email", "fax"]}, "channels", "unknown value(s) fax"),
    ({"coupons": [{**OFFERS[0], "expected_cost": -2}]}, "coupons[0].expected_cost", "within"),
    ({"coupons": [OFFERS[0], {**OFFERS[1], "kind": "bogo"}]}, "coupons[1].kind", "must be one of"),
    ({"coupons": [OFFERS[0], OFFERS[0]]}, "coupons", "distinct"),
    ({"start_time": "next monday"}, "start_time", "ISO-8601"),
    ({"segment_budget_shares": {"1": 0.7, "2": 0.6}}, "segment_budget_shares", "more than 1"),
    ({"max_coupons_per_user": 0}, "max_coupons_per_user", "within [1, 3]"),
    ({"creatives": []}, "creatives", "at least one rule"),
    ({"creatives": [{"scene": "gift", "theme": "gifts", "format": "carousel"}]}, "creatives", "last rule must match"),
    ({"creatives": [{"scene": "party", "theme": "party", "format": "banner"}, CATCH_ALL]}, "creatives[0].scene",
     "one of browse"),
    ({"creatives": [{"lifecycle_stage": "vip", "theme": "vip", "format": "banner"}, CATCH_ALL]},
     "creatives[0].lifecycle_stage", "one of new"),
    ({"creatives": [{"theme": "Big Sale!", "format": "banner"}]}, "creatives[0].theme", "lower-case"),
])
def test_invalid_parameter_fails_naming_the_field(changes, field, words):
    with pytest.raises(CampaignParamsError) as failure:
        parse_params(valid(**changes))
    assert failure.value.field_name == field
    assert str(failure.value).startswith(f"parameter '{field}': ")
    assert words in str(failure.value)


def test_creatives_default_to_the_catalog_and_round_trip_through_json():
    default = parse_params(valid())
    assert default.creatives[0].theme == "best_deals" and default.creatives[-1].theme == "picked_for_you"
    custom = parse_params(valid(creatives=[{"segment": "Deal seekers", "theme": "flash", "format": "banner"},
                                           CATCH_ALL]))
    assert [(c.segment, c.scene, c.theme) for c in custom.creatives] == [("Deal seekers", "*", "flash"),
                                                                         ("*", "*", "picked")]
    assert parse_params(json.loads(json.dumps(custom.to_json()))).creatives == custom.creatives  # as the jobs read it


def test_unknown_segment_fails_listing_the_known_ones():
    params = parse_params(valid(segments=["1", "VIP"]))
    with pytest.raises(CampaignParamsError, match=r"parameter 'segments': unknown segment 'VIP'; the current "
                                                  r"segments are 1 \(High-value shoppers\), 2 \(Deal seekers\)"):
        resolve_segments(params, SEGMENTS)


def test_segments_resolve_by_id_or_name_and_shares_key_by_id():
    params = parse_params(valid(segments=["1", "Deal seekers"], segment_budget_shares={"Deal seekers": 0.25}))
    chosen = resolve_segments(params, SEGMENTS)
    assert chosen == {1: "High-value shoppers", 2: "Deal seekers"}
    assert share_by_segment_id(params, chosen) == {2: 0.25}


def test_share_for_an_untargeted_segment_is_rejected():
    params = parse_params(valid(segments=["1"], segment_budget_shares={"3": 0.5}))
    with pytest.raises(CampaignParamsError, match="'segment_budget_shares': '3' is not one of the targeted"):
        resolve_segments(params, SEGMENTS)
