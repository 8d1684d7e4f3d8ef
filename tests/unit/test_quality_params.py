"""The events gate's thresholds: ingest-job options, the daily DAG's Params, and their wiring."""

from __future__ import annotations

import runpy
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from journey.quality.suites import QualityParams, QualityParamsError

ROOT = Path(__file__).resolve().parents[2]
JOB_FILE = ROOT / "jobs" / "ingest_events.py"
DAG_FILE = ROOT / "dags" / "journey_daily_profiles.py"

# Written by hand: today's thresholds (docs/quality.md), the same as option defaults and DAG Params.
EXPECTED_DEFAULTS = {"max_quarantine_share": 0.05, "expected_quarantine_reasons": "", "volume_history_days": 7,
                     "volume_band_low": 0.5, "volume_band_high": 2.0, "backfill": "auto"}
EARLIER_PARAMS = {"source": "", "format": "canonical", "mapping": "", "users": "", "rows_are_distinct": False,
                  "k_min": 3, "k_max": 8,
                  "lookback_days": 0}


@pytest.fixture(scope="module")
def job() -> SimpleNamespace:
    """The names of jobs/ingest_events.py (run as a file, not as __main__)."""
    return SimpleNamespace(**runpy.run_path(str(JOB_FILE)))


@pytest.fixture(scope="module")
def daily_dag():
    """The daily DAG as Airflow parses it from its file."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAG_FILE))
    assert bag.import_errors == {}
    return bag.dags["journey_daily_profiles"]


def test_job_defaults_are_todays_thresholds(job):
    args = job.parse_args(["--run-id", "r1"])
    assert {name: getattr(args, name) for name in EXPECTED_DEFAULTS} == EXPECTED_DEFAULTS
    assert job.gate_params(args) == QualityParams(
        max_quarantine_share=0.05, expected_quarantine_reasons=(), volume_history_days=7, volume_band=(0.5, 2.0),
        backfill="auto", time_floor=datetime(1970, 1, 1))


def test_job_options_set_every_threshold(job):
    args = job.parse_args(["--run-id", "r1", "--max-quarantine-share", "0.3", "--expected-quarantine-reasons",
                           "missing_user_id, invalid_quantity", "--volume-history-days", "14",
                           "--volume-band-low", "0.2", "--volume-band-high", "5", "--backfill", "on"])
    params = job.gate_params(args)
    assert params.max_quarantine_share == 0.3
    assert params.expected_quarantine_reasons == ("missing_user_id", "invalid_quantity")
    assert params.volume_history_days == 14
    assert params.volume_band == (0.2, 5.0)
    assert params.backfill == "on"


def test_reasons_also_read_as_a_json_array_or_nothing(job):
    as_json = job.parse_args(["--run-id", "r1", "--expected-quarantine-reasons", '["missing_user_id"]'])
    assert job.gate_params(as_json).expected_quarantine_reasons == ("missing_user_id",)
    empty = job.parse_args(["--run-id", "r1", "--expected-quarantine-reasons", ""])
    assert job.gate_params(empty).expected_quarantine_reasons == ()


@pytest.mark.parametrize(("argv", "message"), [
    (["--expected-quarantine-reasons", "guest"],
     "quality parameter 'expected_quarantine_reasons' (DAG Param expected_quarantine_reasons, "
     "--expected-quarantine-reasons): unknown reason(s) guest; known: malformed_row"),
    (["--expected-quarantine-reasons", '["missing_user_id"'], "is not a JSON array"),
    (["--max-quarantine-share", "1.5"],
     "'max_quarantine_share' (DAG Param max_quarantine_share, --max-quarantine-share): must be within [0, 1], got 1.5"),
    (["--volume-band-low", "1.2"], "'volume_band_low' (DAG Param volume_band_low, --volume-band-low): must be within"),
    (["--volume-band-high", "0.9"], "'volume_band_high' (DAG Param volume_band_high, --volume-band-high): must be above 1"),
    (["--volume-history-days", "0"], "'volume_history_days' (DAG Param volume_history_days, --volume-history-days)"),
])
def test_bad_thresholds_are_refused_naming_the_param_and_option(job, argv, message):
    with pytest.raises(QualityParamsError) as failure:
        job.gate_params(job.parse_args(["--run-id", "r1", *argv]))
    assert message in str(failure.value)


def test_unknown_backfill_mode_is_refused_by_argparse(job, capsys):
    with pytest.raises(SystemExit):
        job.parse_args(["--run-id", "r1", "--backfill", "maybe"])
    assert "invalid choice: 'maybe'" in capsys.readouterr().err


def test_dag_keeps_its_params_and_adds_the_gate_thresholds(daily_dag):
    values = {name: daily_dag.params.get_param(name).value for name in daily_dag.params}
    assert values == {**EARLIER_PARAMS, **EXPECTED_DEFAULTS}
    assert daily_dag.params.get_param("backfill").schema["enum"] == ["auto", "on", "off"]
    share = daily_dag.params.get_param("max_quarantine_share").schema
    assert (share["type"], share["minimum"], share["maximum"]) == ("number", 0.0, 1.0)


def test_dag_passes_every_threshold_to_the_ingest_job(daily_dag):
    args = daily_dag.get_task("ingest_events").application_args
    pairs = dict(zip(args[::2], args[1::2], strict=True))
    assert {k: v for k, v in pairs.items() if k in (
        "--max-quarantine-share", "--expected-quarantine-reasons", "--volume-history-days", "--volume-band-low",
        "--volume-band-high", "--backfill")} == {
        "--max-quarantine-share": "{{ params.max_quarantine_share }}",
        "--expected-quarantine-reasons": "{{ params.expected_quarantine_reasons }}",
        "--volume-history-days": "{{ params.volume_history_days }}",
        "--volume-band-low": "{{ params.volume_band_low }}",
        "--volume-band-high": "{{ params.volume_band_high }}",
        "--backfill": "{{ params.backfill }}",
    }


def test_rendered_dag_defaults_parse_back_to_the_defaults(job):
    rendered = ["--run-id", "r1", "--max-quarantine-share", "0.05", "--expected-quarantine-reasons", "",
                "--volume-history-days", "7", "--volume-band-low", "0.5", "--volume-band-high", "2.0",
                "--backfill", "auto"]
    assert job.gate_params(job.parse_args(rendered)) == QualityParams()


def test_backfill_mode_by_batch_span():
    assert QualityParams().is_backfill(8) is True
    assert QualityParams().is_backfill(7) is False
    assert QualityParams(backfill="on").is_backfill(1) is True
    assert QualityParams(backfill="off").is_backfill(400) is False


def test_transactions_expect_guest_lines_on_top_of_the_given_reasons():
    assert QualityParams().expected_reasons("transactions") == ("missing_user_id",)
    assert QualityParams().expected_reasons("canonical") == ()
    assert QualityParams(expected_quarantine_reasons=("invalid_quantity",)).expected_reasons("transactions") == (
        "invalid_quantity", "missing_user_id")


def test_time_floor_is_1970_and_never_later_than_the_ingests():
    assert QualityParams().time_floor == datetime(1970, 1, 1)
    assert QualityParams().floor_for("1900-01-01") == datetime(1900, 1, 1)  # a mapping's earlier floor
    assert QualityParams().floor_for("2000-01-01") == datetime(1970, 1, 1)
