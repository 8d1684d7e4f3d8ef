"""Building blocks shared by the DAG files: Spark steps on `spark_default` and the default task arguments.

Imported at DAG parse time, so it reads only the environment (no database, no Spark).
"""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from pathlib import Path

from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

from journey.config import Settings, get_settings

SETTINGS = get_settings()  # environment only: no I/O at parse time


def default_args(settings: Settings = SETTINGS) -> dict:
    """Owner, retries and retry delay every Journey task gets."""
    return {
        "owner": "data-engineering",
        "retries": settings.task_retries,
        "retry_delay": timedelta(seconds=settings.retry_delay_seconds),
    }


def spark_job(task_id: str, script: Path, args: list[str], name: str | None = None) -> SparkSubmitOperator:
    """A Spark step: one script (from the project's jobs/ folder), submitted on the spark_default connection."""
    return SparkSubmitOperator(
        task_id=task_id,
        application=str(script),
        conn_id="spark_default",
        name=name or f"journey-{task_id}",
        application_args=args,
        env_vars={"PYSPARK_PYTHON": os.environ.get("PYSPARK_PYTHON", sys.executable)},
        driver_memory=SETTINGS.driver_memory,
        conf={"spark.sql.session.timeZone": "UTC", "spark.ui.enabled": "false"},
    )
