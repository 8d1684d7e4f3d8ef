"""How an `airflow dags test` output is cut into task attempts (orchestration/run_record.py).

The lines are the shapes Airflow 3.3's dag.test prints (taken from a real run); that the files land
where the api-server reads them is tests/integration/test_dag_test_record.py.
"""

from __future__ import annotations

from journey.orchestration.run_record import by_run, task_attempts

RUN = "manual__2026-11-30T18:05:13.198672+00:00"


def start(task: str, map_index: int = -1) -> list[str]:
    """The two lines dag.test prints when it starts a task."""
    return [f"2026-11-30T18:05:14.27Z [info     ] [DAG TEST] starting task_id={task} map_index={map_index} "
            f"[airflow.sdk.definitions.dag] loc=dag.py:1501\n",
            f"2026-11-30T18:05:14.28Z [info     ] [DAG TEST] running task <TaskInstance: journey_daily_profiles.{task} "
            f"{RUN} [TaskInstanceState.SCHEDULED] ti_id=01a2> [airflow.sdk.definitions.dag] loc=dag.py:1504\n"]


def end(task: str) -> str:
    """The line dag.test prints when a task ends."""
    return f"2026-11-30T18:05:34.30Z [info     ] [DAG TEST] end task task_id={task} map_index=-1 [airflow.sdk] x\n"


def test_lines_between_a_tasks_start_and_end_are_its_log():
    lines = ["setting next dagrun info\n", *start("ingest_events"), "ingest 1,000 rows\n", end("ingest_events"),
             "Marking run successful\n", *start("publish"), "published 10 rows to journey.user_profiles\n",
             end("publish")]
    attempts = task_attempts(lines)
    assert [(a.dag_id, a.run_id, a.task_id, a.map_index) for a in attempts] == [
        ("journey_daily_profiles", RUN, "ingest_events", -1), ("journey_daily_profiles", RUN, "publish", -1)]
    assert attempts[0].lines[2:] == ["ingest 1,000 rows\n", end("ingest_events")]
    assert attempts[1].lines[2] == "published 10 rows to journey.user_profiles\n"
    assert not any("Marking run" in line for a in attempts for line in a.lines)


def test_a_retried_task_has_one_attempt_per_try_and_a_cut_short_one_ends_at_the_next_start():
    lines = [*start("ingest_events"), "error: source missing\n",  # killed: no end line
             *start("ingest_events"), "ingest 1,000 rows\n", end("ingest_events"),
             *start("report"), "report: /x.html\n"]  # the output stops mid-task
    attempts = task_attempts(lines)
    assert [(a.task_id, a.lines[2:]) for a in attempts] == [
        ("ingest_events", ["error: source missing\n"]),
        ("ingest_events", ["ingest 1,000 rows\n", end("ingest_events")]),
        ("report", ["report: /x.html\n"])]
    assert list(by_run(attempts)) == [("journey_daily_profiles", RUN)]


def test_a_start_without_its_running_line_names_no_run_and_is_dropped():
    assert task_attempts([start("publish")[0], "published 1 rows\n", end("publish")]) == []
