"""Warehouse queries behind the HTML run reports: plain rows, one function per report section."""

from __future__ import annotations

import json

from journey import warehouse

SNAPSHOT_SQL = "SELECT max(snapshot_date) FROM journey.segment_summary WHERE run_id = %(run_id)s"
SIZES_SQL = """SELECT snapshot_date, segment_id, segment_name, users FROM journey.segment_summary
WHERE snapshot_date <= %(snapshot)s ORDER BY snapshot_date, segment_id"""
NAMES_SQL = """SELECT segment_id, segment_name FROM journey.segment_summary
WHERE snapshot_date = (SELECT max(snapshot_date) FROM journey.segment_summary WHERE snapshot_date <= %(snapshot)s)"""
RFM_SQL = """SELECT r_score, f_score, count(*) FROM journey.user_profiles WHERE snapshot_date = %(snapshot)s
GROUP BY r_score, f_score ORDER BY r_score, f_score"""
TRANSITIONS_SQL = """SELECT from_segment_id, to_segment_id, users FROM journey.segment_transitions
WHERE snapshot_date = %(snapshot)s ORDER BY users DESC"""
DQ_SQL = """SELECT dataset, expectation, column_name, severity, success, observed_value, unexpected_count
FROM journey.dq_results WHERE run_id = %(run_id)s ORDER BY checked_at, dataset, expectation"""
QUARANTINE_SQL = """SELECT dataset, reason, rows FROM journey.quarantine_summary WHERE run_id = %(run_id)s
ORDER BY rows DESC"""
MODELS_SQL = """SELECT name, version, primary_metric, metrics, status, decision FROM journey.model_registry
WHERE run_id = %(run_id)s ORDER BY name, version"""
CAMPAIGN_SQL = """SELECT campaign_id, name, objective, snapshot_date, budget, budget_used, expected_value,
eligible_users, holdout_users FROM journey.campaigns WHERE run_id = %(run_id)s"""
ALLOCATION_SQL = """SELECT segment_id, offer_name, count(*), sum(expected_cost) FROM journey.coupon_assignments
WHERE run_id = %(run_id)s GROUP BY segment_id, offer_name ORDER BY segment_id, offer_name"""
ADS_SQL = """SELECT channel, count(*) FROM journey.ad_assignments WHERE run_id = %(run_id)s
GROUP BY channel ORDER BY count(*) DESC"""
SEGMENT_ROWS_SQL = """SELECT segment_id, segment_name, eligible, excluded, excluded_by_reason, holdout, coupons,
budget_used, expected_value, ads FROM journey.bi_campaign_summary WHERE run_id = %(run_id)s ORDER BY segment_id"""
RECOMMENDATION_SQL = """SELECT model, k, precision_at_k, recall_at_k, ndcg_at_k, coverage, users
FROM journey.recommendation_eval WHERE run_id = %(run_id)s ORDER BY ndcg_at_k DESC, model"""
RESULT_FIELDS = ("level", "key", "provisional", "measured_at", "treated_users", "holdout_users", "rate_lift",
                 "rate_lift_low", "rate_lift_high", "incremental_profit", "incremental_profit_low",
                 "incremental_profit_high", "exposed_users", "exposure_rate", "holdout_exposed_users",
                 "exposed_rate_lift", "exposed_rate_lift_low", "exposed_rate_lift_high")
RESULTS_SQL = f"""SELECT {', '.join(RESULT_FIELDS)} FROM journey.campaign_results_current WHERE run_id = %(run_id)s
ORDER BY CASE level WHEN 'campaign' THEN 0 WHEN 'segment' THEN 1 WHEN 'offer' THEN 2 ELSE 3 END, key"""
SEGMENT_FIELDS = ("segment_id", "segment_name", "eligible", "excluded", "excluded_by_reason", "holdout", "coupons",
                  "budget_used", "expected_value", "ads")
CAMPAIGN_FIELDS = ("campaign_id", "name", "objective", "snapshot_date", "budget", "budget_used", "expected_value",
                   "eligible_users", "holdout_users")


def _rows(conn, sql: str, **params) -> list[tuple]:
    """Rows of one query with named parameters."""
    return warehouse.fetch_all(conn, sql, params)


def _names(conn, snapshot) -> dict[int, str]:
    """Segment id -> readable name, as of the latest summary on or before a snapshot."""
    return dict(_rows(conn, NAMES_SQL, snapshot=snapshot)) if snapshot else {}


def quality_data(conn, run_id: str) -> dict:
    """Data-quality results and quarantine counts written by one run."""
    return {"dq": _rows(conn, DQ_SQL, run_id=run_id), "quarantine": _rows(conn, QUARANTINE_SQL, run_id=run_id)}


def daily_data(conn, run_id: str) -> dict:
    """What the daily DAG run published: sizes over time, RFM grid, transitions, quality."""
    snapshot = _rows(conn, SNAPSHOT_SQL, run_id=run_id)[0][0]
    data = {"snapshot": snapshot, "sizes": [], "rfm": [], "transitions": [], "names": _names(conn, snapshot)}
    if snapshot is not None:
        data.update(sizes=_rows(conn, SIZES_SQL, snapshot=snapshot), rfm=_rows(conn, RFM_SQL, snapshot=snapshot),
                    transitions=_rows(conn, TRANSITIONS_SQL, snapshot=snapshot))
    return data | quality_data(conn, run_id)


def train_data(conn, run_id: str) -> dict:
    """Models registered by the training run, each with its evaluation report (metrics JSON)."""
    models = []
    for name, version, primary, metrics, status, decision in _rows(conn, MODELS_SQL, run_id=run_id):
        report = metrics if isinstance(metrics, dict) else json.loads(metrics or "{}")
        models.append({"name": name, "version": version, "primary": primary, "report": report,
                       "status": status, "decision": decision})
    return {"models": models}


def _records(conn, sql: str, fields: tuple[str, ...], run_id: str) -> list[dict]:
    """Rows of one run as dicts keyed by `fields`."""
    return [dict(zip(fields, row, strict=True)) for row in _rows(conn, sql, run_id=run_id)]


def campaign_data(conn, run_id: str) -> dict:
    """What the campaign run published: allocation, budget, ads, per-segment funnel, recommendation quality,
    and its measured results once DAG journey_campaign_results has run."""
    campaigns = _records(conn, CAMPAIGN_SQL, CAMPAIGN_FIELDS, run_id)
    snapshot = campaigns[0]["snapshot_date"] if campaigns else None
    recommendations = [dict(zip(("model", "k", "precision", "recall", "ndcg", "coverage", "users"), row, strict=True))
                       for row in _rows(conn, RECOMMENDATION_SQL, run_id=run_id)]
    return {"campaigns": campaigns, "allocation": _rows(conn, ALLOCATION_SQL, run_id=run_id),
            "ads": _rows(conn, ADS_SQL, run_id=run_id), "names": _names(conn, snapshot),
            "segments": _records(conn, SEGMENT_ROWS_SQL, SEGMENT_FIELDS, run_id), "recommendations": recommendations,
            "results": _records(conn, RESULTS_SQL, RESULT_FIELDS, run_id),
            "dq": _rows(conn, DQ_SQL, run_id=run_id)}
