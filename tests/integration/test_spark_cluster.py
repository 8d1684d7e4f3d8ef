"""Cluster mode: the profiles and segments jobs on a real standalone Spark cluster give the local results.

A master and one worker (1 core, 1g) are started from PySpark's own launch classes on 127.0.0.1.
Both jobs run through the DAG's operator (`dag_steps.spark_job` → spark-submit on `spark_default`),
once with `local[2]` and once with `spark://127.0.0.1:<port>`, on the same curated events, each
with its own lake. On the cluster the operator ships the journey package zip with --py-files.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from journey import lake, warehouse
from journey.config import ENV_DB_URL, ENV_DRIVER_MEMORY, ENV_HOME, ENV_SHUFFLE_PARTITIONS, Settings, get_settings
from journey.datagen import generate
from journey.ingest.events import run_ingest
from journey.ingest.users import ingest_users
from journey.orchestration.dag_steps import spark_job
from journey.runtime.javacheck import ensure_java_home

pytestmark = [pytest.mark.spark, pytest.mark.postgres]

END = date(2026, 10, 31)
JOBS = Path(__file__).resolve().parents[2] / "jobs"
LOCAL_MASTER = "local[2]"  # 2 = the default parallelism of a 1-core standalone app, so input splits agree
START_TIMEOUT_S = 90
SEGMENT_ARGS = ["--k-min", "3", "--k-max", "4"]


@dataclass(frozen=True)
class Cluster:
    """A running standalone master and worker."""

    url: str
    ui: str
    work_dir: Path


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def spark_class(*args: str, log: Path) -> subprocess.Popen:
    """Start one of Spark's deploy classes with PySpark's own `spark-class` launcher."""
    import pyspark

    launcher = Path(pyspark.__file__).parent / "bin" / "spark-class"
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", "SPARK_NO_DAEMONIZE": "1"}
    with open(log, "w", encoding="utf-8") as out:
        return subprocess.Popen([str(launcher), *args], env=env, stdout=out, stderr=subprocess.STDOUT)


def master_state(ui: str) -> dict:
    """The master's JSON status page."""
    with urllib.request.urlopen(f"{ui}/json/", timeout=5) as response:
        return json.load(response)


def wait_for_worker(ui: str, processes: list[subprocess.Popen], logs: list[Path]) -> None:
    """Block until one worker is alive on the master, or fail with the launch logs."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in processes):
            break
        try:
            if master_state(ui).get("aliveworkers", 0) >= 1:
                return
        except OSError:
            pass
        time.sleep(1)
    tails = "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')[-2000:]}" for log in logs)
    pytest.fail(f"standalone Spark worker did not register within {START_TIMEOUT_S} s\n{tails}")


def stop(process: subprocess.Popen) -> None:
    """Terminate a launched JVM, killing it if it lingers."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Cluster:
    """Standalone master + 1 worker (1 core, 1g) on 127.0.0.1, stopped at the end of the module."""
    ensure_java_home()
    root = tmp_path_factory.mktemp("standalone")
    port, master_ui, worker_ui = free_port(), free_port(), free_port()
    url, ui = f"spark://127.0.0.1:{port}", f"http://127.0.0.1:{master_ui}"
    logs = [root / "master.log", root / "worker.log"]
    processes = [spark_class("org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", str(port),
                             "--webui-port", str(master_ui), log=logs[0])]
    try:
        processes.append(spark_class("org.apache.spark.deploy.worker.Worker", url, "--host", "127.0.0.1",
                                     "--cores", "1", "--memory", "1g", "--webui-port", str(worker_ui),
                                     "--work-dir", str(root / "work"), log=logs[1]))
        wait_for_worker(ui, processes, logs)
        yield Cluster(url, ui, root / "work")
    finally:
        for process in reversed(processes):
            stop(process)


@pytest.fixture(scope="module")
def database(tmp_path_factory) -> str:
    """URL of an embedded PostgreSQL that both runs' quality gates record into."""
    settings = get_settings({ENV_HOME: str(tmp_path_factory.mktemp("cluster-db"))})
    url = warehouse.start_server(settings)
    yield url
    warehouse.stop_server(settings)


@pytest.fixture(scope="module")
def curated(spark, tmp_path_factory) -> Path:
    """A lake holding the curated events and users of 400 generated users x 14 days."""
    data = tmp_path_factory.mktemp("cluster-data")
    generate(data, users=400, days=14, seed=13, end_date=END)
    settings = get_settings({ENV_HOME: str(tmp_path_factory.mktemp("cluster-ingest"))})
    run_ingest(spark, settings, str(data / "events"), "canonical", "cluster-ingest")
    ingest_users(spark, settings, str(data / "users.csv"), "cluster-ingest")
    return Path(settings.lake)


def run_daily_jobs(home: Path, master: str, db_url: str, curated_lake: Path, run_id: str) -> Settings:
    """Profiles then segments for END through the DAG's operator on `master`; returns the run's settings."""
    settings = get_settings({ENV_HOME: str(home)})
    shutil.copytree(curated_lake / "curated", Path(settings.lake) / "curated")
    snapshot = ["--snapshot-date", END.isoformat(), "--run-id", run_id]
    steps = [("build_profiles", "build_profiles.py", snapshot),
             ("segment_users", "segment_users.py", [*snapshot, *SEGMENT_ARGS])]
    with pytest.MonkeyPatch.context() as env:
        for name, value in {ENV_HOME: str(home), ENV_DB_URL: db_url, ENV_SHUFFLE_PARTITIONS: "2",
                            ENV_DRIVER_MEMORY: "1g", "SPARK_LOCAL_IP": "127.0.0.1",
                            "AIRFLOW_CONN_SPARK_DEFAULT": json.dumps({"conn_type": "spark", "host": master}),
                            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}.items():
            env.setenv(name, value)
        for task_id, script, args in steps:
            spark_job(task_id, JOBS / script, args).execute(context={})
    return settings


@pytest.fixture(scope="module")
def runs(cluster, database, curated, tmp_path_factory) -> dict[str, Settings]:
    """The same jobs run in local mode and on the cluster."""
    return {
        "local": run_daily_jobs(tmp_path_factory.mktemp("local-home"), LOCAL_MASTER, database, curated, "local-run"),
        "cluster": run_daily_jobs(tmp_path_factory.mktemp("cluster-home"), cluster.url, database, curated,
                                  "cluster-run"),
    }


def snapshot_frame(settings: Settings, dataset: str) -> pd.DataFrame:
    """One snapshot of a lake dataset as pandas, in a fixed row order, maps as sorted item lists."""
    frame = pd.read_parquet(lake.snapshot_path(settings, dataset, END))
    for column in frame.columns:
        if frame[column].map(lambda v: isinstance(v, list)).any():
            frame[column] = frame[column].map(lambda v: sorted(v) if isinstance(v, list) else v)
    key = "user_id" if "user_id" in frame.columns else "segment_id"
    return frame.sort_values(key).reset_index(drop=True)


def test_both_runs_ran_where_configured(runs, cluster):
    apps = master_state(cluster.ui)["completedapps"]
    assert sorted(app["name"] for app in apps) == ["journey-build-profiles", "journey-segment-users"]  # get_spark's
    assert all(app["state"] == "FINISHED" for app in apps)


def test_the_package_is_shipped_to_the_executors_only_on_the_cluster(runs, cluster):
    shipped = sorted(p.name for p in cluster.work_dir.glob("app-*/*/journey-*.zip"))
    built = {p.name for p in (runs["cluster"].home / "dist").glob("journey-*.zip")}
    assert len(shipped) == 2 and set(shipped) <= built  # one executor per application, each got the zip
    assert not (runs["local"].home / "dist").exists()  # local mode: the command is unchanged


def test_profiles_are_the_same_on_the_cluster(runs):
    local, remote = (snapshot_frame(runs[mode], lake.PROFILES) for mode in ("local", "cluster"))
    assert len(local) >= 300
    assert local["frequency"].gt(0).any()
    pd.testing.assert_frame_equal(local, remote, check_exact=False, rtol=1e-9)


def test_segments_are_the_same_on_the_cluster(runs):
    local, remote = (snapshot_frame(runs[mode], lake.SEGMENTS) for mode in ("local", "cluster"))
    assert local["segment_id"].nunique() >= 3
    pd.testing.assert_frame_equal(local, remote)


def test_segment_summary_is_the_same_on_the_cluster(runs):
    local, remote = (snapshot_frame(runs[mode], lake.SEGMENT_SUMMARY) for mode in ("local", "cluster"))
    assert 3 <= local["k"].iloc[0] <= 4
    pd.testing.assert_frame_equal(local.drop(columns="centroid"), remote.drop(columns="centroid"),
                                  check_exact=False, rtol=1e-9)
    for mine, theirs in zip(local["centroid"], remote["centroid"], strict=True):
        assert json.loads(mine) == pytest.approx(json.loads(theirs), rel=1e-9)


def test_both_runs_passed_and_recorded_their_quality_gates(runs, database):
    conn = warehouse.open_connection(database)
    try:
        rows = warehouse.fetch_all(conn, "SELECT run_id, dataset, count(*), bool_and(success OR severity <> 'error') "
                                         "FROM journey.dq_results WHERE run_id IN ('local-run', 'cluster-run') "
                                         "GROUP BY run_id, dataset")
    finally:
        conn.close()
    by_run = {(run, dataset): (count, passed) for run, dataset, count, passed in rows}
    assert set(by_run) == {(r, d) for r in ("cluster-run", "local-run") for d in ("profiles", "segments")}
    for dataset in ("profiles", "segments"):
        assert by_run[("local-run", dataset)] == by_run[("cluster-run", dataset)]
        assert by_run[("local-run", dataset)][1] is True
