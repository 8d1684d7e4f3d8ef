"""The campaign page's results section: the lift chart's points and intervals, and the provisional note."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from journey.reports import sections


def row(level: str, key: str, lift: float | None, low: float | None = None, high: float | None = None) -> dict:
    """One journey.campaign_results_current row as the report reads it."""
    return {"level": level, "key": key, "provisional": True, "measured_at": datetime(2026, 11, 5, 6, tzinfo=UTC),
            "treated_users": 90, "holdout_users": 10, "rate_lift": lift, "rate_lift_low": low, "rate_lift_high": high,
            "incremental_profit": None, "incremental_profit_low": None, "incremental_profit_high": None}


RESULTS = [row("campaign", "all", 0.05, 0.01, 0.12), row("segment", "Browsers", -0.02, -0.10, 0.03),
           row("segment", "Empty", None), row("offer", "pct10", 0.08, 0.02, 0.2)]


def test_lift_chart_plots_each_row_with_its_interval_in_points():
    section = sections.results_section(RESULTS)
    [figure] = section.figures
    trace = figure.data[0]
    assert list(trace.y) == ["campaign: all", "segment: Browsers", "offer: pct10"]  # no lift: left out
    assert list(trace.x) == pytest.approx([5.0, -2.0, 8.0])
    assert list(trace.error_x.array) == pytest.approx([7.0, 5.0, 12.0])
    assert list(trace.error_x.arrayminus) == pytest.approx([4.0, 8.0, 6.0])
    assert section.notes[0] == "measured 2026-11-05 06:00 UTC: PROVISIONAL, the attribution window is still open"


def test_without_results_the_section_says_how_to_measure():
    section = sections.results_section([])
    assert section.figures == [] and "journey_campaign_results" in section.empty
    assert "results" in [s.id for s in sections.campaign_sections({"campaigns": [], "allocation": [], "ads": [],
                                                                    "names": {}, "dq": []})]


def test_exposures_add_the_per_exposed_estimate_and_a_leak_warning():
    exposure = {"exposed_users": 45, "exposure_rate": 0.5, "holdout_exposed_users": 3, "exposed_rate_lift": 0.10,
                "exposed_rate_lift_low": 0.02, "exposed_rate_lift_high": 0.24}
    section = sections.results_section([{**RESULTS[0], **exposure}, *RESULTS[1:]])
    assert section.notes[2].startswith("exposure-based estimate: 45 of 90 treated users exposed (50.00%); "
                                       "conversion lift per exposed user +10.00% [+2.00%, +24.00%] (Bloom")
    assert section.notes[3].startswith("WARNING: 3 held-out users have exposures")
    assert len(sections.results_section(RESULTS).notes) == 2  # no exposures: no note
