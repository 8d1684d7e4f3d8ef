"""Where the builder's Launch finds Airflow and its login (journey.serve.campaign_launch.airflow_target)."""

from __future__ import annotations

import json

import pytest

from journey.config import get_settings
from journey.errors import ConfigError
from journey.serve.campaign_launch import airflow_target, login, reachable, run_link


def test_defaults_are_journey_airflows_port_user_and_kept_password(tmp_path):
    settings = get_settings({"JOURNEY_HOME": str(tmp_path), "JOURNEY_AIRFLOW_PORT": "8099"})
    settings.airflow_home.mkdir(parents=True)
    (settings.airflow_home / "journey_passwords.json").write_text(json.dumps({"admin": "kept-secret"}))
    target = airflow_target(settings, {})
    assert (target.url, target.username, target.password) == ("http://127.0.0.1:8099", "admin", "kept-secret")
    assert run_link(target, "campaign__x__2026-11-30T120000Z") == (
        "http://127.0.0.1:8099/dags/journey_campaign/runs/campaign__x__2026-11-30T120000Z")


def test_environment_names_another_airflow(tmp_path):
    settings = get_settings({"JOURNEY_HOME": str(tmp_path), "JOURNEY_AIRFLOW_PASSWORD": "given"})
    target = airflow_target(settings, {"JOURNEY_AIRFLOW_URL": "https://airflow.example/", "JOURNEY_AIRFLOW_USER": "ops"})
    assert (target.url, target.username, target.password) == ("https://airflow.example", "ops", "given")


def test_no_password_is_a_config_error_naming_the_variable_and_nothing_listening_is_unreachable(tmp_path):
    target = airflow_target(get_settings({"JOURNEY_HOME": str(tmp_path)}), {"JOURNEY_AIRFLOW_URL": "http://127.0.0.1:9"})
    assert target.password is None and not reachable(target)
    with pytest.raises(ConfigError, match="JOURNEY_AIRFLOW_PASSWORD"):
        login(target)
