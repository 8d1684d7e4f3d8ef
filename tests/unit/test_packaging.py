"""The package zip shipped to Spark executors, and when the DAG's operator ships it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from journey.config import get_settings
from journey.orchestration.dag_steps import spark_job
from journey.orchestration.submit import with_py_file
from journey.runtime.packaging import PACKAGE_DIR, content_hash, package_zip, ships_package

JOBS = Path(__file__).resolve().parents[2] / "jobs"


@pytest.fixture
def package_copy(tmp_path) -> Path:
    """A copy of the journey package folder, free to edit."""
    copy = tmp_path / "src" / "journey"
    shutil.copytree(PACKAGE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def test_the_zip_holds_the_package_code_and_data_without_bytecode(tmp_path):
    archive = package_zip(get_settings({"JOURNEY_HOME": str(tmp_path)}))
    names = zipfile.ZipFile(archive).namelist()
    assert archive.parent == tmp_path / "dist"
    assert archive.name == f"journey-{content_hash()}.zip"
    assert {"journey/__init__.py", "journey/runtime/spark.py", "journey/warehouse/schema.py",
            "journey/migrations/V001__foundation.sql"} <= set(names)
    assert all(n.startswith("journey/") for n in names)
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


def test_the_same_code_gives_the_same_zip_and_an_edit_a_new_one(tmp_path, package_copy):
    first = package_zip(get_settings({"JOURNEY_HOME": str(tmp_path / "a")}), package_copy)
    again = package_zip(get_settings({"JOURNEY_HOME": str(tmp_path / "a")}), package_copy)
    elsewhere = package_zip(get_settings({"JOURNEY_HOME": str(tmp_path / "b")}), package_copy)
    assert again == first
    assert elsewhere.read_bytes() == first.read_bytes()  # fixed timestamps and order
    (package_copy / "profiles.py").write_text("# edited\n", encoding="utf-8")
    edited = package_zip(get_settings({"JOURNEY_HOME": str(tmp_path / "a")}), package_copy)
    assert edited.name != first.name
    assert sorted(p.name for p in (tmp_path / "a" / "dist").iterdir()) == sorted([first.name, edited.name])


def test_a_folder_without_init_is_refused_with_its_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="no __init__.py"):
        package_zip(get_settings({"JOURNEY_HOME": str(tmp_path)}), tmp_path)


def test_the_package_imported_from_the_zip_finds_its_migrations(tmp_path):
    archive = package_zip(get_settings({"JOURNEY_HOME": str(tmp_path)}))
    code = ("import json, journey; from journey.warehouse import migration_files; "
            "print(json.dumps([journey.__file__, [m.path.name for m in migration_files()]]))")
    out = subprocess.run([sys.executable, "-c", code], env={"PYTHONPATH": str(archive), "PATH": "/usr/bin:/bin"},
                         capture_output=True, text=True, timeout=120, check=True).stdout
    where, migrations = json.loads(out.strip().splitlines()[-1])
    assert where == f"{archive}/journey/__init__.py"
    assert migrations == sorted(p.name for p in (PACKAGE_DIR / "migrations").glob("*.sql"))
    assert migrations[0] == "V001__foundation.sql"


@pytest.mark.parametrize(("master", "ships"), [
    ("local", False), ("local[*]", False), ("local[4]", False),
    ("spark://spark-master:7077", True), ("yarn", True), ("k8s://https://10.0.0.1:6443", True),
])
def test_only_cluster_masters_get_the_package(master, ships):
    assert ships_package(master) is ships


def test_the_zip_is_added_once_to_the_py_files():
    assert with_py_file(None, "/d/journey-1.zip") == "/d/journey-1.zip"
    assert with_py_file("/x/extra.py", "/d/journey-1.zip") == "/x/extra.py,/d/journey-1.zip"
    assert with_py_file("/d/journey-1.zip", "/d/journey-1.zip") == "/d/journey-1.zip"


def test_the_dag_operator_reads_the_master_from_spark_default(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_SPARK_DEFAULT", json.dumps({"conn_type": "spark", "host": "spark://sm:7077"}))
    step = spark_job("build_profiles", JOBS / "build_profiles.py", ["--run-id", "r"])
    assert step.spark_master() == "spark://sm:7077"
    assert step.py_files is None  # nothing built at parse time
