"""Bloom's estimator of the lift per exposed user, on hand numbers."""

from __future__ import annotations

import pytest

from journey.campaigns.exposure_lift import EXPOSURE_COLUMNS, exposure_figures, per_exposed
from journey.campaigns.lift import Interval
from journey.errors import InputError


def test_the_itt_effect_and_its_bounds_are_divided_by_the_exposure_rate():
    found = per_exposed(Interval(0.02, -0.01, 0.05), 0.25)
    assert (found.estimate, found.low, found.high) == pytest.approx((0.08, -0.04, 0.2))
    assert per_exposed(Interval(0.02, -0.01, 0.05), 1.0) == Interval(0.02, -0.01, 0.05)  # everyone exposed: ITT


def test_no_exposure_or_no_itt_gives_no_estimate():
    assert per_exposed(Interval(0.02, 0.01, 0.03), 0.0) is None
    assert per_exposed(Interval(0.02, 0.01, 0.03), None) is None
    assert per_exposed(None, 0.5) is None
    with pytest.raises(InputError, match=r"exposure rate must be in \(0, 1\], got 1.5"):
        per_exposed(Interval(0.02, 0.01, 0.03), 1.5)


def test_figures_of_a_row_with_4_of_10_treated_users_exposed():
    # conversion lift 0.10 [0.02, 0.18] and revenue lift 5 [1, 9] per treated user; rate 4 / 10
    found = exposure_figures(10, 4, 0, Interval(0.10, 0.02, 0.18), Interval(5.0, 1.0, 9.0))
    assert list(found) == list(EXPOSURE_COLUMNS)
    assert found == pytest.approx({"exposed_users": 4, "exposure_rate": 0.4, "holdout_exposed_users": 0,
                                   "exposed_rate_lift": 0.25, "exposed_rate_lift_low": 0.05,
                                   "exposed_rate_lift_high": 0.45, "exposed_revenue_lift": 12.5,
                                   "exposed_revenue_lift_low": 2.5, "exposed_revenue_lift_high": 22.5})


def test_without_exposures_every_column_is_null_never_zero():
    assert exposure_figures(10, None, None, Interval(0.1, 0.0, 0.2), Interval(5.0, 1.0, 9.0)) == dict.fromkeys(
        EXPOSURE_COLUMNS)
    none_exposed = exposure_figures(10, 0, 0, Interval(0.1, 0.0, 0.2), None)
    assert (none_exposed["exposure_rate"], none_exposed["exposed_rate_lift"]) == (0.0, None)
    empty_arm = exposure_figures(0, 0, 1, None, None)  # a segment with held-out users only
    assert (empty_arm["exposure_rate"], empty_arm["holdout_exposed_users"], empty_arm["exposed_rate_lift"]) == (
        None, 1, None)


def test_more_exposed_than_treated_users_is_refused():
    with pytest.raises(InputError, match="11 exposed users for 10 treated users"):
        exposure_figures(10, 11, 0, None, None)
