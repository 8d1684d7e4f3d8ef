"""The daily DAG for real: `airflow dags test` → spark-submit jobs → embedded PostgreSQL.

Expected counts come from reading the generated input files with pandas, not from the
code under test.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from journey import airflow_env, warehouse
from journey.config import get_settings
from journey.datagen import generate

SNAPSHOT = "2026-10-31"
TABLES = ("user_profiles", "user_segments", "segment_history", "segment_summary", "segment_transitions",
          "ingest_runs", "quarantine_summary")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """A Journey home with generated data, a running embedded PostgreSQL and Airflow env."""
    home = tmp_path_factory.mktemp("e2e") / "home"
    settings = get_settings({"JOURNEY_HOME": str(home)})
    url = warehouse.start_server(settings)
    generate(settings.inbox, users=400, days=10, seed=11)
    env = airflow_env.airflow_environment(settings, url)
    env.update({"JOURNEY_SHUFFLE_PARTITIONS": "4", "JOURNEY_SPARK_DRIVER_MEMORY": "1g"})
    log = home / "e2e.log"
    airflow_env.migrate_metadata_db(env, log)
    yield settings, env, log
    warehouse.stop_server(settings)


def run_dag(stack) -> int:
    """One `airflow dags test` run of the daily DAG on the generated inbox."""
    settings, env, log = stack
    conf = {"source": str(settings.inbox / "events"), "users": str(settings.inbox / "users.csv"),
            "k_min": 3, "k_max": 5}
    return airflow_env.test_dag("journey_daily_profiles", SNAPSHOT, conf, env, log)


def counts(settings) -> dict[str, int]:
    """Row count of every published table."""
    with warehouse.connect(settings) as conn, conn.cursor() as cur:
        result = {}
        for table in TABLES:
            cur.execute(f"SELECT count(*) FROM journey.{table}")
            result[table] = cur.fetchone()[0]
        return result


def input_events(settings) -> pd.DataFrame:
    """All generated event rows, read straight from the files."""
    return pd.concat(pd.read_parquet(p) for p in sorted((settings.inbox / "events").glob("*.parquet")))


def test_daily_dag_publishes_every_table(stack):
    settings, _, log = stack
    assert run_dag(stack) == 0, Path(log).read_text()[-4000:]
    events = input_events(settings)
    users = events["user_id"].nunique()
    published = counts(settings)
    assert published["user_profiles"] == users
    assert published["user_segments"] == users
    assert published["segment_history"] == users
    assert 3 <= published["segment_summary"] <= 5
    assert published["ingest_runs"] == 1
    with warehouse.connect(settings) as conn, conn.cursor() as cur:
        cur.execute("SELECT rows_read, curated, quarantined, duplicates FROM journey.ingest_runs")
        assert cur.fetchone() == (len(events), len(events), 0, 0)
        cur.execute("SELECT sum(users), count(DISTINCT segment_name) = count(*) FROM journey.segment_summary")
        assert cur.fetchone() == (users, True)
        cur.execute("SELECT count(*) FROM journey.user_segments s JOIN journey.segment_summary m "
                    "USING (segment_id) WHERE s.segment_name <> m.segment_name")
        assert cur.fetchone()[0] == 0
        cur.execute("SELECT sum(users) FROM journey.segment_transitions WHERE from_segment_id IS NULL")
        assert cur.fetchone()[0] == users  # first snapshot: everyone arrives from "no segment"


def test_rerun_of_the_same_date_changes_no_counts(stack):
    settings, _, log = stack
    before = counts(settings)
    assert run_dag(stack) == 0, Path(log).read_text()[-4000:]
    after = counts(settings)
    assert {t: n for t, n in after.items() if t != "ingest_runs"} == {
        t: n for t, n in before.items() if t != "ingest_runs"}
    with warehouse.connect(settings) as conn, conn.cursor() as cur:
        cur.execute("SELECT curated, duplicates FROM journey.ingest_runs ORDER BY ingested_at DESC LIMIT 1")
        curated, duplicates = cur.fetchone()
    assert curated == 0 and duplicates == len(input_events(settings))  # everything was already ingested


def test_failed_run_exits_non_zero_and_publishes_nothing(stack):
    settings, env, log = stack
    before = counts(settings)
    conf = {"source": str(settings.inbox / "no-such-folder")}
    assert airflow_env.test_dag("journey_daily_profiles", SNAPSHOT, conf, env, log) != 0
    assert counts(settings) == before
    assert "error: input not found:" in Path(log).read_text()
