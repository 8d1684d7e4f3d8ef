"""Report sections per DAG, built from the rows of journey.reports.data (no database access here)."""

from __future__ import annotations

from journey.reports import charts
from journey.reports.page import Section

DQ_HEADER = ("dataset", "check", "column", "severity", "observed", "unexpected")


def dq_section(data: dict) -> Section:
    """DQ results of the run: chart plus the checks that did not pass."""
    failed = [DQ_HEADER] + [(d, e, c or "", sev, obs or "", n if n is not None else "")
                            for d, e, c, sev, ok, obs, n in data["dq"] if not ok]
    dq_notes = [f"{len(data['dq'])} checks, {len(failed) - 1} did not pass."] if data["dq"] else []
    return Section("quality", "Data-quality results", [charts.dq_outcomes(data["dq"])], dq_notes,
                   failed if len(failed) > 1 else [], empty="No data-quality results recorded for this run.")


def quality_sections(data: dict) -> list[Section]:
    """DQ results of the run and quarantine by reason (runs that ingest rows)."""
    return [
        dq_section(data),
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


def campaign_sections(data: dict, currency: str = "EUR") -> list[Section]:
    """Campaign name and budget, exclusion funnel, per-segment table, allocation, ads, recommendation quality,
    data quality (a campaign quarantines no rows: no quarantine section)."""
    notes = [f"{c['name']} ({c['campaign_id']}, {c['objective']}): budget {c['budget']:,.2f}, used "
             f"{c['budget_used']:,.2f} ({currency}), expected value {c['expected_value']:,.2f}, "
             f"{c['eligible_users']:,} eligible, {c['holdout_users']:,} held out" for c in data["campaigns"]]
    segments = data.get("segments", [])
    return [
        Section("budget", "Campaign and budget used", [charts.budget(data["campaigns"])], notes,
                empty="No campaign published by this run (dry run or failed before publish)."),
        Section("funnel", "Audience: exclusion funnel", table=funnel_table(segments),
                empty="No audience published by this run."),
        Section("segments", "Per segment", table=segment_table(segments, currency),
                empty="No audience published by this run."),
        Section("allocation", "Coupon allocation by segment and offer",
                [charts.allocation(data["allocation"], data["names"])], empty="No coupons published by this run."),
        Section("ads", "Ads by channel", [charts.ads_by_channel(data["ads"])], empty="No ads published by this run."),
        Section("recommendations", "Recommendation quality (offline, on each user's latest events)",
                table=recommendation_table(data.get("recommendations", [])),
                empty="No recommendation evaluation published by this run."),
        results_section(data.get("results", [])),
        dq_section(data),
    ]


def results_section(results: list[dict]) -> Section:
    """Measured lift per segment and offer (journey_campaign_results), flagged while the window is open, and the
    exposure-based estimate (with a warning on a leaked holdout) when the run has exposures."""
    from journey.campaigns.results_view import exposure_notes

    notes = []
    if results:
        first = results[0]
        notes = [f"measured {first['measured_at']:%Y-%m-%d %H:%M} UTC"
                 + (": PROVISIONAL, the attribution window is still open" if first["provisional"] else
                    ": the attribution window has closed"),
                 "segments: treated against held-out users of the segment; offers: against the whole holdout "
                 "(offers are not assigned at random); segment_offer: the segment's users given the offer against "
                 "the segment's held-out users", *exposure_notes(results)]
    return Section("results", "Measured lift per segment and offer", [charts.lift_intervals(results)], notes,
                   empty="No results measured for this run yet: DAG journey_campaign_results measures it daily "
                         "(or `journey run results --param campaign_id=…`); rewrite this page with `journey report`.")


def funnel_table(segments: list[dict]) -> list[tuple]:
    """Users at each step, summed over segments: audience, each exclusion, eligible, held out, treated, coupons."""
    if not segments:
        return []
    total = {key: sum(s[key] or 0 for s in segments) for key in ("eligible", "excluded", "holdout", "coupons")}
    reasons: dict[str, int] = {}
    for s in segments:
        for reason, users in (s["excluded_by_reason"] or {}).items():
            reasons[reason] = reasons.get(reason, 0) + users
    return [("step", "users"), ("audience (targeted segments)", f"{total['eligible'] + total['excluded']:,}"),
            *((f"excluded: {reason}", f"−{users:,}") for reason, users in sorted(reasons.items(), key=lambda r: -r[1])),
            ("eligible", f"{total['eligible']:,}"), ("held out (control group)", f"−{total['holdout']:,}"),
            ("treated", f"{total['eligible'] - total['holdout']:,}"), ("with a coupon", f"{total['coupons']:,}")]


def segment_table(segments: list[dict], currency: str) -> list[tuple]:
    """One row per targeted segment: eligible, excluded, held out, coupons, budget used, expected value, ads."""
    header = ("segment", "eligible", "excluded", "held out", "coupons", f"budget used ({currency})",
              f"expected value ({currency})", "ads")
    return [header, *((f"#{s['segment_id']} {s['segment_name']}", f"{s['eligible'] or 0:,}", f"{s['excluded'] or 0:,}",
                       f"{s['holdout'] or 0:,}", f"{s['coupons'] or 0:,}", f"{s['budget_used'] or 0:,.2f}",
                       f"{s['expected_value'] or 0:,.2f}", f"{s['ads'] or 0:,}") for s in segments)] if segments else []


def recommendation_table(rows: list[dict]) -> list[tuple]:
    """Precision, recall, NDCG at K and catalog coverage of each recommender on the same test users."""
    if not rows:
        return []
    return [("model", "K", "precision@K", "recall@K", "NDCG@K", "coverage", "test users"),
            *((r["model"], r["k"], _fmt(r["precision"]), _fmt(r["recall"]), _fmt(r["ndcg"]), f"{r['coverage']:.1%}",
               f"{r['users']:,}") for r in rows)]


def _fmt(value: float | None) -> str:
    """A metric value with 4 decimals, or a dash."""
    return "–" if value is None else f"{value:.4f}"
