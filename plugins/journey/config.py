"""Settings from the environment, in one place, each with its default next to its name."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

ENV_HOME = "JOURNEY_HOME"  # default ./.journey
ENV_DB_URL = "JOURNEY_DB_URL"  # unset -> embedded PostgreSQL under $JOURNEY_HOME/pg
ENV_SPARK_MASTER = "JOURNEY_SPARK_MASTER"  # default local[*]
ENV_LAKE = "JOURNEY_LAKE"  # default $JOURNEY_HOME/lake; any Hadoop URI on a cluster
ENV_SHUFFLE_PARTITIONS = "JOURNEY_SHUFFLE_PARTITIONS"  # default 8 (local mode)
ENV_DRIVER_MEMORY = "JOURNEY_SPARK_DRIVER_MEMORY"  # default 4g
ENV_TASK_RETRIES = "JOURNEY_TASK_RETRIES"  # default 2 (Airflow task retries)
ENV_RETRY_DELAY = "JOURNEY_RETRY_DELAY_SECONDS"  # default 300
ENV_AIRFLOW_PORT = "JOURNEY_AIRFLOW_PORT"  # default 8080 (`journey airflow`: api-server port)
ENV_AIRFLOW_PASSWORD = "JOURNEY_AIRFLOW_PASSWORD"  # default: generated once, kept in $AIRFLOW_HOME

DEFAULT_HOME = ".journey"
DEFAULT_SPARK_MASTER = "local[*]"
DEFAULT_SHUFFLE_PARTITIONS = 8
DEFAULT_DRIVER_MEMORY = "4g"
DEFAULT_TASK_RETRIES = 2
DEFAULT_RETRY_DELAY_SECONDS = 300
DEFAULT_AIRFLOW_PORT = 8080
DB_SCHEMA = "journey"
BI_ROLE = "journey_bi"


@dataclass(frozen=True)
class Settings:
    """Resolved settings for one process."""

    home: Path
    db_url: str | None
    spark_master: str
    lake: str
    shuffle_partitions: int
    driver_memory: str
    task_retries: int
    retry_delay_seconds: int
    airflow_port: int
    airflow_password: str | None = field(repr=False)

    @property
    def pg_dir(self) -> Path:
        """Data directory of the embedded PostgreSQL server."""
        return self.home / "pg"

    @property
    def reports_dir(self) -> Path:
        """Where human-readable run reports go."""
        return self.home / "reports"

    @property
    def airflow_home(self) -> Path:
        """AIRFLOW_HOME used by the local runs (`make demo`, tests)."""
        return self.home / "airflow"

    @property
    def inbox(self) -> Path:
        """Default folder the daily DAG ingests events from."""
        return self.home / "inbox"


def get_settings(environ: dict[str, str] | None = None) -> Settings:
    """Read settings from the environment (or a given mapping); paths become absolute."""
    env = os.environ if environ is None else environ
    home = Path(env.get(ENV_HOME) or DEFAULT_HOME).expanduser().resolve()
    lake = env.get(ENV_LAKE) or str(home / "lake")
    return Settings(
        home=home,
        db_url=env.get(ENV_DB_URL) or None,
        spark_master=env.get(ENV_SPARK_MASTER) or DEFAULT_SPARK_MASTER,
        lake=lake.rstrip("/"),
        shuffle_partitions=int(env.get(ENV_SHUFFLE_PARTITIONS) or DEFAULT_SHUFFLE_PARTITIONS),
        driver_memory=env.get(ENV_DRIVER_MEMORY) or DEFAULT_DRIVER_MEMORY,
        task_retries=int(env.get(ENV_TASK_RETRIES) or DEFAULT_TASK_RETRIES),
        retry_delay_seconds=int(env.get(ENV_RETRY_DELAY) or DEFAULT_RETRY_DELAY_SECONDS),
        airflow_port=int(env.get(ENV_AIRFLOW_PORT) or DEFAULT_AIRFLOW_PORT),
        airflow_password=env.get(ENV_AIRFLOW_PASSWORD) or None,
    )
