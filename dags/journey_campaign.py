"""
### Journey campaign

Triggered by marketing ops (this form, or the REST API with the same JSON as `conf`); no
schedule. For one campaign it decides, per user, **which coupon** (under the budget), **which
ad** (channel, creative, send time) and **which products** to show, keeping a measured
**control group** out of everything.

1. `validate_params`: checks every parameter (and what the form cannot: end after start,
   segments that exist, budget shares of targeted segments) and fails naming the field,
   before any Spark work.
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
   `journey.bi_campaign_summary`.

Rules and formulas: docs/campaigns.md.
"""

from __future__ import annotations

from pathlib import Path

import pendulum
from airflow.sdk import Param, dag, task

from journey.campaigns.creatives import CREATIVE_SCHEMA, DEFAULT_CREATIVES, MAX_CREATIVES
from journey.campaigns.params import (
    CAMPAIGN_CHANNELS,
    DEFAULT_COUPONS,
    MAX_HOLDOUT,
    MAX_K,
    MAX_OFFERS,
    OBJECTIVES,
    OFFER_SCHEMA,
    SLUG,
)
from journey.config import get_settings
from journey.orchestration import default_args, spark_job
from journey.schemas import LIFECYCLE_STAGES

JOBS = Path(__file__).resolve().parent.parent / "jobs"
RUN_ARGS = ["--campaign-id", "{{ params.campaign_id }}", "--run-id", "{{ run_id }}"]


def campaign_step(step: str, extra: list[str] | None = None):
    """One Spark step of the campaign run (jobs/generate_campaign.py <step>)."""
    return spark_job(step, JOBS / "generate_campaign.py", [step, *RUN_ARGS, *(extra or [])],
                     name=f"journey-campaign-{step}")


PARAMS = {
    "campaign_id": Param("autumn-sale", type="string", pattern=SLUG.pattern, title="Campaign id",
                         description="Slug: lower-case letters, digits, - and _; reruns of the same id keep history"),
    "name": Param("Autumn sale", type="string", title="Name"),
    "objective": Param("conversion", type="string", enum=list(OBJECTIVES), title="Objective"),
    "segments": Param(["all"], type="array", items={"type": ["string", "integer"]}, minItems=1,
                      title="Target segments", description="Segment ids or names, or [\"all\"]"),
    "lifecycle_stages": Param([], type="array", items={"type": "string", "enum": list(LIFECYCLE_STAGES)},
                              title="Lifecycle stages", description="Empty = every stage"),
    "channels": Param(["email", "push"], type="array", minItems=1, uniqueItems=True,
                      items={"type": "string", "enum": list(CAMPAIGN_CHANNELS)}, title="Channels (priority order)"),
    "coupons": Param(DEFAULT_COUPONS, type="array", minItems=1, maxItems=MAX_OFFERS, items=OFFER_SCHEMA,
                     title="Coupon catalog",
                     description="List of {name, kind: percent|fixed|free_shipping, value, min_spend, expected_cost}"),
    "budget": Param(1000.0, type="number", minimum=0, title="Total budget"),
    "segment_budget_shares": Param({}, type="object", additionalProperties={"type": "number", "minimum": 0,
                                                                             "maximum": 1},
                                   title="Budget share per segment", description="Optional {segment: share}"),
    "max_coupons_per_user": Param(1, type="integer", minimum=1, maximum=3, title="Max coupons per user"),
    "holdout_fraction": Param(0.10, type="number", minimum=0, maximum=MAX_HOLDOUT, title="Holdout fraction"),
    "recommendations_k": Param(10, type="integer", minimum=1, maximum=MAX_K, title="Recommendations per user (K)"),
    "frequency_cap": Param(3, type="integer", minimum=1, maximum=100,
                           title="Frequency cap", description="Max messages per user in a trailing 7 days"),
    "start_time": Param("2026-11-01T00:00:00+00:00", type="string", format="date-time", title="Start"),
    "end_time": Param("2026-11-08T00:00:00+00:00", type="string", format="date-time", title="End"),
    "creatives": Param(DEFAULT_CREATIVES, type="array", minItems=1, maxItems=MAX_CREATIVES, items=CREATIVE_SCHEMA,
                       title="Creative catalog",
                       description="Rules {segment, scene, lifecycle_stage ('*' = any), theme, format}; first match "
                                   "wins; the last rule must be '*' everywhere"),
    "dry_run": Param(False, type="boolean", title="Dry run", description="Write the lake and the report only"),
    "products": Param("", type="string", title="Products CSV",
                      description="Margins for coupon values and titles for recommendations; "
                                  "empty = $JOURNEY_HOME/inbox/products.csv"),
}


@dag(
    dag_id="journey_campaign",
    schedule=None,
    start_date=pendulum.datetime(2010, 1, 1, tz="UTC"),
    catchup=False,
    doc_md=__doc__,
    tags=["journey", "campaign", "spark"],
    default_args=default_args(),
    params=PARAMS,
)
def journey_campaign():
    """validate → eligibility → holdout → coupons → ads / recommendations → quality → publish → report."""

    @task
    def validate_params(params=None, run_id=None) -> dict:
        """Fail naming the bad field before any Spark work; save the request for the Spark steps."""
        from journey.campaigns.validate import validate_request

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
    def report(params=None, run_id=None) -> None:
        """Print the run summary (and what went to journey.bi_campaign_summary)."""
        from journey.campaigns.report import report as print_report
        from journey.campaigns.request import load_request
        from journey.reports import CAMPAIGN_DAG, print_run_report

        settings = get_settings()
        print_report(settings, load_request(settings, params["campaign_id"], run_id))
        print_run_report(settings, CAMPAIGN_DAG, run_id)

    products = ["--products", "{{ params.products }}"]
    coupons = campaign_step("coupons", products)
    ads = campaign_step("ads")
    recommendations = campaign_step("recommendations", products)
    quality = campaign_step("quality")
    validate_params() >> campaign_step("eligibility") >> campaign_step("holdout") >> [coupons, recommendations]
    coupons >> ads
    [ads, recommendations] >> quality >> publish() >> report()


journey_campaign()
