"""`journey run DAG`: one DAG run on this machine with `airflow dags test`, set up as `make demo` does.

Java is checked, the embedded PostgreSQL started (or JOURNEY_DB_URL used), Airflow's metadata
database prepared under $JOURNEY_HOME/airflow, then the DAG runs for real: every task in order,
Spark steps through spark-submit. The terminal shows one line per task and the lines our jobs
print; the full log goes to $JOURNEY_HOME/logs/. The run ends with a summary of what it produced.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from journey.config import Settings
from journey.dag_ids import CAMPAIGN_DAG, DAG_IDS, DAILY_DAG, RESULTS_DAG, TRAIN_DAG
from journey.errors import InputError

DAG_ALIASES = {"daily": DAILY_DAG, "train": TRAIN_DAG, "campaign": CAMPAIGN_DAG, "results": RESULTS_DAG}
LOG_LINE = re.compile(r"^\S+ \[(?P<level>\w+)\s*\] (?P<message>.*?)\s+\[(?P<logger>[\w.]+)\]")
RUNNING_TASK = re.compile(r"running task <TaskInstance: [\w]+\.(?P<task>\w+) (?P<run_id>\S+) ")
OUR_LINES = ("ingest ", "users:", "products:", "profiles ", "lifecycle:", "buyers:", "segments ", "#",
             "previous snapshot:", "quarantined ", "duplicates:", "published ", "error:", "warning:", "note:",
             "quality gate ", "report:", "campaign results")  # the lines our jobs print (leading spaces ignored)


@dataclass
class RunProgress:
    """What the terminal shows of a run, and the run id and tasks seen on the way."""

    echo: Callable[[str], None] = print
    run_id: str | None = None
    tasks: list[str] = field(default_factory=list)

    def __call__(self, line: str) -> None:
        """Show the lines a person cares about: task starts, our jobs' output, errors."""
        started = RUNNING_TASK.search(line)
        if started:
            self.run_id = self.run_id or started.group("run_id")
            self.tasks.append(started.group("task"))
            self.echo(f"  -> task {started.group('task')}")
            return
        match = LOG_LINE.match(line)
        if not match:
            return
        message, level = match.group("message").strip(), match.group("level")
        if message.startswith(OUR_LINES) or level in ("error", "critical"):
            self.echo(f"     {message}")


def dag_id_of(name: str) -> str:
    """A DAG id from its id or short name (daily, train, campaign)."""
    dag_id = DAG_ALIASES.get(name, name)
    if dag_id not in DAG_IDS:
        raise InputError(f"unknown DAG {name!r}: expected one of {', '.join([*DAG_ALIASES, *DAG_IDS])}")
    return dag_id


def parse_param(text: str) -> tuple[str, object]:
    """`key=value` of --param; the value is JSON when it parses as JSON (numbers, lists, true), else text."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise InputError(f"--param {text!r} is not key=value (e.g. --param max_quarantine_share=0.3)")
    try:
        return key.strip(), json.loads(value)
    except json.JSONDecodeError:
        return key.strip(), value


def run_conf(params: list[str], **given: str | None) -> dict:
    """The run's conf: options given by name (empty ones left out), then each --param key=value."""
    conf = {key: value for key, value in given.items() if value}
    conf.update(parse_param(text) for text in params)
    return conf


def prepare(settings: Settings) -> tuple[dict[str, str], Path]:
    """Java, the warehouse and Airflow's metadata DB; returns the Airflow environment and the log file."""
    from journey import warehouse
    from journey.orchestration import airflow_env
    from journey.runtime.javacheck import ensure_java_home

    ensure_java_home()
    settings.home.mkdir(parents=True, exist_ok=True)
    print("==> Starting the warehouse (PostgreSQL) and applying migrations", flush=True)
    db_url = warehouse.database_url(settings)
    with warehouse.connect(settings):
        pass
    env = airflow_env.airflow_environment(settings, db_url)
    log_file = settings.home / "logs" / f"run-{time.strftime('%Y%m%dT%H%M%S')}.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    print(f"==> Preparing Airflow metadata DB in {settings.airflow_home}", flush=True)
    airflow_env.migrate_metadata_db(env, log_file)
    return env, log_file


def run_dag(settings: Settings, dag_id: str, logical_date: date, conf: dict) -> tuple[int, RunProgress]:
    """Run one DAG for real and show its progress; returns the exit code and what was seen."""
    from journey.orchestration import airflow_env

    env, log_file = prepare(settings)
    print(f"==> Running DAG {dag_id} for {logical_date} with `airflow dags test` (full log: {log_file})", flush=True)
    if conf:
        print(f"    conf: {json.dumps(conf, sort_keys=True)}", flush=True)
    progress = RunProgress(echo=lambda text: print(text, flush=True))
    code = airflow_env.test_dag(dag_id, logical_date.isoformat(), conf, env, log_file, echo=progress)
    if code == 0 and not progress.tasks:
        print(f"error: the run of {dag_id} for {logical_date} ran no task (Airflow marked it done without work); "
              f"see {log_file}")
        return 1, progress
    if code != 0:
        print(f"error: the DAG run failed (exit {code}) after task {progress.tasks[-1] if progress.tasks else '-'}; "
              f"the task's log lines are in {log_file}")
    return code, progress


def closing_summary(settings: Settings, dag_id: str, progress: RunProgress, logical_date: date) -> list[str]:
    """What the run produced: the warehouse summary of a daily run; the HTML report of any run."""
    if dag_id == DAILY_DAG:  # its summary ends with the run report
        from journey.reports.summary import summary_lines

        return summary_lines(settings, logical_date)
    from journey.reports import report_path

    report = report_path(settings, dag_id, progress.run_id or "")
    return [f"Run report (open in a browser): {report}" if report.is_file() else f"Run id: {progress.run_id}"]


def run_and_summarise(settings: Settings, name: str, logical_date: date, conf: dict) -> int:
    """`journey run`: run the DAG, then print the summary; exit code 0 on success, 1 when the run failed."""
    started = time.monotonic()
    dag_id = dag_id_of(name)
    code, progress = run_dag(settings, dag_id, logical_date, conf)
    if code != 0:
        return 1
    print(f"==> Done in {time.monotonic() - started:.0f}s ({len(progress.tasks)} tasks). Summary:", flush=True)
    print("\n".join(closing_summary(settings, dag_id, progress, logical_date)))
    return 0
