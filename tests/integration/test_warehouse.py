"""The warehouse against a real embedded PostgreSQL: server, migrations, COPY, publish, BI role."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg2
import psycopg2.errors
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from journey import warehouse
from journey.config import get_settings
from journey.warehouse import TableLoad, WarehouseError, bulk
from journey.warehouse.server import read_postmaster

pytestmark = pytest.mark.postgres

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"


@pytest.fixture(scope="session")
def pg_settings(tmp_path_factory):
    """Settings of a private embedded server in a temporary JOURNEY_HOME, stopped at the end."""
    settings = get_settings({"JOURNEY_HOME": str(tmp_path_factory.mktemp("warehouse") / "home")})
    warehouse.start_server(settings)
    yield settings
    warehouse.stop_server(settings)


@pytest.fixture
def conn(pg_settings):
    """A migrated connection, rolled back and closed after the test."""
    connection = warehouse.connect(pg_settings)
    yield connection
    connection.rollback()
    connection.close()


def rows(conn, query: str, params=None) -> list[tuple]:
    """Rows of a query, leaving no transaction open."""
    found = warehouse.fetch_all(conn, query, params)
    conn.rollback()
    return found


def start_in_subprocess(settings) -> subprocess.Popen:
    """`start_server` in a separate Python process that prints the URL and exits."""
    code = ("import sys; from journey.config import get_settings; from journey import warehouse; "
            "print(warehouse.start_server(get_settings({'JOURNEY_HOME': sys.argv[1]})))")
    env = {**os.environ, "PYTHONPATH": str(PLUGINS)}
    return subprocess.Popen([sys.executable, "-c", code, str(settings.home)], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


# ---------------------------------------------------------------- embedded server


def test_server_started_by_exited_processes_keeps_running_and_is_reused(pg_settings):
    assert warehouse.stop_server(pg_settings) is True
    assert warehouse.server_status(pg_settings).startswith("stopped: ")
    assert warehouse.stop_server(pg_settings) is False

    starters = [start_in_subprocess(pg_settings) for _ in range(2)]  # concurrent starts
    outputs = [p.communicate(timeout=180) for p in starters]

    assert [p.returncode for p in starters] == [0, 0], [err for _, err in outputs]
    urls = {out.strip().splitlines()[-1] for out, _ in outputs}
    assert len(urls) == 1
    url = urls.pop()
    assert warehouse.start_server(pg_settings) == url
    assert warehouse.database_url(pg_settings) == url
    assert warehouse.server_status(pg_settings).startswith(f"running: {url} (pid ")
    postmaster = read_postmaster(pg_settings.pg_dir)
    assert os.getsid(postmaster.pid) == postmaster.pid  # own session: killing a task's process group spares it
    with psycopg2.connect(url) as c, c.cursor() as cur:
        cur.execute("SELECT current_setting('data_directory'), current_setting('listen_addresses')")
        assert cur.fetchone() == (str(pg_settings.pg_dir), "")
    assert (pg_settings.pg_dir / "postgres.log").stat().st_size > 0


def test_long_data_directory_gets_a_short_socket_folder(tmp_path):
    home = tmp_path / ("deep_" * 12) / "journey_home"
    settings = get_settings({"JOURNEY_HOME": str(home)})
    assert len(str(settings.pg_dir / ".s.PGSQL.5432")) > 107
    try:
        url = warehouse.start_server(settings)
        assert "host=/tmp/journey-pg-" in url
        with psycopg2.connect(url) as c, c.cursor() as cur:
            cur.execute("SELECT current_setting('data_directory')")
            assert cur.fetchone() == (str(settings.pg_dir),)
    finally:
        assert warehouse.stop_server(settings) is True
    assert warehouse.server_status(settings).startswith("stopped: ")


def test_external_url_status_hides_the_password():
    settings = get_settings({"JOURNEY_DB_URL": "postgresql://app:s3cret@db.example:5432/shop"})
    status = warehouse.server_status(settings)
    assert status.startswith("external: postgresql://app:***@db.example:5432/shop (JOURNEY_DB_URL)")
    assert "s3cret" not in status
    assert warehouse.database_url(settings) == "postgresql://app:s3cret@db.example:5432/shop"


def test_bad_url_is_one_clear_line():
    bad = get_settings({"JOURNEY_DB_URL": "postgresql://someone:secret@127.0.0.1:9/nowhere"})
    with pytest.raises(WarehouseError) as failure:
        warehouse.connect(bad)
    message = str(failure.value)
    assert message.startswith("cannot connect to PostgreSQL at postgresql://someone:***@127.0.0.1:9/nowhere: ")
    assert "\n" not in message and "secret" not in message


# ---------------------------------------------------------------- migrations


def test_migrations_are_applied_once_and_create_the_foundation_tables(conn):
    tables = {r[0] for r in rows(conn, "SELECT table_name FROM information_schema.tables "
                                       "WHERE table_schema = 'journey'")}
    assert {"user_profiles", "user_segments", "segment_history", "segment_summary", "segment_transitions",
            "ingest_runs", "quarantine_summary", "schema_migrations"} <= tables

    assert warehouse.migrate(conn) == []

    recorded = rows(conn, "SELECT version, name, checksum FROM journey.schema_migrations ORDER BY version")
    assert recorded == [(m.version, m.name, m.checksum) for m in warehouse.migration_files()]
    assert recorded[0][:2] == ("001", "foundation")


@pytest.fixture
def scratch_db(pg_settings):
    """URL of a fresh database on the same server (roles are shared with the main one), dropped after."""
    admin = psycopg2.connect(warehouse.database_url(pg_settings))
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("DROP DATABASE IF EXISTS migration_scratch")
        cur.execute("CREATE DATABASE migration_scratch")
    yield warehouse.database_url(pg_settings).replace("/postgres?", "/migration_scratch?")
    with admin.cursor() as cur:
        cur.execute("DROP DATABASE migration_scratch WITH (FORCE)")
    admin.close()


def test_migrations_in_order_each_once_and_edits_refused(scratch_db, tmp_path):
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "V002__second.sql").write_text("INSERT INTO journey.first (x) VALUES (2);")
    (folder / "V001__first.sql").write_text("CREATE TABLE journey.first (x int);\nINSERT INTO journey.first VALUES (1);")
    conn = warehouse.open_connection(scratch_db)
    try:
        assert warehouse.migrate(conn, folder) == ["V001__first.sql", "V002__second.sql"]  # role already existed
        assert warehouse.migrate(conn, folder) == []
        assert rows(conn, "SELECT x FROM journey.first ORDER BY x") == [(1,), (2,)]

        (folder / "V010__broken.sql").write_text("CREATE TABLE journey.half (x int);\nSELECT no_such_column;")
        with pytest.raises(WarehouseError, match=r"migration V010__broken.sql failed and was rolled back: "):
            warehouse.migrate(conn, folder)
        assert rows(conn, "SELECT to_regclass('journey.half'), max(version) FROM journey.schema_migrations") == [
            (None, "002")]

        (folder / "V010__broken.sql").unlink()
        (folder / "V001__first.sql").write_text("CREATE TABLE journey.first (x bigint);")
        with pytest.raises(WarehouseError, match=r"V001__first.sql was changed after it was applied"):
            warehouse.migrate(conn, folder)
    finally:
        conn.close()


# ---------------------------------------------------------------- COPY


AWKWARD = """CREATE TEMP TABLE awkward (
    id int, s text, t timestamptz, naive timestamptz, d date, n double precision, b boolean, big bigint,
    tags text[], ints integer[], j_map jsonb, j_struct jsonb, j_text jsonb, raw bytea)"""


def awkward_data() -> pa.Table:
    """Values CSV and COPY get wrong when done carelessly."""
    return pa.table({
        "id": pa.array([1, 2, 3, 4], pa.int32()),
        "s": ['a,b "quoted"\nnext line', "", None, "\\N"],
        "t": pa.array([datetime(2026, 10, 31, 23, 59, 59, 123456, tzinfo=UTC), None,
                       datetime(2026, 1, 1, tzinfo=UTC), datetime(1999, 12, 31, 12, tzinfo=UTC)],
                      pa.timestamp("us", tz="UTC")),
        "naive": pa.array([datetime(2026, 3, 29, 1, 30), None, None, None], pa.timestamp("ns")),
        "d": pa.array([date(2026, 10, 31), None, date(2020, 2, 29), date(1970, 1, 1)]),
        "n": [1.5, None, -0.25, float("nan")],
        "b": [True, False, None, True],
        "big": pa.array([2**62, None, -1, 0], pa.int64()),
        "tags": [["x", 'y "z"', "a,b", "back\\slash", "{brace}", None, "NULL"], [], None, ["ünï"]],
        "ints": pa.array([[1, 2], None, [], [None, 3]], pa.list_(pa.int64())),
        "j_map": pa.array([[("shoes", 0.5), ("bags", 0.25)], [], None, [("a\"b", 1.0)]],
                          pa.map_(pa.string(), pa.float64())),
        "j_struct": pa.array([{"k": 1, "when": date(2026, 1, 2)}, None, {"k": None, "when": None},
                              {"k": 3, "when": None}]),
        "j_text": ['{"k": [1, 2]}', None, '{"unknown": 1.5}', "[]"],
        "raw": [b"\x00\xffab", None, b"", b"\\"],
    }).replace_schema_metadata(None)


def test_copy_round_trips_awkward_values_exactly(conn, monkeypatch):
    monkeypatch.setattr(bulk, "BATCH_ROWS", 3)  # several encoded chunks in one COPY
    data = awkward_data()
    with conn.cursor() as cur:
        cur.execute(AWKWARD)

        loaded = warehouse.copy_from_arrow(cur, "awkward", data, data.column_names)

        cur.execute("SELECT id, s, t, naive, d, n::text, b, big, tags, ints, j_map, j_struct, j_text, raw "
                    "FROM awkward ORDER BY id")
        got = [tuple(bytes(v) if isinstance(v, memoryview) else v for v in row) for row in cur.fetchall()]
    assert loaded == 4
    assert got[0] == (1, 'a,b "quoted"\nnext line', datetime(2026, 10, 31, 23, 59, 59, 123456, tzinfo=UTC),
                      datetime(2026, 3, 29, 1, 30, tzinfo=UTC), date(2026, 10, 31), "1.5", True, 2**62,
                      ["x", 'y "z"', "a,b", "back\\slash", "{brace}", None, "NULL"], [1, 2],
                      {"shoes": 0.5, "bags": 0.25}, {"k": 1, "when": "2026-01-02"}, {"k": [1, 2]}, b"\x00\xffab")
    assert got[1] == (2, "", None, None, None, None, False, None, [], None, {}, None, None, None)
    assert got[2] == (3, None, datetime(2026, 1, 1, tzinfo=UTC), None, date(2020, 2, 29), "-0.25", None, -1, None,
                      [], None, {"k": None, "when": None}, {"unknown": 1.5}, b"")
    assert got[3] == (4, "\\N", datetime(1999, 12, 31, 12, tzinfo=UTC), None, date(1970, 1, 1), "NaN", True, 0,
                      ["ünï"], [None, 3], {'a"b': 1.0}, {"k": 3, "when": None}, [], b"\\")


MOMENTS = [datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), None, datetime(2026, 1, 1, tzinfo=UTC),
           datetime(1900, 3, 4, 5, 6, 7, 8, tzinfo=UTC), datetime(2026, 10, 31, 23, 59, 59, 123456, tzinfo=UTC)]


@pytest.mark.parametrize("zone", ["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata"])
def test_timestamps_of_every_zone_and_unit_load_as_the_same_instant(conn, zone):
    data = pa.table({"us": pa.array(MOMENTS, pa.timestamp("us", tz=zone)),
                     "s": pa.array([0, 86_399, -1, None, 1_800_000_000], pa.timestamp("s", tz=zone)),
                     "ms": pa.array([1_500, -1, None, 0, 1], pa.timestamp("ms"))})
    with conn.cursor() as cur:
        cur.execute("CREATE TEMP TABLE moments (us timestamptz, s timestamptz, ms timestamp)")
        warehouse.copy_from_arrow(cur, "moments", data, ["us", "s", "ms"])
        cur.execute("SELECT us, s::text, ms::text FROM moments")
        got = cur.fetchall()
    conn.rollback()
    assert [row[0] for row in got] == MOMENTS
    assert [row[1] for row in got] == ["1970-01-01 00:00:00+00", "1970-01-01 23:59:59+00", "1969-12-31 23:59:59+00",
                                       None, "2027-01-15 08:00:00+00"]
    assert [row[2] for row in got] == ["1970-01-01 00:00:01.5", "1969-12-31 23:59:59.999", None,
                                       "1970-01-01 00:00:00", "1970-01-01 00:00:00.001"]


@pytest.mark.parametrize(("values", "column", "message"), [
    ([1, 70_000], "id", r"loading typed: column id: cannot load int64 values into a smallint column: .*70000"),
    (["2026-10-31", "31/10/2026"], "day", r"loading typed: column day: cannot load string values into a date column"),
    ([1.5], "price", r"bulk loads do not handle PostgreSQL type numeric\(8,2\)"),
])
def test_values_that_cannot_take_the_column_type_are_named_with_their_column(conn, values, column, message):
    with conn.cursor() as cur:
        cur.execute("CREATE TEMP TABLE typed (id smallint, day date, price numeric(8, 2))")
        with pytest.raises(WarehouseError, match=message):
            warehouse.copy_from_arrow(cur, "typed", pa.table({column: values}), [column])
    conn.rollback()


def test_copy_takes_batches_and_reports_missing_columns(conn):
    data = awkward_data().select(["id", "s"])
    with conn.cursor() as cur:
        cur.execute("CREATE TEMP TABLE two (id int, s text)")
        batches = iter([data.to_batches()[0].slice(0, 0), *data.to_batches(max_chunksize=1)])
        assert warehouse.copy_from_arrow(cur, "two", batches, ["id", "s"]) == 4
        cur.execute("SELECT count(*), count(s) FROM two")
        assert cur.fetchone() == (4, 3)
        with pytest.raises(WarehouseError, match=r"loading two: column\(s\) s missing from the data \(it has id\)"):
            warehouse.copy_from_arrow(cur, "two", data.select(["id"]), ["id", "s"])
    conn.rollback()
    with conn.cursor() as cur:
        cur.execute("CREATE TEMP TABLE two (id int, s text)")
        with pytest.raises(WarehouseError, match=r"table two has no column\(s\) nope"):
            warehouse.copy_from_arrow(cur, "two", data, ["id", "nope"])


def test_a_value_the_server_refuses_stops_the_copy_and_its_producer_thread(conn):
    data = pa.table({"id": pa.array(range(10), pa.int64())})
    with conn.cursor() as cur:
        cur.execute("CREATE TEMP TABLE small (id smallint CHECK (id < 5))")
        with pytest.raises(psycopg2.Error, match="small"):
            warehouse.copy_from_arrow(cur, "small", data, ["id"])
    conn.rollback()
    assert not [t for t in threading.enumerate() if t.name.startswith("copy-")]


def write_spark_like_output(folder: Path) -> None:
    """Parquet laid out like Spark writes it: hive partitions, part files, _SUCCESS and .crc files."""
    for day, users in ((date(2026, 10, 30), ["a", "b"]), (date(2026, 10, 31), ["c"])):
        part = folder / f"snapshot_date={day.isoformat()}"
        part.mkdir(parents=True)
        for i, user in enumerate(users):
            pq.write_table(pa.table({"user_id": [user], "segment_id": pa.array([i + 1], pa.int32()),
                                     "top_categories": [["shoes", "bags"] if i == 0 else []],
                                     "affinity": pa.array([[("shoes", 0.75)]], pa.map_(pa.string(), pa.float64()))}),
                           part / f"part-0000{i}-1f2e.c000.snappy.parquet")
            (part / f".part-0000{i}-1f2e.c000.snappy.parquet.crc").write_bytes(b"crc")
    (folder / "_SUCCESS").write_text("")


def test_copy_from_a_spark_output_folder(conn, tmp_path):
    write_spark_like_output(tmp_path / "segments")
    with conn.cursor() as cur:
        cur.execute("CREATE TEMP TABLE seg (snapshot_date date, user_id text, segment_id int, "
                    "top_categories text[], affinity jsonb)")

        loaded = warehouse.copy_from_parquet(cur, "seg", f"file://{tmp_path / 'segments'}",
                                             ["snapshot_date", "user_id", "segment_id", "top_categories", "affinity"])

        cur.execute("SELECT * FROM seg ORDER BY user_id")
        got = cur.fetchall()
    assert loaded == 3
    assert got == [(date(2026, 10, 30), "a", 1, ["shoes", "bags"], {"shoes": 0.75}),
                   (date(2026, 10, 30), "b", 2, [], {"shoes": 0.75}),
                   (date(2026, 10, 31), "c", 1, ["shoes", "bags"], {"shoes": 0.75})]
    with conn.cursor() as cur, pytest.raises(WarehouseError, match=r"no Parquet files under|cannot read Parquet"):
        warehouse.copy_from_parquet(cur, "seg", tmp_path / "nothing_here", ["user_id"])


# ---------------------------------------------------------------- atomic publish


def history(snapshot: date, segments: dict[str, int], run_id: str = "r1") -> pa.Table:
    """segment_history rows of one snapshot."""
    return pa.table({"snapshot_date": [snapshot] * len(segments), "user_id": list(segments),
                     "segment_id": pa.array(list(segments.values()), pa.int32()), "run_id": [run_id] * len(segments)})


def history_load(table: pa.Table, snapshot: date) -> TableLoad:
    """A segment_history load replacing one snapshot."""
    return TableLoad("segment_history", table, table.column_names, "snapshot_date = %(d)s", {"d": snapshot})


def current_segments(users: dict[str, tuple[int, str]], snapshot: date) -> TableLoad:
    """A user_segments load replacing the whole table."""
    table = pa.table({"user_id": list(users), "segment_id": pa.array([v[0] for v in users.values()], pa.int32()),
                      "segment_name": [v[1] for v in users.values()], "snapshot_date": [snapshot] * len(users),
                      "run_id": ["r1"] * len(users)})
    return TableLoad("user_segments", table, table.column_names)


def test_publish_replaces_only_its_snapshot_and_reruns_do_not_duplicate(conn):
    day1, day2 = date(2026, 10, 30), date(2026, 10, 31)
    segment_history = "SELECT snapshot_date, user_id, segment_id, run_id FROM journey.segment_history " \
                      "WHERE snapshot_date IN (%s, %s) ORDER BY 1, 2"

    assert warehouse.publish(conn, [history_load(history(day1, {"a": 1, "b": 2}), day1),
                                    current_segments({"a": (1, "Loyal"), "b": (2, "New")}, day1)]) == {
        "segment_history": 2, "user_segments": 2}
    warehouse.publish(conn, [history_load(history(day2, {"a": 2, "b": 2, "c": 3}), day2),
                             current_segments({"a": (2, "New"), "c": (3, "At risk")}, day2)])
    warehouse.publish(conn, [history_load(history(day2, {"a": 3, "c": 3}, "r2"), day2),  # rerun of day 2
                             current_segments({"a": (3, "At risk"), "c": (3, "At risk")}, day2)])

    assert rows(conn, segment_history, (day1, day2)) == [
        (day1, "a", 1, "r1"), (day1, "b", 2, "r1"), (day2, "a", 3, "r2"), (day2, "c", 3, "r2")]
    assert rows(conn, "SELECT user_id, segment_id, segment_name FROM journey.user_segments ORDER BY 1") == [
        ("a", 3, "At risk"), ("c", 3, "At risk")]


def test_publish_from_parquet_path(conn, tmp_path):
    day = date(2026, 8, 1)
    pq.write_table(history(day, {"p": 4, "q": 5}), tmp_path / "part-00000.parquet")
    load = TableLoad("segment_history", str(tmp_path), ["snapshot_date", "user_id", "segment_id", "run_id"],
                     "snapshot_date = %(d)s", {"d": day})

    assert warehouse.publish(conn, [load]) == {"segment_history": 2}
    assert rows(conn, "SELECT user_id, segment_id FROM journey.segment_history WHERE snapshot_date = %s ORDER BY 1",
                (day,)) == [("p", 4), ("q", 5)]


def test_failing_load_in_a_set_changes_nothing(conn):
    day = date(2026, 9, 1)
    warehouse.publish(conn, [history_load(history(day, {"a": 1}), day),
                             current_segments({"a": (1, "Loyal")}, day)])
    before_history = rows(conn, "SELECT * FROM journey.segment_history ORDER BY 1, 2")
    before_current = rows(conn, "SELECT * FROM journey.user_segments ORDER BY 1")
    bad_summary = pa.table({"snapshot_date": [day], "segment_id": [1], "segment_name": [None]})  # NOT NULL column

    with pytest.raises(psycopg2.errors.NotNullViolation):
        warehouse.publish(conn, [
            history_load(history(day, {"x": 9, "y": 9}), day),
            TableLoad("segment_summary", bad_summary, bad_summary.column_names, "snapshot_date = %(d)s", {"d": day}),
            current_segments({"x": (9, "Gone")}, day),
        ])

    assert rows(conn, "SELECT * FROM journey.segment_history ORDER BY 1, 2") == before_history
    assert rows(conn, "SELECT * FROM journey.user_segments ORDER BY 1") == before_current
    assert ("a", 1) in [(r[1], r[2]) for r in before_history if r[0] == day]


def test_rows_outside_the_replace_condition_are_refused(conn):
    day, other = date(2026, 7, 1), date(2026, 7, 2)
    mixed = pa.concat_tables([history(day, {"a": 1}), history(other, {"b": 1})])

    with pytest.raises(WarehouseError, match=r"1 row\(s\) for journey.segment_history do not match its replace"):
        warehouse.publish(conn, [history_load(mixed, day)])

    assert rows(conn, "SELECT count(*) FROM journey.segment_history WHERE snapshot_date IN (%s, %s)",
                (day, other)) == [(0,)]


# ---------------------------------------------------------------- read-only BI role


def test_bi_role_reads_everything_and_changes_nothing(pg_settings, conn):
    day = date(2026, 6, 1)
    warehouse.publish(conn, [history_load(history(day, {"bi": 7}), day)])
    with conn.cursor() as cur:  # created after the grants: default privileges must cover it
        cur.execute("CREATE TABLE journey.later_table (x int); INSERT INTO journey.later_table VALUES (42); "
                    "CREATE VIEW journey.later_view AS SELECT x + 1 AS y FROM journey.later_table")
    conn.commit()
    url = warehouse.bi_url(pg_settings)
    kept = pg_settings.bi_password_file.read_text().strip()  # generated on first start
    assert url.startswith(f"postgresql://journey_bi:{kept}@/postgres?host=")
    try:
        bi = psycopg2.connect(url)
        bi.autocommit = True
        with bi.cursor() as cur:
            cur.execute("SELECT user_id, segment_id FROM journey.segment_history WHERE snapshot_date = %s", (day,))
            assert cur.fetchall() == [("bi", 7)]
            cur.execute("SELECT x, y FROM journey.later_table, journey.later_view")
            assert cur.fetchall() == [(42, 43)]
            for statement in ("INSERT INTO journey.segment_history VALUES ('2026-01-01', 'u', 1, 'r')",
                              "UPDATE journey.segment_history SET segment_id = 0",
                              "DELETE FROM journey.segment_history",
                              "TRUNCATE journey.later_table",
                              "CREATE TABLE journey.sneaky (x int)",
                              "CREATE VIEW journey.sneaky AS SELECT 1"):
                with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                    cur.execute(statement)
        bi.close()
        with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
            psycopg2.connect(warehouse.role_url(url, "journey_bi", "wrong"))
    finally:
        with conn.cursor() as cur:
            cur.execute("DROP VIEW journey.later_view; DROP TABLE journey.later_table")
        conn.commit()


def test_bi_role_creation_is_idempotent(conn):
    warehouse.ensure_bi_role(conn)
    warehouse.ensure_bi_role(conn)
    assert rows(conn, "SELECT rolcanlogin, rolsuper, rolcreaterole, rolcreatedb FROM pg_roles "
                      "WHERE rolname = 'journey_bi'") == [(True, False, False, False)]
    assert rows(conn, "SELECT has_schema_privilege('journey_bi', 'journey', 'CREATE'), "
                      "has_table_privilege('journey_bi', 'journey.user_profiles', 'SELECT'), "
                      "has_table_privilege('journey_bi', 'journey.user_profiles', 'INSERT')") == [(False, True, False)]
