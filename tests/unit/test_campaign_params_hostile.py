"""Hostile or broken campaign input is refused at the door, by parse_params and by the DAG's JSON schema.

The table of issue #23 (each value was accepted before: NaN budget, a NaN holdout fraction that
silently dropped the control group, dry_run "false" read as true, a NUL that PostgreSQL cannot
store, a 100,000-character name, a time without zone), plus property tests that feed random
JSON to parse_params and to the mapping parser: each returns a valid object or raises our
InputError naming the field; nothing else (TypeError, KeyError, AttributeError, ...) escapes.
"""

from __future__ import annotations

import copy
import functools
import math
from datetime import UTC, datetime, timedelta

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journey.campaigns.fields import CONTROL_CHARACTERS, MAX_TEXT
from journey.campaigns.params import CampaignParams, CampaignParamsError, dag_params, parse_params
from journey.errors import InputError
from journey.ingest.mapping import ColumnMapping, MappingError, parse_mapping

NAN, INF = float("nan"), float("inf")
OFFERS = [{"name": "pct10", "kind": "percent", "value": 10, "min_spend": 0, "expected_cost": 4.0},
          {"name": "ship", "kind": "free_shipping", "value": 0, "expected_cost": 2.0}]
CATCH_ALL = {"segment": "*", "scene": "*", "lifecycle_stage": "*", "theme": "picked", "format": "carousel"}
VALID = {"campaign_id": "autumn-sale", "name": "Autumn", "objective": "winback", "segments": ["1", "Deal seekers"],
         "channels": ["email", "display"], "coupons": OFFERS, "budget": 500.0,
         "segment_budget_shares": {"1": 0.25}, "creatives": [{"segment": "Deal seekers", "theme": "flash",
                                                              "format": "banner"}, CATCH_ALL],
         "start_time": "2026-11-01T09:00:00Z", "end_time": "2026-11-08T09:00:00Z", "dry_run": False}


def changed(path: tuple, value: object) -> dict:
    """A deep copy of VALID with the value at `path` (keys and list indexes) replaced."""
    raw = copy.deepcopy(VALID)
    *parents, last = path
    holder = raw
    for step in parents:
        holder = holder[step]
    holder[last] = value
    return raw


@functools.cache
def form_schema() -> dict:
    """The DAG's Params as one JSON schema of the whole conf (what the trigger form and REST API check)."""
    return {"type": "object", "properties": {name: param.schema for name, param in dag_params().items()}}


def form_accepts(conf: dict) -> bool:
    """True when the conf passes the DAG's JSON schema, validated as Airflow's Param does."""
    try:
        jsonschema.validate(conf, form_schema(), format_checker=jsonschema.FormatChecker())
    except jsonschema.ValidationError:
        return False
    return True


# (where the bad value goes, the bad value, the field the message names, words of the message)
HOSTILE = [
    (("budget",), NAN, "budget", "must be a finite number, got nan"),
    (("budget",), INF, "budget", "must be a finite number, got inf"),
    (("budget",), -INF, "budget", "must be a finite number, got -inf"),
    (("holdout_fraction",), NAN, "holdout_fraction", "must be a finite number, got nan"),
    (("coupons", 0, "expected_cost"), NAN, "coupons[0].expected_cost", "must be a finite number, got nan"),
    (("coupons", 1, "value"), INF, "coupons[1].value", "must be a finite number, got inf"),
    (("segment_budget_shares", "1"), NAN, "segment_budget_shares.1", "must be a finite number, got nan"),
    (("dry_run",), "false", "dry_run", "must be true or false (a JSON boolean), got 'false'"),
    (("dry_run",), 0, "dry_run", "must be true or false (a JSON boolean), got 0"),
    (("recommendations_two_tower",), "true", "recommendations_two_tower",
     "must be true or false (a JSON boolean), got 'true'"),
    (("name",), "Autumn\x00sale", "name", "must not hold control characters, got '\\x00' at position 6"),
    (("name",), "x" * 100_000, "name", "must be at most 200 characters, got 100,000"),
    (("segments", 1), "Deal\nseekers", "segments", "must not hold control characters, got '\\n' at position 4"),
    (("creatives", 0, "segment"), "y" * 201, "creatives[0].segment", "must be at most 200 characters, got 201"),
    (("segment_budget_shares",), {"z" * 300: 0.1}, "segment_budget_shares", "at most 200 characters, got 300"),
    (("start_time",), "2026-11-01", "start_time", "has no time zone: give one, e.g. 2026-11-01T09:00:00Z"),
    (("end_time",), "2026-11-08T09:00:00", "end_time", "has no time zone"),
]


@pytest.mark.parametrize(("path", "value", "field", "words"), HOSTILE)
def test_hostile_value_is_refused_naming_the_field(path, value, field, words):
    with pytest.raises(CampaignParamsError) as failure:
        parse_params(changed(path, value))

    assert failure.value.field_name == field
    assert str(failure.value).startswith(f"parameter '{field}': ")
    assert words in str(failure.value)
    assert len(str(failure.value)) < 300  # a 100,000-character value is not echoed back


@pytest.mark.parametrize(("path", "value", "field", "words"), HOSTILE)
def test_form_schema_refuses_the_same_hostile_value(path, value, field, words):
    assert form_accepts(VALID)
    assert not form_accepts(changed(path, value)), field


def test_airflow_param_refuses_nan_and_infinity_before_a_run():
    from airflow.sdk.exceptions import ParamValidationError

    params = dag_params()
    for name, value in [("budget", NAN), ("budget", INF), ("holdout_fraction", NAN), ("dry_run", "false"),
                        ("name", "a\x00b"), ("start_time", "2026-11-01"),
                        ("coupons", [{**OFFERS[0], "expected_cost": NAN}])]:
        with pytest.raises(ParamValidationError):
            params[name].resolve(value)
    assert params["budget"].resolve(0.0) == 0.0 and params["holdout_fraction"].resolve(0.5) == 0.5


@pytest.mark.parametrize(("path", "value", "kept"), [
    (("name",), "Été – 50 % sur tout 🎁", "Été – 50 % sur tout 🎁"),
    (("name",), "n" * MAX_TEXT, "n" * MAX_TEXT),
    (("start_time",), "2026-11-01T00:00:00.000Z", datetime(2026, 11, 1, tzinfo=UTC)),  # what the trigger form sends
    (("start_time",), "2026-11-01T09:00:00+01:00", datetime(2026, 11, 1, 8, tzinfo=UTC)),
    (("dry_run",), True, True),
    (("budget",), 1e9, 1e9),
])
def test_values_on_the_edge_of_the_rules_are_accepted_by_both(path, value, kept):
    params = parse_params(changed(path, value))

    assert getattr(params, path[0]) == kept
    assert form_accepts(changed(path, value))


def test_a_time_with_an_odd_zone_keeps_its_instant():
    params = parse_params(changed(("end_time",), "2026-11-08T09:00:00-05:30"))

    assert params.end_time.utcoffset() == -timedelta(hours=5, minutes=30)
    assert params.end_time.astimezone(UTC) == datetime(2026, 11, 8, 14, 30, tzinfo=UTC)


# --- property tests: random JSON in one field ---------------------------------------------------

JSON_LEAVES = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True)
               | st.text(max_size=30) | st.sampled_from(["", "all", "email", "2026-11-01", "2026-11-01T09:00:00Z",
                                                        "\x00", "percent", "*", "1", "false"]))
JSON = st.recursive(JSON_LEAVES, lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=12)
HOSTILE_LEAVES = st.sampled_from([NAN, INF, -INF, 10**400, "false", "x" * 1000, "a\x00b", "2026-11-01", "\u0085",
                                  "2026-11-01T09:00:00+23:59", "0001-01-01T00:00:00+01:00", -0.0, 2**63])
VALUES = HOSTILE_LEAVES | JSON  # each example goes into every path below
PARAM_PATHS = [(name,) for name in (*dag_params(), "campaign_id")] + [
    ("coupons", 0, key) for key in ("name", "kind", "value", "min_spend", "expected_cost")] + [
    ("creatives", 0, key) for key in ("segment", "scene", "lifecycle_stage", "theme", "format")] + [
    ("segments", 0), ("segment_budget_shares", "1"), ("coupons", 1), ("creatives", 0)]
RELATED = {"start_time": "end_time"}  # a start after the end is reported on end_time


def _finite_numbers(params: CampaignParams) -> list[float]:
    """Every number of a parsed request."""
    offers = [n for o in params.coupons for n in (o.value, o.min_spend, o.expected_cost)]
    return [params.budget, params.holdout_fraction, *offers, *params.segment_budget_shares.values()]


def _texts(params: CampaignParams) -> list[str]:
    """Every free text of a parsed request."""
    return [params.name, *params.segments, *params.segment_budget_shares, *(c.segment for c in params.creatives)]


def assert_valid(params: CampaignParams) -> None:
    """What a returned request guarantees: finite numbers, plain bounded text, a real boolean, zoned times."""
    assert all(math.isfinite(n) for n in _finite_numbers(params))
    assert all(len(t) <= MAX_TEXT and not CONTROL_CHARACTERS.search(t) for t in _texts(params))
    assert isinstance(params.dry_run, bool)
    assert params.start_time.utcoffset() is not None and params.end_time > params.start_time


def parses_or_names_the_field(path: tuple, value: object) -> None:
    """parse_params of VALID with `value` at `path`: a valid request, or our error naming that field."""
    try:
        params = parse_params(changed(path, value))
    except CampaignParamsError as failure:
        assert failure.field_name.startswith((path[0], RELATED.get(path[0], path[0]))), (path, str(failure))
        return
    assert_valid(params)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=VALUES)
def test_random_json_in_any_param_parses_or_fails_naming_that_field(value):
    for path in PARAM_PATHS:
        parses_or_names_the_field(path, value)


# --- property test: random JSON in a mapping file --------------------------------------------------

GOOD_MAPPING = {"columns": {"when": "event_time", "customer": "user_id", "action": "event_type"},
                "timestamp": {"format": "dd/MM/yyyy HH:mm", "zone": "Europe/Berlin", "floor": "1990-01-01"},
                "event_types": {"pageview": "view"}, "constants": {"channel": "app"},
                "read": {"delimiter": ";", "header": True, "encoding": "utf-8"}, "rows_are_distinct": False,
                "orders": "per_row", "price_is": "unit_price"}
MAPPING_PATHS = [(section,) for section in GOOD_MAPPING] + [
    ("timestamp", key) for key in ("format", "zone", "floor")] + [
    ("read", key) for key in ("delimiter", "header", "names", "encoding")] + [
    ("columns", "when"), ("columns", "sku"), ("event_types", "pageview"), ("constants", "channel"),
    ("orders", )] + [("unknown_section",)]


def _mapping_with(path: tuple, value: object) -> dict:
    """A deep copy of GOOD_MAPPING with the value at `path` replaced."""
    document = copy.deepcopy(GOOD_MAPPING)
    holder = document
    for step in path[:-1]:
        holder = holder[step]
    holder[path[-1]] = value
    return document


def test_the_good_mapping_parses():
    mapping = parse_mapping(GOOD_MAPPING, "m.yaml")
    assert (mapping.timestamp_zone, mapping.read.delimiter, mapping.orders) == ("Europe/Berlin", ";", "per_row")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=VALUES)
def test_random_json_in_a_mapping_parses_or_fails_naming_the_file(value):
    for path in MAPPING_PATHS:
        try:
            mapping = parse_mapping(_mapping_with(path, value), "feeds/m.yaml")
        except MappingError as failure:  # names the file, then the section or the canonical field
            assert str(failure).startswith("feeds/m.yaml: ")
            assert path[0] in str(failure) or "canonical field" in str(failure), (path, str(failure))
            continue
        assert isinstance(mapping, ColumnMapping)
        assert {"event_time", "user_id", "event_type"} <= {*mapping.columns.values(), *mapping.constants}


@settings(max_examples=100, deadline=None)
@given(document=JSON)
def test_a_random_document_as_a_whole_mapping_is_refused_as_input(document):
    with pytest.raises(InputError, match=r"^feeds/m\.yaml: "):
        parse_mapping(document, "feeds/m.yaml")  # no random document maps the three required fields
