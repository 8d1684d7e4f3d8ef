"""Benchmark: campaign generation for N users (default 1M) × 5 offers, K=10 recommendations.

    python -m journey.perf.campaigns [--users 1000000] [--rec-users 20000] [--rec-copies 1] [--skip-recs]
                                      [--skip-rec-eval]
    python -m journey.perf.campaigns --allocator-only [--users 1000000]

Builds a synthetic profile/segment snapshot of N users directly in a temporary lake (seeded
numpy; the daily pipeline is benchmarked separately), starts the embedded PostgreSQL, then
times the campaign steps in one local Spark session: eligibility, holdout, coupons (candidate
values in Spark + the allocator), ads. Recommendations (ALS + co-occurrence + content, with
the offline evaluation) need events, so they run on a generated data set of --rec-users
users, taken --rec-copies times with suffixed user, session and event ids (the generator
holds a whole data set in memory: 200,000 users × 5 copies times 1M users on a 24 GiB
machine). Prints wall seconds per step and peak memory: the driver's max RSS
(resource.getrusage) and the JVM's RSS sampled every 0.5 s (psutil).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pyarrow as pa
import pyarrow.parquet as pq

from journey.perf.figures import suffixed

SNAPSHOT = date(2026, 10, 31)
OFFERS = [
    {"name": "pct10", "kind": "percent", "value": 10, "min_spend": 0, "expected_cost": 1.0},
    {"name": "pct20", "kind": "percent", "value": 20, "min_spend": 50, "expected_cost": 2.5},
    {"name": "fixed5", "kind": "fixed", "value": 5, "min_spend": 30, "expected_cost": 1.5},
    {"name": "fixed15", "kind": "fixed", "value": 15, "min_spend": 100, "expected_cost": 4.0},
    {"name": "freeship", "kind": "free_shipping", "value": 0, "min_spend": 20, "expected_cost": 0.8},
]
STAGES = np.array(["new", "active", "loyal", "at_risk", "churned"], dtype=object)


class JvmMemory:
    """Peak RSS of this process's child processes (the Spark JVM), sampled in a thread."""

    def __init__(self) -> None:
        self.peak, self._stop = 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        """Sample until stopped."""
        me = psutil.Process()
        while not self._stop.wait(0.5):
            try:
                rss = sum(c.memory_info().rss for c in me.children(recursive=True))
            except psutil.Error:
                continue
            self.peak = max(self.peak, rss)

    def __enter__(self) -> JvmMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def synthetic_snapshot(users: int, seed: int = 7) -> dict[str, pd.DataFrame]:
    """Profiles (the columns the campaign uses), segments and consents for `users` users."""
    rng = np.random.default_rng(seed)
    user_id = np.char.add("u", np.char.zfill(np.arange(users).astype(str), 7)).astype(object)
    frequency = rng.poisson(1.5, users)
    buyer = frequency > 0
    profiles = pd.DataFrame({
        "user_id": user_id,
        "lifecycle_stage": STAGES[rng.integers(0, 5, users)],
        "r_score": np.where(buyer, rng.integers(1, 6, users), 1).astype(np.int16),
        "f_score": np.where(buyer, rng.integers(1, 6, users), 1).astype(np.int16),
        "frequency": frequency.astype(np.int64),
        "carts": rng.poisson(2, users).astype(np.int64),
        "avg_order_value": np.where(buyer, rng.lognormal(4.4, 0.6, users), np.nan),
        "coupon_usage_rate": np.where(buyer, rng.beta(2, 3, users), np.nan),
        "brand_concentration": rng.beta(2, 3, users),
        "cart_abandonment_rate": rng.beta(2, 2, users),
        "preferred_hour": rng.integers(0, 24, users).astype(np.int16),
    })
    segment = rng.integers(1, 6, users)
    segments = pd.DataFrame({"user_id": user_id, "segment_id": segment.astype(np.int32),
                             "segment_name": np.array([f"Segment {i}" for i in range(6)], dtype=object)[segment]})
    consents = pd.DataFrame({"user_id": user_id, "consent_email": rng.random(users) < 0.7,
                             "consent_push": rng.random(users) < 0.45, "consent_sms": rng.random(users) < 0.2})
    return {"profiles": profiles, "segments": segments, "users": consents}


def write_snapshot(settings, frames: dict[str, pd.DataFrame]) -> None:
    """Write the synthetic frames where the campaign steps read them."""
    from journey import lake

    targets = {"profiles": lake.snapshot_path(settings, lake.PROFILES, SNAPSHOT),
               "segments": lake.snapshot_path(settings, lake.SEGMENTS, SNAPSHOT),
               "users": lake.path(settings, lake.CURATED_USERS)}
    for name, frame in frames.items():
        Path(targets[name]).mkdir(parents=True, exist_ok=True)
        frame.to_parquet(f"{targets[name]}/part-0.parquet", index=False)


def timed(label: str, fn) -> float:
    """Run fn and print its wall time."""
    started = time.perf_counter()
    fn()
    seconds = time.perf_counter() - started
    print(f"  {label:<34} {seconds:8.1f} s", flush=True)
    return seconds


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line arguments."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--rec-users", type=int, default=20_000)
    parser.add_argument("--budget", type=float, default=150_000.0)
    parser.add_argument("--rec-copies", type=int, default=1,
                        help="copies of the generated events, user, session and event ids suffixed -1, -2, ...")
    parser.add_argument("--skip-recs", action="store_true")
    parser.add_argument("--skip-rec-eval", action="store_true",
                        help="time recommendations only, without the offline evaluation")
    parser.add_argument("--allocator-only", action="store_true",
                        help="time only the coupon allocator on random candidate values (no Spark, no database)")
    return parser.parse_args(argv)


def allocator_only(users: int, budget: float) -> None:
    """Time the allocator on users × 5 offers of random values (60% of pairs eligible), 5 segment pools."""
    from journey.campaigns.allocation import allocate

    rng = np.random.default_rng(1)
    values = np.where(rng.random((users, len(OFFERS))) < 0.6, rng.normal(2, 4, (users, len(OFFERS))), np.nan)
    costs = np.array([4.0, 9.0, 3.0, 8.0, 2.0])
    pools = rng.integers(1, 6, users)
    for label, options in (("1 coupon per user", {}),
                           ("2 per user, pool shares", {"pool_shares": {1: 0.3, 2: 0.2}, "max_per_user": 2})):
        started = time.perf_counter()
        result = allocate(values, costs, pools, budget, **options)
        seconds = time.perf_counter() - started
        print(f"  allocator, {users:,} users × {len(OFFERS)} offers, {label}: {seconds:.1f} s, cost "
              f"{result.cost:,.2f} of {budget:,.0f}, gap to LP bound {1 - result.value / result.upper_bound:.4%}, "
              f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB", flush=True)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the figures."""
    args = parse_args(argv)
    if args.allocator_only:
        allocator_only(args.users, args.budget)
        return 0
    home = Path(tempfile.mkdtemp(prefix="journey-campaign-bench-"))
    os.environ.update({"JOURNEY_HOME": str(home)})
    from journey import warehouse
    from journey.campaigns import steps
    from journey.campaigns.params import parse_params
    from journey.campaigns.request import CampaignRequest
    from journey.config import get_settings
    from journey.runtime.spark import get_spark

    settings = get_settings()
    os.environ["JOURNEY_DB_URL"] = warehouse.start_server(settings)
    settings = get_settings()
    try:
        print(f"campaign benchmark: {args.users:,} users × {len(OFFERS)} offers, K=10 "
              f"({os.cpu_count()} cores, driver {settings.driver_memory}, "
              f"{settings.shuffle_partitions} shuffle partitions)", flush=True)
        total = timed("synthetic snapshot (numpy → Parquet)", lambda: write_snapshot(settings, synthetic_snapshot(args.users)))
        params = parse_params({"campaign_id": "bench", "coupons": OFFERS, "budget": args.budget,
                               "channels": ["email", "push", "display"], "recommendations_k": 10})
        request = CampaignRequest(params, "bench-1", SNAPSHOT, {i: f"Segment {i}" for i in range(1, 6)}, {})
        with JvmMemory() as jvm:
            spark = get_spark("journey-campaign-bench", settings)
            figures = {step: timed(step, lambda s=step: getattr(steps, s)(spark, settings, request))
                       for step in ("eligibility", "holdout")}
            figures["coupons"] = timed("coupons", lambda: steps.coupons(spark, settings, request, None))
            figures["ads"] = timed("ads", lambda: steps.ads(spark, settings, request))
            if not args.skip_recs:
                figures["recommendations"] = recommendations(spark, settings, args.rec_users, args.rec_copies,
                                                             not args.skip_rec_eval)
        driver_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
        print(f"  {'campaign steps total':<34} {sum(figures.values()) + total:8.1f} s")
        print(f"peak memory: driver (Python) {driver_gib:.2f} GiB, Spark JVM {jvm.peak / 2**30:.2f} GiB")
    finally:
        warehouse.stop_server(settings)
        shutil.rmtree(home, ignore_errors=True)
    return 0


def replicate_events(folder: Path, copies: int) -> None:
    """Each day file of generated events made `copies` times as long: copy k has its ids suffixed -k."""
    for file in sorted(folder.glob("events-*.parquet")):
        table = pq.read_table(file)
        pq.write_table(pa.concat_tables([table] + [suffixed(table, ("user_id", "session_id", "event_id"), f"-{k}")
                                                   for k in range(1, copies)]), file)


def recommendations(spark, settings, users: int, copies: int = 1, evaluate_too: bool = True) -> float:
    """Generated events of `users` users (14 days) taken `copies` times, hybrid recommendations for all
    of them and, when evaluate_too, the offline evaluation (with and without titles). Returns the
    recommendation time."""
    from pyspark.sql import functions as F

    from journey.datagen import generate
    from journey.recommend.models import RecommendParams
    from journey.recommend.pipeline import evaluate, recommend_for, sized_for_audience
    from journey.recommend.titles import load_titles, title_neighbours

    timed(f"  generate events ({users:,} users)", lambda: generate(settings.home / "gen", users=users, days=14, seed=7))
    if copies > 1:
        timed(f"  {copies} copies of them", lambda: replicate_events(settings.home / "gen" / "events", copies))
        users *= copies
    events = spark.read.parquet(str(settings.home / "gen" / "events")).withColumn("event_date", F.to_date("event_time"))
    params = RecommendParams(k=10)
    neighbours = title_neighbours(spark, load_titles(spark, settings, str(settings.home / "gen" / "products.csv")),
                                  params.neighbours).cache()
    audience = events.select("user_id").distinct()
    counted = {}
    with sized_for_audience(spark, audience.count()):  # the evaluation too
        seconds = timed(f"recommendations ({users:,} users)",
                        lambda: counted.setdefault("rows", recommend_for(events, SNAPSHOT, audience, params,
                                                                         neighbours).count()))
        print(f"    {counted['rows']:,} recommendations", flush=True)
        if evaluate_too:
            scores = {}
            timed("  offline evaluation (twice)", lambda: scores.update(
                titles=evaluate(events, SNAPSHOT, params, title_neighbours=neighbours),
                plain=evaluate(events, SNAPSHOT, params)))
            print(f"    NDCG@10 hybrid {scores['titles'].hybrid.ndcg_at_k:.3f} (without titles "
                  f"{scores['plain'].hybrid.ndcg_at_k:.3f}) vs popularity {scores['titles'].popularity.ndcg_at_k:.3f}")
    return seconds


if __name__ == "__main__":
    sys.exit(main())
