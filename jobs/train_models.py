"""Train, evaluate, register and promote every model on one training snapshot (what the DAG's tasks do, in one go)."""

from __future__ import annotations

import argparse
import json
import sys

from journey.config import get_settings
from journey.models.evaluate import comparison_rows
from journey.models.hparams import RUN_PARAMS, model_config, run_param_defaults
from journey.models.pipeline import decision_lines, evaluate_step, promote_step, train_step, training_lines
from journey.runtime.runner import iso_date, run_main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line arguments."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--snapshot-date", required=True, type=iso_date, help="training snapshot to use")
    parser.add_argument("--run-id", required=True)
    defaults = run_param_defaults()
    parser.add_argument("--epochs", type=int, default=defaults["epochs"], help=RUN_PARAMS["epochs"].title)
    parser.add_argument("--margin", type=float, default=defaults["margin"],
                        help="promotion margin on the primary metric")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the three steps and print the comparison table and the promotion decisions."""
    args = parse_args(argv)
    config = model_config(vars(args))  # checks --epochs and --margin against the DAG Params' bounds
    settings = get_settings()
    trained = train_step(settings, args.snapshot_date, config)
    print("\n".join(training_lines(trained)))
    reports = evaluate_step(settings, args.snapshot_date, args.run_id, trained, config)
    for name, report in reports.items():
        print("\n".join(comparison_rows(name, report)))
    print("\n".join(decision_lines(trained, promote_step(settings, trained, config))))
    print(json.dumps({n: t.get("artifact", t.get("skipped")) for n, t in trained.items()}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
