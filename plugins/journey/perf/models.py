"""Model report and benchmark: `python -m journey.perf.models --users 20000 --days 30 --seed 7`.

Generates the data (reused when already there), ingests it, builds both training sets,
trains the four models, evaluates them beside their baselines on the test window and
scores every user with Spark `mapInPandas`. Prints the metrics table (markdown, the one in
docs/models.md), training samples/s per model and scoring users/s, with the machine.
No database is needed: the freshly trained models score directly.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

from journey.models.hparams import DataParams, ModelConfig, TrainParams
from journey.perf.daily import machine

END = date(2026, 10, 31)
TABLE_HEAD = ("| model | scored by | ROC-AUC / macro-F1 | PR-AUC / accuracy | log loss | calibration error | "
              "test rows |\n| --- | --- | ---: | ---: | ---: | ---: | ---: |")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line arguments."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--epochs", type=int, default=TrainParams.epochs)
    parser.add_argument("--horizon-days", type=int, default=DataParams.horizon_days)
    parser.add_argument("--cutoff-step-days", type=int, default=3)
    parser.add_argument("--work", default="bench-data", help="folder for data, lake and models (kept between runs)")
    parser.add_argument("--sequential-intent", action="store_true",
                        help="generate journeys with sequential intent (abandoned carts bought days later)")
    return parser.parse_args(argv)


def data_dir(args: argparse.Namespace) -> Path:
    """Folder of the generated data set (kept between runs)."""
    intent = "-seq" if args.sequential_intent else ""
    return Path(args.work).resolve() / f"gen-{args.users}u-{args.days}d-{args.seed}{intent}"


def step(label: str, fn, count_of=None):
    """Run fn, print its wall time (and throughput when count_of is given), return its result."""
    started = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - started
    rate = ""
    if count_of is not None:
        count = count_of(result)
        rate = f"  {count:>10,} rows  {count / seconds:>10,.0f} rows/s"
    print(f"{label:<34} {seconds:8.1f} s{rate}", flush=True)
    return result


def prepare(args: argparse.Namespace, spark, settings, config: ModelConfig) -> None:
    """Generate (or reuse), ingest and build both training sets for the END snapshot."""
    from journey import lake
    from journey.datagen import generate
    from journey.ingest.events import run_ingest
    from journey.models.pipeline import training_paths
    from journey.models.training_data import training_sets

    data = data_dir(args)
    if not (data / "ground_truth" / "scenes.parquet").exists():
        step("generate", lambda: generate(data, users=args.users, days=args.days, seed=args.seed, end_date=END,
                                          sequential_intent=args.sequential_intent),
             lambda s: s.events)
    step("ingest", lambda: run_ingest(spark, settings, str(data / "events"), "canonical", "bench"),
         lambda r: r.curated)
    events = spark.read.parquet(lake.path(settings, lake.CURATED_EVENTS)).cache()
    truth = spark.read.parquet(str(data / "ground_truth" / "scenes.parquet"))
    sets = training_sets(events, truth, config.data)
    print("cut-offs: " + ", ".join(f"{c} {s}" for c, s in sets.plan))
    paths = training_paths(settings, END)
    step("training set: users × cut-offs", lambda: lake.write_parquet_atomic(sets.users, paths["users"]))
    step("training set: sessions", lambda: lake.write_parquet_atomic(sets.scenes, paths["scenes"]))
    for name, path in paths.items():
        counts = dict(spark.read.parquet(path).groupBy("split").count().collect())
        print(f"  {name}: " + ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items())))


def persona_reference(paths: dict[str, str], personas: Path, config: ModelConfig) -> float:
    """Test ROC-AUC of XGBoost on the aggregates, the profile features and the user's true (hidden) persona.

    Not a product model (real feeds have no persona): an estimate of how much signal the generated
    data holds, i.e. roughly the best ROC-AUC any model of these rows can reach.
    """
    import numpy as np
    import pandas as pd
    import pyarrow.compute as pc

    from journey.models import evaluate as ev
    from journey.models import propensity as xgbm
    from journey.models.datasets import open_set
    from journey.models.pipeline import PROFILE_INPUTS
    from journey.models.training_data import AGGREGATE_FEATURES

    features = (*AGGREGATE_FEATURES, *PROFILE_INPUTS)
    names = sorted(pd.read_parquet(personas)["persona"].unique())
    persona_of = pd.read_parquet(personas).set_index("user_id")["persona"]

    def split(name: str) -> tuple[np.ndarray, np.ndarray]:
        table = open_set(paths["users"]).to_table(columns=["user_id", *features, "label_purchase"],
                                                  filter=pc.field("split") == name)
        persona = persona_of.reindex(table.column("user_id").to_pandas()).to_numpy()
        one_hot = np.stack([persona == n for n in names], axis=1).astype(np.float32)
        return (np.hstack([xgbm.feature_matrix(table, features), one_hot]),
                table.column("label_purchase").to_numpy().astype(np.int32))

    test_x, test_y = split("test")
    model = xgbm.fit_xgb(split("train"), split("validation"), config.xgb)
    return ev.binary_metrics(test_y, model.predict_proba(test_x)[:, 1])["roc_auc"]


def report_table(reports: dict[str, dict]) -> str:
    """The markdown metrics table of every model beside its baselines."""
    from journey.models.evaluate import comparison_rows

    return "\n".join([TABLE_HEAD, *[row for name, report in reports.items() for row in comparison_rows(name, report)]])


def main(argv: list[str] | None = None) -> int:
    """Run the whole model benchmark and print the report."""
    args = parse_args(argv)
    from journey import lake
    from journey.config import get_settings
    from journey.models.pipeline import evaluate_all, train_all, trained_only, training_paths
    from journey.models.registry import MODEL_NAMES
    from journey.models.scoring import score_users, scoring_rows
    from journey.runtime.spark import get_spark

    base = ModelConfig()
    config = replace(base, data=replace(base.data, horizon_days=args.horizon_days,
                                        cutoff_step_days=args.cutoff_step_days),
                     train=replace(TrainParams(), epochs=args.epochs))
    home = Path(args.work).resolve() / data_dir(args).name.replace("gen-", "home-", 1)
    settings = get_settings({"JOURNEY_HOME": str(home)})
    print(machine())
    spark = get_spark("journey-models-bench", settings)
    prepare(args, spark, settings, config)
    every = step("train all models", lambda: train_all(settings, END, dict.fromkeys(MODEL_NAMES, 1), config))
    for name, result in every.items():
        if "skipped" in result:
            print(f"  {name:<15} skipped: {result['skipped']}")
    trained = trained_only(every)
    for name, result in trained.items():
        print(f"  {name:<15} {result['train_rows']:>9,} train rows  {result['samples_per_second']:>9,.0f} samples/s"
              f"  ({result.get('epochs', '-')} epochs, {result['seconds']:.1f} s)")
    reports = step("evaluate", lambda: evaluate_all(settings, END, trained, {}, config))
    champions = {name: {"version": 1, "artifact_path": result["artifact"]} for name, result in trained.items()}
    target = lake.snapshot_path(settings, lake.USER_SCORES, END)
    rows = scoring_rows(spark.read.parquet(lake.path(settings, lake.CURATED_EVENTS)), END, config.data)
    started = time.perf_counter()
    lake.write_parquet_atomic(score_users(rows, champions, END, "bench", config.data.horizon_days), target)
    seconds = time.perf_counter() - started
    scored = spark.read.parquet(target).count()
    print(f"{'score every user (mapInPandas)':<34} {seconds:8.1f} s  {scored:>10,} users  "
          f"{scored / seconds:>10,.0f} users/s (features + 4 models)")
    print(report_table(reports))
    personas = data_dir(args) / "ground_truth" / "personas.parquet"
    reference = persona_reference(training_paths(settings, END), personas, config)
    print(f"signal reference (XGBoost + true persona, not a product model): behaviour test ROC-AUC {reference:.4f}")
    (home / "model_report.json").write_text(json.dumps({"trained": trained, "reports": reports}, indent=2,
                                                       default=str))
    print(f"report: {home / 'model_report.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
