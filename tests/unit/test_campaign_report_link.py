"""The campaign DAG's report task links to the run's HTML report on `journey serve` ("Campaign report").

The DAG is parsed from its file, serialized and deserialized as the scheduler and api-server do;
the link is computed on the task as the task runner leaves it (templates rendered). That the
runner pushes it as an XCom during a real run: tests/integration/test_dag_test_record.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

CAMPAIGN_DAG_FILE = Path(__file__).resolve().parents[2] / "dags" / "journey_campaign.py"
RUN_ID = "campaign__spring_sale__2026-11-30T180000Z"


@pytest.fixture(scope="module")
def campaign_dag():
    """The campaign DAG as Airflow parses it from its file."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(CAMPAIGN_DAG_FILE))
    assert bag.import_errors == {}
    return bag.dags["journey_campaign"]


def rendered_report_task(dag, campaign_id: str):
    """The report task with its templates rendered for a run of `campaign_id` (what finalize sees)."""
    from airflow.models.taskinstancekey import TaskInstanceKey

    task = dag.get_task("report").prepare_for_execution()  # a copy, as the task runner makes
    task.render_template_fields({"params": {"campaign_id": campaign_id}})
    return task, lambda run_id: TaskInstanceKey("journey_campaign", "report", run_id)


def test_link_survives_serialization_as_the_api_server_reads_it(campaign_dag):
    from airflow.serialization.serialized_objects import DagSerialization

    back = DagSerialization.from_dict(DagSerialization.to_dict(campaign_dag))
    report = back.get_task("report")
    assert report.extra_links == ["Campaign report"]
    assert report.operator_extra_link_dict["Campaign report"].xcom_key == "_link_CampaignReportLink"
    assert [t.extra_links for t in back.tasks if t.task_id != "report"] == [[]] * (len(back.tasks) - 1)


def test_link_is_the_report_route_of_the_run_on_the_default_service(campaign_dag, monkeypatch):
    monkeypatch.delenv("JOURNEY_SERVE_URL", raising=False)
    monkeypatch.delenv("JOURNEY_API_PORT", raising=False)
    task, key = rendered_report_task(campaign_dag, "spring_sale")
    (link,) = task.operator_extra_links
    assert link.name == "Campaign report"
    assert link.get_link(task, ti_key=key(RUN_ID)) == (
        "http://127.0.0.1:8000/campaigns/spring_sale/campaign__spring_sale__2026-11-30T180000Z/report")


def test_link_follows_the_configured_service_and_quotes_a_form_run_id(campaign_dag, monkeypatch):
    monkeypatch.setenv("JOURNEY_SERVE_URL", "https://journey.example.com/")
    task, key = rendered_report_task(campaign_dag, "winback-q4")
    (link,) = task.operator_extra_links
    assert link.get_link(task, ti_key=key("manual__2026-11-30T18:00:00+00:00")) == (
        "https://journey.example.com/campaigns/winback-q4/manual__2026-11-30T18%3A00%3A00%2B00%3A00/report")


def test_port_setting_moves_the_default_link(campaign_dag, monkeypatch):
    monkeypatch.delenv("JOURNEY_SERVE_URL", raising=False)
    monkeypatch.setenv("JOURNEY_API_PORT", "9001")
    task, key = rendered_report_task(campaign_dag, "spring_sale")
    assert task.operator_extra_links[0].get_link(task, ti_key=key(RUN_ID)) == (
        "http://127.0.0.1:9001/campaigns/spring_sale/campaign__spring_sale__2026-11-30T180000Z/report")
