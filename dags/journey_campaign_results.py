"""
### Journey campaign results

Daily (catch-up off), and on demand for one campaign (this form, or the REST API with the same
JSON as `conf`). Measures what published campaign runs earned: for each run, the **treated**
users (a coupon or an ad of the run) against the **held-out** users (`journey.campaign_holdout`),
with their curated events in the **attribution window** [start, start + window days).

Per campaign, per segment and per offer, each arm's users, converters (≥ 1 purchase), conversion
rate, orders, revenue, revenue per user, coupon redemptions (coupon_redeem events carrying the
user's own assigned code) and coupon cost; and the **increments** treated − holdout (conversions,
revenue, profit = revenue × margin − coupon cost), scaled to the treated count, each with its
95 % interval (Newcombe score interval for conversion, Welch t for revenue and profit per user).
Rows measured before the window closes are marked **provisional**.

**Params**: `campaign_id` (empty = every run whose window is open or closed within
`recent_days`; given = that campaign's current run), `run_id` (one run of that campaign),
`attribution_window_days` (1-90, default 14: used for runs whose campaign params do not set their
own window), `recent_days`.

Writes `journey.campaign_results` (each measurement kept; `campaign_results_current` is the
latest per run and row; `bi_campaign_results` for dashboards). Command line:
`journey campaigns results CAMPAIGN [--run RUN]`. Method: docs/campaigns.md, "Results and lift".
"""

from __future__ import annotations

from pathlib import Path

from airflow.sdk import Param, dag

from journey.campaigns.params import ATTRIBUTION_WINDOW_DAYS
from journey.dag_ids import RESULTS_DAG
from journey.orchestration import START_DATE, default_args, spark_job

CAMPAIGN_OWNER = "marketing-ops"
JOBS = Path(__file__).resolve().parent.parent / "jobs"
WINDOW_DEFAULT, WINDOW_MIN, WINDOW_MAX = ATTRIBUTION_WINDOW_DAYS
SLUG_OR_EMPTY = "^([a-z0-9][a-z0-9_-]{1,62})?$"


def results_params() -> dict[str, Param]:
    """The DAG's Params (the job checks them again and names the bad one)."""
    return {
        "campaign_id": Param("", type=["null", "string"], pattern=SLUG_OR_EMPTY, title="Campaign id",
                             description="Empty = every campaign run whose window is open or closed within "
                                         "recent_days; else that campaign's current run"),
        "run_id": Param("", type=["null", "string"], title="Run id",
                        description="Optional: one run of the campaign (needs the campaign id)"),
        "attribution_window_days": Param(WINDOW_DEFAULT, type="integer", minimum=WINDOW_MIN, maximum=WINDOW_MAX,
                                         title="Attribution window (days)",
                                         description="For runs whose campaign does not store its own window"),
        "recent_days": Param(7, type="integer", minimum=0, maximum=365, title="Closed within (days)",
                             description="Empty campaign id: also measure runs whose window closed this many days "
                                         "ago or less (their final measurement)"),
    }


@dag(
    dag_id=RESULTS_DAG,
    schedule="@daily",
    start_date=START_DATE,
    catchup=False,
    doc_md=__doc__,
    description="Campaign outcomes: treated against held-out users, lift with 95 % intervals, per segment and offer",
    tags=["journey", "campaign", "spark"],
    default_args=default_args(owner=CAMPAIGN_OWNER),
    params=results_params(),
)
def journey_campaign_results():
    """measure: select the runs, measure each in Spark, publish each under its campaign's lock."""
    spark_job("measure", JOBS / "campaign_results.py",
              ["--campaign-id", "{{ params.campaign_id or '' }}", "--run-id", "{{ params.run_id or '' }}",
               "--window-days", "{{ params.attribution_window_days }}", "--recent-days", "{{ params.recent_days }}"],
              name="journey-campaign-results")


journey_campaign_results()
