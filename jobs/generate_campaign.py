"""Spark job: one step of a campaign run (eligibility, holdout, coupons, ads, recommendations, quality)."""

from __future__ import annotations

import argparse
import sys

from journey.campaigns import steps
from journey.campaigns.params import CAMPAIGN_STEPS
from journey.campaigns.request import load_request
from journey.config import get_settings
from journey.runtime.runner import run_main
from journey.runtime.spark import get_spark


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line arguments."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("step", choices=CAMPAIGN_STEPS)
    parser.add_argument("--campaign-id", required=True)
    parser.add_argument("--run-id", required=True)
    parser.add_argument("--products", default="",
                        help="products CSV (margins for coupon values, titles for recommendations); optional")
    parser.add_argument("--no-eval", action="store_true", help="skip the offline recommendation evaluation")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run one step of the campaign run saved by the DAG's validate_params task."""
    args = parse_args(argv)
    settings = get_settings()
    request = load_request(settings, args.campaign_id, args.run_id)
    spark = get_spark(f"journey-campaign-{args.step}", settings)
    products = args.products or str(settings.inbox / "products.csv")
    if args.step == "coupons":
        steps.coupons(spark, settings, request, products)
    elif args.step == "recommendations":
        steps.recommendations(spark, settings, request, evaluate=not args.no_eval, products_file=products)
    else:
        getattr(steps, args.step)(spark, settings, request)
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
