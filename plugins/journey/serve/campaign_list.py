"""The campaigns list: every published run of journey.campaigns, plus runs Airflow has but not yet published.

Status comes from Airflow when it answers (queued, running, success, failed), else from the table
(scheduled / live / ended by the campaign's dates). Lift is the latest campaign-level measurement
in journey.campaign_results, when that table exists (blank until a run is measured).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from journey.config import Settings
from journey.dag_ids import CAMPAIGN_DAG
from journey.reports import report_path

RUNS_SQL = """SELECT campaign_id, run_id, name, objective, start_time, end_time, budget, budget_used,
       eligible_users, holdout_users, published_at
FROM journey.campaigns ORDER BY published_at DESC, campaign_id LIMIT %(limit)s"""
RUN_COLUMNS = ("campaign_id", "run_id", "name", "objective", "start_time", "end_time", "budget", "budget_used",
               "eligible_users", "holdout_users", "published_at")
LIFT_SQL = """SELECT DISTINCT ON (campaign_id, run_id) campaign_id, run_id, rate_lift, rate_lift_low, rate_lift_high,
       provisional
FROM journey.campaign_results WHERE level = 'campaign' ORDER BY campaign_id, run_id, measured_at DESC"""
RUN_EXISTS_SQL = "SELECT 1 FROM journey.campaigns WHERE campaign_id = %s AND run_id = %s"


def _fetch(conn, sql: str, params: dict | tuple | None = None) -> list[tuple]:
    """All rows of one query."""
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def lifts(conn) -> dict[tuple[str, str], dict]:
    """(campaign_id, run_id) → latest campaign-level lift; empty when journey.campaign_results does not exist."""
    if not _fetch(conn, "SELECT to_regclass('journey.campaign_results') IS NOT NULL")[0][0]:
        return {}
    return {(c, r): {"rate_lift": lift, "low": low, "high": high, "provisional": provisional}
            for c, r, lift, low, high, provisional in _fetch(conn, LIFT_SQL)}


def dated_status(row: dict, now: datetime) -> str:
    """A published run's status from its dates (when Airflow cannot say)."""
    if now < row["start_time"]:
        return "scheduled"
    return "live" if now < row["end_time"] else "ended"


def has_report(settings: Settings, run_id: str) -> bool:
    """True when the campaign DAG's report task wrote this run's HTML page."""
    return report_path(settings, CAMPAIGN_DAG, run_id).is_file()


def campaign_runs(conn, settings: Settings, airflow: dict[str, dict] | None, limit: int = 200) -> list[dict]:
    """The list's rows, newest first: published runs, then Airflow runs not published yet."""
    now, measured = datetime.now(UTC), lifts(conn)
    rows = [dict(zip(RUN_COLUMNS, row, strict=True)) for row in _fetch(conn, RUNS_SQL, {"limit": limit})]
    for row in rows:
        state = (airflow or {}).get(row["run_id"], {}).get("state")
        row["status"] = state or dated_status(row, now)
        row["status_source"] = "airflow" if state else "table"
        row["lift"] = measured.get((row["campaign_id"], row["run_id"]))
        row["report"] = has_report(settings, row["run_id"])
    published = {row["run_id"] for row in rows}
    pending = [{"campaign_id": run["campaign_id"], "run_id": run_id, "name": run["name"] or run["campaign_id"],
                "status": run["state"], "status_source": "airflow", "published_at": None, "lift": None,
                "report": has_report(settings, run_id)}
               for run_id, run in (airflow or {}).items() if run_id not in published and run["campaign_id"]]
    return pending + rows


def report_file(conn, settings: Settings, campaign_id: str, run_id: str) -> Path | None:
    """The HTML report of a published run of this campaign; None for an unknown run or a missing page.

    Only a (campaign_id, run_id) pair present in journey.campaigns is looked up, and the path must
    stay under the campaign DAG's report folder, so no request can name another file.
    """
    if not _fetch(conn, RUN_EXISTS_SQL, (campaign_id, run_id)):
        return None
    folder = (settings.reports_dir / CAMPAIGN_DAG).resolve()
    path = report_path(settings, CAMPAIGN_DAG, run_id).resolve()
    return path if path.parent == folder and path.is_file() else None
