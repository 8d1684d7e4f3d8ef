"""The daily DAG for real: `airflow dags test` → spark-submit jobs → embedded PostgreSQL.

Expected counts come from reading the generated input files with pandas, not from the
code under test.

The runs share one warehouse, so each is a module fixture that records what the tests need
right after it (exit code, its part of the log, table counts, query results) and asks for the
run before it: whichever test comes first, the DAG runs in the same order, each run once.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from e2e_stack import journey_stack
from report_checks import assert_report_renders

from journey import warehouse
from journey.dag_ids import DAILY_DAG
from journey.datagen import generate
from journey.orchestration import airflow_env

SNAPSHOT = "2026-10-31"
REES46 = Path(__file__).resolve().parents[3] / "shared" / "data" / "rees46_2019-10-01_sample.csv"
TABLES = ("user_profiles", "user_segments", "segment_history", "segment_summary", "segment_transitions",
          "ingest_runs", "quarantine_summary")
# Row count and md5 of every row's text of user_segments, in key order: equal digests = identical content.
SEGMENTS_DIGEST = ("SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t.user_id), '')) "
                   "FROM journey.user_segments t")


@dataclass(frozen=True)
class Run:
    """One daily DAG run and the warehouse right after it."""

    code: int
    log: str  # what this run wrote to the stack's log
    counts: dict[str, int]  # rows of every published table
    rows: dict[str, list[tuple]]  # name → rows of each query the fixture asked for


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """A Journey home with generated data, a running embedded PostgreSQL and Airflow env."""
    with journey_stack(tmp_path_factory.mktemp("e2e") / "home") as ready:
        generate(ready.settings.inbox, users=400, days=10, seed=11)
        yield ready.settings, ready.env, ready.log


def counts(settings) -> dict[str, int]:
    """Row count of every published table."""
    with warehouse.connect(settings) as conn, conn.cursor() as cur:
        result = {}
        for table in TABLES:
            cur.execute(f"SELECT count(*) FROM journey.{table}")
            result[table] = cur.fetchone()[0]
        return result


def run_daily(stack, day: str, conf: dict, queries: dict[str, str] | None = None) -> Run:
    """One `airflow dags test` run of the daily DAG, with the queries' rows right after it."""
    settings, env, log = stack
    start = Path(log).stat().st_size if Path(log).exists() else 0
    code = airflow_env.test_dag(DAILY_DAG, day, conf, env, log)
    with open(log, "rb") as written:
        written.seek(start)
        text = written.read().decode("utf-8", "replace")
    with warehouse.connect(settings) as conn:
        rows = {name: warehouse.fetch_all(conn, sql) for name, sql in (queries or {}).items()}
    return Run(code, text, counts(settings), rows)


def segments_digest(settings) -> list[tuple]:
    """SEGMENTS_DIGEST now."""
    with warehouse.connect(settings) as conn:
        return warehouse.fetch_all(conn, SEGMENTS_DIGEST)


def input_events(settings) -> pd.DataFrame:
    """All generated event rows, read straight from the files."""
    return pd.concat(pd.read_parquet(p) for p in sorted((settings.inbox / "events").glob("*.parquet")))


def generated_conf(settings) -> dict:
    """Params of a run over the generated inbox."""
    return {"source": str(settings.inbox / "events"), "users": str(settings.inbox / "users.csv"),
            "k_min": 3, "k_max": 5}


@pytest.fixture(scope="module")
def first_run(stack) -> Run:
    """The first run, over the generated inbox."""
    return run_daily(stack, SNAPSHOT, generated_conf(stack[0]), {
        "ingest": "SELECT rows_read, curated, quarantined, duplicates FROM journey.ingest_runs",
        "summary": "SELECT sum(users), count(DISTINCT segment_name) = count(*) FROM journey.segment_summary",
        "renamed": "SELECT count(*) FROM journey.user_segments s JOIN journey.segment_summary m "
                   "USING (segment_id) WHERE s.segment_name <> m.segment_name",
        "arrivals": "SELECT sum(users) FROM journey.segment_transitions WHERE from_segment_id IS NULL",
        "run_ids": "SELECT DISTINCT run_id FROM journey.segment_summary",
        "names": "SELECT segment_name FROM journey.segment_summary",
    })


@pytest.fixture(scope="module")
def rerun(stack, first_run) -> tuple[dict[str, int], Run]:
    """Table counts before, and a second run of the same date over the same inbox."""
    before = counts(stack[0])
    return before, run_daily(stack, SNAPSHOT, generated_conf(stack[0]), {
        "last_ingest": "SELECT curated, duplicates FROM journey.ingest_runs ORDER BY ingested_at DESC LIMIT 1",
    })


@pytest.fixture(scope="module")
def missing_source_run(stack, rerun) -> tuple[dict[str, int], Run]:
    """Table counts before, and a run whose source folder does not exist."""
    before = counts(stack[0])
    return before, run_daily(stack, SNAPSHOT, {"source": str(stack[0].inbox / "no-such-folder")})


@pytest.fixture(scope="module")
def gate_runs(stack, missing_source_run) -> tuple[list[tuple], Run, Run]:
    """The user_segments digest before, a next-day run whose quality gate fails (20% of the last day's
    rows have a negative price), and the run of that day with the rows fixed."""
    settings = stack[0]
    day_file = sorted((settings.inbox / "events").glob("*.parquet"))[-1]
    clean = pd.read_parquet(day_file)
    broken = clean.copy()
    broken.loc[broken.index[: len(broken) // 5], "price"] = -1.0
    (settings.inbox / "bad").mkdir()
    broken.to_parquet(settings.inbox / "bad" / day_file.name, index=False)
    (settings.inbox / "fixed").mkdir()
    clean.to_parquet(settings.inbox / "fixed" / day_file.name, index=False)
    before = segments_digest(settings)
    failed = run_daily(stack, "2026-11-01", {"source": str(settings.inbox / "bad")}, {
        "digest": SEGMENTS_DIGEST,
        "failed_checks": "SELECT column_name, success FROM journey.dq_results WHERE dataset = 'events' "
                         "AND severity = 'error' AND NOT success",
    })
    fixed = run_daily(stack, "2026-11-01", {"source": str(settings.inbox / "fixed"), "k_min": 3, "k_max": 5}, {
        "segments": "SELECT min(snapshot_date), count(*) FROM journey.user_segments",
        "transitions": "SELECT previous_snapshot_date, sum(users) FROM journey.segment_transitions "
                       "WHERE snapshot_date = '2026-11-01' GROUP BY 1",
    })
    return before, failed, fixed


@pytest.fixture(scope="module")
def rees46_run(stack, gate_runs) -> tuple[list[tuple], Run]:
    """The user_segments digest before, and a run of the REES46 sample for 2019-10-01 (older than the rest)."""
    before = segments_digest(stack[0])
    conf = {"source": str(REES46), "format": "rees46", "k_min": 3, "k_max": 5}
    return before, run_daily(stack, "2019-10-01", conf, {
        "ingest": "SELECT rows_read, curated, quarantined, duplicates FROM journey.ingest_runs "
                  "WHERE min_event_date = '2019-10-01'",
        "history": "SELECT count(*) FROM journey.segment_history WHERE snapshot_date = '2019-10-01'",
        "digest": SEGMENTS_DIGEST,
    })


def test_daily_dag_publishes_every_table(stack, first_run):
    settings = stack[0]
    assert first_run.code == 0, first_run.log[-4000:]
    events = input_events(settings)
    users = events["user_id"].nunique()
    published = first_run.counts
    assert published["user_profiles"] == users
    assert published["user_segments"] == users
    assert published["segment_history"] == users
    assert 3 <= published["segment_summary"] <= 5
    assert published["ingest_runs"] == 1
    assert first_run.rows["ingest"] == [(len(events), len(events), 0, 0)]
    assert first_run.rows["summary"] == [(users, True)]
    assert first_run.rows["renamed"] == [(0,)]
    assert first_run.rows["arrivals"] == [(users,)]  # first snapshot: everyone arrives from "no segment"


def test_daily_run_writes_an_html_report_that_renders(stack, first_run):
    """The first run's report: path in the task log, named after the run, charts drawn in Chromium."""
    settings = stack[0]
    [(run_id,)] = first_run.rows["run_ids"]
    names = [n for (n,) in first_run.rows["names"]]
    path = settings.reports_dir / "journey_daily_profiles" / f"{run_id}.html"
    assert f"report: {path}" in first_run.log

    rendered = assert_report_renders(path, {"segment-sizes": 1, "rfm": 1, "transitions": 1, "quality": 1})

    assert all(name in rendered.dom for name in names), names  # legend and Sankey labels
    assert "No rows quarantined by this run." in rendered.dom  # generated data is clean


def test_first_run_shows_its_task_logs_and_wall_clock_duration_in_the_airflow_ui(stack, first_run):
    """What `make airflow` reads of a `dags test` run: each task's log file, the run's real start and end.

    Without orchestration/run_record.py the run started at its logical date (a 30-day duration for the
    demo) and the UI said "Log file not found on worker".
    """
    settings = stack[0]
    [(run_id,)] = first_run.rows["run_ids"]
    run_dir = settings.airflow_home / "logs" / f"dag_id={DAILY_DAG}" / f"run_id={run_id}"
    logs = {p.parent.name: p.read_text(encoding="utf-8") for p in run_dir.glob("task_id=*/attempt=1.log")}
    assert sorted(logs) == ["task_id=build_profiles", "task_id=ingest_events", "task_id=publish", "task_id=report",
                            "task_id=segment_users"]
    assert "published " in logs["task_id=publish"] and "report: " in logs["task_id=report"]
    with sqlite3.connect(settings.airflow_home / "airflow.db") as db:
        [(logical, start, end)] = db.execute("SELECT logical_date, start_date, end_date FROM dag_run "
                                             "WHERE run_id = ?", (run_id,)).fetchall()
    started, ended = datetime.fromisoformat(start), datetime.fromisoformat(end)  # UTC, stored without a zone
    assert logical.startswith(SNAPSHOT)
    assert datetime.now(UTC).replace(tzinfo=None) - started < timedelta(hours=2)  # not the logical date
    assert timedelta(0) < ended - started < timedelta(hours=1)


def test_rerun_of_the_same_date_changes_no_counts(stack, rerun):
    before, again = rerun
    assert again.code == 0, again.log[-4000:]
    assert {t: n for t, n in again.counts.items() if t != "ingest_runs"} == {
        t: n for t, n in before.items() if t != "ingest_runs"}
    [(curated, duplicates)] = again.rows["last_ingest"]
    assert curated == 0 and duplicates == len(input_events(stack[0]))  # everything was already ingested


def test_failed_run_exits_non_zero_and_publishes_nothing(missing_source_run):
    before, failed = missing_source_run
    assert failed.code != 0
    assert failed.counts == before
    assert "error: input not found:" in failed.log


def test_failed_gate_leaves_tables_unchanged_and_fixed_rerun_publishes(stack, gate_runs):
    before, failed, fixed = gate_runs
    users = len(input_events(stack[0]).groupby("user_id"))
    assert failed.code != 0
    assert failed.rows["digest"] == before
    assert failed.rows["failed_checks"] == [("quarantined_share", False)]
    assert fixed.code == 0, fixed.log[-4000:]
    assert fixed.rows["segments"] == [(date(2026, 11, 1), users)]
    assert fixed.rows["transitions"] == [(date(2026, 10, 31), users)]


@pytest.mark.skipif(not REES46.exists(), reason=f"REES46 sample not found at {REES46}")
def test_rees46_sample_through_the_dag_is_a_backfill(rees46_run):
    before, backfill = rees46_run
    assert backfill.code == 0, backfill.log[-4000:]
    assert backfill.rows["ingest"] == [(17434, 17429, 0, 5)]
    assert backfill.rows["history"] == [(4504,)]  # every user of the sample has a segment in the history
    # an older snapshot is history only: the current tables keep the newer one
    assert backfill.rows["digest"] == before
