"""Shared set-up of the end-to-end tests: a Journey home with the embedded PostgreSQL and Airflow ready."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from journey import airflow_env, warehouse
from journey.config import Settings, get_settings


@dataclass(frozen=True)
class Stack:
    """What an e2e module works with: settings, the Airflow environment and the log of every run."""

    settings: Settings
    env: dict[str, str]
    log: Path


@contextmanager
def journey_stack(home: Path, **env_overrides: str) -> Iterator[Stack]:
    """Start the embedded PostgreSQL under `home`, migrate Airflow's metadata DB, stop the server afterwards.

    Spark steps get 4 shuffle partitions and a 1g driver unless `env_overrides` says otherwise.
    """
    settings = get_settings({"JOURNEY_HOME": str(home)})
    url = warehouse.start_server(settings)
    try:
        env = airflow_env.airflow_environment(settings, url)
        env.update({"JOURNEY_SHUFFLE_PARTITIONS": "4", "JOURNEY_SPARK_DRIVER_MEMORY": "1g", **env_overrides})
        log = home / "e2e.log"
        airflow_env.migrate_metadata_db(env, log)
        yield Stack(settings, env, log)
    finally:
        warehouse.stop_server(settings)
