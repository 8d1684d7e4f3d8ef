"""The warehouse against a real embedded PostgreSQL: server, migrations, COPY, publish, BI role."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime

import psycopg2
import pyarrow as pa
import pytest

from journey import warehouse
from journey.config import get_settings
from journey.warehouse import TableLoad, WarehouseError


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    """Settings of a private embedded server, stopped at the end."""
    home = tmp_path_factory.mktemp("wh") / "home"
    current = get_settings({"JOURNEY_HOME": str(home)})
    yield current
    warehouse.stop_server(current)


@pytest.fixture
def conn(settings):
    """A migrated connection."""
    connection = warehouse.connect(settings)
    yield connection
    connection.close()


def rows(conn, sql: str, params=None) -> list[tuple]:
    """Query rows."""
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def test_server_is_reused_and_outlives_its_starter(settings):
    code = f"from journey.config import get_settings; from journey import warehouse; " \
           f"print(warehouse.start_server(get_settings({{'JOURNEY_HOME': {str(settings.home)!r}}})))"
    started_elsewhere = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert started_elsewhere.returncode == 0, started_elsewhere.stderr
    url = started_elsewhere.stdout.strip().splitlines()[-1]
    assert warehouse.start_server(settings) == url
    assert warehouse.server_status(settings).startswith("running: ")
    with psycopg2.connect(url) as c, c.cursor() as cur:
        cur.execute("SELECT 1")
        assert cur.fetchone() == (1,)


def test_migrations_apply_once(conn):
    tables = {r[0] for r in rows(conn, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'journey'")}
    assert {"user_profiles", "user_segments", "segment_history", "segment_summary", "segment_transitions",
            "ingest_runs", "quarantine_summary", "schema_migrations"} <= tables
    assert warehouse.migrate(conn) == []
    assert rows(conn, "SELECT version, name FROM journey.schema_migrations ORDER BY version") == [("001", "foundation")]


def test_copy_round_trips_awkward_values(conn):
    with conn.cursor() as cur:
        cur.execute("CREATE TEMP TABLE awkward (s text, t timestamptz, d date, n double precision, "
                    "b boolean, a text[], j jsonb)")
        data = pa.table({
            "s": ['a,b "quoted"\nnext line', "", None],
            "t": pa.array([datetime(2026, 10, 31, 23, 59, 59, 123000), None, datetime(2026, 1, 1)],
                          pa.timestamp("us", tz="UTC")),
            "d": pa.array([date(2026, 10, 31), None, date(2020, 2, 29)]),
            "n": [1.5, None, -0.25],
            "b": [True, False, None],
            "a": [["x", 'y "z"', "a,b"], [], None],
            "j": ['{"k": [1, 2]}', None, '{"unknown": 1.0}'],
        })
        assert warehouse.copy_batches(cur, "awkward", data, data.column_names) == 3
        cur.execute("SELECT s, t, d, n, b, a, j FROM awkward ORDER BY d NULLS FIRST")
        got = cur.fetchall()
    conn.rollback()
    assert got[0] == ("", None, None, None, False, [], None)
    assert got[1] == (None, datetime(2026, 1, 1, tzinfo=UTC), date(2020, 2, 29), -0.25, None, None,
                      {"unknown": 1.0})
    first = got[2]
    assert first[0] == 'a,b "quoted"\nnext line'
    assert first[1] == datetime(2026, 10, 31, 23, 59, 59, 123000, tzinfo=UTC)
    assert first[2:] == (date(2026, 10, 31), 1.5, True, ["x", 'y "z"', "a,b"], {"k": [1, 2]})


def history(snapshot: date, users: list[str], segment: int) -> pa.Table:
    """segment_history rows for one snapshot."""
    return pa.table({"snapshot_date": [snapshot] * len(users), "user_id": users,
                     "segment_id": [segment] * len(users), "run_id": ["r"] * len(users)})


def load(table: pa.Table, snapshot: date) -> TableLoad:
    """A segment_history load replacing one snapshot."""
    return TableLoad("segment_history", table, table.column_names, "snapshot_date = %(d)s", {"d": snapshot})


def test_publish_replaces_only_its_snapshot_and_reruns_do_not_duplicate(conn):
    day1, day2 = date(2026, 10, 30), date(2026, 10, 31)
    warehouse.publish(conn, [load(history(day1, ["a", "b"], 1), day1)])
    warehouse.publish(conn, [load(history(day2, ["a", "b", "c"], 2), day2)])
    warehouse.publish(conn, [load(history(day2, ["a", "b", "c"], 3), day2)])  # rerun of day 2
    got = rows(conn, "SELECT snapshot_date, count(*), min(segment_id) FROM journey.segment_history "
                     "WHERE snapshot_date IN (%s, %s) GROUP BY 1 ORDER BY 1", (day1, day2))
    assert got == [(day1, 2, 1), (day2, 3, 3)]


def test_failed_set_changes_nothing(conn):
    day = date(2026, 9, 1)
    warehouse.publish(conn, [load(history(day, ["a"], 1), day)])
    bad_summary = pa.table({"snapshot_date": [day], "segment_id": [1], "segment_name": [None]})  # NOT NULL column
    with pytest.raises(psycopg2.Error):
        warehouse.publish(conn, [
            load(history(day, ["x", "y"], 9), day),
            TableLoad("segment_summary", bad_summary, bad_summary.column_names, "snapshot_date = %(d)s", {"d": day}),
        ])
    assert rows(conn, "SELECT user_id, segment_id FROM journey.segment_history WHERE snapshot_date = %s", (day,)) == [
        ("a", 1)]


def test_bi_role_reads_but_cannot_write(settings, conn):
    url = warehouse.database_url(settings).replace("postgres:@", "journey_bi:journey_bi@")
    with psycopg2.connect(url) as bi, bi.cursor() as cur:
        cur.execute("SELECT count(*) FROM journey.segment_history")
        assert cur.fetchone()[0] >= 0
    for statement in ("INSERT INTO journey.segment_history VALUES ('2026-01-01', 'u', 1, 'r')",
                      "UPDATE journey.segment_history SET segment_id = 0",
                      "DELETE FROM journey.segment_history",
                      "CREATE TABLE journey.sneaky (x int)"):
        with psycopg2.connect(url) as bi, bi.cursor() as cur:
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute(statement)


def test_bad_url_is_one_clear_line():
    bad = get_settings({"JOURNEY_DB_URL": "postgresql://someone:secret@127.0.0.1:9/nowhere"})
    with pytest.raises(WarehouseError, match=r"cannot connect to PostgreSQL at postgresql://someone:\*\*\*@127"):
        warehouse.connect(bad)
