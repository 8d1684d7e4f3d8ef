"""Publish a campaign run to PostgreSQL: every table of the run in one transaction.

A rerun of the same run replaces its rows (replace condition: campaign_id and run_id); a new
run of the same campaign leaves earlier runs' rows as history, and becomes current because
its journey.campaigns row has the latest published_at (view campaign_runs_current). A dry run
publishes nothing.
"""

from __future__ import annotations

import json

import pyarrow as pa

from journey import lake, warehouse
from journey.campaigns.ads import AD_COLUMNS
from journey.campaigns.coupons import ASSIGNMENT_COLUMNS
from journey.campaigns.request import CampaignRequest, load_step_summaries, output_path
from journey.config import ENV_MAX_CAMPAIGN_ROWS, Settings
from journey.errors import DataError

RUN = "campaign_id = %(campaign_id)s AND run_id = %(run_id)s"
HOLDOUT_COLUMNS = ["campaign_id", "run_id", "snapshot_date", "user_id", "segment_id", "draw"]
AUDIENCE_COLUMNS = ["campaign_id", "run_id", "snapshot_date", "segment_id", "segment_name", "status", "reason", "users"]
RECOMMENDATION_COLUMNS = ["campaign_id", "run_id", "snapshot_date", "user_id", "rank", "product_id", "category",
                          "score", "source"]
EVAL_COLUMNS = ["campaign_id", "run_id", "snapshot_date", "model", "k", "precision_at_k", "recall_at_k", "ndcg_at_k",
                "coverage", "users", "split_date", "holdout_fraction", "mean_list_length", "short_lists",
                "validation_ndcg", "settings"]


def campaign_row(request: CampaignRequest, summaries: dict[str, dict]) -> pa.Table:
    """The journey.campaigns row of the run."""
    params, coupons = request.params, summaries.get("coupons", {})
    signals = summaries.get("eligibility", {}).get("signals", {})
    return pa.Table.from_pylist([{
        "campaign_id": params.campaign_id, "run_id": request.run_id, "snapshot_date": request.snapshot_date,
        "name": params.name, "objective": params.objective, "params": json.dumps(request.to_json()),
        "signals": json.dumps(signals), "budget": params.budget, "budget_used": coupons.get("budget_used", 0.0),
        "expected_value": coupons.get("expected_value", 0.0),
        "value_upper_bound": coupons.get("value_upper_bound", 0.0),
        "eligible_users": summaries.get("holdout", {}).get("eligible", 0),
        "holdout_users": summaries.get("holdout", {}).get("holdout", 0),
        "start_time": params.start_time, "end_time": params.end_time,
    }])


def holdout_users(path: str, request: CampaignRequest) -> pa.Table:
    """Held-out users of the run with the run columns (filtered with pyarrow, column by column)."""
    import pyarrow.dataset as ds

    table = ds.dataset(lake.local_path(path), format="parquet").to_table(
        columns=["user_id", "segment_id", "draw"], filter=ds.field("in_holdout"))
    n = table.num_rows
    return table.append_column("campaign_id", pa.array([request.params.campaign_id] * n, pa.string())).append_column(
        "run_id", pa.array([request.run_id] * n, pa.string())).append_column(
        "snapshot_date", pa.array([request.snapshot_date] * n, pa.date32()))


def loads(settings: Settings, request: CampaignRequest) -> list[warehouse.TableLoad]:
    """Every table of the run, each replacing the run's earlier rows."""
    campaign_id, run_id = request.params.campaign_id, request.run_id
    where = {"campaign_id": campaign_id, "run_id": run_id}

    def out(name: str) -> str:
        return lake.local_path(output_path(settings, campaign_id, run_id, name))

    summaries = load_step_summaries(settings, campaign_id, run_id)
    result = [
        warehouse.TableLoad("campaigns", campaign_row(request, summaries),
                            ["campaign_id", "run_id", "snapshot_date", "name", "objective", "params", "signals",
                             "budget", "budget_used", "expected_value", "value_upper_bound", "eligible_users",
                             "holdout_users", "start_time", "end_time"], RUN, where),
        warehouse.TableLoad("campaign_holdout", holdout_users(out("holdout"), request), HOLDOUT_COLUMNS, RUN, where),
        warehouse.TableLoad("campaign_audience", out("audience_counts"), AUDIENCE_COLUMNS, RUN, where),
        warehouse.TableLoad("coupon_assignments", out("coupons"), list(ASSIGNMENT_COLUMNS), RUN, where),
        warehouse.TableLoad("ad_assignments", out("ads"), list(AD_COLUMNS), RUN, where),
        warehouse.TableLoad("recommendation_assignments", out("recommendations"), RECOMMENDATION_COLUMNS, RUN, where),
    ]
    if "evaluation" in summaries.get("recommendations", {}):
        result.append(warehouse.TableLoad("recommendation_eval", out("recommendation_eval"), EVAL_COLUMNS, RUN, where))
    return result


def load_rows(load: warehouse.TableLoad) -> int:
    """Rows a load would publish: an Arrow table's length, or a Parquet output's row count (from its footers)."""
    import pyarrow.dataset as ds

    if isinstance(load.source, pa.Table):
        return load.source.num_rows
    return ds.dataset(load.source, format="parquet").count_rows()


def check_row_limit(settings: Settings, request: CampaignRequest, tables: list[warehouse.TableLoad]) -> int:
    """Total rows of the run; over `settings.max_campaign_rows` it stops before anything is published."""
    rows = {load.table: load_rows(load) for load in tables}
    total = sum(rows.values())
    if total > settings.max_campaign_rows:
        largest = ", ".join(f"{table}: {n:,}" for table, n in sorted(rows.items(), key=lambda item: -item[1])[:3])
        raise DataError(
            f"campaign {request.params.campaign_id!r} run {request.run_id!r} would publish {total:,} rows ({largest}), "
            f"more than {ENV_MAX_CAMPAIGN_ROWS}={settings.max_campaign_rows:,}: nothing was published; narrow the "
            f"audience (segments, channels) or raise {ENV_MAX_CAMPAIGN_ROWS}")
    return total


def publish_campaign(settings: Settings, request: CampaignRequest) -> dict[str, int]:
    """Publish the run (one transaction, under the campaign's publish lock); rows per table.

    Dry runs publish nothing; a run over JOURNEY_MAX_CAMPAIGN_ROWS stops before connecting.
    """
    if request.params.dry_run:
        print(f"dry run: nothing published; outputs stay in the lake under "
              f"{output_path(settings, request.params.campaign_id, request.run_id, '')}")
        return {}
    tables = loads(settings, request)
    check_row_limit(settings, request, tables)
    with warehouse.connect(settings) as conn:
        counts = warehouse.publish(conn, tables, lock=f"campaign {request.params.campaign_id}")
    for table, rows in counts.items():
        print(f"published {rows:,} rows to journey.{table}")
    return counts
