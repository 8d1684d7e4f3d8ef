"""Launch a campaign from the builder: trigger the journey_campaign DAG over Airflow's REST API.

Where Airflow is and how to log in (the Journey service's environment):
- JOURNEY_AIRFLOW_URL: the api-server, default http://127.0.0.1:$JOURNEY_AIRFLOW_PORT (8080, `journey airflow`);
- JOURNEY_AIRFLOW_USER: default admin (the simple auth manager's user of `journey airflow`);
- JOURNEY_AIRFLOW_PASSWORD: default the password `journey airflow` keeps in
  $JOURNEY_HOME/airflow/journey_passwords.json.
The run id names the campaign (`campaigns.request.campaign_run_id`: campaign__<id>__<UTC time>).
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime

from journey.campaigns.params import CampaignParams
from journey.campaigns.request import campaign_run_id
from journey.config import ENV_AIRFLOW_URL, ENV_AIRFLOW_USER, Settings
from journey.dag_ids import CAMPAIGN_DAG
from journey.errors import ConfigError, JourneyError
from journey.orchestration.airflow_api import AirflowApi
from journey.orchestration.airflow_server import ADMIN_USER, HEALTH_PATH, HOST, PASSWORDS_FILE

REACHABLE_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class AirflowTarget:
    """Where the campaign DAG runs and the login to trigger it."""

    url: str
    username: str
    password: str | None


def airflow_target(settings: Settings, environ: dict[str, str] | None = None) -> AirflowTarget:
    """The Airflow api-server and login from the environment (see the module docstring)."""
    env = os.environ if environ is None else environ
    url = (env.get(ENV_AIRFLOW_URL) or f"http://{HOST}:{settings.airflow_port}").rstrip("/")
    password = settings.airflow_password
    stored = settings.airflow_home / PASSWORDS_FILE
    username = env.get(ENV_AIRFLOW_USER) or ADMIN_USER
    if password is None and stored.exists():
        password = json.loads(stored.read_text(encoding="utf-8") or "{}").get(username)
    return AirflowTarget(url, username, password)


def reachable(target: AirflowTarget) -> bool:
    """True when the api-server answers its health check within REACHABLE_TIMEOUT_S."""
    try:
        with urllib.request.urlopen(target.url + HEALTH_PATH, timeout=REACHABLE_TIMEOUT_S):  # noqa: S310
            return True
    except (OSError, ValueError):
        return False


def login(target: AirflowTarget) -> AirflowApi:
    """An authenticated API session; no password configured is a ConfigError naming the variable."""
    if target.password is None:
        raise ConfigError(f"no Airflow password for {target.username!r}: set JOURNEY_AIRFLOW_PASSWORD "
                          f"(or run `journey airflow`, which keeps one under $JOURNEY_HOME/airflow)")
    return AirflowApi.login(target.url, target.username, target.password)


def run_link(target: AirflowTarget, run_id: str) -> str:
    """The Airflow UI page of one campaign run."""
    return f"{target.url}/dags/{CAMPAIGN_DAG}/runs/{urllib.parse.quote(run_id, safe='')}"


def launch(target: AirflowTarget, params: CampaignParams, conf: dict, now: datetime | None = None) -> dict:
    """Unpause the campaign DAG and trigger it with `conf` (the checked form values); returns run id and link."""
    api = login(target)
    run_id = campaign_run_id(params.campaign_id, now or datetime.now(UTC))
    api.unpause(CAMPAIGN_DAG)
    run = api.trigger(CAMPAIGN_DAG, conf, run_id=run_id)
    return {"run_id": run["dag_run_id"], "state": run.get("state"), "link": run_link(target, run["dag_run_id"])}


def run_states(target: AirflowTarget, limit: int = 200) -> dict[str, dict] | None:
    """run_id → {state, campaign_id, name} of the latest campaign DAG runs; None when Airflow is unreachable."""
    if not reachable(target):
        return None
    try:
        found = login(target).request("GET", f"/dags/{CAMPAIGN_DAG}/dagRuns",
                                      params={"limit": limit, "order_by": "-start_date"})
    except (OSError, JourneyError, ValueError):
        return None
    return {run["dag_run_id"]: {"state": run["state"], "campaign_id": (run.get("conf") or {}).get("campaign_id"),
                                "name": (run.get("conf") or {}).get("name"), "start_date": run.get("start_date")}
            for run in found.get("dag_runs", [])}
