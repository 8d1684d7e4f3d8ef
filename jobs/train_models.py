"""Train, evaluate, register and promote every model on one training snapshot (what the DAG's tasks do, in one go)."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace

from journey.config import get_settings
from journey.models.evaluate import comparison_rows
from journey.models.hparams import ModelConfig
from journey.models.pipeline import evaluate_step, promote_step, train_step
from journey.runtime.runner import iso_date, run_main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line arguments."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--snapshot-date", required=True, type=iso_date, help="training snapshot to use")
    parser.add_argument("--run-id", required=True)
    parser.add_argument("--epochs", type=int, default=ModelConfig().train.epochs)
    parser.add_argument("--margin", type=float, default=ModelConfig().promotion.margin,
                        help="promotion margin on the primary metric")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the three steps and print the comparison table and the promotion decisions."""
    args = parse_args(argv)
    if args.epochs < 1 or args.margin < 0:
        raise ValueError(f"--epochs must be at least 1 and --margin 0 or more, got {args.epochs} and {args.margin}")
    base = ModelConfig()
    config = replace(base, train=replace(base.train, epochs=args.epochs),
                     promotion=replace(base.promotion, margin=args.margin))
    settings = get_settings()
    trained = train_step(settings, args.snapshot_date, config)
    reports = evaluate_step(settings, args.snapshot_date, args.run_id, trained, config)
    for name, report in reports.items():
        print("\n".join(comparison_rows(name, report)))
    for name, reason in promote_step(settings, trained, config).items():
        print(f"{name} v{trained[name]['version']}: {reason}")
    print(json.dumps({n: t["artifact"] for n, t in trained.items()}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
