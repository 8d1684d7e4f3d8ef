"""Shared set-up of the end-to-end tests: a Journey home with the embedded PostgreSQL and Airflow ready."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from journey import warehouse
from journey.config import Settings, get_settings
from journey.orchestration import airflow_env
from journey.orchestration.airflow_api import AirflowApi
from journey.orchestration.airflow_server import AirflowServer, free_port, serve

SERVED = ("api-server", "scheduler", "dag-processor")  # the triggerer is idle: no deferrable tasks


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


@contextmanager
def airflow_served(ready: Stack, components: Sequence[str] = SERVED) -> Iterator[tuple[AirflowServer, AirflowApi]]:
    """The real api-server + scheduler + dag-processor on a free loopback port, and a logged-in REST client."""
    with serve(ready.env, free_port(), ready.settings.home / "airflow-logs", components) as server:
        yield server, AirflowApi.login(server.url, server.username, server.password)


def wait_for_run(server: AirflowServer, api: AirflowApi, dag_id: str, run_id: str, timeout: float) -> dict:
    """Poll a run until it finishes; on timeout fail with the scheduler's log tail."""
    try:
        return api.wait_for_run(dag_id, run_id, timeout)
    except TimeoutError as exc:
        raise AssertionError(f"{exc}\nscheduler log tail:\n{server.log_tail('scheduler')}") from exc
