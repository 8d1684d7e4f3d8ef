"""Spark job: measure published campaign runs and publish journey.campaign_results (campaigns/measure.py)."""

from __future__ import annotations

import argparse
import sys

from journey.campaigns.measure import measure_campaigns
from journey.campaigns.params import ATTRIBUTION_WINDOW_DAYS
from journey.config import get_settings
from journey.runtime.runner import run_main
from journey.runtime.spark import get_spark


def bounded(low: int, high: int):
    """argparse type: a whole number within [low, high], naming the rule when not."""

    def parse(text: str) -> int:
        value = int(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is not within [{low}, {high}]")
        return value

    return parse


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line arguments (empty ids = not given)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--campaign-id", default="", help="empty = every run whose window is open or recently closed")
    parser.add_argument("--run-id", default="", help="one run of --campaign-id; empty = its current run")
    parser.add_argument("--window-days", type=bounded(*ATTRIBUTION_WINDOW_DAYS[1:]), default=ATTRIBUTION_WINDOW_DAYS[0],
                        help="attribution window of runs whose campaign stores none")
    parser.add_argument("--recent-days", type=bounded(0, 365), default=7,
                        help="also measure runs whose window closed this many days ago or less")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Measure the selected runs and publish their results."""
    args = parse_args(argv)
    settings = get_settings()
    spark = get_spark("journey-campaign-results", settings)
    measure_campaigns(spark, settings, args.campaign_id or None, args.run_id or None, args.window_days,
                      args.recent_days)
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
