"""A process killed (SIGKILL) in the middle of a publish or a lake write loses nothing.

Each victim is a real child process running our code: `warehouse.publish` against the embedded
PostgreSQL, `lake.write_parquet_atomic` in a local Spark session. The test kills it at a moment
it observes from outside (a backend waiting in pg_stat_activity; the temporary sibling folder of
the lake write appearing), then checks what a reader sees and that a rerun gives a clean run's
result. Expected rows are written out here, not computed by the code under test.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from journey import warehouse
from journey.config import get_settings

DAY_1, DAY_2 = date(2026, 10, 1), date(2026, 10, 2)
USERS = 50_000  # rows of the first snapshot: COPY and DELETE of a real size

PUBLISHER = textwrap.dedent("""
    import sys
    from datetime import date
    import pyarrow as pa
    from journey import warehouse
    from journey.config import get_settings

    home, run_id, segment, users = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])

    def load(day, n):
        table = pa.table({"snapshot_date": [day] * n, "user_id": [f"u{i}" for i in range(n)],
                          "segment_id": pa.array([segment] * n, pa.int32()), "run_id": [run_id] * n})
        return warehouse.TableLoad("segment_history", table, table.column_names, "snapshot_date = %(d)s", {"d": day})

    with warehouse.connect(get_settings({"JOURNEY_HOME": home})) as conn:
        warehouse.publish(conn, [load(date(2026, 10, 1), users), load(date(2026, 10, 2), 10)])
    print("published", flush=True)
""")

WRITER = textwrap.dedent("""
    import sys, time
    from pyspark.sql import functions as F
    from journey import lake
    from journey.config import get_settings
    from journey.runtime.spark import get_spark

    home, target, slow = sys.argv[1], sys.argv[2], sys.argv[3] == "slow"
    spark = get_spark("crash-test", get_settings({"JOURNEY_HOME": home, "JOURNEY_SPARK_MASTER": "local[1]",
                                                 "JOURNEY_SPARK_DRIVER_MEMORY": "1g",
                                                 "JOURNEY_SHUFFLE_PARTITIONS": "2"}))
    if slow:  # the previous snapshot first, then a second write that takes its time
        lake.write_parquet_atomic(spark.range(0, 1000, numPartitions=2).withColumn("v", F.lit(1)), target)
        print("first snapshot written", flush=True)
        nap = F.udf(lambda i: time.sleep(0.05) or 2, "int")
        lake.write_parquet_atomic(spark.range(0, 2000, numPartitions=8).withColumn("v", nap("id")), target)
    else:
        lake.write_parquet_atomic(spark.range(0, 2000, numPartitions=8).withColumn("v", F.lit(2)), target)
    print("written", flush=True)
""")


def child(script: str, *args: str, log: Path) -> subprocess.Popen:
    """Start `script` in a new Python process (this interpreter), output to `log`."""
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, "-c", script, *args], stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def wait_for(condition, timeout: float, what: str):
    """Poll `condition` until it returns something truthy; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def kill(proc: subprocess.Popen) -> None:
    """SIGKILL the child's whole process group (its JVM too) and reap it."""
    os.killpg(proc.pid, signal.SIGKILL)
    assert proc.wait(30) == -signal.SIGKILL


@pytest.mark.postgres
def test_publish_killed_mid_transaction_leaves_the_previous_state_and_a_rerun_publishes_it_all(tmp_path):
    home, log = tmp_path / "home", tmp_path / "publisher.log"
    settings = get_settings({"JOURNEY_HOME": str(home)})
    try:
        old = child(PUBLISHER, str(home), "old", "1", str(USERS), log=log)
        assert old.wait(120) == 0, log.read_text()
        blocker = warehouse.connect(settings)  # holds one row of DAY_2: the victim's second DELETE waits on it
        warehouse.fetch_all(blocker, "SELECT 1 FROM journey.segment_history WHERE snapshot_date = %s "
                                     "AND user_id = 'u0' FOR UPDATE", (DAY_2,))
        watcher = warehouse.connect(settings)
        watcher.autocommit = True  # a fresh view of pg_stat_activity at every poll
        victim = child(PUBLISHER, str(home), "new", "2", str(USERS), log=log)
        backend = wait_for(lambda: warehouse.fetch_all(watcher, """
            SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND wait_event_type = 'Lock'
              AND query LIKE %s""", (f"DELETE FROM \"journey\".\"segment_history\" WHERE snapshot_date = '{DAY_2}'%",)),
            120, "the victim's transaction to reach its second DELETE (DAY_1 already replaced, uncommitted)")
        kill(victim)
        blocker.rollback()
        wait_for(lambda: not warehouse.fetch_all(watcher, "SELECT 1 FROM pg_stat_activity WHERE pid = %s",
                                                 backend[0]), 60, "the server to end the dead client's session")
        assert snapshot_rows(blocker) == {(DAY_1, "old", 1): USERS, (DAY_2, "old", 1): 10}  # previous, complete
        rerun = child(PUBLISHER, str(home), "new", "2", str(USERS), log=log)
        assert rerun.wait(120) == 0, log.read_text()
        assert snapshot_rows(blocker) == {(DAY_1, "new", 2): USERS, (DAY_2, "new", 2): 10}  # a clean run's state
        blocker.close()
        watcher.close()
    finally:
        warehouse.stop_server(settings)


def snapshot_rows(conn) -> dict[tuple, int]:
    """Rows of segment_history per (snapshot, run, segment)."""
    conn.rollback()
    rows = warehouse.fetch_all(conn, "SELECT snapshot_date, run_id, segment_id, count(*) FROM journey.segment_history "
                                     "GROUP BY 1, 2, 3")
    return {(day, run, segment): n for day, run, segment, n in rows}


@pytest.mark.spark
def test_lake_write_killed_midway_leaves_the_previous_snapshot_and_a_rerun_writes_a_clean_one(tmp_path):
    home, log = tmp_path / "home", tmp_path / "writer.log"
    lake_dir = home / "lake" / "features"
    target = lake_dir / "scores"
    victim = child(WRITER, str(home), str(target), "slow", log=log)
    try:
        wait_for(lambda: "first snapshot written" in log.read_text(), 240, "the first snapshot")
        temporary = wait_for(lambda: [p for p in lake_dir.glob("_tmp-*-scores") if (p / "_temporary").exists()],
                             120, "the second write to start")
        time.sleep(1.0)  # tasks of the second write are running
    finally:
        kill(victim)
    previous = pq.read_table(target).sort_by("id")
    assert previous.column("id").to_pylist() == list(range(1000))
    assert set(previous.column("v").to_pylist()) == {1}
    assert temporary[0].exists() and not (target / "_temporary").exists()  # the partial write sits aside
    rerun = child(WRITER, str(home), str(target), "fast", log=log)
    assert rerun.wait(240) == 0, log.read_text()
    clean = pq.read_table(target).sort_by("id")
    assert clean.to_pydict() == {"id": list(range(2000)), "v": [2] * 2000}
    assert clean.schema.field("v").type == pa.int32()
