"""Every DAG file imports cleanly, touches no database or connection at parse time, and is documented.

The per-DAG checks are parametrised over the DAGs the parsed DagBag holds (see
pytest_generate_tests), so a new DAG file is checked without editing this file.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from functools import cache
from pathlib import Path

import pytest

from journey.dag_ids import DAG_IDS

DAGS = Path(__file__).resolve().parents[2] / "dags"
DAG_FILES = sorted(DAGS.glob("*.py"))
# Modules the DAG files must not import when parsed: the scheduler parses them every few seconds.
HEAVY_MODULES = ("pyspark", "psycopg2", "tensorflow", "great_expectations", "xgboost", "journey.warehouse",
                 "pandas", "pyarrow", "numpy", "keras", "plotly")

# Parse a DAG folder in a fresh interpreter whose databases are unreachable: Airflow's metadata DB
# (a SQLite file in a folder that does not exist) and the warehouse (a closed port), so any query
# fails loudly. Airflow connections cannot be looked up either: the Task SDK's two entry points
# (BaseHook.get_connection, which hooks call, and Connection.get under it) record the id and raise.
PARSE_SCRIPT = """
import json, sys
from airflow.sdk.bases.hook import BaseHook
from airflow.sdk.definitions.connection import Connection

looked_up = []
def refuse(cls, conn_id, *args, **kwargs):
    looked_up.append(conn_id)
    raise RuntimeError(f"connection {conn_id!r} looked up while parsing DAG files")
BaseHook.get_connection = classmethod(refuse)
Connection.get = classmethod(refuse)

from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1])
print(json.dumps({
    "errors": {k: str(v) for k, v in bag.import_errors.items()},
    "dags": {d.dag_id: {"tags": sorted(d.tags), "doc": bool(d.doc_md),
                        "owners": sorted({t.owner for t in d.tasks}), "start": d.start_date.isoformat(),
                        "retries": {t.task_id: t.retries for t in d.tasks}} for d in bag.dags.values()},
    "heavy": [m for m in sys.argv[2].split(",") if m in sys.modules],
    "connections": looked_up,
}))
"""


def parse_in_subprocess(folder: Path) -> dict:
    """DagBag results of a folder, from a subprocess with unreachable databases and connections."""
    with tempfile.TemporaryDirectory(prefix="airflow-home-") as home:
        env = {
            "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
            "AIRFLOW_HOME": home,
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": "sqlite:////nonexistent/airflow-metadata.db",
            "JOURNEY_DB_URL": "postgresql://nobody@127.0.0.1:9/none",
            "JOURNEY_HOME": str(Path(home) / "journey"),
        }
        out = subprocess.run([sys.executable, "-c", PARSE_SCRIPT, str(folder), ",".join(HEAVY_MODULES)],
                             capture_output=True, text=True, env=env, timeout=300)
    if out.returncode != 0:
        return {"returncode": out.returncode, "stderr": out.stderr[-3000:], "errors": {}, "dags": {}}
    return {"returncode": 0, "stderr": "", **json.loads(out.stdout.strip().splitlines()[-1])}


@cache
def parsed_dags() -> dict:
    """The project's DAG folder parsed once per test session (at collection, for the DAG ids)."""
    return parse_in_subprocess(DAGS)


def pytest_generate_tests(metafunc):
    """Run every test taking `dag_id` once per DAG of the parsed bag."""
    if "dag_id" in metafunc.fixturenames:
        metafunc.parametrize("dag_id", sorted(parsed_dags()["dags"]))


@pytest.fixture(scope="module")
def parsed():
    """The parse results of the DAG folder."""
    return parsed_dags()


@pytest.fixture(scope="module")
def bag():
    """The DAG folder parsed in this process, for checks on the DAG objects themselves."""
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))


def test_dag_files_exist():
    assert [p.name for p in DAG_FILES] == ["journey_campaign.py", "journey_campaign_results.py",
                                           "journey_daily_profiles.py", "journey_train_models.py"]


def test_no_import_errors(parsed):
    assert parsed["returncode"] == 0, parsed["stderr"]
    assert parsed["errors"] == {}
    assert set(parsed["dags"]) == set(DAG_IDS)


def test_no_heavy_imports_at_parse_time(parsed):
    assert parsed["heavy"] == []


def test_no_connection_is_looked_up_at_parse_time(parsed):
    assert parsed["connections"] == []


def test_a_connection_looked_up_at_parse_time_is_caught(tmp_path):
    (tmp_path / "looks_up.py").write_text(
        "from airflow.sdk import DAG, BaseHook\n"
        "master = BaseHook.get_connection('spark_default').host\n"
        "dag = DAG('looks_up', schedule=None)\n", encoding="utf-8")

    result = parse_in_subprocess(tmp_path)

    assert result["connections"] == ["spark_default"]
    assert list(result["errors"]) == [str(tmp_path / "looks_up.py")]


def test_dag_has_the_journey_tag(parsed, dag_id):
    assert "journey" in parsed["dags"][dag_id]["tags"]


def test_dag_has_docs(parsed, dag_id):
    assert parsed["dags"][dag_id]["doc"]


def test_every_task_has_the_owner(parsed, dag_id):
    owner = "marketing-ops" if dag_id.startswith("journey_campaign") else "data-engineering"  # campaigns: marketing's
    assert parsed["dags"][dag_id]["owners"] == [owner]


def test_runs_may_go_back_to_1970_for_old_feeds(parsed, dag_id):
    # a logical date before start_date gives a run that does nothing (CDNOW's snapshot is 1998-06-30)
    assert parsed["dags"][dag_id]["start"] == "1970-01-01T00:00:00+00:00"


INPUT_CHECKS = {("journey_campaign", "validate_params")}  # a wrong input stays wrong: no retry


def test_every_task_retries_but_the_input_checks(parsed, dag_id):
    retries = parsed["dags"][dag_id]["retries"]
    assert retries and all(n >= 1 for task, n in retries.items() if (dag_id, task) not in INPUT_CHECKS), retries
    assert all(retries[task] == 0 for dag, task in INPUT_CHECKS if dag == dag_id), retries


def test_daily_dag_task_order(bag):
    dag = bag.dags["journey_daily_profiles"]
    order = {t.task_id: sorted(t.downstream_task_ids) for t in dag.tasks}
    assert order == {"ingest_events": ["build_profiles"], "build_profiles": ["segment_users"],
                     "segment_users": ["publish"], "publish": ["report"], "report": []}


def test_train_models_dag_task_order(bag):
    dag = bag.dags["journey_train_models"]
    order = {t.task_id: sorted(t.downstream_task_ids) for t in dag.tasks}
    assert order == {"build_training_data": ["train"], "train": ["evaluate", "promote"], "evaluate": ["promote"],
                     "promote": ["score_users"], "score_users": ["report"], "report": []}
    assert dag.schedule == "@weekly"


def test_campaign_dag_task_order_and_params(bag):
    dag = bag.dags["journey_campaign"]
    order = {t.task_id: sorted(t.downstream_task_ids) for t in dag.tasks}
    assert order == {"validate_params": ["eligibility"], "eligibility": ["holdout"],
                     "holdout": ["coupons", "recommendations"], "coupons": ["ads"], "ads": ["quality"],
                     "recommendations": ["quality"], "quality": ["publish"], "publish": ["report"], "report": []}
    assert type(dag.timetable).__name__ == "NullTimetable"  # schedule=None: triggered only
    assert {"campaign_id", "coupons", "budget", "holdout_fraction", "dry_run"} <= set(dag.params)


def test_campaign_results_dag_is_daily_with_its_params(bag):
    dag = bag.dags["journey_campaign_results"]
    assert [t.task_id for t in dag.tasks] == ["measure"]
    assert dag.schedule == "@daily" and dag.catchup is False
    assert {name: dag.params[name] for name in dag.params} == {
        "campaign_id": "", "run_id": "", "attribution_window_days": 14, "recent_days": 7}
    window = dag.params.get_param("attribution_window_days").schema
    assert (window["minimum"], window["maximum"]) == (1, 90)
