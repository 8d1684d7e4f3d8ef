"""Report sections per DAG, built from the rows of journey.reports.data (no database access here)."""

from __future__ import annotations

from journey.reports import charts
from journey.reports.page import Section

DQ_HEADER = ("dataset", "check", "column", "severity", "observed", "unexpected")


def quality_sections(data: dict) -> list[Section]:
    """DQ results of the run (chart plus the checks that did not pass) and quarantine by reason."""
    failed = [DQ_HEADER] + [(d, e, c or "", sev, obs or "", n if n is not None else "")
                            for d, e, c, sev, ok, obs, n in data["dq"] if not ok]
    dq_notes = [f"{len(data['dq'])} checks, {len(failed) - 1} did not pass."] if data["dq"] else []
    return [
        Section("quality", "Data-quality results", [charts.dq_outcomes(data["dq"])], dq_notes,
                failed if len(failed) > 1 else [], empty="No data-quality results recorded for this run."),
        Section("quarantine", "Quarantine", [charts.quarantine_reasons(data["quarantine"])],
                [f"{sum(n for *_, n in data['quarantine']):,} rows quarantined."] if data["quarantine"] else [],
                empty="No rows quarantined by this run."),
    ]


def daily_sections(data: dict) -> list[Section]:
    """Segment sizes over time, RFM distribution, transitions Sankey, quality."""
    names = data["names"]
    return [
        Section("segment-sizes", "Segment sizes over time", [charts.segment_sizes(data["sizes"])],
                empty="No segment summary published by this run."),
        Section("rfm", "RFM distribution", [charts.rfm_grid(data["rfm"])], empty="No user profiles for this snapshot."),
        Section("transitions", "Segment transitions", [charts.transitions_sankey(data["transitions"], names)],
                empty="No transitions for this snapshot."),
        *quality_sections(data),
    ]


def train_sections(data: dict) -> list[Section]:
    """Model metrics against champions and baselines, with each promotion decision."""
    table = [("model", "version", "primary metric", "value", "status", "decision")] + [
        (m["name"], m["version"], m["primary"], _fmt((m["report"].get("challenger") or {}).get(m["primary"])),
         m["status"], m["decision"] or "") for m in data["models"]]
    return [Section("models", "Model metrics against baselines", [charts.model_metrics(data["models"])],
                    table=table if data["models"] else [], empty="No model registered by this run.")]


def campaign_sections(data: dict) -> list[Section]:
    """Allocation by segment and offer, budget used, ads by channel, quality."""
    notes = [f"{c['campaign_id']} ({c['objective']}): budget {c['budget']:,.2f}, used {c['budget_used']:,.2f}, "
             f"expected value {c['expected_value']:,.2f}, {c['eligible_users']:,} eligible, "
             f"{c['holdout_users']:,} held out" for c in data["campaigns"]]
    return [
        Section("allocation", "Coupon allocation by segment and offer",
                [charts.allocation(data["allocation"], data["names"])], empty="No coupons published by this run."),
        Section("budget", "Budget used", [charts.budget(data["campaigns"])], notes,
                empty="No campaign published by this run (dry run or failed before publish)."),
        Section("ads", "Ads by channel", [charts.ads_by_channel(data["ads"])], empty="No ads published by this run."),
        *quality_sections(data),
    ]


def _fmt(value: float | None) -> str:
    """A metric value with 4 decimals, or a dash."""
    return "–" if value is None else f"{value:.4f}"
