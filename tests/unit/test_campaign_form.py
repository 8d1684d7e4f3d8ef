"""The campaign trigger form as Airflow 3 renders it from the serialized DAG (issue #24).

No browser here: the tests read the Params the API server sends to the form (the DAG parsed from
its file, serialized and read back) and apply the form's own rules, taken from Airflow 3.3's UI
(FlexibleForm): a field is *required* unless its schema `type` is a list holding "null"; an
emptied field sends null; a number box clamps to a top-level minimum/maximum when it loses focus;
an array with top-level `examples` (or `enum`) is a multi-select of those values.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from journey.campaigns.currency import CURRENCY_ENV, campaign_currency
from journey.campaigns.params import dag_params, parse_params
from journey.campaigns.request import campaign_run_id
from journey.campaigns.segment_names import read_segment_names, segment_names_path, write_segment_names
from journey.config import get_settings
from journey.errors import ConfigError, InputError

CAMPAIGN_DAG_FILE = Path(__file__).resolve().parents[2] / "dags" / "journey_campaign.py"
# the fields a marketing-ops user must fill in: each comes filled with a valid value
REQUIRED = {"campaign_id", "objective", "channels", "coupons", "budget", "recommendations_exclude", "dry_run"}


@pytest.fixture(scope="module")
def form(tmp_path_factory) -> dict:
    """{name: Param} as the API server reads them: the DAG parsed from its file, serialized, read back.

    JOURNEY_HOME holds a segment names file as the daily run's publish writes it.
    """
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JOURNEY_HOME", str(home))
        write_segment_names(get_settings(), date(2026, 11, 29), {2: "Deal seekers", 1: "High-value shoppers"})
        from airflow.dag_processing.dagbag import DagBag
        from airflow.serialization.serialized_objects import DagSerialization

        bag = DagBag(dag_folder=str(CAMPAIGN_DAG_FILE))
        assert bag.import_errors == {}
        dag = DagSerialization.from_dict(DagSerialization.to_dict(bag.dags["journey_campaign"]))
    return {name: dag.params.get_param(name) for name in dag.params}


def server_resolves(param, value: object) -> object:
    """`value` given for the form field `param`, resolved as the API server does on trigger (raises on refusal)."""
    from airflow.serialization.definitions.param import SerializedParam

    return SerializedParam(value, description=param.description, **param.schema).resolve(raises=True)


def refusal(param, value: object) -> str:
    """The server's message refusing `value` for `param` (fails the test when it is accepted)."""
    from jsonschema import ValidationError

    with pytest.raises(ValidationError) as refused:
        server_resolves(param, value)
    return refused.value.message


def required_in_form(schema: dict) -> bool:
    """Airflow 3's form rule: required unless the type is a list that allows null."""
    kind = schema.get("type")
    return bool(kind) and not (isinstance(kind, list) and "null" in kind)


def test_only_the_fields_that_must_be_given_are_required_and_each_comes_filled(form):
    required = {name for name, param in form.items() if required_in_form(param.schema)}

    assert required == REQUIRED
    assert all(form[name].value not in (None, "", []) for name in required)


def test_the_default_form_submits_and_parses(form):
    conf = {name: server_resolves(param, param.value) for name, param in form.items()}  # raises on a refusal

    params = parse_params({k: v for k, v in conf.items() if k != "products"})
    assert (params.campaign_id, params.segments, params.lifecycle_stages) == ("autumn-sale", ("all",), ())
    assert params.end_time - params.start_time == timedelta(days=7)


@pytest.mark.parametrize("name", ["products", "name", "segments", "lifecycle_stages", "holdout_fraction",
                                  "segment_budget_shares", "creatives", "start_time", "end_time",
                                  "recommendations_k", "frequency_cap", "max_coupons_per_user"])
def test_an_emptied_optional_field_is_valid_and_means_its_default(form, name):
    assert server_resolves(form[name], None) is None  # what the form sends for an emptied field passes the schema

    conf = {name: param.value for name, param in form.items() if name != "products"}
    params = parse_params({**conf, name: None})
    defaults = {"name": "autumn-sale", "segments": ("all",), "lifecycle_stages": (), "holdout_fraction": 0.1,
                "segment_budget_shares": {}, "recommendations_k": 10, "frequency_cap": 3,
                "max_coupons_per_user": 1}
    if name in defaults:
        assert getattr(params, name) == defaults[name]


def test_empty_products_render_as_empty_text_for_the_spark_steps():
    from airflow.dag_processing.dagbag import DagBag
    from jinja2 import Template

    dag = DagBag(dag_folder=str(CAMPAIGN_DAG_FILE)).dags["journey_campaign"]
    args = dag.get_task("coupons").application_args
    template = args[args.index("--products") + 1]
    assert Template(template).render(params={"products": None}) == ""
    assert Template(template).render(params={"products": "/data/p.csv"}) == "/data/p.csv"


# --- the holdout --------------------------------------------------------------------------------------

def test_no_number_box_gets_a_top_level_bound_that_it_would_clamp_to(form):
    kinds = {name: p.schema["type"] if isinstance(p.schema["type"], list) else [p.schema["type"]]
             for name, p in form.items()}
    numbers = [name for name, kind in kinds.items() if {"number", "integer"} & set(kind)]
    assert {"budget", "holdout_fraction", "frequency_cap", "recommendations_k"} <= set(numbers)
    for name in numbers:
        assert not {"minimum", "maximum"} & set(form[name].schema), name
        assert form[name].schema["then"]["maximum"] is not None, name


def test_holdout_field_says_its_unit_and_range(form):
    holdout = form["holdout_fraction"]
    assert holdout.schema["then"]["minimum"] == 0.01 and holdout.schema["then"]["maximum"] == 0.5
    assert "0.01-0.5" in holdout.description and "0.1 = 10 %" in holdout.description
    assert "control" in holdout.schema["title"]


@pytest.mark.parametrize(("typed", "message"), [
    (0.9, "0.9 is greater than the maximum of 0.5"),
    (10, "10 is greater than the maximum of 0.5"),
    ("10%", "'10%' is not of type 'null', 'number'"),
    (0.001, "0.001 is less than the minimum of 0.01"),
])
def test_a_holdout_outside_the_range_is_refused_with_its_message_not_changed(form, typed, message):
    assert refusal(form["holdout_fraction"], typed) == message
    assert server_resolves(form["holdout_fraction"], 0.25) == 0.25


# --- choices -------------------------------------------------------------------------------------------

def test_stages_and_channels_are_multi_selects_of_the_allowed_values(form):
    assert form["lifecycle_stages"].schema["examples"] == ["new", "active", "loyal", "at_risk", "churned"]
    assert form["channels"].schema["examples"] == ["email", "push", "sms", "display", "social"]
    assert "email, push, sms, display, social" in form["channels"].description


def test_segment_choices_are_the_names_the_daily_publish_wrote(form):
    assert form["segments"].schema["examples"] == ["all", "High-value shoppers", "Deal seekers"]
    assert "current_segments.json" in form["segments"].description


def test_segment_names_file_round_trips_and_a_missing_or_broken_one_gives_no_choices(tmp_path):
    settings = get_settings({"JOURNEY_HOME": str(tmp_path)})
    assert read_segment_names(settings) == ()
    assert "examples" not in dag_params(read_segment_names(settings))["segments"].schema

    write_segment_names(settings, date(2026, 11, 29), {3: "Browsers", 1: "Loyal"})
    assert read_segment_names(settings) == ("Loyal", "Browsers")
    assert json.loads(segment_names_path(settings).read_text())["snapshot_date"] == "2026-11-29"

    segment_names_path(settings).write_text("{not json", encoding="utf-8")
    assert read_segment_names(settings) == ()


def test_budget_and_coupons_name_the_currency(form):
    assert form["budget"].schema["title"] == "Total budget (EUR)"
    assert "in EUR" in form["coupons"].description
    assert campaign_currency({CURRENCY_ENV: "USD"}) == "USD" and campaign_currency({}) == "EUR"
    with pytest.raises(ConfigError, match=r"JOURNEY_CURRENCY must be an ISO-4217 code .* got 'euro'"):
        campaign_currency({CURRENCY_ENV: "euro"})


# --- checks in the schema ------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "value", "message"), [
    ("campaign_id", "Autumn Sale!", "'Autumn Sale!' does not match"),
    ("channels", ["email", "whatsapp"], "'whatsapp' is not one of ['email', 'push', 'sms', 'display', 'social']"),
    ("coupons", [{"name": "neg", "kind": "fixed", "value": 5, "expected_cost": -1.0}],
     "-1.0 is less than or equal to the minimum of 0"),
    ("lifecycle_stages", ["vip"], "'vip' is not one of ['new', 'active', 'loyal', 'at_risk', 'churned']"),
])
def test_the_schema_refuses_a_bad_value_with_its_message(form, name, value, message):
    assert refusal(form[name], value).startswith(message)


def test_an_input_error_fails_the_task_at_once_with_its_message(capsys):
    from airflow.sdk.exceptions import AirflowFailException

    from journey.orchestration import fail_on_input_error

    with pytest.raises(AirflowFailException, match=r"^parameter 'segments': unknown segment 'VIP'"):
        with fail_on_input_error():
            raise InputError("parameter 'segments': unknown segment 'VIP'; the current segments are 1 (Loyal)")
    assert "INPUT ERROR (no retry): parameter 'segments'" in capsys.readouterr().out
    with pytest.raises(KeyError):  # anything else keeps its retries
        with fail_on_input_error():
            raise KeyError("x")


# --- the DAG around the form ---------------------------------------------------------------------------

def test_campaign_dag_has_a_description_its_owner_and_no_retry_of_the_input_check():
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(CAMPAIGN_DAG_FILE)).dags["journey_campaign"]
    assert dag.description.startswith("One campaign:")
    assert dag.owner == "marketing-ops"
    assert dag.get_task("validate_params").retries == 0 and dag.get_task("eligibility").retries >= 1
    assert "**Logical Date** means nothing for a campaign" in dag.doc_md


def test_a_campaign_run_id_names_the_campaign_and_is_a_run_id_the_rest_api_accepts():
    from airflow.configuration import conf

    run_id = campaign_run_id("autumn-sale", datetime(2026, 11, 30, 13, 5, 9, tzinfo=timezone(timedelta(hours=1))))
    assert run_id == "campaign__autumn-sale__2026-11-30T120509Z"
    assert re.match(conf.get("scheduler", "allowed_run_id_pattern"), run_id)
