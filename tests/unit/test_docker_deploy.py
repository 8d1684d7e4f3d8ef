"""docker/: the compose file parses, everything it names exists, and its settings agree with the code.

No Docker engine is needed (none is on the CI machine): the files are checked as text and YAML.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from journey import config
from journey.config import get_settings

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
SERVICES = {"postgres", "volumes-init", "airflow-init", "airflow-apiserver", "airflow-scheduler",
            "airflow-dag-processor", "airflow-triggerer", "spark-master", "spark-worker", "journey-api"}
AIRFLOW_SERVICES = ("airflow-init", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
                    "airflow-triggerer")
KNOWN_JOURNEY_VARS = {v for k, v in vars(config).items() if k.startswith("ENV_")}
# what a deployment must not leave to the local defaults (embedded server, local[*], ./.journey)
REQUIRED_JOURNEY_VARS = (config.ENV_HOME, config.ENV_LAKE, config.ENV_DB_URL, config.ENV_SPARK_MASTER)
DEFAULTED = re.compile(r"\$\{(\w+):-([^}]*)\}")


def resolved(value: object) -> str:
    """A compose value with `${NAME:-default}` replaced by its default (what an empty .env gives)."""
    return DEFAULTED.sub(lambda m: m.group(2), str(value))


@pytest.fixture(scope="module")
def compose() -> dict:
    """docker/docker-compose.yml, parsed (merge keys resolved)."""
    return yaml.safe_load((DOCKER / "docker-compose.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def dockerfile() -> str:
    """docker/Dockerfile as text."""
    return (DOCKER / "Dockerfile").read_text(encoding="utf-8")


def env(compose: dict, service: str) -> dict[str, str]:
    """A service's environment with defaults resolved."""
    return {k: resolved(v) for k, v in (compose["services"][service].get("environment") or {}).items()}


def dockerfile_value(dockerfile: str, instruction: str) -> list[str]:
    """Arguments of every `INSTRUCTION ...` line of the Dockerfile."""
    return [line.split(None, 1)[1] for line in dockerfile.splitlines() if line.startswith(f"{instruction} ")]


def test_every_service_is_there(compose):
    assert set(compose["services"]) == SERVICES


def test_every_build_context_dockerfile_and_bound_file_exists(compose):
    for name, service in compose["services"].items():
        build = service.get("build")
        if build:
            context = (DOCKER / build["context"]).resolve()
            assert context == ROOT, name
            assert (context / build["dockerfile"]).is_file(), name
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DOCKER / source).is_file(), f"{name}: {source}"
            else:
                assert source in compose["volumes"], f"{name}: undeclared volume {source}"


def test_the_image_is_the_pinned_airflow_with_the_projects_requirements(dockerfile):
    airflow_pin = re.search(r"^apache-airflow==(\S+)$", (ROOT / "requirements.txt").read_text(), re.M).group(1)
    assert dockerfile_value(dockerfile, "ARG") == [f"AIRFLOW_IMAGE=apache/airflow:{airflow_pin}-python3.11"]
    assert airflow_pin.startswith("3.3.")
    assert "openjdk-17-jre-headless" in dockerfile
    assert "pip install --no-cache-dir -r requirements.txt -c constraints.txt" in dockerfile
    sources = [word for args in dockerfile_value(dockerfile, "COPY") for word in args.split()[1:-1]]
    assert {"requirements.txt", "constraints.txt", "plugins", "jobs", "dags", "setup.cfg"} <= set(sources)
    for source in sources:
        assert (ROOT / source).exists(), source


def test_the_build_context_sends_what_the_dockerfile_copies_and_not_the_venv():
    ignore = (DOCKER / "Dockerfile.dockerignore").read_text(encoding="utf-8").splitlines()
    assert ignore[1] == "*"  # after the comment line: exclude all, then re-include
    assert {"!requirements.txt", "!constraints.txt", "!plugins", "!jobs", "!dags"} <= set(ignore)
    assert "!.venv" not in ignore


def test_journey_variables_are_the_ones_the_config_module_reads(compose):
    for name in compose["services"]:
        unknown = {k for k in env(compose, name) if k.startswith("JOURNEY_")} - KNOWN_JOURNEY_VARS
        assert not unknown, f"{name}: {unknown}"
    for name in AIRFLOW_SERVICES:
        assert set(REQUIRED_JOURNEY_VARS) <= set(env(compose, name)), name


def test_the_settings_the_services_get_are_valid_and_on_shared_volumes(compose):
    for name in (*AIRFLOW_SERVICES[1:], "spark-worker"):  # all but airflow-init, which only migrates
        settings = get_settings(env(compose, name))
        mounts = {v.split(":")[1] for v in compose["services"][name].get("volumes", [])}
        assert str(settings.home) in mounts and settings.lake in mounts, name
        assert settings.shuffle_partitions > 0 and settings.task_retries >= 1


def test_every_spark_master_url_agrees(compose):
    master = compose["services"]["spark-master"]
    args = master["command"]
    expected = f"spark://{master['hostname']}:{args[args.index('--port') + 1]}"
    assert args[0] == "org.apache.spark.deploy.master.Master"
    worker = compose["services"]["spark-worker"]["command"]
    assert worker[:2] == ["org.apache.spark.deploy.worker.Worker", expected]
    for name in AIRFLOW_SERVICES:
        variables = env(compose, name)
        assert variables["JOURNEY_SPARK_MASTER"] == expected, name
        assert json.loads(variables["AIRFLOW_CONN_SPARK_DEFAULT"]) == {"conn_type": "spark", "host": expected}


def test_the_databases_are_the_postgres_service_and_its_init_script(compose):
    init = (DOCKER / "postgres" / "init-journey.sh").read_text(encoding="utf-8")
    postgres = env(compose, "postgres")
    for name in AIRFLOW_SERVICES:
        variables = env(compose, name)
        warehouse, metadata = urlsplit(variables["JOURNEY_DB_URL"]), urlsplit(
            variables["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
        assert (warehouse.hostname, warehouse.port) == (metadata.hostname, metadata.port) == ("postgres", 5432)
        assert f"CREATE DATABASE {warehouse.path.lstrip('/')} OWNER {warehouse.username}" in init
        assert warehouse.password == postgres["WAREHOUSE_DB_PASSWORD"]
        assert (metadata.username, metadata.password, metadata.path.lstrip("/")) == (
            postgres["POSTGRES_USER"], postgres["POSTGRES_PASSWORD"], postgres["POSTGRES_DB"])


def test_dags_and_plugins_folders_are_where_the_image_puts_them(compose, dockerfile):
    workdir = dockerfile_value(dockerfile, "WORKDIR")[-1]
    for name in AIRFLOW_SERVICES:
        variables = env(compose, name)
        assert variables["AIRFLOW__CORE__DAGS_FOLDER"] == f"{workdir}/dags"
        assert variables["AIRFLOW__CORE__PLUGINS_FOLDER"] == f"{workdir}/plugins"
