"""POST /v1/exposures: store what a sender actually showed or sent, for exposure-based attribution."""

from __future__ import annotations

from psycopg2.extras import execute_values

from journey.serve.models import Exposure

COLUMNS = ("user_id", "campaign_id", "run_id", "channel", "kind", "exposed_at", "creative_id", "coupon_code")


def store(conn, exposures: list[Exposure], key_id: str) -> int:
    """Insert the exposures (in the caller's transaction), tagged with the reporting key; returns the count."""
    rows = [(*(getattr(exposure, name) for name in COLUMNS), key_id) for exposure in exposures]
    with conn.cursor() as cur:
        execute_values(cur, f"INSERT INTO journey.exposures ({', '.join(COLUMNS)}, key_id) VALUES %s", rows)
    return len(rows)
