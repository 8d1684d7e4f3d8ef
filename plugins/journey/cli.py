"""`journey` command line: database, data generation, ingest, the demo and summaries.

Every expected failure (bad argument, missing file, no Java, no database) prints one line
starting with `error:` and exits with status 2; no traceback.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date

from journey.config import get_settings
from journey.runner import iso_date, run_main


def _db(args: argparse.Namespace) -> int:
    """journey db start|stop|status|url."""
    from journey import warehouse

    settings = get_settings()
    if args.action == "start":
        url = warehouse.start_server(settings)
        with warehouse.connect(settings):
            pass
        print(f"PostgreSQL running: {url}")
    elif args.action == "stop":
        print("stopped" if warehouse.stop_server(settings) else "not running")
    elif args.action == "status":
        print(warehouse.server_status(settings))
    else:
        print(warehouse.database_url(settings))
    return 0


def _generate(args: argparse.Namespace) -> int:
    """journey generate: write a synthetic data set with ground truth."""
    from journey.datagen import generate

    summary = generate(args.out, users=args.users, days=args.days, seed=args.seed, dirty=args.dirty,
                       end_date=args.end_date, progress=lambda msg: print(f"  {msg}", flush=True))
    print(
        f"generated {summary.events:,} events, {summary.sessions:,} sessions, {summary.users:,} users, "
        f"{summary.products:,} products ({summary.start_date} .. {summary.end_date}) in {summary.seconds:.1f}s "
        f"= {summary.events / max(summary.seconds, 1e-9):,.0f} events/s"
    )
    if summary.dirty_rows:
        print(f"  {summary.dirty_rows:,} rows made dirty, listed in {summary.out_dir}/ground_truth/dirty_rows.parquet")
    print(f"  output: {summary.out_dir}")
    return 0


def _ingest(args: argparse.Namespace) -> int:
    """journey ingest: run the ingest job in this process."""
    return _run_ingest_job(args.source, args.format, args.run_id)


def _quarantine(args: argparse.Namespace) -> int:
    """journey quarantine show|replay."""
    from journey import quarantine

    settings = get_settings()
    if args.action == "show":
        if not args.run_id:
            found = quarantine.runs(settings, args.dataset)
            print(f"runs with quarantined {args.dataset} rows: {', '.join(found) or 'none'}")
            return 0
        print("\n".join(quarantine.show(settings, args.run_id, args.dataset, args.limit)))
        return 0
    if not args.run_id:
        raise ValueError("replay needs --run-id (see `journey quarantine show` for the runs)")
    path, written, skipped = quarantine.replay_file(settings, args.run_id, args.dataset)
    print(f"wrote {written:,} quarantined rows to {path}" + (f" ({skipped:,} unsplittable lines skipped)" if skipped else ""))
    if args.extract_only or not written:
        return 0
    fmt = quarantine.original_format(settings, args.run_id)
    return _run_ingest_job(str(path), fmt, f"replay__{args.run_id}")


def _run_ingest_job(source: str, fmt: str, run_id: str) -> int:
    """Run jobs/ingest_events.py in this process."""
    import runpy

    from journey.airflow_env import PROJECT_ROOT

    job = runpy.run_path(str(PROJECT_ROOT / "jobs" / "ingest_events.py"))
    return job["main"](["--source", source, "--format", fmt, "--run-id", run_id])


def _demo(args: argparse.Namespace) -> int:
    """journey demo: the whole daily pipeline on generated data."""
    from journey.demo import run_demo

    return run_demo(users=args.users, days=args.days, seed=args.seed)


def _summary(args: argparse.Namespace) -> int:
    """journey summary: what the warehouse holds for a snapshot."""
    from journey.report import print_summary

    print_summary(get_settings(), args.date)
    return 0


def _checked(convert, accept, problem: str, noun: str = ""):
    """argparse type: convert the text, then check it; failures name the value and the rule."""
    kind = "whole number" if convert is int else "number"

    def parse(text: str):
        try:
            value = convert(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"{noun}'{text}' is not a {kind}") from exc
        if not accept(value):
            raise argparse.ArgumentTypeError(problem.format(value))
        return value

    return parse


_positive = _checked(int, lambda v: v >= 1, "{} must be at least 1")
_seed = _checked(int, lambda v: v >= 0, "seed {} must be 0 or more", noun="seed ")
_fraction = _checked(float, lambda v: 0 <= v <= 0.5, "{} must be between 0 and 0.5")


def _date(text: str) -> date:
    """argparse type wrapper around iso_date."""
    try:
        return iso_date(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one `error:` line and exit status 2."""

    def error(self, message: str) -> None:  # noqa: D102
        print(f"error: {self.prog}: {message}", file=sys.stderr)
        sys.exit(2)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command."""
    parser = _Parser(prog="journey", description="Journey: profiles, segments and campaigns for e-commerce.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    db = sub.add_parser("db", help="embedded PostgreSQL: start, stop, status, url")
    db.add_argument("action", choices=["start", "stop", "status", "url"])
    db.set_defaults(func=_db)

    gen = sub.add_parser("generate", help="write a realistic synthetic data set with ground truth")
    gen.add_argument("--users", type=_positive, default=20_000)
    gen.add_argument("--days", type=_positive, default=30)
    gen.add_argument("--seed", type=_seed, default=7)
    gen.add_argument("--out", required=True, help="output folder")
    gen.add_argument("--dirty", type=_fraction, default=0.0, help="share of rows to damage (0..0.5)")
    gen.add_argument("--end-date", type=_date, default=date(2026, 10, 31), help="last day of the window")
    gen.set_defaults(func=_generate)

    ing = sub.add_parser("ingest", help="ingest event files into the curated lake (local Spark)")
    ing.add_argument("--source", required=True, help="file or folder of events")
    ing.add_argument("--format", default="canonical", help="canonical or rees46")
    ing.add_argument("--run-id", default=f"cli__{date.today().isoformat()}")
    ing.set_defaults(func=_ingest)

    quar = sub.add_parser("quarantine", help="inspect quarantined rows, or re-ingest them after a fix")
    quar.add_argument("action", choices=["show", "replay"])
    quar.add_argument("--run-id", default="", help="ingest run whose rows to show/replay (omit to list runs)")
    quar.add_argument("--dataset", default="events", choices=["events", "users"])
    quar.add_argument("--limit", type=_positive, default=20, help="rows to print with show")
    quar.add_argument("--extract-only", action="store_true", help="replay: only write the rows file")
    quar.set_defaults(func=_quarantine)

    demo = sub.add_parser("demo", help="generate data and run the daily DAG end to end")
    demo.add_argument("--users", type=_positive, default=20_000)
    demo.add_argument("--days", type=_positive, default=30)
    demo.add_argument("--seed", type=_seed, default=7)
    demo.set_defaults(func=_demo)

    summ = sub.add_parser("summary", help="print what the warehouse holds for a snapshot date")
    summ.add_argument("--date", type=_date, default=None, help="snapshot date (default: latest)")
    summ.set_defaults(func=_summary)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `journey` console script."""

    def dispatch(args_list: list[str] | None) -> int:
        args = build_parser().parse_args(args_list)
        return args.func(args)

    return run_main(dispatch, argv)


if __name__ == "__main__":
    sys.exit(main())
