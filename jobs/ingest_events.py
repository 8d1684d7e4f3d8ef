"""Spark job: ingest one batch of event files (and optionally the users file) into the lake."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime

from journey.config import get_settings
from journey.ingest import events, products, users
from journey.ingest.adapters import feed_format
from journey.quality.daily import check_events
from journey.quality.options import add_gate_options, gate_params
from journey.runtime.runner import boolean_text, run_main
from journey.runtime.spark import get_spark


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line arguments."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--source", default="", help="file or folder of events (default: $JOURNEY_HOME/inbox/events)")
    parser.add_argument("--format", default="canonical", choices=events.FORMATS)
    parser.add_argument("--mapping", default="", help="YAML column mapping (format 'mapped'; see docs/formats.md)")
    parser.add_argument("--users", default="", help="users CSV to load as the users dimension (optional)")
    parser.add_argument("--rows-are-distinct", type=boolean_text, default=False, metavar="true|false",
                        help="identical lines are distinct events (identity: file + line number), not duplicates")
    parser.add_argument("--run-id", required=True)
    add_gate_options(parser.add_argument_group("events gate (docs/quality.md)"))
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Ingest and print the accounting."""
    args = parse_args(argv)
    feed_format(args.format, args.mapping or None, args.rows_are_distinct)  # a bad format or mapping fails here
    params = gate_params(args)  # so does a bad gate threshold
    settings = get_settings()
    source = args.source or str(settings.inbox / "events")
    spark = get_spark("journey-ingest-events", settings)
    result = events.run_ingest(spark, settings, source, args.format, args.run_id, mapping=args.mapping or None,
                               rows_are_distinct=args.rows_are_distinct)
    print(
        f"ingest {args.run_id}: read {result.rows_read:,} rows from {len(result.files)} file(s): "
        f"{result.curated:,} curated, {result.quarantined:,} quarantined, {result.duplicates:,} duplicates"
    )
    if result.duplicates:
        print(f"  duplicates: {result.duplicates_in_batch:,} repeated in this batch, {result.already_ingested:,} "
              "already in the lake (a rerun or an overlapping file: they are not ingested twice)")
    for reason, rows in result.by_reason.items():
        print(f"  quarantined {rows:,} rows: {reason}")
    check_events(spark, settings, result, params, datetime.fromisoformat(result.ingested_at))
    if args.format == "transactions":
        titles = products.ingest_product_titles(spark, settings, source, args.run_id)
        print(f"products: {titles.products:,} titles from order-line descriptions, {titles.total:,} in {titles.path}")
    users_file = args.users or (str(settings.inbox / "users.csv") if (settings.inbox / "users.csv").exists() else "")
    if users_file:
        loaded = users.ingest_users(spark, settings, users_file, args.run_id)
        print(f"users: {loaded.curated:,} loaded, {loaded.quarantined:,} quarantined from {users_file}")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
