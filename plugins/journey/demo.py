"""`journey demo`: embedded PostgreSQL + generated data + the daily DAG run for real."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from journey import warehouse
from journey.config import get_settings
from journey.dag_ids import DAILY_DAG
from journey.orchestration import airflow_env
from journey.reports.summary import print_summary
from journey.runtime.javacheck import ensure_java_home

DAG_ID = DAILY_DAG
END_DATE = "2026-10-31"
LOG_LINE = re.compile(r"^\S+ \[(?P<level>\w+)\s*\] (?P<message>.*?)\s+\[(?P<logger>[\w.]+)\]")
RUNNING_TASK = re.compile(r"running task <TaskInstance: [\w]+\.(?P<task>\w+) ")
OUR_LINES = ("ingest ", "users:", "profiles ", "lifecycle:", "buyers:", "segments ", "#", "previous snapshot:",
             "quarantined ", "published ", "error:")


def _step(message: str) -> None:
    """Print a demo step."""
    print(f"==> {message}", flush=True)


def ensure_data(inbox: Path, users: int, days: int, seed: int) -> None:
    """Generate the demo data into the inbox unless the same data is already there."""
    from journey.datagen import generate

    marker = inbox / "generated.json"
    wanted = {"users": users, "days": days, "seed": seed, "end_date": END_DATE}
    if marker.exists() and json.loads(marker.read_text()) == wanted:
        _step(f"Reusing generated data in {inbox}")
        return
    _step(f"Generating {users:,} users x {days} days (seed {seed}) into {inbox}")
    from datetime import date

    summary = generate(inbox, users=users, days=days, seed=seed, end_date=date.fromisoformat(END_DATE),
                       progress=lambda m: print(f"    {m}", flush=True))
    print(f"    {summary.events:,} events in {summary.seconds:.1f}s ({summary.events / summary.seconds:,.0f} events/s)")
    marker.write_text(json.dumps(wanted))


def _echo_progress(line: str) -> None:
    """Show the lines of an Airflow run a person cares about: task starts, our jobs' output, errors."""
    started = RUNNING_TASK.search(line)
    if started:
        print(f"  -> task {started.group('task')}", flush=True)
        return
    match = LOG_LINE.match(line)
    if not match:
        return
    message, level = match.group("message"), match.group("level")
    if message.startswith(OUR_LINES) or level in ("error", "critical"):
        print(f"     {message}", flush=True)


def run_demo(users: int, days: int, seed: int) -> int:
    """Run the demo; returns the process exit code."""
    started = time.monotonic()
    settings = get_settings()
    ensure_java_home()
    settings.home.mkdir(parents=True, exist_ok=True)
    _step("Starting the embedded PostgreSQL and applying migrations")
    db_url = warehouse.database_url(settings)
    with warehouse.connect(settings):
        pass
    ensure_data(settings.inbox, users, days, seed)
    env = airflow_env.airflow_environment(settings, db_url)
    log_file = settings.home / "logs" / f"demo-{time.strftime('%Y%m%dT%H%M%S')}.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    _step(f"Preparing Airflow metadata DB in {settings.airflow_home}")
    airflow_env.migrate_metadata_db(env, log_file)
    _step(f"Running DAG {DAG_ID} for {END_DATE} with `airflow dags test` (log: {log_file})")
    conf = {"source": str(settings.inbox / "events"), "users": str(settings.inbox / "users.csv")}
    code = airflow_env.test_dag(DAG_ID, END_DATE, conf, env, log_file, echo=_echo_progress)
    if code != 0:
        print(f"error: the DAG run failed (exit {code}); see {log_file}")
        return 1
    _step(f"Done in {time.monotonic() - started:.0f}s. Summary:")
    print_summary(settings)
    return 0
