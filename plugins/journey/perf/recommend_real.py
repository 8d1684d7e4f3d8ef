"""Benchmark: recommendation quality (NDCG@10) of the tuned hybrid vs plain ALS vs popularity.

    .venv/bin/python -m journey.perf.recommend_real [--feeds generated rees46 transactions] [--users 500]
        [--two-tower off|on|both]

Feeds: `generated` (the generator's click stream, `--users` users × 21 days), `rees46` (the REES46
sample in /work/shared/data: views, carts and purchases as implicit feedback, next items by time),
`transactions` (the generated feed reduced to purchases, categories and brands removed: a
transaction-only shop). `--two-tower both` evaluates each feed without, then with, the two-tower
source (its row then has ndcg_two_tower, the two-tower alone on the same test users). Protocol: journey.recommend.pipeline.evaluate (per-user temporal 80/20
split, items seen in training excluded, K=10), each model on the same test users. The CDNOW log
has no product column, so no recommender can be scored on it.
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

import pandas as pd

from journey.perf.daily import machine
from journey.recommend.models import RecommendParams

RECOMMEND_DEFAULTS = RecommendParams()

FEEDS = ("generated", "rees46", "transactions")
TWO_TOWER_RUNS = {"off": (False,), "on": (True,), "both": (False, True)}
REES46 = Path("/work/shared/data/rees46_2019-10-01_sample.csv")
GENERATED_END = date(2026, 10, 31)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--feeds", nargs="+", choices=FEEDS, default=list(FEEDS))
    parser.add_argument("--users", type=int, default=500, help="generated users (generated, transactions)")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--exclude", choices=("purchased", "interacted"), default="interacted")
    parser.add_argument("--per-category", type=int, default=0)
    parser.add_argument("--lookback-days", type=int, default=0)
    parser.add_argument("--two-tower", choices=("off", "on", "both"), default="off",
                        help="the two-tower source in the blend; both = each feed without, then with it")
    parser.add_argument("--two-tower-epochs", type=int, default=RECOMMEND_DEFAULTS.two_tower_epochs)
    return parser.parse_args(argv)


def generated_events(spark, users: int, seed: int, workdir: Path):
    """Events of the generator (users × 21 days ending GENERATED_END)."""
    from pyspark.sql import functions as F

    from journey.datagen import generate

    generate(workdir / "gen", users=users, days=21, seed=seed, end_date=GENERATED_END)
    return spark.read.parquet(str(workdir / "gen" / "events")).withColumn("event_date", F.to_date("event_time"))


def transaction_events(events):
    """The feed as a transaction-only shop: purchases only, no category, no brand."""
    from pyspark.sql import functions as F

    return (events.where(F.col("event_type") == "purchase")
            .withColumn("category", F.lit(None).cast("string")).withColumn("brand", F.lit(None).cast("string")))


def rees46_events(spark, path: Path):
    """The REES46 sample as curated-like events (cart → add_to_cart); its last day is the snapshot."""
    raw = pd.read_csv(path, dtype=str)
    frame = pd.DataFrame({
        "user_id": raw["user_id"], "product_id": raw["product_id"],
        "event_type": raw["event_type"].replace({"cart": "add_to_cart"}),
        "category": raw["category_code"].fillna(""), "brand": raw["brand"].fillna(""),
        "event_time": pd.to_datetime(raw["event_time"].str.replace(" UTC", ""), utc=True)})
    frame["event_date"] = frame["event_time"].dt.date
    frame["category"] = frame["category"].where(frame["category"] != "", None)
    frame["brand"] = frame["brand"].where(frame["brand"] != "", None)
    return spark.createDataFrame(frame, "user_id string, product_id string, event_type string, category string, "
                                        "brand string, event_time timestamp, event_date date")


def run_feed(name: str, events, snapshot: date, params) -> dict:
    """Evaluate one feed; the report row."""
    from journey.recommend.pipeline import evaluate

    started = time.perf_counter()
    result = evaluate(events, snapshot, params)
    seconds = time.perf_counter() - started
    row = {"feed": name, "seconds": round(seconds, 1), "users": result.hybrid.users,
           **{f"ndcg_{m.model}": round(m.ndcg_at_k, 4) for m in result.models},
           **{f"recall_{m.model}": round(m.recall_at_k, 4) for m in result.models},
           "hybrid_list_length": round(result.hybrid.mean_list_length, 2), "settings": result.tuning.settings()}
    row["hybrid_vs_als"] = round(row["ndcg_hybrid"] / row["ndcg_als"], 2) if row["ndcg_als"] else None
    return row


def main(argv: list[str] | None = None) -> int:
    """Evaluate each feed and print one JSON line per feed."""
    args = parse_args(argv)
    from journey.config import get_settings
    from journey.runtime.spark import get_spark

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("journey.recommend").setLevel(logging.INFO)  # the two-tower's training figures
    print(machine())
    workdir = Path(tempfile.mkdtemp(prefix="recommend-real-"))
    settings = get_settings({"JOURNEY_HOME": str(workdir / "home")})
    spark = get_spark("journey-recommend-bench", settings)
    params = RecommendParams(k=10, exclude=args.exclude, per_category=args.per_category,
                             lookback_days=args.lookback_days, two_tower_epochs=args.two_tower_epochs)
    generated = generated_events(spark, args.users, args.seed, workdir) if set(args.feeds) - {"rees46"} else None
    feeds = {"generated": lambda: (generated, GENERATED_END),
             "transactions": lambda: (transaction_events(generated), GENERATED_END),
             "rees46": lambda: (rees46_events(spark, REES46), date(2019, 10, 1))}
    for name in args.feeds:
        events, snapshot = feeds[name]()
        events = events.cache()
        for two_tower in TWO_TOWER_RUNS[args.two_tower]:
            row = run_feed(name, events, snapshot, replace(params, two_tower=two_tower))
            print(json.dumps({"two_tower": two_tower, **row}), flush=True)
    spark.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
