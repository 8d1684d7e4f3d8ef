"""The campaign run's HTML page carries what its log summary has (issue #24), without a browser.

Hand-made warehouse rows (the shape of journey.bi_campaign_summary and journey.recommendation_eval)
go through campaign_sections and write_page; the tests read the sections and the written HTML.
"""

from __future__ import annotations

from datetime import date

from journey.reports import sections
from journey.reports.page import write_page

CAMPAIGN = {"campaign_id": "autumn-sale", "name": "Autumn sale", "objective": "conversion",
            "snapshot_date": date(2026, 11, 29), "budget": 60.0, "budget_used": 58.0, "expected_value": 140.5,
            "eligible_users": 90, "holdout_users": 9}
SEGMENTS = [
    {"segment_id": 1, "segment_name": "Deal seekers", "eligible": 50, "excluded": 12,
     "excluded_by_reason": {"no_consent": 8, "frequency_cap": 4}, "holdout": 5, "coupons": 20, "budget_used": 40.0,
     "expected_value": 100.0, "ads": 45},
    {"segment_id": 2, "segment_name": "Browsers", "eligible": 40, "excluded": 3, "excluded_by_reason": {"no_consent": 3},
     "holdout": 4, "coupons": 9, "budget_used": 18.0, "expected_value": 40.5, "ads": 36},
]
RECOMMENDATIONS = [{"model": "hybrid", "k": 10, "precision": 0.1234, "recall": 0.2, "ndcg": 0.31, "coverage": 0.42,
                    "users": 77},
                   {"model": "popularity", "k": 10, "precision": 0.05, "recall": 0.1, "ndcg": 0.12,
                    "coverage": 0.01, "users": 77}]
DATA = {"campaigns": [CAMPAIGN], "allocation": [(1, "pct10", 20, 40.0)], "ads": [("email", 60), ("push", 21)],
        "names": {1: "Deal seekers", 2: "Browsers"}, "segments": SEGMENTS, "recommendations": RECOMMENDATIONS,
        "dq": [], "quarantine": [("events", "bad price", 3)]}


def by_id(built: list) -> dict:
    """Sections keyed by their id."""
    return {s.id: s for s in built}


def test_the_funnel_adds_up_the_segments_exclusion_by_exclusion():
    funnel = by_id(sections.campaign_sections(DATA))["funnel"].table

    assert funnel == [("step", "users"), ("audience (targeted segments)", "105"), ("excluded: no_consent", "−11"),
                      ("excluded: frequency_cap", "−4"), ("eligible", "90"), ("held out (control group)", "−9"),
                      ("treated", "81"), ("with a coupon", "29")]


def test_per_segment_and_recommendation_tables_and_the_campaign_name():
    built = by_id(sections.campaign_sections(DATA, "USD"))

    assert built["segments"].table[0][5] == "budget used (USD)"
    assert built["segments"].table[1] == ("#1 Deal seekers", "50", "12", "5", "20", "40.00", "100.00", "45")
    assert built["recommendations"].table[1] == ("hybrid", 10, "0.1234", "0.2000", "0.3100", "42.0%", "77")
    assert built["budget"].notes == ["Autumn sale (autumn-sale, conversion): budget 60.00, used 58.00 (USD), "
                                     "expected value 140.50, 90 eligible, 9 held out"]


def test_a_campaign_page_has_no_quarantine_section_and_says_what_is_missing(tmp_path):
    path = tmp_path / "reports" / "journey_campaign" / "dry.html"
    empty = {"campaigns": [], "allocation": [], "ads": [], "names": {}, "dq": [], "quarantine": []}

    write_page(path, tmp_path / "reports", "campaign", {}, sections.campaign_sections(empty))

    html = path.read_text()
    assert 'id="quarantine"' not in html and "Quarantine" not in html
    for text in ("No audience published by this run.", "No recommendation evaluation published by this run."):
        assert text in html


def test_the_budget_gauge_title_stays_below_the_chart_title():
    (figure,) = by_id(sections.campaign_sections(DATA))["budget"].figures

    (gauge,) = figure.data
    assert gauge.title.text == "Autumn sale"
    assert max(gauge.domain.y) < 0.8  # the gauge's own title sits at the top of its domain


def test_the_report_task_ends_its_log_with_a_link(tmp_path):
    from journey.config import get_settings
    from journey.reports import report_log_lines, report_path

    path = report_path(get_settings({"JOURNEY_HOME": str(tmp_path)}), "journey_campaign",
                       "campaign__autumn-sale__2026-11-30T120000Z")

    assert report_log_lines(path) == [
        f"report: {path}",
        f"Run report: file://{tmp_path}/reports/journey_campaign/campaign__autumn-sale__2026-11-30T120000Z.html"]
