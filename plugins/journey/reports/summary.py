"""Short human summaries of what a run produced, read back from the warehouse."""

from __future__ import annotations

from datetime import date

from journey import warehouse
from journey.config import Settings
from journey.dag_ids import DAILY_DAG

TABLES = ("user_profiles", "user_segments", "segment_history", "segment_summary", "segment_transitions",
          "ingest_runs", "quarantine_summary", "dq_results")


def _rows(conn, sql: str, params: tuple = ()) -> list[tuple]:
    """Run a query and return its rows."""
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def summary_lines(settings: Settings, snapshot: date | None = None) -> list[str]:
    """Lines describing the latest ingest, the segments of a snapshot and where things live."""
    with warehouse.connect(settings) as conn:
        snapshot = snapshot or _rows(conn, "SELECT max(snapshot_date) FROM journey.segment_summary")[0][0]
        lines = []
        runs = _rows(conn, "SELECT run_id, rows_read, curated, quarantined, duplicates FROM journey.ingest_runs "
                           "ORDER BY ingested_at DESC LIMIT 1")
        for run_id, read, curated, quarantined, duplicates in runs:
            lines.append(f"Ingest {run_id}: {read:,} rows read = {curated:,} curated + {quarantined:,} quarantined "
                         f"+ {duplicates:,} duplicates")
            for reason, rows in _rows(conn, "SELECT reason, rows FROM journey.quarantine_summary WHERE run_id = %s "
                                            "ORDER BY rows DESC", (run_id,)):
                lines.append(f"  quarantined {rows:,}: {reason}")
            checks = _rows(conn, "SELECT dataset, count(*), count(*) FILTER (WHERE NOT success AND severity = 'error'), "
                                 "count(*) FILTER (WHERE NOT success AND severity = 'warn') FROM journey.dq_results "
                                 "WHERE run_id = %s GROUP BY dataset ORDER BY min(checked_at)", (run_id,))
            if checks:
                lines.append("Quality gates: " + "; ".join(
                    f"{dataset} {n} checks, {errors} failed, {warns} warnings" for dataset, n, errors, warns in checks))
        segments = _rows(conn, "SELECT segment_id, segment_name, users, user_share, revenue_share, k, silhouette "
                               "FROM journey.segment_summary WHERE snapshot_date = %s ORDER BY segment_id",
                         (snapshot,))
        if segments:
            lines.append(f"Segments on {snapshot} (k={segments[0][5]}, silhouette {segments[0][6]:.2f}):")
            for sid, name, users, share, revenue_share, _, _ in segments:
                lines.append(f"  #{sid:<2} {name:<48} {users:>8,} users ({share:5.1%})  {revenue_share:6.1%} of revenue")
        counts = {t: _rows(conn, f"SELECT count(*) FROM journey.{t}")[0][0] for t in TABLES}
    lines.append("Warehouse tables (schema journey): " + ", ".join(f"{t} {n:,}" for t, n in counts.items()))
    lines.append(f"Database: {warehouse.database_url(settings)}  (read-only role for BI: journey_bi)")
    lines.append(f"Lake: {settings.lake}")
    lines.append(f"Data Docs: {settings.reports_dir / 'dq' / 'gx' / 'uncommitted' / 'data_docs' / 'local_site' / 'index.html'}")
    latest = _latest_run_report(settings)
    if latest:
        lines.append(f"Run report (open in a browser): {latest}")
    return lines


def _latest_run_report(settings: Settings):
    """The newest HTML run report of the daily DAG, or None."""
    reports = sorted((settings.reports_dir / DAILY_DAG).glob("*.html"), key=lambda p: p.stat().st_mtime)
    return reports[-1] if reports else None


def print_summary(settings: Settings, snapshot: date | None = None) -> None:
    """Print summary_lines."""
    print("\n".join(summary_lines(settings, snapshot)))
