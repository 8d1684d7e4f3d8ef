"""Benchmark: how long the campaign builder's preview takes on N published users.

    python -m journey.perf.builder_preview [--users 200000] [--repeats 3]

Publishes N users into a fresh embedded PostgreSQL with server-side INSERT … SELECT
generate_series (profiles, segments in 6 segments, 5 lifecycle stages, 1 % suppressed), writes
their consent flags to the lake's curated users dimension (Parquet), then times
`campaign_preview.preview` (consents copied into a temporary table, the funnel and holdout in SQL)
for a campaign on 2 segments, 3 stages and email + push, `--repeats` times; prints each time.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from journey import lake, warehouse
from journey.campaigns.params import parse_params
from journey.config import get_settings
from journey.schemas import LIFECYCLE_STAGES
from journey.serve.campaign_preview import preview

PUBLISH = [
    """INSERT INTO journey.user_profiles (user_id, snapshot_date, run_id, frequency, monetary, r_score, f_score,
       m_score, rfm_segment, sessions, views, searches, carts, purchases, coupon_redemptions, category_affinity,
       top_categories, lifecycle_stage)
       SELECT 'u' || i, current_date, 'd1', 1, 10, 3, 3, 3, '333', 1, 1, 0, 0, 1, 0, '{}', '{}',
              (%(stages)s::text[])[1 + i %% 5] FROM generate_series(0, %(users)s - 1) i""",
    """INSERT INTO journey.user_segments SELECT 'u' || i, i %% 6, 'segment_' || (i %% 6), current_date, 'd1'
       FROM generate_series(0, %(users)s - 1) i""",
    """INSERT INTO journey.segment_summary (snapshot_date, segment_id, segment_name, users, user_share, revenue,
       revenue_share, centroid, k, silhouette, run_id)
       SELECT current_date, s, 'segment_' || s, %(users)s / 6, 1.0 / 6, 1000, 1.0 / 6, '{}', 6, 0.4, 'd1'
       FROM generate_series(0, 5) s""",
    """INSERT INTO journey.suppression_list (user_id, reason) SELECT 'u' || i, 'opt_out'
       FROM generate_series(0, %(users)s - 1, 100) i""",
]
CAMPAIGN = {"campaign_id": "bench", "segments": ["segment_0", "segment_1"], "channels": ["email", "push"],
            "lifecycle_stages": ["active", "loyal", "at_risk"], "budget": 1000.0, "coupons": [{"name": "pct10", "kind": "percent",
                                                                           "value": 10, "expected_cost": 4.0}]}


def write_consents(settings, users: int) -> None:
    """Consent flags of every user: email for 2 in 3, push for 1 in 7, sms for 1 in 2."""
    ids = list(range(users))
    table = pa.table({"user_id": [f"u{i}" for i in ids], "consent_email": [i % 3 != 0 for i in ids],
                      "consent_push": [i % 7 == 0 for i in ids], "consent_sms": [i % 2 == 0 for i in ids]})
    folder = Path(lake.local_path(lake.path(settings, lake.CURATED_USERS)))
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, folder / "part-0.parquet")


def main(argv: list[str] | None = None) -> int:
    """Publish, then time the preview."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    settings = get_settings({"JOURNEY_HOME": str(Path(tempfile.mkdtemp(prefix="journey-bench-preview-")) / "home")})
    warehouse.start_server(settings)
    try:
        with warehouse.connect(settings) as conn:
            with conn.cursor() as cur:
                for statement in PUBLISH:
                    cur.execute(statement, {"users": args.users, "stages": list(LIFECYCLE_STAGES)})
                cur.execute("ANALYZE")
            conn.commit()
            write_consents(settings, args.users)
            params = parse_params(CAMPAIGN)
            for _ in range(args.repeats):
                started = time.perf_counter()
                found = preview(conn, settings, params)
                conn.rollback()
                print(f"preview of {found['users']:,} users: {found['eligible']:,} eligible, "
                      f"{found['holdout']:,} held out, in {time.perf_counter() - started:.2f} s", flush=True)
    finally:
        warehouse.stop_server(settings)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
