"""Campaign results end to end below the DAG: warehouse rows of a tiny run, curated events, real Spark.

Run spring/run-1 starts 2026-11-01 with a 7-day window (its own params). t1 (segment Shoppers,
pct10, code SP-T1) buys 2 × 20 inside the window and redeems SP-T1 (no price: 10 % of 40 = 4),
and also buys before and after the window; t2 (Browsers, fixed5, SP-T2) buys 30 and redeems
t1's code (does not count); t3 (Shoppers) got an ad only and does nothing; held out: h1
(Shoppers) buys 10, h2 (Browsers) nothing; u9, outside the campaign, buys too. Margin 0.3.
Between the two measurements senders report exposures (EXPOSURES): of the treated only t1 counts
(1 of 3; 1 of Shoppers' 2), and the held-out h2 was exposed too (a leak).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pyarrow as pa
import pytest

from journey import lake, warehouse
from journey.campaigns.measure import measure_campaigns
from journey.schemas import CURATED_EVENT_COLUMNS, spark_schema

pytestmark = pytest.mark.postgres

START = datetime(2026, 11, 1, tzinfo=UTC)
DAY = date(2026, 10, 31)
RUN = {"campaign_id": "spring", "run_id": "run-1", "snapshot_date": DAY}


@pytest.fixture(scope="module")
def settings(warehouse_settings):
    """A Journey home with a running embedded PostgreSQL (tests/integration/conftest.py)."""
    return warehouse_settings


def rows(**columns) -> pa.Table:
    """An Arrow table of the run's rows (run columns added to each)."""
    n = len(next(iter(columns.values())))
    return pa.Table.from_pydict({**{k: [v] * n for k, v in RUN.items()}, **columns})


def campaign_tables() -> list[warehouse.TableLoad]:
    """The published run: campaign row, holdout, audience counts, coupons, ads."""
    where = "campaign_id = 'spring' AND run_id = 'run-1'"
    params = json.dumps({"campaign_id": "spring", "attribution_window_days": 7})
    campaign = rows(name=["Spring"], objective=["conversion"], params=[params], signals=["{}"], budget=[100.0],
                    budget_used=[7.0], expected_value=[3.0], value_upper_bound=[4.0], eligible_users=[5],
                    holdout_users=[2], start_time=[START], end_time=[datetime(2026, 11, 8, tzinfo=UTC)])
    holdout = rows(user_id=["h1", "h2"], segment_id=[1, 2], draw=[0.01, 0.02])
    audience = rows(segment_id=[1, 1, 2, 2], segment_name=["Shoppers", "Shoppers", "Browsers", "Browsers"],
                    status=["treated", "holdout", "treated", "holdout"], reason=["eligible"] * 4, users=[2, 1, 1, 1])
    coupons = rows(user_id=["t1", "t2"], segment_id=[1, 2], offer_name=["pct10", "fixed5"], kind=["percent", "fixed"],
                   offer_value=[10.0, 5.0], min_spend=[0.0, 0.0], coupon_code=["SP-T1", "SP-T2"],
                   channel=["email", "email"], expected_cost=[4.0, 3.0], expected_value=[1.0, 2.0],
                   reason=["{}", "{}"])
    ads = rows(user_id=["t1", "t2", "t3"], segment_id=[1, 2, 1], channel=["email"] * 3, creative_id=["c"] * 3,
               send_at=[START] * 3, coupon_code=["SP-T1", "SP-T2", None], reason=["{}"] * 3)
    return [warehouse.TableLoad(table, data, data.column_names, where) for table, data in (
        ("campaigns", campaign), ("campaign_holdout", holdout), ("campaign_audience", audience),
        ("coupon_assignments", coupons), ("ad_assignments", ads))]


def event(n: int, when: datetime, user: str, kind: str, price: float | None = None, qty: int = 1,
          code: str | None = None) -> tuple:
    """One curated event row."""
    return (f"e{n}", when, user, f"s{n}", kind, "p1" if kind == "purchase" else None, "home", None, price,
            qty, "web", code, when.date())


def at(day: int, month: int = 11) -> datetime:
    """Noon UTC of a day of 2026."""
    return datetime(2026, month, day, 12, tzinfo=UTC)


EVENTS = [
    event(1, at(2), "t1", "purchase", 20.0, qty=2),
    event(2, at(2), "t1", "coupon_redeem", code="SP-T1"),
    event(3, at(30, 10), "t1", "purchase", 99.0),  # before the window
    event(4, at(9), "t1", "purchase", 99.0),  # after the 7-day window
    event(5, at(3), "t2", "coupon_redeem", code="SP-T1"),  # someone else's code
    event(6, at(3), "t2", "purchase", 30.0),
    event(7, at(4), "h1", "purchase", 10.0),
    event(8, at(4), "u9", "purchase", 500.0),  # not in the campaign
]


EXPOSURES = [  # (user_id, campaign_id, run_id, exposed_at)
    ("t1", "spring", "run-1", at(2)),
    ("t1", "spring", None, at(3)),  # no run named, inside the window: the same user again
    ("t2", "spring", None, at(9)),  # no run named, after the window: not the run's
    ("t2", "spring", "run-0", at(3)),  # another run
    ("t3", "spring", "run-1", at(30, 10)),  # before the window
    ("t3", "autumn", "run-1", at(3)),  # another campaign
    ("h2", "spring", "run-1", at(4)),  # a held-out user exposed: the holdout leaked
]


def report_exposures(settings) -> None:
    """EXPOSURES into journey.exposures as POST /v1/exposures stores them."""
    with warehouse.connect(settings) as conn, conn.cursor() as cur:
        for user, campaign, run, when in EXPOSURES:
            cur.execute("INSERT INTO journey.exposures (user_id, campaign_id, run_id, channel, kind, exposed_at, key_id) "
                        "VALUES (%s, %s, %s, 'email', 'sent', %s, 'k1')", (user, campaign, run, when))
        conn.commit()


@pytest.fixture(scope="module")
def measured(spark, settings):
    """The run published, the events in the lake, measured while open (11-05, no exposures yet) and once
    closed (11-10, after EXPOSURES were reported)."""
    with warehouse.connect(settings) as conn:
        warehouse.publish(conn, campaign_tables())
    frame = spark.createDataFrame(EVENTS, spark_schema(CURATED_EVENT_COLUMNS))
    frame.write.partitionBy("event_date").parquet(lake.path(settings, lake.CURATED_EVENTS))
    open_run = measure_campaigns(spark, settings, "spring", margin_rate=0.3, now=at(5))
    report_exposures(settings)
    closed = measure_campaigns(spark, settings, margin_rate=0.3, now=at(10))
    return open_run, closed


def fetch(settings, sql: str) -> list[tuple]:
    """Rows of a query as the owner."""
    with warehouse.connect(settings) as conn:
        return warehouse.fetch_all(conn, sql)


def test_each_measurement_publishes_its_rows(measured, settings):
    assert measured == ({"run-1": 9}, {"run-1": 9})
    found = fetch(settings, "SELECT measured_at, provisional, count(*) FROM journey.campaign_results "
                            "GROUP BY 1, 2 ORDER BY 1")
    assert found == [(at(5), True, 9), (at(10), False, 9)]


def test_campaign_row_counts_the_window_and_the_own_code_only(measured, settings):
    [row] = fetch(settings, """SELECT treated_users, treated_converters, treated_orders, treated_revenue,
        treated_redemptions, treated_coupon_cost, holdout_users, holdout_converters, holdout_revenue,
        window_end, provisional, rate_lift, round(incremental_revenue::numeric, 6)::float8,
        round(incremental_profit::numeric, 6)::float8, rate_lift_low < rate_lift AND rate_lift < rate_lift_high
        FROM journey.campaign_results_current WHERE level = 'campaign'""")
    # rate 2/3 − 1/2; revenue (70/3 − 5) × 3; profit per user (8, 9, 0) vs (3, 0): (17/3 − 1.5) × 3
    assert row == (3, 2, 2, 70.0, 1, 4.0, 2, 1, 10.0, datetime(2026, 11, 8, tzinfo=UTC), False,
                   pytest.approx(1 / 6), 55, 12.5, True)


def test_segment_and_offer_rows(measured, settings):
    found = fetch(settings, """SELECT level, key, segment_id, offer_name, treated_users, holdout_users,
        treated_revenue, treated_redemptions FROM journey.campaign_results_current ORDER BY level, key""")
    assert found == [("campaign", "all", None, None, 3, 2, 70.0, 1),
                     ("offer", "(no coupon)", None, None, 1, 2, 0.0, 0),
                     ("offer", "fixed5", None, "fixed5", 1, 2, 30.0, 0),
                     ("offer", "pct10", None, "pct10", 1, 2, 40.0, 1),
                     ("segment", "Browsers", 2, None, 1, 1, 30.0, 0),
                     ("segment", "Shoppers", 1, None, 2, 1, 40.0, 1),
                     ("segment_offer", "Browsers / fixed5", 2, "fixed5", 1, 1, 30.0, 0),
                     ("segment_offer", "Shoppers / (no coupon)", 1, None, 1, 1, 0.0, 0),
                     ("segment_offer", "Shoppers / pct10", 1, "pct10", 1, 1, 40.0, 1)]


EXPOSURE_SQL = """SELECT key, exposed_users, exposure_rate, holdout_exposed_users, exposed_rate_lift,
    exposed_rate_lift_low / rate_lift_low, exposed_rate_lift_high / rate_lift_high, exposed_revenue_lift
    FROM journey.campaign_results WHERE measured_at = %(at)s AND level IN ('campaign', 'segment') ORDER BY level, key"""


def test_exposures_give_the_lift_per_exposed_user_beside_the_assigned_one(measured, settings):
    with warehouse.connect(settings) as conn:
        found = warehouse.fetch_all(conn, EXPOSURE_SQL, {"at": at(10)})
    # all: 1 of 3 treated exposed; rate lift 2/3 − 1/2 = 1/6 → / (1/3) = 0.5, bounds × 3; revenue per user
    # 70/3 − 5 → / (1/3) = 55. Shoppers: 1 of 2; 1/2 − 1/1 = −0.5 → −1.0; revenue (20 − 10) / 0.5 = 20.
    # Browsers: t2 not exposed (no estimate), h2 exposed (the leak).
    assert found == [("all", 1, pytest.approx(1 / 3), 1, pytest.approx(0.5), pytest.approx(3), pytest.approx(3),
                      pytest.approx(55)),
                     ("Browsers", 0, 0.0, 1, None, None, None, None),
                     ("Shoppers", 1, 0.5, 0, pytest.approx(-1.0), pytest.approx(2), pytest.approx(2),
                      pytest.approx(20))]


def test_without_exposures_the_exposure_columns_are_null(measured, settings):
    found = fetch(settings, "SELECT count(*), count(exposed_users), count(exposure_rate), count(holdout_exposed_users), "
                            "count(exposed_rate_lift), count(exposed_revenue_lift_high) FROM journey.campaign_results "
                            "WHERE provisional")  # measured at 11-05, before any exposure was reported
    assert found == [(9, 0, 0, 0, 0, 0)]


def test_runs_whose_window_closed_long_ago_are_not_measured(spark, measured, settings):
    assert measure_campaigns(spark, settings, margin_rate=0.3, now=at(20)) == {}


def test_bi_role_reads_the_bi_view(measured, settings):
    conn = warehouse.open_connection(warehouse.bi_url(settings))
    try:
        found = warehouse.fetch_all(conn, "SELECT campaign_name, level, count(*) FROM journey.bi_campaign_results "
                                          "GROUP BY 1, 2 ORDER BY 2")
    finally:
        conn.close()
    assert found == [("Spring", "campaign", 1), ("Spring", "offer", 3), ("Spring", "segment", 2),
                     ("Spring", "segment_offer", 3)]


def test_command_prints_the_current_results_with_intervals(measured, settings, monkeypatch, capsys):
    from journey.cli import main

    monkeypatch.setenv("JOURNEY_HOME", str(settings.home))
    assert main(["campaigns", "results", "spring"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "campaign spring, run run-1: measured 2026-11-10 12:00 UTC; window 2026-11-01 00:00 + 7 days (closed)"
    campaign = next(line for line in lines if line.startswith("campaign all"))
    assert campaign.split()[2:8] == ["3", "66.67%", "2", "50.00%", "1", "4.00"]
    assert "+16.67% [" in campaign and "+55.00 [" in campaign and "+12.50 [" in campaign
    assert campaign.split()[-4:-2] == ["33.33%", "+50.00%"]  # exposed, lift per exposed user
    assert [line.split()[1] for line in lines[2:11]] == ["all", "Browsers", "Shoppers", "(no", "fixed5", "pct10",
                                                           "Browsers", "Shoppers", "Shoppers"]
    assert lines[12].startswith("exposure-based estimate: 1 of 3 treated users exposed (33.33%); conversion lift "
                                "per exposed user +50.00% [")
    assert lines[13].startswith("WARNING: 1 held-out users have exposures") and len(lines) == 14
    assert main(["campaigns", "results", "autumn"]) == 2  # nothing measured: one error line
    assert "no results for campaign 'autumn'" in capsys.readouterr().err


def test_an_unpublished_campaign_or_a_run_without_campaign_is_refused(spark, measured, settings):
    from journey.errors import InputError

    with pytest.raises(InputError, match="campaign 'autumn' is not published in journey.campaigns"):
        measure_campaigns(spark, settings, "autumn", now=at(10))
    with pytest.raises(InputError, match="run 'run-9' of campaign 'spring' is not published"):
        measure_campaigns(spark, settings, "spring", "run-9", now=at(10))
    with pytest.raises(InputError, match="run_id needs campaign_id"):
        measure_campaigns(spark, settings, None, "run-1", now=at(10))


def test_the_last_measurement_leaves_its_per_user_outcomes_in_the_lake(measured, settings):
    from journey.campaigns.outcomes import read_outcomes

    outcomes = read_outcomes(settings).sort_values("user_id")
    assert outcomes["user_id"].tolist() == ["h1", "h2", "t1", "t2", "t3"]  # one row per user
    assert outcomes["arm"].tolist() == ["holdout", "holdout", "treated", "treated", "treated"]
    assert set(outcomes["provisional"]) == {False} and set(outcomes["run_id"]) == {"run-1"}  # the closed measurement
