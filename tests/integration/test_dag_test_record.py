"""A real `airflow dags test` run, as `journey demo` / `journey run` do it, recorded as the Airflow UI reads it.

One tiny two-task DAG (no Spark) runs through `airflow_env.test_dag` into a fresh SQLite metadata
DB for a logical date 30 days back. Then, in the same Airflow environment, the metadata and the
api-server's own log reader are asked what the UI would show: the run's real start and end (not
the logical date), each task's log (not "Log file not found on worker"), and the campaign report
task's "Campaign report" extra link, pushed by the task runner as an XCom.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from journey.config import get_settings
from journey.orchestration import airflow_env

TINY_DAG = '''
from datetime import datetime

from airflow.sdk import dag, task

from journey.orchestration.report_link import CampaignReportLink


@dag(dag_id="journey_tiny_record", schedule=None, start_date=datetime(1970, 1, 1), catchup=False,
     params={"campaign_id": "spring_sale"})
def journey_tiny_record():
    @task
    def hello():
        print("hello from the tiny DAG")

    @task
    def report(campaign_id: str):
        print(f"report of {campaign_id}")

    summary = report(campaign_id="{{ params.campaign_id }}")
    summary.operator.operator_extra_links = (CampaignReportLink(),)
    hello() >> summary


journey_tiny_record()
'''

# What the api-server would read: the run, the report link's XCom, each task's log through its log reader.
READ_BACK = '''
import json
from airflow.models.dagrun import DagRun
from airflow.models.xcom import XComModel
from airflow.utils.log.log_reader import TaskLogReader
from airflow.utils.session import create_session
from sqlalchemy import select

with create_session() as session:
    run = session.scalars(select(DagRun).where(DagRun.dag_id == "journey_tiny_record")).one()
    link = session.scalar(select(XComModel.value).where(XComModel.run_id == run.run_id,
                                                         XComModel.key == "_link_CampaignReportLink"))
    logs = {}
    for ti in run.get_task_instances(session=session):
        stream, _ = TaskLogReader().read_log_chunks(ti, ti.try_number, {})
        logs[ti.task_id] = [str(message.event) for message in stream]
    print(json.dumps({"run_id": run.run_id, "start": run.start_date.isoformat(), "end": run.end_date.isoformat(),
                      "logical": run.logical_date.isoformat(), "state": run.state, "link": link, "logs": logs}))
'''


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """Run the tiny DAG once; the wall-clock bounds of the run, the Airflow home and what Airflow reads back."""
    root = tmp_path_factory.mktemp("dag-test-record")
    (root / "dags").mkdir()
    (root / "dags" / "journey_tiny_record.py").write_text(TINY_DAG, encoding="utf-8")
    settings = get_settings({"JOURNEY_HOME": str(root / "home")})
    base = {k: v for k, v in os.environ.items() if k != "JOURNEY_SERVE_URL"} | {"JOURNEY_API_PORT": "8123"}
    env = airflow_env.airflow_environment(settings, "postgresql://nobody@127.0.0.1:9/none", base)
    env["AIRFLOW__CORE__DAGS_FOLDER"] = str(root / "dags")
    log_file = root / "run.log"
    airflow_env.migrate_metadata_db(env, log_file)
    before = datetime.now(UTC)
    code = airflow_env.test_dag("journey_tiny_record", "2026-10-31", {}, env, log_file)
    after = datetime.now(UTC)
    out = subprocess.run([sys.executable, "-c", READ_BACK], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    return {"code": code, "before": before, "after": after, "home": settings.airflow_home,
            **json.loads(out.stdout.strip().splitlines()[-1])}


def test_run_succeeds_and_its_dates_are_wall_clock_not_the_logical_date(recorded):
    assert recorded["code"] == 0 and recorded["state"] == "success"
    assert recorded["logical"] == "2026-10-31T00:00:00+00:00"
    start, end = datetime.fromisoformat(recorded["start"]), datetime.fromisoformat(recorded["end"])
    assert recorded["before"] < start < end < recorded["after"]  # before: start = logical date, 30 days back
    assert (end - start).total_seconds() < (recorded["after"] - recorded["before"]).total_seconds()


def test_each_task_log_is_a_file_the_ui_reads(recorded):
    run_dir = recorded["home"] / "logs" / "dag_id=journey_tiny_record" / f"run_id={recorded['run_id']}"
    for task_id, printed in (("hello", "hello from the tiny DAG"), ("report", "report of spring_sale")):
        events = recorded["logs"][task_id]
        assert str(run_dir / f"task_id={task_id}" / "attempt=1.log") in events  # the source the reader names
        assert printed in events
        assert not any("Log file not found" in event for event in events)


def test_report_task_pushes_its_campaign_report_link(recorded):
    run_id = recorded["run_id"]  # manual__<time>+00:00: ':' and '+' are quoted in the URL
    quoted = run_id.replace(":", "%3A").replace("+", "%2B")
    assert recorded["link"] == f"http://127.0.0.1:8123/campaigns/spring_sale/{quoted}/report"
