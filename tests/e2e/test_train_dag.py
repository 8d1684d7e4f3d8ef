"""The model DAG for real: `airflow dags test journey_train_models` → spark-submit jobs, TF/XGBoost, PostgreSQL.

Generated data is ingested by the real ingest job first; the DAG then builds the training
sets, trains, evaluates, registers, promotes and scores. Expected users come from the
generated files (pandas), not from the code under test.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from e2e_stack import journey_stack
from report_checks import assert_report_renders

from journey import warehouse
from journey.datagen import generate
from journey.orchestration import airflow_env

pytestmark = pytest.mark.e2e

SNAPSHOT = "2026-10-31"
LOOKBACK = 14
JOB = Path(__file__).resolve().parents[2] / "jobs" / "ingest_events.py"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """A Journey home with 600 users × 14 days ingested, the embedded PostgreSQL and Airflow ready."""
    with journey_stack(tmp_path_factory.mktemp("e2e-models") / "home", JOURNEY_SPARK_MASTER="local[2]") as ready:
        settings, env, log = ready.settings, ready.env, ready.log
        generate(settings.inbox, users=600, days=14, seed=5)
        ingest = subprocess.run([sys.executable, str(JOB), "--source", str(settings.inbox / "events"),
                                 "--format", "canonical", "--run-id", "e2e-ingest"], env=env, capture_output=True,
                                text=True)
        assert ingest.returncode == 0, ingest.stderr[-3000:]
        yield settings, env, log


def expected_users(settings) -> set[str]:
    """Users with an event in the look-back window ending on the snapshot, from the generated files."""
    events = pd.concat(pd.read_parquet(p, columns=["user_id", "event_time"])
                       for p in sorted((settings.inbox / "events").glob("*.parquet")))
    day = pd.to_datetime(events["event_time"]).dt.date
    first = date.fromisoformat(SNAPSHOT) - timedelta(days=LOOKBACK - 1)
    return set(events.loc[day >= first, "user_id"])


def test_train_dag_registers_promotes_and_scores(stack):
    settings, env, log = stack
    conf = {"horizon_days": 3, "lookback_days": LOOKBACK, "epochs": 4, "margin": 0.0,
            "scenes": str(settings.inbox / "ground_truth" / "scenes.parquet")}

    code = airflow_env.test_dag("journey_train_models", SNAPSHOT, conf, env, log)

    assert code == 0, Path(log).read_text()[-4000:]
    with warehouse.connect(settings) as conn, conn.cursor() as cur:
        cur.execute("SELECT name, version, status FROM journey.model_registry ORDER BY name")
        registered = cur.fetchall()
        cur.execute("SELECT user_id, snapshot_date, model_versions FROM journey.user_scores")
        scores = cur.fetchall()
    assert [(n, v) for n, v, _ in registered] == [("behaviour", 1), ("propensity", 1), ("responsiveness", 1),
                                                  ("scene", 1)]
    champions = {n for n, _, s in registered if s == "champion"}
    assert champions, registered
    assert {u for u, _, _ in scores} == expected_users(settings)
    assert {d for _, d, _ in scores} == {date.fromisoformat(SNAPSHOT)}
    assert all(set(versions) == champions for _, _, versions in scores)


def test_train_run_writes_an_html_report_that_renders(stack):
    """The training run's report shows every registered model with its metric chart (after the DAG test above)."""
    settings, _, log = stack
    with warehouse.connect(settings) as conn:
        [(run_id,)] = warehouse.fetch_all(conn, "SELECT DISTINCT run_id FROM journey.model_registry")
        primaries = warehouse.fetch_all(conn, "SELECT name, primary_value FROM journey.model_registry")
    path = settings.reports_dir / "journey_train_models" / f"{run_id}.html"
    assert f"report: {path}" in Path(log).read_text()

    rendered = assert_report_renders(path, {"models": 1})

    for name, value in primaries:
        assert f"<td>{name}</td>" in rendered.dom and f"<td>{value:.4f}</td>" in rendered.dom, (name, value)
