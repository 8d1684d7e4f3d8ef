"""HTML run report pages built from hand-made rows (no warehouse), rendered in headless Chromium."""

from __future__ import annotations

from datetime import date

import pytest

from journey.reports import sections
from journey.reports.page import PLOTLY_JS, write_page
from tests.e2e.report_checks import assert_report_renders

DQ = [("events", "expect_column_values_to_not_be_null", "user_id", "error", True, None, 0),
      ("events", "expect_table_row_count_to_be_between", None, "warn", False, "12", None),
      ("profiles", "expect_column_values_to_be_between", "r_score", "error", True, None, 0)]
DAILY = {
    "snapshot": date(2026, 3, 2), "names": {0: "Loyal big spenders", 1: "Window shoppers"},
    "sizes": [(date(2026, 3, 1), 0, "Loyal big spenders", 40), (date(2026, 3, 1), 1, "Window shoppers", 60),
              (date(2026, 3, 2), 0, "Loyal big spenders", 45), (date(2026, 3, 2), 1, "Window shoppers", 58)],
    "rfm": [(1, 1, 10), (1, 2, 5), (2, 1, 7), (2, 2, 20)],
    "transitions": [(0, 0, 38), (0, 1, 2), (1, 0, 7), (1, 1, 51), (None, 1, 5), (1, None, 2)],
    "dq": DQ, "quarantine": [("events", "price must be >= 0", 3)],
}
EMPTY_CAMPAIGN = {"campaigns": [], "allocation": [], "ads": [], "names": {}, "dq": [], "quarantine": []}


def test_daily_page_draws_every_section(tmp_path):
    """Arrange hand-made rows; act: write the page; assert: charts in each section, warn row listed, JS offline."""
    path = tmp_path / "reports" / "journey_daily_profiles" / "manual__2026-03-02T00:00:00+00:00.html"

    write_page(path, tmp_path / "reports", "daily", {"run": "r1"}, sections.daily_sections(DAILY))

    html = path.read_text()
    assert '<script src="../assets/plotly.min.js">' in html
    assert (tmp_path / "reports" / "assets" / PLOTLY_JS).stat().st_size > 1_000_000
    assert "expect_table_row_count_to_be_between" in html  # the check that did not pass is listed
    assert "3 checks, 1 did not pass." in html
    assert "cdn.plot.ly" not in html
    rendered = assert_report_renders(path, {"segment-sizes": 1, "rfm": 1, "transitions": 1, "quality": 1,
                                            "quarantine": 1})
    assert "before: #1 Window shoppers" in rendered.dom and "new users" in rendered.dom  # Sankey node labels


def test_empty_sections_say_so(tmp_path):
    """A campaign run that published nothing gets text, not charts and not a crash."""
    path = tmp_path / "reports" / "journey_campaign" / "dry.html"

    write_page(path, tmp_path / "reports", "campaign", {}, sections.campaign_sections(EMPTY_CAMPAIGN))

    html = path.read_text()
    for text in ("No coupons published by this run.", "No campaign published by this run",
                 "No ads published by this run.", "No data-quality results recorded for this run."):
        assert text in html
    assert 'class="plotly-graph-div"' not in html


def test_train_page_table_values():
    """Model rows show the challenger's primary metric and the decision; baselines appear in the chart."""
    models = [{"name": "propensity", "version": 2, "primary": "roc_auc", "status": "champion",
               "decision": "promoted: beats champion",
               "report": {"primary": "roc_auc", "challenger": {"roc_auc": 0.8123}, "champion": {"roc_auc": 0.79},
                          "champion_version": 1, "baselines": {"recency": {"roc_auc": 0.61}}}}]

    (section,) = sections.train_sections({"models": models})

    assert section.table[1] == ("propensity", 2, "roc_auc", "0.8123", "champion", "promoted: beats champion")
    names = sorted(trace.name for trace in section.figures[0].data)
    assert names == ["baseline: recency", "challenger", "champion"]
    assert [t.y[0] for t in sorted(section.figures[0].data, key=lambda t: t.name)] == pytest.approx([0.61, 0.8123, 0.79])


def test_campaign_page_draws_allocation_budget_and_ads(tmp_path):
    """Allocation stacked by offer with segment names, a budget gauge, ads by channel, all drawn."""
    campaign = {"campaign_id": "spring", "name": "Spring", "objective": "conversion", "snapshot_date": date(2026, 3, 2),
                "budget": 500.0, "budget_used": 431.5, "expected_value": 1200.0, "eligible_users": 90,
                "holdout_users": 10}
    data = {"campaigns": [campaign], "names": {0: "Loyal big spenders"},
            "allocation": [(0, "10% off", 12, 60.0), (0, "free shipping", 5, 25.0), (None, "10% off", 3, 15.0)],
            "ads": [("email", 30), ("push", 12)], "dq": DQ, "quarantine": []}
    path = tmp_path / "reports" / "journey_campaign" / "run.html"

    write_page(path, tmp_path / "reports", "campaign", {}, sections.campaign_sections(data))

    rendered = assert_report_renders(path, {"allocation": 1, "budget": 1, "ads": 1, "quality": 1})
    assert "#0 Loyal big spenders" in rendered.dom and "unsegmented" in rendered.dom
    assert "budget 500.00, used 431.50" in rendered.dom


def _text_y(dom: str, text: str) -> float:
    """Baseline y (px) of the SVG text whose data-unformatted is `text`, from its y or translate()."""
    import re

    found = re.search(rf'<text[^>]*data-unformatted="{re.escape(text)}"[^>]*>', dom)
    assert found, f"{text!r} not drawn"
    moved = re.search(r'translate\([\d.]+,([\d.]+)\)', found.group(0))
    return float(moved.group(1)) if moved else float(re.search(r' y="([\d.]+)"', found.group(0)).group(1))


def test_campaign_page_shows_the_log_summary_and_titles_do_not_overlap(tmp_path):
    """Issue #24: name, funnel, per-segment table and recommendation quality on the page; the gauge's title
    (the campaign name) was drawn on top of the chart title (both at y≈30 px)."""
    from tests.unit.test_campaign_report_page import DATA

    path = tmp_path / "reports" / "journey_campaign" / "run.html"
    write_page(path, tmp_path / "reports", "campaign", {}, sections.campaign_sections(DATA))

    rendered = assert_report_renders(path, {"budget": 1, "allocation": 1, "ads": 1})
    for text in ("Autumn sale (autumn-sale, conversion)", "excluded: no_consent", "#2 Browsers", "popularity",
                 "held out (control group)"):
        assert text in rendered.dom, text
    assert 'id="quarantine"' not in rendered.dom
    chart_title = _text_y(rendered.dom, "Budget used (expected coupon cost) against the budget")
    assert _text_y(rendered.dom, "Autumn sale") - 14 > chart_title + 10  # a 14 px gauge title, clear of it
