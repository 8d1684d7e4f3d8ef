"""`journey` command line: database, data generation, ingest, the demo and summaries.

Every expected failure (bad argument, missing file, no Java, no database) prints one line
starting with `error:` and exits with status 2; no traceback.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date

from journey.campaigns.commands import add_commands as add_campaign_commands
from journey.config import get_settings
from journey.dag_ids import DAG_IDS
from journey.errors import InputError
from journey.models.registry import MODEL_NAMES
from journey.runtime.runner import iso_date, run_main
from journey.serve.commands import add_commands as add_serve_commands


def _db(args: argparse.Namespace) -> int:
    """journey db start|stop|status|url|bi-url."""
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
    elif args.action == "bi-url":
        print(warehouse.bi_url(settings))
    else:
        print(warehouse.database_url(settings))
    return 0


def _generate(args: argparse.Namespace) -> int:
    """journey generate: write a synthetic data set with ground truth (or continue it after a campaign)."""
    if args.respond_to:
        return _respond(args)
    from journey.datagen import generate

    summary = generate(args.out, users=args.users, days=args.days or 30, seed=args.seed, dirty=args.dirty,
                       end_date=args.end_date, progress=lambda msg: print(f"  {msg}", flush=True),
                       sequential_intent=args.sequential_intent)
    print(
        f"generated {summary.events:,} events, {summary.sessions:,} sessions, {summary.users:,} users, "
        f"{summary.products:,} products ({summary.start_date} .. {summary.end_date}) in {summary.seconds:.1f}s "
        f"= {summary.events / max(summary.seconds, 1e-9):,.0f} events/s"
    )
    if summary.dirty_rows:
        print(f"  {summary.dirty_rows:,} rows made dirty, listed in {summary.out_dir}/ground_truth/dirty_rows.parquet")
    print(f"  output: {summary.out_dir}")
    return 0


def _respond(args: argparse.Namespace) -> int:
    """journey generate --respond-to RUN: the days after a campaign run, with its known effects."""
    from journey import warehouse
    from journey.datagen.respond import respond_to_campaign

    with warehouse.connect(get_settings()) as conn:
        summary = respond_to_campaign(conn, args.respond_to, args.data or args.out, args.out, days=args.days or 14,
                                      seed=args.seed, respond=not args.no_effect,
                                      progress=lambda msg: print(f"  {msg}", flush=True))
    print(f"simulated {summary.start_date} .. {summary.end_date} after run {summary.run_id}: "
          f"{summary.treated:,} treated, {summary.holdout:,} held out, {summary.untargeted:,} outside the campaign, "
          f"{summary.events:,} events in {summary.seconds:.1f}s")
    print(f"  true average effect on the treated: {summary.true_effect:+.4f}; converted: treated "
          f"{summary.converted_treated:.4f}, held out {summary.converted_holdout:.4f}")
    print(f"  events: {summary.events_dir}  truth: {summary.truth_path}")
    return 0


def _ingest(args: argparse.Namespace) -> int:
    """journey ingest: run the ingest job in this process."""
    return _run_ingest_job(args.source, args.format, args.run_id, args.mapping, args.rows_are_distinct)


def _quarantine(args: argparse.Namespace) -> int:
    """journey quarantine show|replay."""
    from journey.ingest import quarantine

    settings = get_settings()
    if args.action == "show":
        if not args.run_id:
            found = quarantine.runs(settings, args.dataset)
            print(f"runs with quarantined {args.dataset} rows: {', '.join(found) or 'none'}")
            return 0
        print("\n".join(quarantine.show(settings, args.run_id, args.dataset, args.limit)))
        return 0
    if not args.run_id:
        raise InputError("replay needs --run-id (see `journey quarantine show` for the runs)")
    path, written, skipped = quarantine.replay_file(settings, args.run_id, args.dataset)
    print(f"wrote {written:,} quarantined rows to {path}" + (f" ({skipped:,} unsplittable lines skipped)" if skipped else ""))
    if args.extract_only or not written:
        return 0
    fmt = quarantine.original_format(settings, args.run_id)
    return _run_ingest_job(str(path), fmt, f"replay__{args.run_id}", _original_mapping(settings, args.run_id))


def _original_mapping(settings, run_id: str) -> str:
    """Mapping file of the ingest run (empty when it used none or its summary is gone)."""
    from journey import lake

    try:
        return lake.read_json(lake.run_summary_path(settings, "ingest_events", run_id)).get("mapping", "")
    except (OSError, ValueError):
        return ""


def _run_ingest_job(source: str, fmt: str, run_id: str, mapping: str = "", rows_are_distinct: bool = False) -> int:
    """Run jobs/ingest_events.py in this process."""
    import runpy

    from journey.orchestration.airflow_env import PROJECT_ROOT

    job = runpy.run_path(str(PROJECT_ROOT / "jobs" / "ingest_events.py"))
    return job["main"](["--source", source, "--format", fmt, "--run-id", run_id, "--mapping", mapping,
                        "--rows-are-distinct", str(rows_are_distinct)])


def _demo(args: argparse.Namespace) -> int:
    """journey demo: the whole daily pipeline on generated data."""
    from journey.demo import run_demo

    return run_demo(users=args.users, days=args.days, seed=args.seed)


def _run(args: argparse.Namespace) -> int:
    """journey run DAG: one DAG run on this machine, as `make demo` runs the daily DAG."""
    from journey.orchestration.local_run import run_and_summarise, run_conf

    conf = run_conf(args.param, source=args.source, format=args.format, mapping=args.mapping, users=args.users)
    return run_and_summarise(get_settings(), args.dag, args.date, conf)


def _airflow(args: argparse.Namespace) -> int:
    """journey airflow: serve Airflow locally with this project's DAGs until Ctrl-C or SIGTERM."""
    from journey.orchestration.airflow_server import run_foreground

    return run_foreground(get_settings())


def _summary(args: argparse.Namespace) -> int:
    """journey summary: what the warehouse holds for a snapshot."""
    from journey.reports.summary import print_summary

    print_summary(get_settings(), args.date)
    return 0


def _report(args: argparse.Namespace) -> int:
    """journey report: write the HTML report of one DAG run and print its path."""
    from journey.reports import print_run_report

    print_run_report(get_settings(), args.dag, args.run_id)
    return 0


def _models(args: argparse.Namespace) -> int:
    """journey models list|promote|rollback: the model registry."""
    from journey import warehouse
    from journey.models import registry

    with warehouse.connect(get_settings()) as conn:
        if args.action == "list":
            rows = registry.list_models(conn, args.name)
            for row in rows:
                value = "–" if row["primary_value"] is None else f"{row['primary_value']:.4f}"
                print(f"{row['name']:<15} v{row['version']:<4} {row['status']:<10} {row['primary_metric']} {value}  "
                      f"window {row['eval_window']}  {row['artifact_path']}")
            print(f"{len(rows)} registered version(s)")
            return 0
        if not args.name:
            raise InputError(f"models {args.action} needs --name ({', '.join(registry.MODEL_NAMES)})")
        if args.action == "rollback":
            old, new = registry.rollback(conn, args.name)
            print(f"{args.name}: champion v{old} retired, v{new} is champion again")
            return 0
        if args.version is None:
            raise InputError("models promote needs --version (see `journey models list`)")
        decision = registry.promote(conn, args.name, args.version, args.margin, force=args.force)
        print(f"{args.name} v{args.version}: {decision.reason}")
        return 0 if decision.promote else 1


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

    db = sub.add_parser("db", help="embedded PostgreSQL: start, stop, status, url, bi-url (read-only role)")
    db.add_argument("action", choices=["start", "stop", "status", "url", "bi-url"])
    db.set_defaults(func=_db)

    gen = sub.add_parser("generate", help="write a realistic synthetic data set with ground truth")
    gen.add_argument("--users", type=_positive, default=20_000)
    gen.add_argument("--days", type=_positive, default=None, help="days to simulate (default 30; 14 with --respond-to)")
    gen.add_argument("--seed", type=_seed, default=7)
    gen.add_argument("--out", required=True, help="output folder")
    gen.add_argument("--dirty", type=_fraction, default=0.0, help="share of rows to damage (0..0.5)")
    gen.add_argument("--end-date", type=_date, default=date(2026, 10, 31), help="last day of the window")
    gen.add_argument("--respond-to", default="", metavar="CAMPAIGN_RUN",
                     help="continue the world after this published campaign run (docs/campaigns.md)")
    gen.add_argument("--data", default="", help="--respond-to: the `journey generate` folder (default: --out)")
    gen.add_argument("--sequential-intent", action="store_true",
                     help="abandoned carts come back days later and are bought while interest lasts")
    gen.add_argument("--no-effect", action="store_true", help="--respond-to: nobody responds (a null campaign)")
    gen.set_defaults(func=_generate)

    ing = sub.add_parser("ingest", help="ingest event files into the curated lake (local Spark)")
    ing.add_argument("--source", required=True, help="file or folder of events")
    ing.add_argument("--format", default="canonical", help="canonical, rees46, transactions or mapped")
    ing.add_argument("--mapping", default="", help="YAML column mapping for --format mapped (docs/formats.md)")
    ing.add_argument("--rows-are-distinct", action="store_true",
                     help="identical lines are distinct events (identity: file + line number), not duplicates")
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

    run = sub.add_parser("run", help="run a DAG on this machine (airflow dags test), progress per task, summary at the end")
    run.add_argument("dag", help="daily, train, campaign or results (or a DAG id)")
    run.add_argument("--source", default="", help="daily: file or folder of events (default: $JOURNEY_HOME/inbox/events)")
    run.add_argument("--format", default="", help="daily: canonical, rees46, transactions or mapped (docs/formats.md)")
    run.add_argument("--mapping", default="", help="daily: YAML column mapping for --format mapped")
    run.add_argument("--users", default="", help="daily: users CSV (optional)")
    run.add_argument("--date", type=_date, default=date.today(), help="logical date = snapshot date (default: today)")
    run.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                     help="any DAG Param, repeatable; JSON values allowed (e.g. --param max_quarantine_share=0.3)")
    run.set_defaults(func=_run)

    air = sub.add_parser("airflow", help="serve Airflow (api-server, scheduler, dag-processor, triggerer) until Ctrl-C or SIGTERM")
    air.set_defaults(func=_airflow)

    summ = sub.add_parser("summary", help="print what the warehouse holds for a snapshot date")
    summ.add_argument("--date", type=_date, default=None, help="snapshot date (default: latest)")
    summ.set_defaults(func=_summary)

    rep = sub.add_parser("report", help="write the HTML report of a DAG run ($JOURNEY_HOME/reports/<dag>/<run>.html)")
    rep.add_argument("--dag", required=True, choices=DAG_IDS)
    rep.add_argument("--run-id", required=True, help="Airflow run id, e.g. manual__2026-10-31T00:00:00+00:00")
    rep.set_defaults(func=_report)

    models = sub.add_parser("models", help="model registry: list versions, promote a challenger, roll back")
    models.add_argument("action", choices=["list", "promote", "rollback"])
    models.add_argument("--name", default=None, choices=MODEL_NAMES)
    models.add_argument("--version", type=_positive, default=None, help="promote: the challenger's version")
    models.add_argument("--margin", type=float, default=None, help="promote: margin on the primary metric "
                        "(default: the margin the model was evaluated with)")
    models.add_argument("--force", action="store_true", help="promote even when the rule says no")
    models.set_defaults(func=_models)

    add_serve_commands(sub, _positive)
    add_campaign_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `journey` console script."""

    def dispatch(args_list: list[str] | None) -> int:
        args = build_parser().parse_args(args_list)
        return args.func(args)

    return run_main(dispatch, argv)


if __name__ == "__main__":
    sys.exit(main())
