"""Building blocks shared by the DAG files: Spark steps on `spark_default` and the default task arguments.

Imported at DAG parse time, so it reads only the environment (no database, no Spark).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pendulum

from journey.config import Settings, get_settings
from journey.errors import InputError
from journey.orchestration.submit import JourneySparkSubmitOperator
from journey.runtime.spark import driver_log_conf
from journey.schemas import TIME_FLOOR

SETTINGS = get_settings()  # environment only: no I/O at parse time
# Every DAG's start_date: a run's logical date (the snapshot date) may go back to the oldest history the
# ingest accepts (schemas.TIME_FLOOR), so a backfill of a 1997 feed runs; catchup is off everywhere.
START_DATE = pendulum.datetime(TIME_FLOOR.year, TIME_FLOOR.month, TIME_FLOOR.day, tz="UTC")


DEFAULT_OWNER = "data-engineering"


def default_args(settings: Settings = SETTINGS, owner: str = DEFAULT_OWNER) -> dict:
    """Owner, retries and retry delay every Journey task gets."""
    return {
        "owner": owner,
        "retries": settings.task_retries,
        "retry_delay": timedelta(seconds=settings.retry_delay_seconds),
    }


@contextmanager
def fail_on_input_error() -> Iterator[None]:
    """Turn our InputError into AirflowFailException: the task fails at once (no retry: a wrong input stays
    wrong) and the message is the error's last log line, not buried above a traceback of our code."""
    from airflow.sdk.exceptions import AirflowFailException

    try:
        yield
    except InputError as error:
        print(f"INPUT ERROR (no retry): {error}")
        raise AirflowFailException(str(error)) from None


def spark_job(task_id: str, script: Path, args: list[str], name: str | None = None) -> JourneySparkSubmitOperator:
    """A Spark step: one script (from jobs/) on spark_default; on a cluster the package ships with it."""
    return JourneySparkSubmitOperator(
        task_id=task_id,
        application=str(script),
        conn_id="spark_default",
        name=name or f"journey-{task_id}",
        application_args=args,
        env_vars={"PYSPARK_PYTHON": os.environ.get("PYSPARK_PYTHON", sys.executable)},
        driver_memory=SETTINGS.driver_memory,
        conf={"spark.sql.session.timeZone": "UTC", "spark.ui.enabled": "false", **driver_log_conf()},
    )
