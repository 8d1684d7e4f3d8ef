"""HTML run reports: one page per DAG run under $JOURNEY_HOME/reports/<dag_id>/<run_id>.html.

    path = write_run_report(settings, "journey_daily_profiles", run_id)

data.py queries the warehouse, charts.py draws Plotly figures, sections.py lays them out per DAG,
page.py writes the HTML (plotly.js once, under reports/assets, so pages open offline).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from journey import warehouse
from journey.campaigns.currency import campaign_currency
from journey.config import Settings
from journey.dag_ids import CAMPAIGN_DAG, DAILY_DAG, TRAIN_DAG
from journey.errors import InputError
from journey.reports import data, sections
from journey.reports.page import Section, write_page

BUILDERS: dict[str, tuple[str, Callable, Callable[[dict], list[Section]]]] = {
    DAILY_DAG: ("Daily profiles & segments", data.daily_data, sections.daily_sections),
    TRAIN_DAG: ("Model training", data.train_data, sections.train_sections),
    CAMPAIGN_DAG: ("Campaign", data.campaign_data,
                   lambda rows: sections.campaign_sections(rows, campaign_currency())),
}


def report_path(settings: Settings, dag_id: str, run_id: str) -> Path:
    """$JOURNEY_HOME/reports/<dag_id>/<run_id>.html ('/' in a run id becomes '_')."""
    return settings.reports_dir / dag_id / f"{run_id.replace('/', '_')}.html"


def _builder(dag_id: str) -> tuple[str, Callable, Callable[[dict], list[Section]]]:
    """The (title, query, sections) of a DAG; a clear error for a DAG without a report."""
    if dag_id not in BUILDERS:
        raise InputError(f"no HTML report for DAG {dag_id!r}: expected one of {', '.join(BUILDERS)}")
    return BUILDERS[dag_id]


def write_run_report(settings: Settings, dag_id: str, run_id: str) -> Path:
    """Query what the run published, draw the charts and write the page; returns its path."""
    title, query, build = _builder(dag_id)
    with warehouse.connect(settings) as conn:
        rows = query(conn, run_id)
    meta = {"DAG": dag_id, "run": run_id, "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}
    if rows.get("snapshot"):
        meta["snapshot"] = str(rows["snapshot"])
    return write_page(report_path(settings, dag_id, run_id), settings.reports_dir, f"Journey: {title}", meta,
                      build(rows))


def print_run_report(settings: Settings, dag_id: str, run_id: str) -> Path:
    """write_run_report, printing 'report: <path>' and, as the log's last line, a link to open it."""
    path = write_run_report(settings, dag_id, run_id)
    print("\n".join(report_log_lines(path)))
    return path


def report_log_lines(path: Path) -> list[str]:
    """What a report task logs: the path, then a file:// link that opens the page (the log's last line)."""
    return [f"report: {path}", f"Run report: {path.resolve().as_uri()}"]
