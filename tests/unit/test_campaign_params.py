"""Campaign parameters: valid requests parse; each invalid one fails naming its field."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from journey.campaigns.params import (
    CAMPAIGN_FIELDS,
    CampaignParamsError,
    dag_params,
    parse_params,
    resolve_segments,
    share_by_segment_id,
)

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


def test_two_tower_param_puts_the_two_tower_source_in_the_recommenders_blend():
    from journey.campaigns.steps import _recommend_params
    from journey.recommend.models import sources_for

    off = _recommend_params(parse_params(valid()))
    on = _recommend_params(parse_params(valid(recommendations_two_tower=True)))
    assert not off.two_tower and "two_tower_score" not in sources_for(off)
    assert on.two_tower and "two_tower_score" in sources_for(on)
    assert sources_for(on)[:-1] == sources_for(off)  # the same six sources, plus the two-tower
    assert parse_params(valid(recommendations_two_tower=None)).recommendations_two_tower is False  # empty = off


@pytest.mark.parametrize(("changes", "field", "words"), [
    ({"budget": -1.0}, "budget", "within [0.0, 1000000000.0]"),
    ({"holdout_fraction": 0.6}, "holdout_fraction", "within [0.01, 0.5]"),
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


# The trigger form as it must stay, written out by hand: default and bounds of every field.
CAMPAIGN_DAG_FILE = Path(__file__).resolve().parents[2] / "dags" / "journey_campaign.py"
FORM_DEFAULTS = {
    "campaign_id": "autumn-sale", "name": "Autumn sale", "objective": "conversion", "segments": ["all"],
    "lifecycle_stages": [], "channels": ["email", "push"], "budget": 1000.0, "segment_budget_shares": {},
    "max_coupons_per_user": 1, "holdout_fraction": 0.1, "recommendations_k": 10, "frequency_cap": 3,
    "recommendations_lookback_days": 0, "recommendations_exclude": "interacted", "recommendations_per_category": 0,
    "recommendations_two_tower": False, "start_time": None, "end_time": None, "dry_run": False,
    "products": "", "attribution_window_days": 14, "exploration": False, "exploration_floor": 0.1,
    "test_share": 0.0,
    "coupons": [{"name": "pct10", "kind": "percent", "value": 10, "min_spend": 0, "expected_cost": 4.0},
                {"name": "fixed5", "kind": "fixed", "value": 5, "min_spend": 30, "expected_cost": 3.0},
                {"name": "freeship", "kind": "free_shipping", "value": 0, "min_spend": 20, "expected_cost": 2.0}],
}
FORM_BOUNDS = {
    "budget": {"minimum": 0, "maximum": 1e9}, "holdout_fraction": {"minimum": 0.01, "maximum": 0.5},
    "max_coupons_per_user": {"minimum": 1, "maximum": 3}, "recommendations_k": {"minimum": 1, "maximum": 50},
    "recommendations_lookback_days": {"minimum": 0, "maximum": 36500},
    "recommendations_per_category": {"minimum": 0, "maximum": 50},
    "frequency_cap": {"minimum": 1, "maximum": 100}, "attribution_window_days": {"minimum": 1, "maximum": 90},
    "exploration_floor": {"minimum": 0, "maximum": 0.5}, "test_share": {"minimum": 0, "maximum": 1},
    "segments": {"minItems": 1}, "channels": {"minItems": 1},
    "coupons": {"minItems": 1, "maxItems": 10}, "creatives": {"minItems": 1, "maxItems": 50},
    "segment_budget_shares": {"minimum": 0, "maximum": 1},  # of each share (additionalProperties)
}
BOUND_KEYS = ("minimum", "maximum", "minItems", "maxItems")
OFFER = {"kind": "fixed", "value": 5, "min_spend": 0, "expected_cost": 1.0}
# (field, a value just outside its bound, the field the message names, words of the message)
OUT_OF_BOUNDS = [
    ("budget", -0.01, "budget", "within [0.0, 1000000000.0], got -0.01"),
    ("holdout_fraction", 0.51, "holdout_fraction", "within [0.01, 0.5], got 0.51"),
    ("holdout_fraction", 0.009, "holdout_fraction", "within [0.01, 0.5], got 0.009"),
    ("max_coupons_per_user", 4, "max_coupons_per_user", "within [1, 3], got 4"),
    ("max_coupons_per_user", 0, "max_coupons_per_user", "within [1, 3], got 0"),
    ("recommendations_k", 51, "recommendations_k", "within [1, 50], got 51"),
    ("recommendations_k", 0, "recommendations_k", "within [1, 50], got 0"),
    ("recommendations_lookback_days", -1, "recommendations_lookback_days", "within [0, 36500], got -1"),
    ("recommendations_per_category", 51, "recommendations_per_category", "within [0, 50], got 51"),
    ("recommendations_exclude", "viewed", "recommendations_exclude", "must be one of purchased, interacted"),
    ("frequency_cap", 101, "frequency_cap", "within [1, 100], got 101"),
    ("frequency_cap", 0, "frequency_cap", "within [1, 100], got 0"),
    ("attribution_window_days", 91, "attribution_window_days", "within [1, 90], got 91"),
    ("attribution_window_days", 0, "attribution_window_days", "within [1, 90], got 0"),
    ("exploration_floor", 0.51, "exploration_floor", "within [0.0, 0.5], got 0.51"),
    ("exploration_floor", -0.01, "exploration_floor", "within [0.0, 0.5], got -0.01"),
    ("test_share", 1.5, "test_share", "within [0.0, 1.0], got 1.5"),
    ("test_share", -0.1, "test_share", "within [0.0, 1.0], got -0.1"),
    ("segment_budget_shares", {"1": 1.01}, "segment_budget_shares.1", "within [0.0, 1.0], got 1.01"),
    ("segment_budget_shares", {"1": -0.01}, "segment_budget_shares.1", "within [0.0, 1.0], got -0.01"),
    ("channels", [], "channels", "give at least one channel"),
    ("coupons", [{**OFFER, "name": f"offer{i:02d}"} for i in range(11)], "coupons", "at most 10 offers"),
    ("creatives", [CATCH_ALL] * 51, "creatives", "at most 50 rules, got 51"),
    ("objective", "awareness", "objective", "must be one of conversion, winback, cross_sell, retention"),
    ("lifecycle_stages", ["vip"], "lifecycle_stages", "unknown value(s) vip"),
]


@pytest.fixture(scope="module")
def campaign_dag():
    """The campaign DAG as Airflow parses it from its file."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(CAMPAIGN_DAG_FILE))
    assert bag.import_errors == {}
    return bag.dags["journey_campaign"]


def _bounds(schema: dict) -> dict:
    """The bound keywords of a Param's schema (of each value, for an object; under `then`, for a number)."""
    where = schema.get("additionalProperties") or schema.get("then") or schema
    return {k: v for k, v in {**schema, **where}.items() if k in BOUND_KEYS}


def test_every_table_field_is_a_dag_param_with_the_documented_default_and_bounds(campaign_dag):
    table = {spec.name: spec for spec in CAMPAIGN_FIELDS}
    assert list(campaign_dag.params) == [*table] == [*dag_params()]
    assert set(table) == {*FORM_DEFAULTS, "creatives"}
    for name, spec in table.items():
        param = campaign_dag.params.get_param(name)
        if name != "creatives":  # 9 rules, checked below
            assert param.value == spec.default == FORM_DEFAULTS[name], name
        assert _bounds(param.schema) == FORM_BOUNDS.get(name, {}), name
        assert param.schema["title"] == spec.title and param.description == spec.description, name
    creatives = campaign_dag.params.get_param("creatives").value
    assert len(creatives) == 9 and creatives[-1]["theme"] == "picked_for_you"


def test_form_keeps_its_types_titles_and_choices():
    params = dag_params()
    assert {name: p.schema["type"] for name, p in params.items()} == {  # a list with "null": optional in the form
        "campaign_id": "string", "name": ["null", "string"], "objective": "string", "segments": ["null", "array"],
        "lifecycle_stages": ["null", "array"], "channels": "array", "coupons": "array", "budget": "number",
        "segment_budget_shares": ["null", "object"], "max_coupons_per_user": ["null", "integer"],
        "holdout_fraction": ["null", "number"], "recommendations_k": ["null", "integer"],
        "recommendations_lookback_days": ["null", "integer"], "recommendations_exclude": "string",
        "recommendations_per_category": ["null", "integer"], "recommendations_two_tower": ["null", "boolean"],
        "frequency_cap": ["null", "integer"],
        "start_time": ["null", "string"], "end_time": ["null", "string"], "creatives": ["null", "array"],
        "attribution_window_days": ["null", "integer"], "exploration": ["null", "boolean"], "exploration_floor": ["null", "number"],
        "test_share": ["null", "number"], "dry_run": "boolean", "products": ["null", "string"]}
    assert params["objective"].schema["enum"] == ["conversion", "winback", "cross_sell", "retention"]
    assert params["channels"].schema["items"] == {"type": "string", "enum": ["email", "push", "sms", "display",
                                                                             "social"]}
    assert params["channels"].schema["uniqueItems"] is True
    assert params["campaign_id"].schema["pattern"] == "^[a-z0-9][a-z0-9_-]{1,62}$"
    assert params["start_time"].schema["format"] == "date-time"
    assert params["recommendations_k"].schema["title"] == "Recommendations per user (K)"
    assert params["frequency_cap"].description == "Max messages per user in a trailing 7 days"


@pytest.mark.parametrize(("name", "value", "field", "words"), OUT_OF_BOUNDS)
def test_value_just_outside_a_bound_fails_naming_the_field(name, value, field, words):
    with pytest.raises(CampaignParamsError) as failure:
        parse_params(valid(**{name: value}))
    assert failure.value.field_name == field
    assert words in str(failure.value)


@pytest.mark.parametrize(("name", "value", "field", "words"), OUT_OF_BOUNDS)
def test_form_schema_refuses_the_same_value(name, value, field, words):
    from airflow.sdk.exceptions import ParamValidationError

    param = dag_params()[name]
    with pytest.raises(ParamValidationError):
        param.resolve(value)
    assert param.resolve(param.value) == param.value  # the form's default passes its own schema


@pytest.mark.parametrize(("name", "value"), [
    ("holdout_fraction", 0.5), ("holdout_fraction", 0.01), ("budget", 0.0), ("max_coupons_per_user", 3),
    ("recommendations_k", 50), ("recommendations_k", 1), ("frequency_cap", 100), ("segment_budget_shares", {"1": 1.0}),
    ("test_share", 1.0), ("test_share", 0.0),
])
def test_value_on_a_bound_is_accepted(name, value):
    assert getattr(parse_params(valid(**{name: value})), name) == value
    dag_params()[name].resolve(value)


def test_defaults_apply_when_a_field_is_absent_and_are_accepted_when_given():
    before = datetime.now(UTC).replace(microsecond=0)
    absent = parse_params({k: v for k, v in valid().items() if k not in ("start_time", "end_time")})
    assert (absent.max_coupons_per_user, absent.holdout_fraction, absent.recommendations_k,
            absent.frequency_cap) == (1, 0.1, 10, 3)
    assert (absent.lifecycle_stages, absent.segment_budget_shares, absent.dry_run) == ((), {}, False)
    assert absent.test_share == 0.0 and parse_params(valid(test_share=None)).test_share == 0.0  # off
    assert before <= absent.start_time <= datetime.now(UTC)  # empty start = when the run starts
    assert absent.end_time - absent.start_time == timedelta(days=7)
    given = parse_params({**FORM_DEFAULTS, "creatives": [CATCH_ALL]})
    assert (given.campaign_id, given.name, given.objective, given.channels) == ("autumn-sale", "Autumn sale",
                                                                                "conversion", ("email", "push"))
    assert (given.budget, [o.name for o in given.coupons]) == (1000.0, ["pct10", "fixed5", "freeship"])


@pytest.mark.parametrize("name", ["campaign_id", "coupons", "budget"])
def test_a_form_example_is_not_a_validator_default(name):
    raw = valid()
    del raw[name]
    with pytest.raises(CampaignParamsError) as failure:
        parse_params(raw)
    assert failure.value.field_name == name
