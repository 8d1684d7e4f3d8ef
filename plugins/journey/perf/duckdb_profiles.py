"""The profile aggregates of `journey.profiles.build` in DuckDB SQL: the single-machine reference.

Same inputs (the curated events Parquet), same window, same definitions: activity counts,
net spend, orders and session outcomes, category affinity, brand concentration, preferred
hour and the derived rates. RFM quintiles and the lifecycle stage (a few cheap passes over
the per-user rows) are left out on both sides of the comparison's aggregate figures.
"""

from __future__ import annotations

from datetime import date

PROFILE_SQL = """
WITH ev AS (
    SELECT * REPLACE (event_time::TIMESTAMP AS event_time)  -- UTC wall clock, as Spark's session zone
    FROM read_parquet('{events}/*/*.parquet', hive_partitioning = true)
    WHERE event_date <= DATE '{snapshot}' AND event_date > DATE '{snapshot}' - INTERVAL {lookback} DAY
),
activity AS (
    SELECT user_id, min(event_time) AS first_seen, max(event_time) AS last_seen,
           count(DISTINCT session_id) AS sessions,
           count(*) FILTER (event_type = 'view') AS views,
           count(*) FILTER (event_type = 'search') AS searches,
           count(*) FILTER (event_type = 'add_to_cart') AS carts,
           count(*) FILTER (event_type = 'purchase') AS purchases,
           count(*) FILTER (event_type = 'coupon_redeem') AS coupon_redemptions,
           greatest(coalesce(sum(CASE WHEN event_type = 'purchase' THEN price * quantity
                                      WHEN event_type = 'return' THEN -price * quantity END), 0), 0) AS monetary,
           max(event_time) FILTER (event_type = 'purchase') AS last_purchase
    FROM ev GROUP BY user_id
),
sessions AS (
    SELECT user_id, count(*) FILTER (has_purchase) AS frequency, count(*) FILTER (has_cart) AS cart_sessions,
           count(*) FILTER (has_cart AND has_purchase) AS carted_and_bought,
           count(*) FILTER (has_purchase AND has_coupon) AS coupon_orders
    FROM (SELECT user_id, session_id, bool_or(event_type = 'add_to_cart') AS has_cart,
                 bool_or(event_type = 'purchase') AS has_purchase, bool_or(event_type = 'coupon_redeem') AS has_coupon
          FROM ev GROUP BY user_id, session_id)
    GROUP BY user_id
),
weighted AS (
    SELECT user_id, split_part(category, '.', 1) AS cat,
           sum(CASE event_type WHEN 'add_to_cart' THEN 3.0 WHEN 'purchase' THEN 5.0 ELSE 1.0 END) AS w
    FROM ev WHERE category IS NOT NULL AND category <> 'unknown' GROUP BY user_id, cat
),
affinity AS (
    SELECT user_id, map_from_entries(list(struct_pack(k := cat, v := w / total) ORDER BY cat)) AS category_affinity,
           list(cat ORDER BY w DESC, cat)[1:3] AS top_categories
    FROM (SELECT *, sum(w) OVER (PARTITION BY user_id) AS total FROM weighted) GROUP BY user_id
),
brands AS (
    SELECT user_id, sum((n / total) ^ 2) AS brand_concentration
    FROM (SELECT user_id, brand, count(*)::DOUBLE AS n, sum(count(*)) OVER (PARTITION BY user_id) AS total
          FROM ev WHERE brand IS NOT NULL GROUP BY user_id, brand)
    GROUP BY user_id
),
hours AS (
    SELECT user_id, arg_max(h, n * 100 - h) AS preferred_hour
    FROM (SELECT user_id, hour(event_time) AS h, count(*) AS n FROM ev GROUP BY user_id, h) GROUP BY user_id
)
SELECT a.user_id, first_seen, last_seen, DATE '{snapshot}' - last_seen::DATE AS days_since_last_event,
       DATE '{snapshot}' - last_purchase::DATE AS recency_days, s.frequency, a.monetary,
       CASE WHEN s.frequency > 0 THEN a.monetary / s.frequency END AS avg_order_value,
       a.sessions, views, searches, carts, purchases, coupon_redemptions,
       CASE WHEN cart_sessions > 0 THEN 1 - carted_and_bought / cart_sessions END AS cart_abandonment_rate,
       s.frequency / a.sessions AS conversion_rate,
       CASE WHEN s.frequency > 0 THEN coupon_orders / s.frequency END AS coupon_usage_rate,
       coalesce(category_affinity, MAP {{'unknown': 1.0}}) AS category_affinity,
       coalesce(top_categories, ['unknown']) AS top_categories, brand_concentration, preferred_hour
FROM activity a JOIN sessions s USING (user_id) JOIN hours USING (user_id)
LEFT JOIN affinity USING (user_id) LEFT JOIN brands USING (user_id)
"""


def profile_query(events_path: str, snapshot: date, lookback_days: int = 365) -> str:
    """The DuckDB query of the profile aggregates over a curated events folder."""
    return PROFILE_SQL.format(events=events_path.rstrip("/"), snapshot=snapshot.isoformat(), lookback=lookback_days)


def duckdb_profiles(events_path: str, target: str, snapshot: date, threads: int, memory_limit: str = "8GB") -> int:
    """Compute the aggregates with DuckDB, write them as Parquet to `target`; returns the user rows."""
    import duckdb

    with duckdb.connect(config={"threads": threads, "memory_limit": memory_limit}) as con:
        con.execute(f"COPY ({profile_query(events_path, snapshot)}) TO '{target}' (FORMAT parquet)")
        return con.execute(f"SELECT count(*) FROM read_parquet('{target}')").fetchone()[0]


def totals(parquet: str) -> tuple[int, int, float, int]:
    """(users, orders, spend rounded to cents, sessions) of a profiles Parquet file or folder."""
    import duckdb

    pattern = parquet if parquet.endswith(".parquet") else f"{parquet.rstrip('/')}/*.parquet"
    with duckdb.connect() as con:
        users, orders, spend, sessions = con.execute(
            f"SELECT count(*), sum(frequency), sum(monetary), sum(sessions) FROM read_parquet('{pattern}')"
        ).fetchone()
    return int(users), int(orders), round(float(spend), 2), int(sessions)
