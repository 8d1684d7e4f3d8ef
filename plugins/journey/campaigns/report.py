"""The run's closing report: what each step did, and what went to journey.bi_campaign_summary.

Printed to the task log and saved as report.json in the run folder (dry runs too: their
figures come from the lake summaries only).
"""

from __future__ import annotations

from journey import lake, warehouse
from journey.campaigns.currency import campaign_currency
from journey.campaigns.request import CampaignRequest, load_step_summaries, output_path
from journey.config import Settings

BI_SQL = """SELECT segment_id, segment_name, eligible, excluded, excluded_by_reason, holdout, coupons,
       coupons_by_offer, budget_used, expected_value, ads, ads_by_channel
FROM journey.bi_campaign_summary WHERE campaign_id = %(campaign_id)s AND run_id = %(run_id)s ORDER BY segment_id"""
BI_FIELDS = ("segment_id", "segment_name", "eligible", "excluded", "excluded_by_reason", "holdout", "coupons",
             "coupons_by_offer", "budget_used", "expected_value", "ads", "ads_by_channel")


def bi_rows(settings: Settings, request: CampaignRequest) -> list[dict]:
    """The run's rows of journey.bi_campaign_summary (empty for a dry run or a superseded run)."""
    if request.params.dry_run:
        return []
    with warehouse.connect(settings) as conn:
        rows = warehouse.fetch_all(conn, BI_SQL, {"campaign_id": request.params.campaign_id, "run_id": request.run_id})
    return [dict(zip(BI_FIELDS, row, strict=True)) for row in rows]


def report_lines(request: CampaignRequest, summaries: dict[str, dict], segments: list[dict]) -> list[str]:
    """Human-readable lines of the report."""
    params = request.params
    elig, hold = summaries.get("eligibility", {}), summaries.get("holdout", {})
    coupons, ads, recs = summaries.get("coupons", {}), summaries.get("ads", {}), summaries.get("recommendations", {})
    lines = [f"campaign {params.name} ({params.campaign_id}, {params.objective}), run {request.run_id}, profiles of "
             f"{request.snapshot_date}{' [DRY RUN: nothing published]' if params.dry_run else ''}",
             f"  audience: {elig.get('users', 0):,} users, {elig.get('eligible', 0):,} eligible, "
             f"{hold.get('holdout', 0):,} held out ({hold.get('observed_share', 0):.1%}), "
             f"{hold.get('treated', 0):,} treated",
             "  excluded: " + (", ".join(f"{r} {n:,}" for r, n in sorted(elig.get("excluded_by_reason", {}).items()))
                               or "nobody"),
             f"  signals: {elig.get('signals', {}).get('description', 'n/a')}",
             f"  coupons: {coupons.get('coupons', 0):,} ("
             + ", ".join(f"{o} {n:,}" for o, n in sorted(coupons.get("coupons_by_offer", {}).items()))
             + f"); budget {coupons.get('budget_used', 0):,.2f} of {params.budget:,.2f} {campaign_currency()}; "
               f"expected value "
               f"{coupons.get('expected_value', 0):,.2f} (LP bound {coupons.get('value_upper_bound', 0):,.2f})"
               + (f"; randomised test {coupons['test_picks']:,} coupons, cost {coupons.get('test_cost', 0):,.2f}"
                  if coupons.get("test_picks") else ""),
             f"  ads: {ads.get('ads', 0):,} (" + ", ".join(f"{c} {n:,}" for c, n in
                                                       sorted(ads.get("ads_by_channel", {}).items())) + ")",
             f"  recommendations: {recs.get('recommendations', 0):,} rows, K={recs.get('k', params.recommendations_k)}"]
    for m in recs.get("evaluation", []):
        lines.append(f"    {m['model']:<10} NDCG@{m['k']} {m['ndcg_at_k']:.3f}  P@{m['k']} {m['precision_at_k']:.3f}  "
                     f"R@{m['k']} {m['recall_at_k']:.3f}  coverage {m['coverage']:.1%}")
    if segments:
        lines.append("  journey.bi_campaign_summary:")
        lines += [f"    #{s['segment_id']} {s['segment_name']}: eligible {s['eligible']:,}, excluded {s['excluded']:,}, "
                  f"holdout {s['holdout']:,}, coupons {s['coupons']:,}, budget {s['budget_used']:,.2f}, "
                  f"value {s['expected_value']:,.2f}, ads {s['ads']:,}" for s in segments]
    return lines


def report(settings: Settings, request: CampaignRequest) -> dict:
    """Print the report and save report.json; returns it."""
    summaries = load_step_summaries(settings, request.params.campaign_id, request.run_id)
    segments = bi_rows(settings, request)
    for line in report_lines(request, summaries, segments):
        print(line)
    doc = {"request": request.to_json(), "steps": summaries, "bi_campaign_summary": segments}
    target = output_path(settings, request.params.campaign_id, request.run_id, "report.json")
    lake.write_json(target, doc)
    print(f"  report: {target}")
    return doc
