"""Environment for running this project's DAGs locally (`journey demo`, the e2e tests)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from journey.config import ENV_DB_URL, ENV_HOME, ENV_LAKE, ENV_RETRY_DELAY, ENV_TASK_RETRIES, Settings
from journey.errors import JourneyError

PROJECT_ROOT = Path(__file__).resolve().parents[3]  # plugins/journey/orchestration -> the checkout
DAGS_FOLDER = PROJECT_ROOT / "dags"


def airflow_environment(settings: Settings, db_url: str, base: dict[str, str] | None = None) -> dict[str, str]:
    """os.environ plus Airflow home, DAG folder, spark_default connection and Journey settings."""
    env = dict(os.environ if base is None else base)
    venv_bin = str(Path(sys.executable).parent)
    env.update({
        "AIRFLOW_HOME": str(settings.airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": env.get("AIRFLOW__LOGGING__LOGGING_LEVEL", "INFO"),
        "AIRFLOW_CONN_SPARK_DEFAULT": json.dumps({"conn_type": "spark", "host": settings.spark_master}),
        ENV_HOME: str(settings.home),
        ENV_LAKE: settings.lake,
        ENV_DB_URL: db_url,
        "PYSPARK_PYTHON": sys.executable,
        # local runs: one quick retry instead of production's 2 x 5 minutes
        ENV_TASK_RETRIES: env.get(ENV_TASK_RETRIES, "1"),
        ENV_RETRY_DELAY: env.get(ENV_RETRY_DELAY, "5"),
        "PATH": f"{venv_bin}{os.pathsep}{env.get('PATH', '')}",
    })
    return env


def airflow(args: list[str], env: dict[str, str], log_file: Path | None = None, echo=None) -> int:
    """Run the `airflow` CLI of this interpreter; stream lines to `echo` and a log file."""
    command = [str(Path(sys.executable).parent / "airflow"), *args]
    log = open(log_file, "a", encoding="utf-8") if log_file else None
    try:
        proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for line in proc.stdout:
            if log:
                log.write(line)
            if echo:
                echo(line.rstrip("\n"))
        return proc.wait()
    finally:
        if log:
            log.close()


def migrate_metadata_db(env: dict[str, str], log_file: Path | None = None) -> None:
    """Create or upgrade Airflow's own metadata database (SQLite under AIRFLOW_HOME)."""
    Path(env["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
    if airflow(["db", "migrate"], env, log_file) != 0:
        raise JourneyError(f"airflow db migrate failed; see {log_file}")


def test_dag(dag_id: str, logical_date: str, conf: dict, env: dict[str, str], log_file: Path, echo=None) -> int:
    """Run one DAG for real with `airflow dags test`, then record it for the UI (run_record.py); the exit code."""
    began = log_file.stat().st_size if log_file.exists() else 0
    code = airflow(["dags", "test", dag_id, logical_date, "--conf", json.dumps(conf)], env, log_file, echo)
    record_run_for_ui(env, log_file, began)
    return code


def record_run_for_ui(env: dict[str, str], log_file: Path, began: int) -> None:
    """Real start date and task log files of the run logged from byte `began` on; a failure only warns."""
    command = [sys.executable, "-m", "journey.orchestration.run_record", str(log_file), str(began)]
    with open(log_file, "a", encoding="utf-8") as log:
        done = subprocess.run(command, env=env, stdout=log, stderr=subprocess.STDOUT, check=False)
    if done.returncode != 0:
        print(f"warning: the run's start date and task logs were not recorded for the Airflow UI; see {log_file}",
              flush=True)
