"""After `airflow dags test`: record the run as the Airflow UI expects a run to be recorded.

`dag.test()` (Airflow 3.3, airflow/sdk/definitions/dag.py) creates the DagRun with
`start_date=logical_date`, so the demo's run for a date 30 days back shows a 30-day duration; and
it runs every task in its own process, whose log lines only go to the command's output, so the
UI finds no task log file ("Log file not found on worker"). This step, run right after in the
same Airflow environment (`airflow_env.test_dag`), fixes both from what the run left:

1. each run's start_date becomes the start of its first task (its end_date is already the real end);
2. each task attempt's lines of the command output (from "[DAG TEST] starting task_id=..." to
   "[DAG TEST] end task ...") are written where the api-server's task log handler reads them
   (by default $AIRFLOW_HOME/logs/dag_id=.../run_id=.../task_id=.../attempt=N.log).

    python -m journey.orchestration.run_record <command output file> [<byte offset where the run began>]
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

TASK_START = re.compile(r"\[DAG TEST\] starting task_id=(?P<task_id>\S+) map_index=(?P<map_index>-?\d+)")
TASK_END = re.compile(r"\[DAG TEST\] end task task_id=\S+ map_index=-?\d+")
RUNNING_TASK = re.compile(r"running task <TaskInstance: (?P<dag_id>\w+)\.\S+ (?P<run_id>\S+) \[")


@dataclass
class TaskAttempt:
    """One run of one task as `airflow dags test` printed it."""

    task_id: str
    map_index: int
    dag_id: str = ""
    run_id: str = ""
    lines: list[str] = field(default_factory=list)


def task_attempts(lines: Iterable[str]) -> list[TaskAttempt]:
    """The task attempts of a `dags test` output, in order; an attempt cut short ends at the next one or the end."""
    attempts: list[TaskAttempt] = []
    current: TaskAttempt | None = None
    for line in lines:
        started = TASK_START.search(line)
        if started:
            current = TaskAttempt(started.group("task_id"), int(started.group("map_index")))
            attempts.append(current)
        if current is None:
            continue
        current.lines.append(line)
        running = RUNNING_TASK.search(line)
        if running and not current.run_id:
            current.dag_id, current.run_id = running.group("dag_id"), running.group("run_id")
        if TASK_END.search(line):
            current = None
    return [attempt for attempt in attempts if attempt.run_id]


def by_run(attempts: list[TaskAttempt]) -> dict[tuple[str, str], list[TaskAttempt]]:
    """Attempts grouped by (dag_id, run_id), in the order they ran."""
    runs: dict[tuple[str, str], list[TaskAttempt]] = defaultdict(list)
    for attempt in attempts:
        runs[(attempt.dag_id, attempt.run_id)].append(attempt)
    return dict(runs)


def write_task_logs(handler, tis: dict, attempts: list[TaskAttempt], session) -> list[Path]:
    """Each attempt's lines to the log file the handler reads for (task, map index, try number)."""
    written, tries = [], defaultdict(int)
    for attempt in attempts:
        key = (attempt.task_id, attempt.map_index)
        if key not in tis:
            continue
        tries[key] += 1  # dag.test counts tries from 1, one per attempt
        path = Path(handler.local_base, handler._render_filename(tis[key], tries[key], session=session))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(line if line.endswith("\n") else line + "\n" for line in attempt.lines),
                        encoding="utf-8")
        written.append(path)
    return written


def record_run(dag_id: str, run_id: str, attempts: list[TaskAttempt]) -> list[Path]:
    """Set the run's start to its first task's start and write its task logs; the log files written."""
    from airflow.models.dagrun import DagRun
    from airflow.utils.log.file_task_handler import FileTaskHandler
    from airflow.utils.log.log_reader import TaskLogReader
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        run = session.scalar(select(DagRun).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id))
        if run is None:
            return []
        tis = {(ti.task_id, ti.map_index): ti for ti in run.get_task_instances(session=session)}
        starts = [ti.start_date for ti in tis.values() if ti.start_date]
        if starts:
            run.start_date = min(starts)
        handler = TaskLogReader().log_handler
        if not isinstance(handler, FileTaskHandler):  # remote logging: the worker's handler did it
            return []
        return write_task_logs(handler, tis, attempts, session)


def main(argv: list[str]) -> int:
    """Record every run found in a `dags test` output file (from a byte offset); prints what it did."""
    output, offset = Path(argv[0]), int(argv[1]) if len(argv) > 1 else 0
    with open(output, encoding="utf-8", errors="replace") as text:
        text.seek(offset)
        runs = by_run(task_attempts(text))
    for (dag_id, run_id), attempts in runs.items():
        written = record_run(dag_id, run_id, attempts)
        print(f"run record: {dag_id} {run_id}: start date = first task's start; {len(written)} task log file(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
