"""How many times the profile build shuffles the events: a check on the physical plan.

    python -m journey.perf.plans [--events 20000] [--users 500] [--days 10]

Writes small generated curated events as Parquet (read back as the daily job reads the lake),
runs the profile aggregations (`profiles.build.user_aggregates`) planned under
`spark.shared_exchanges` and without it, and counts in each final (adaptive) plan the map-side
exchanges of the events and the `ReusedExchange` nodes. Expected (docs/benchmarks.md, item 10):
shared, one exchange reused three times (sessions, categories, brands and hours read one shuffle);
separate, four exchanges and none reused. Exits 1 when the shared plan shuffles the events more
than once. A property of Spark's planner, so it is checked here rather than in the tests.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

SNAPSHOT = date(2026, 10, 31)
EXCHANGE = re.compile(r"[+:]- Exchange hashpartitioning")
REUSED = re.compile(r"[+:]- ReusedExchange ")


@dataclass(frozen=True)
class Exchanges:
    """Shuffles in one final plan: exchanges that ran and exchanges reused from them."""

    exchanges: int
    reused: int


def count_exchanges(plan: str) -> Exchanges:
    """Hash-partitioning exchanges and ReusedExchange nodes of a plan's text."""
    return Exchanges(len(EXCHANGE.findall(plan)), len(REUSED.findall(plan)))


def final_plan(df) -> str:
    """The executed (adaptive, final) physical plan of a DataFrame that has run."""
    plan = df._jdf.queryExecution().executedPlan().toString()
    return plan.split("== Initial Plan ==")[0]


def write_events(spark, path: str, events: int, users: int, days: int) -> None:
    """`events` curated events of `users` users over the `days` days up to SNAPSHOT, as Parquet by event_date."""
    from pyspark.sql import functions as F

    from journey.schemas import CURATED_EVENT_COLUMNS, EVENT_TYPES

    end = datetime.combine(SNAPSHOT + timedelta(days=1), datetime.min.time(), UTC)
    n = F.col("id")
    columns = {
        "event_id": F.concat(F.lit("e"), n),
        "event_time": F.timestamp_seconds(F.lit(int(end.timestamp())) - 1 - (n * 7919) % (days * 86_400)),
        "user_id": F.concat(F.lit("u"), n % users),
        "session_id": F.concat(F.lit("s"), F.floor(n / 5)),
        "event_type": F.element_at(F.array(*[F.lit(t) for t in EVENT_TYPES]), (n % len(EVENT_TYPES) + 1).cast("int")),
        "product_id": F.concat(F.lit("p"), n % 97),
        "category": F.concat(F.lit("c"), n % 7, F.lit(".sub"), n % 3),
        "brand": F.concat(F.lit("b"), n % 11),
        "price": (n % 100 + 1).cast("double"),
        "quantity": F.lit(1),
        "channel": F.lit("web"),
    }
    rows = spark.range(events).select(*[expr.alias(name) for name, expr in columns.items()])
    rows = rows.withColumn("event_date", F.to_date("event_time"))
    rows.select(*CURATED_EVENT_COLUMNS).write.partitionBy("event_date").parquet(path)


def profile_exchanges(spark, events_path: str) -> dict[str, Exchanges]:
    """Exchanges of the profile aggregations over the events at a path: {"shared": ..., "separate": ...}."""
    from journey.profiles.build import ProfileParams, user_aggregates
    from journey.runtime.spark import shared_exchanges

    params = ProfileParams(snapshot_date=SNAPSHOT)
    shared = user_aggregates(spark.read.parquet(events_path), params)
    with shared_exchanges(spark):
        shared.collect()
    separate = user_aggregates(spark.read.parquet(events_path), params)
    separate.collect()
    return {"shared": count_exchanges(final_plan(shared)), "separate": count_exchanges(final_plan(separate))}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line arguments."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--days", type=int, default=10)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Print the exchanges of both plans; 1 when the shared plan shuffles the events more than once."""
    from journey.config import get_settings
    from journey.runtime.spark import get_spark

    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="journey-plans-") as work:
        settings = get_settings({"JOURNEY_HOME": str(Path(work) / "home"), "JOURNEY_SPARK_MASTER": "local[2]",
                                 "JOURNEY_SHUFFLE_PARTITIONS": "4"})
        spark = get_spark("journey-plans", settings)
        try:
            path = str(Path(work) / "events")
            write_events(spark, path, args.events, args.users, args.days)
            found = profile_exchanges(spark, path)
        finally:
            spark.stop()
    print(f"profile aggregations over {args.events:,} generated events of {args.users:,} users:")
    for name, counted in found.items():
        print(f"  {name:<9} {counted.exchanges} exchange(s) of the events, {counted.reused} ReusedExchange")
    shared = found["shared"]
    ok = shared.exchanges == 1
    print(f"one shuffle of the events shared by the four aggregations: {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
