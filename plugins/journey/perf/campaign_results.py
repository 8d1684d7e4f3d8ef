"""Time the campaign results step on a synthetic published run: `python -m journey.perf.campaign_results`.

A run of USERS eligible users (10 % held out, every treated user one of three coupons and an ad)
is written to a fresh embedded PostgreSQL, and EVENTS_PER_USER curated events per user (views,
purchases, redemptions of the user's own code) to the lake, half inside the 14-day window, and with `--exposed-share` that share of the treated users gets
EXPOSURES_PER_USER rows in journey.exposures inside the window (as `POST /v1/exposures` stores
them); then `measure_campaigns` is timed (Spark: window events, per-user sums; pandas: breakdown and
intervals; COPY publish). Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pyarrow as pa

from journey import lake, warehouse
from journey.campaigns.measure import measure_campaigns
from journey.config import get_settings
from journey.runtime.spark import get_spark
from journey.schemas import CURATED_EVENT_COLUMNS, spark_schema

START = datetime(2026, 11, 1, tzinfo=UTC)
OFFERS = (("pct10", "percent", 10.0), ("fixed5", "fixed", 5.0), ("freeship", "free_shipping", 0.0))
KINDS = np.array(["view", "purchase", "coupon_redeem"])
EXPOSURES_PER_USER = 3


def run_tables(users: np.ndarray, held: np.ndarray, rng: np.random.Generator) -> list[warehouse.TableLoad]:
    """The published run: campaign row, holdout, audience counts, coupons and ads of the treated users."""
    treated, n = users[~held], int((~held).sum())
    offer = rng.integers(0, len(OFFERS), n)
    run = {"campaign_id": "bench", "run_id": "r1", "snapshot_date": date(2026, 10, 31)}

    def table(**columns) -> pa.Table:
        size = len(next(iter(columns.values())))
        return pa.Table.from_pydict({**{k: [v] * size for k, v in run.items()}, **columns})

    codes = [f"B-{u}" for u in treated]
    tables = {
        "campaigns": table(name=["Bench"], objective=["conversion"], params=['{"attribution_window_days": 14}'],
                           signals=["{}"], budget=[1.0], budget_used=[1.0], expected_value=[1.0],
                           value_upper_bound=[1.0], eligible_users=[len(users)], holdout_users=[int(held.sum())],
                           start_time=[START], end_time=[START + timedelta(days=7)]),
        "campaign_holdout": table(user_id=list(users[held]), segment_id=[1] * int(held.sum()),
                                  draw=[0.05] * int(held.sum())),
        "campaign_audience": table(segment_id=[1, 1], segment_name=["All"] * 2, status=["treated", "holdout"],
                                   reason=["eligible"] * 2, users=[n, int(held.sum())]),
        "coupon_assignments": table(user_id=list(treated), segment_id=[1] * n,
                                    offer_name=[OFFERS[i][0] for i in offer], kind=[OFFERS[i][1] for i in offer],
                                    offer_value=[OFFERS[i][2] for i in offer], min_spend=[0.0] * n, coupon_code=codes,
                                    channel=["email"] * n, expected_cost=[1.0] * n, expected_value=[1.0] * n,
                                    reason=["{}"] * n),
        "ad_assignments": table(user_id=list(treated), segment_id=[1] * n, channel=["email"] * n,
                                creative_id=["c"] * n, send_at=[START] * n, coupon_code=codes, reason=["{}"] * n),
    }
    return [warehouse.TableLoad(name, data, data.column_names) for name, data in tables.items()]


def events(users: np.ndarray, per_user: int, rng: np.random.Generator) -> list[tuple]:
    """Curated events: random users, kinds and times over 28 days from the start (half in the window)."""
    n = len(users) * per_user
    who = users[rng.integers(0, len(users), n)]
    kind = KINDS[rng.choice(3, n, p=[0.8, 0.15, 0.05])]
    when = [START + timedelta(minutes=int(m)) for m in rng.integers(0, 28 * 24 * 60, n)]
    price = np.round(rng.uniform(5, 80, n), 2)
    return [(f"e{i}", when[i], who[i], f"s{i}", kind[i], "p1", "home", None,
             None if kind[i] == "coupon_redeem" else float(price[i]), 1, "web",
             f"B-{who[i]}" if kind[i] == "coupon_redeem" else None, when[i].date()) for i in range(n)]


def report_exposures(conn, treated: np.ndarray, share: float, rng: np.random.Generator) -> int:
    """EXPOSURES_PER_USER exposures of run r1 in its window for a random `share` of the treated users."""
    from psycopg2.extras import execute_values

    if share <= 0:
        return 0
    exposed = treated[rng.random(len(treated)) < share]
    rows = [(user, "bench", "r1", "email", "sent", START + timedelta(hours=int(h)), "bench")
            for user in exposed for h in rng.integers(0, 14 * 24, EXPOSURES_PER_USER)]
    with conn.cursor() as cur:
        execute_values(cur, "INSERT INTO journey.exposures (user_id, campaign_id, run_id, channel, kind, exposed_at, "
                            "key_id) VALUES %s", rows, page_size=5000)
    conn.commit()
    return len(rows)


def time_exposure_query(settings) -> float:
    """Seconds of the results step's read of the run's exposed users (journey.exposures) alone."""
    from journey.campaigns.measure import CampaignRun, exposed_users
    from journey.campaigns.results import Window

    with warehouse.connect(settings) as conn:
        started = time.perf_counter()
        exposed_users(conn, CampaignRun("bench", "r1", START, 14), Window(START, 14, START + timedelta(days=20)))
        return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    """Build the run, time one measurement, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--events-per-user", type=int, default=10)
    parser.add_argument("--exposed-share", type=float, default=0.0, help="share of treated users with exposures")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(7)
    users = np.array([f"u{i}" for i in range(args.users)])
    held = rng.random(args.users) < 0.1
    with tempfile.TemporaryDirectory(prefix="results-bench-") as home:
        settings = get_settings({"JOURNEY_HOME": home})
        warehouse.start_server(settings)
        try:
            spark = get_spark("journey-bench-results", settings)
            with warehouse.connect(settings) as conn:
                warehouse.publish(conn, run_tables(users, held, rng))
                exposures = report_exposures(conn, users[~held], args.exposed_share, rng)
            rows = events(users, args.events_per_user, rng)
            spark.createDataFrame(rows, spark_schema(CURATED_EVENT_COLUMNS)).write.partitionBy("event_date").parquet(
                lake.path(settings, lake.CURATED_EVENTS))
            started = time.perf_counter()
            published = measure_campaigns(spark, settings, "bench", margin_rate=0.3,
                                          now=START + timedelta(days=20))
            seconds = time.perf_counter() - started
            exposure_seconds = time_exposure_query(settings)
        finally:
            warehouse.stop_server(settings)
    print(json.dumps({"users": args.users, "events": len(rows), "exposures": exposures, "result_rows": published["r1"],
                      "seconds": round(seconds, 1), "exposure_query_seconds": round(exposure_seconds, 3)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
