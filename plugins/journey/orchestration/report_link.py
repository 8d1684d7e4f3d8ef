"""The "Campaign report" extra link of the campaign DAG's report task: the run's HTML report on `journey serve`.

Airflow 3 computes an operator's extra links on the worker, right after the task ran (the task
runner's `finalize` calls `get_link` and stores the URL as an XCom under the link's `xcom_key`);
the api-server only reads that XCom back (a serialized operator's links are `XComOperatorLink`s
named in the serialized DAG), so the link needs no plugin registration and no Journey code in the
api-server. The URL is JOURNEY_SERVE_URL (default http://127.0.0.1:$JOURNEY_API_PORT) followed by
the builder's report route, GET /campaigns/{campaign_id}/{run_id}/report (serve/builder.py).
"""

from __future__ import annotations

import os
from urllib.parse import quote

from airflow.sdk import BaseOperatorLink

from journey.config import ENV_SERVE_URL, get_settings

SERVE_HOST = "127.0.0.1"  # `journey serve`'s default interface (serve/commands.py)


def serve_url(environ: dict[str, str] | None = None) -> str:
    """Where the Journey service answers: JOURNEY_SERVE_URL, else http://127.0.0.1:$JOURNEY_API_PORT."""
    env = os.environ if environ is None else environ
    return (env.get(ENV_SERVE_URL) or f"http://{SERVE_HOST}:{get_settings(env).api_port}").rstrip("/")


def campaign_report_url(base_url: str, campaign_id: str, run_id: str) -> str:
    """The report page of one campaign run (the run id quoted whole: manual ids hold ':' and '+')."""
    return f"{base_url}/campaigns/{quote(campaign_id, safe='')}/{quote(run_id, safe='')}/report"


class CampaignReportLink(BaseOperatorLink):
    """Button "Campaign report" on the report task: reads the campaign id from the task's rendered op_kwargs."""

    name = "Campaign report"

    def get_link(self, operator, *, ti_key) -> str:
        """The run's report URL; `operator` is the task as it ran, its `campaign_id` argument rendered."""
        return campaign_report_url(serve_url(), operator.op_kwargs["campaign_id"], ti_key.run_id)
