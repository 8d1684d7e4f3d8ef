"""
### Journey campaign

Triggered by marketing ops (this form, or the REST API with the same JSON as `conf`); no
schedule.

**Using the form**: only the campaign id, coupons, budget and channels must be filled in (they
come filled); every other field may be left empty and then means what its help says (empty
start = when the run starts, empty end = 7 days later, empty products = the inbox file).
**Logical Date** means nothing for a campaign: leave it as it is. The campaign's own dates are
Start and End. To tell runs apart by campaign, trigger over the REST API with a `dag_run_id`
of the form `campaign__<campaign id>__<UTC time>` (`campaigns.request.campaign_run_id`; the
form's own runs are `manual__<time>`, the campaign id is under Details → Conf).
 For one campaign it decides, per user, **which coupon** (under the budget), **which
ad** (channel, creative, send time) and **which products** to show, keeping a measured
**control group** out of everything.

1. `validate_params`: checks every parameter (and what the form cannot: end after start,
   segments that exist, budget shares of targeted segments) and fails naming the field,
   before any Spark work, without a retry (a wrong input stays wrong).
2. `eligibility`: channel consent, `journey.suppression_list`, the 7-day frequency cap across
   campaigns, segment and lifecycle filters; every excluded user counted by reason. Uses
   `journey.user_scores` when the models have scored the users, documented profile fallbacks
   otherwise (the run says which).
3. `holdout`: sha256(campaign_id:user_id) below the holdout fraction; those users get nothing.
4. `coupons`: expected incremental value per user and offer, allocated under the budget (and
   segment shares, and the per-user maximum) by an LP-greedy multiple-choice knapsack with a
   proven bound; unique deterministic coupon codes. `ads`: channel, creative, send time.
   `recommendations`: ALS + co-occurrence + content hybrid, popularity for cold start,
   evaluated offline against popularity.
5. `quality`: Great Expectations gates on the assignments (caps, budget, holdout, consent,
   unique codes, no repeated or already-bought products); a failure stops the run.
6. `publish`: one PostgreSQL transaction (a rerun replaces this run's rows; earlier runs stay
   as history, the latest is current). `dry_run` skips it. `report`: the summary, also in
   `journey.bi_campaign_summary`; its **Campaign report** link (task → Extra Links) opens the
   run's HTML report on the Journey service (JOURNEY_SERVE_URL, default http://127.0.0.1:8000).

Rules and formulas: docs/campaigns.md.
"""

from __future__ import annotations

from pathlib import Path

from airflow.sdk import dag, task

from journey.campaigns.params import CAMPAIGN_STEPS, dag_params
from journey.campaigns.segment_names import read_segment_names
from journey.config import get_settings
from journey.dag_ids import CAMPAIGN_DAG
from journey.orchestration import START_DATE, default_args, spark_job
from journey.orchestration.report_link import CampaignReportLink

CAMPAIGN_OWNER = "marketing-ops"
JOBS = Path(__file__).resolve().parent.parent / "jobs"
RUN_ARGS = ["--campaign-id", "{{ params.campaign_id }}", "--run-id", "{{ run_id }}"]
PRODUCT_STEPS = ("coupons", "recommendations")  # steps that read the products CSV


def campaign_step(step: str):
    """One Spark step of the campaign run (jobs/generate_campaign.py <step>)."""
    extra = ["--products", "{{ params.products or '' }}"] if step in PRODUCT_STEPS else []
    return spark_job(step, JOBS / "generate_campaign.py", [step, *RUN_ARGS, *extra], name=f"journey-campaign-{step}")


@dag(
    dag_id=CAMPAIGN_DAG,
    schedule=None,
    start_date=START_DATE,
    catchup=False,
    doc_md=__doc__,
    description="One campaign: audience, control group, coupons under a budget, ads and recommendations",
    tags=["journey", "campaign", "spark"],
    default_args=default_args(owner=CAMPAIGN_OWNER),
    params=dag_params(read_segment_names(get_settings())),  # the segment picker's choices: a file, no query
)
def journey_campaign():
    """validate → eligibility → holdout → coupons → ads / recommendations → quality → publish → report."""

    @task(retries=0)
    def validate_params(params=None, run_id=None) -> dict:
        """Fail naming the bad field before any Spark work, with no retry; save the request for the Spark steps."""
        from journey.campaigns.validate import validate_request
        from journey.orchestration import fail_on_input_error

        with fail_on_input_error():
            request = validate_request(get_settings(), {k: v for k, v in params.items() if k != "products"}, run_id)
        print(f"campaign {request.params.campaign_id}: parameters valid; profiles of {request.snapshot_date}; "
              f"segments {', '.join(f'{k} ({v})' for k, v in sorted(request.segments.items()))}")
        return {"snapshot_date": request.snapshot_date.isoformat(), "segments": len(request.segments)}

    @task
    def publish(params=None, run_id=None) -> dict:
        """One transaction for every table of the run (nothing for a dry run)."""
        from journey.campaigns.publish import publish_campaign
        from journey.campaigns.request import load_request

        settings = get_settings()
        return publish_campaign(settings, load_request(settings, params["campaign_id"], run_id))

    @task
    def report(campaign_id: str, run_id=None) -> None:
        """Print the run summary (and what went to journey.bi_campaign_summary); link the HTML report."""
        from journey.campaigns.report import report as print_report
        from journey.campaigns.request import load_request
        from journey.reports import print_run_report

        settings = get_settings()
        print_report(settings, load_request(settings, campaign_id, run_id))
        print_run_report(settings, CAMPAIGN_DAG, run_id)

    summary = report(campaign_id="{{ params.campaign_id }}")  # rendered before it runs: the link below reads it
    summary.operator.operator_extra_links = (CampaignReportLink(),)  # "Campaign report" in the UI

    step = {name: campaign_step(name) for name in CAMPAIGN_STEPS}
    validate_params() >> step["eligibility"] >> step["holdout"] >> [step["coupons"], step["recommendations"]]
    step["coupons"] >> step["ads"]
    [step["ads"], step["recommendations"]] >> step["quality"] >> publish() >> summary


journey_campaign()
