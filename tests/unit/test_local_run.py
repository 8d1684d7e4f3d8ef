"""`journey run DAG`: DAG names, --param parsing, the run's conf and the progress lines a person sees."""

from __future__ import annotations

import pytest

from journey.errors import InputError
from journey.orchestration.local_run import RunProgress, dag_id_of, parse_param, run_conf

TASK_LINE = ("2026-11-30T07:41:57.552138Z [info     ] [DAG TEST] running task <TaskInstance: "
             "journey_daily_profiles.ingest_events manual__2026-11-30T07:41:56.776442+00:00 "
             "[TaskInstanceState.SCHEDULED] ti_id=01a22b67> [airflow.sdk.definitions.dag] loc=dag.py:1504")
OUR_LINE = ("2026-11-30T07:47:04.1Z [info     ] profiles 2026-10-31: 19,510 users written to /lake "
            "[airflow.task.hooks.airflow.providers.apache.spark.hooks.spark_submit.SparkSubmitHook] loc=spark_submit.py:663")
SPARK_LINE = ("2026-11-30T07:42:31.3Z [info     ] 26/11/30 07:42:31 INFO SparkContext: Running Spark version 4.3.0 "
              "[airflow.task.hooks.airflow.providers.apache.spark.hooks.spark_submit.SparkSubmitHook] loc=spark_submit.py:663")
ERROR_LINE = "2026-11-30T07:50:00.0Z [error    ] Task failed with exception [airflow.task] loc=task_runner.py:1"


@pytest.mark.parametrize(("name", "dag_id"), [
    ("daily", "journey_daily_profiles"), ("train", "journey_train_models"), ("campaign", "journey_campaign"),
    ("journey_campaign", "journey_campaign"),
])
def test_short_names_and_ids_name_a_dag(name, dag_id):
    assert dag_id_of(name) == dag_id


def test_an_unknown_dag_is_refused_with_the_choices():
    with pytest.raises(InputError, match="unknown DAG 'nightly': expected one of daily, train, campaign"):
        dag_id_of("nightly")


@pytest.mark.parametrize(("text", "pair"), [
    ("max_quarantine_share=0.3", ("max_quarantine_share", 0.3)),
    ("k_max=5", ("k_max", 5)),
    ("expected_quarantine_reasons=[\"missing_user_id\"]", ("expected_quarantine_reasons", ["missing_user_id"])),
    ("backfill=on", ("backfill", "on")),
    ("name=a=b", ("name", "a=b")),
    ("dry_run=true", ("dry_run", True)),
])
def test_param_values_are_json_when_they_parse_else_text(text, pair):
    assert parse_param(text) == pair


@pytest.mark.parametrize("text", ["oops", "=3", " =x"])
def test_a_param_without_a_key_is_refused(text):
    with pytest.raises(InputError, match="is not key=value"):
        parse_param(text)


def test_the_conf_holds_given_options_then_params():
    conf = run_conf(["k_max=5", "format=transactions"], source="/data/orders.csv", format="canonical", mapping="")
    assert conf == {"source": "/data/orders.csv", "format": "transactions", "k_max": 5}


def test_progress_shows_task_starts_our_lines_and_errors_but_not_spark_chatter():
    shown = []
    progress = RunProgress(echo=shown.append)
    for line in (TASK_LINE, SPARK_LINE, OUR_LINE, ERROR_LINE, "plain text"):
        progress(line)
    assert shown == ["  -> task ingest_events", "     profiles 2026-10-31: 19,510 users written to /lake",
                     "     Task failed with exception"]
    assert progress.run_id == "manual__2026-11-30T07:41:56.776442+00:00"
    assert progress.tasks == ["ingest_events"]
