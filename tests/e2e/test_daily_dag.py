"""The daily DAG for real: `airflow dags test` → spark-submit jobs → embedded PostgreSQL.

Expected counts come from reading the generated input files with pandas, not from the
code under test.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from e2e_stack import journey_stack
from report_checks import assert_report_renders

from journey import warehouse
from journey.datagen import generate
from journey.orchestration import airflow_env

SNAPSHOT = "2026-10-31"
REES46 = Path(__file__).resolve().parents[3] / "shared" / "data" / "rees46_2019-10-01_sample.csv"
TABLES = ("user_profiles", "user_segments", "segment_history", "segment_summary", "segment_transitions",
          "ingest_runs", "quarantine_summary")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """A Journey home with generated data, a running embedded PostgreSQL and Airflow env."""
    with journey_stack(tmp_path_factory.mktemp("e2e") / "home") as ready:
        generate(ready.settings.inbox, users=400, days=10, seed=11)
        yield ready.settings, ready.env, ready.log


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


def test_daily_run_writes_an_html_report_that_renders(stack):
    """The first run's report: path in the task log, named after the run, charts drawn in Chromium."""
    settings, _, log = stack
    with warehouse.connect(settings) as conn:
        [(run_id,)] = warehouse.fetch_all(conn, "SELECT DISTINCT run_id FROM journey.segment_summary")
        names = [n for (n,) in warehouse.fetch_all(conn, "SELECT segment_name FROM journey.segment_summary")]
    path = settings.reports_dir / "journey_daily_profiles" / f"{run_id}.html"
    assert f"report: {path}" in Path(log).read_text()

    rendered = assert_report_renders(path, {"segment-sizes": 1, "rfm": 1, "transitions": 1, "quality": 1})

    assert all(name in rendered.dom for name in names), names  # legend and Sankey labels
    assert "No rows quarantined by this run." in rendered.dom  # generated data is clean


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


def table_digest(settings, table: str) -> tuple[int, str]:
    """Row count and md5 of every row's text, in key order: equal digests = identical content."""
    with warehouse.connect(settings) as conn, conn.cursor() as cur:
        cur.execute(f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t.user_id), '')) "
                    f"FROM journey.{table} t")
        return cur.fetchone()


def test_failed_gate_leaves_tables_unchanged_and_fixed_rerun_publishes(stack):
    settings, env, log = stack
    day_file = sorted((settings.inbox / "events").glob("*.parquet"))[-1]
    clean = pd.read_parquet(day_file)
    broken = clean.copy()
    broken.loc[broken.index[: len(broken) // 5], "price"] = -1.0  # 20% of the day's rows now invalid
    (settings.inbox / "bad").mkdir()
    broken.to_parquet(settings.inbox / "bad" / day_file.name, index=False)
    before = table_digest(settings, "user_segments")

    failed = airflow_env.test_dag("journey_daily_profiles", "2026-11-01", {"source": str(settings.inbox / "bad")},
                                  env, log)
    assert failed != 0
    assert table_digest(settings, "user_segments") == before
    with warehouse.connect(settings) as conn, conn.cursor() as cur:
        cur.execute("SELECT column_name, success FROM journey.dq_results WHERE dataset = 'events' "
                    "AND severity = 'error' AND NOT success")
        assert cur.fetchall() == [("quarantined_share", False)]

    (settings.inbox / "fixed").mkdir()
    clean.to_parquet(settings.inbox / "fixed" / day_file.name, index=False)
    fixed = airflow_env.test_dag("journey_daily_profiles", "2026-11-01", {"source": str(settings.inbox / "fixed"),
                                 "k_min": 3, "k_max": 5}, env, log)
    assert fixed == 0, Path(log).read_text()[-4000:]
    with warehouse.connect(settings) as conn, conn.cursor() as cur:
        cur.execute("SELECT min(snapshot_date), count(*) FROM journey.user_segments")
        assert cur.fetchone() == (date(2026, 11, 1), len(input_events(settings).groupby("user_id")))
        cur.execute("SELECT previous_snapshot_date, sum(users) FROM journey.segment_transitions "
                    "WHERE snapshot_date = '2026-11-01' GROUP BY 1")
        assert cur.fetchall() == [(date(2026, 10, 31), len(input_events(settings).groupby("user_id")))]


@pytest.mark.skipif(not REES46.exists(), reason=f"REES46 sample not found at {REES46}")
def test_rees46_sample_through_the_dag_is_a_backfill(stack):
    settings, env, log = stack
    current = table_digest(settings, "user_segments")
    code = airflow_env.test_dag("journey_daily_profiles", "2019-10-01",
                                {"source": str(REES46), "format": "rees46", "k_min": 3, "k_max": 5}, env, log)
    assert code == 0, Path(log).read_text()[-4000:]
    with warehouse.connect(settings) as conn, conn.cursor() as cur:
        cur.execute("SELECT rows_read, curated, quarantined, duplicates FROM journey.ingest_runs "
                    "WHERE min_event_date = '2019-10-01'")
        assert cur.fetchall() == [(17434, 17429, 0, 5)]
        cur.execute("SELECT count(*) FROM journey.segment_history WHERE snapshot_date = '2019-10-01'")
        assert cur.fetchone()[0] == 4504  # every user of the sample has a segment in the history
    # an older snapshot is history only: the current tables keep the newer one
    assert table_digest(settings, "user_segments") == current
