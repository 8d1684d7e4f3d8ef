"""`journey campaigns results CAMPAIGN [--run RUN]` (registered by journey.cli)."""

from __future__ import annotations

import argparse

from journey.config import get_settings


def _results(args: argparse.Namespace) -> int:
    """Print the current results of a campaign run (per arm, segment and offer, with intervals)."""
    from journey import warehouse
    from journey.campaigns.results_view import require_results, result_lines

    with warehouse.connect(get_settings()) as conn:
        rows = require_results(conn, args.campaign, args.run)
    print("\n".join(result_lines(rows)))
    return 0


def add_commands(sub) -> None:
    """Register `campaigns results` on the CLI's sub-parsers."""
    campaigns = sub.add_parser("campaigns", help="campaign runs: measured results and lift")
    actions = campaigns.add_subparsers(dest="action", required=True, parser_class=type(campaigns))
    results = actions.add_parser("results", help="treated vs held-out outcomes and lift with 95 % intervals "
                                                 "(measured by DAG journey_campaign_results)")
    results.add_argument("campaign", help="campaign id")
    results.add_argument("--run", default=None, help="run id (default: the campaign's current run)")
    results.set_defaults(func=_results)
