"""Shared fixtures: one local SparkSession per test session, isolated Journey homes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from journey.config import get_settings


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    """A small local SparkSession (2 threads, few shuffle partitions), shared by all tests."""
    from journey.spark import get_spark

    home = tmp_path_factory.mktemp("spark-home")
    os.environ.setdefault("JOURNEY_SHUFFLE_PARTITIONS", "4")
    settings = get_settings({"JOURNEY_HOME": str(home), "JOURNEY_SPARK_MASTER": "local[2]",
                             "JOURNEY_SHUFFLE_PARTITIONS": "4", "JOURNEY_SPARK_DRIVER_MEMORY": "2g"})
    session = get_spark("journey-tests", settings)
    yield session
    session.stop()


@pytest.fixture
def settings(tmp_path: Path):
    """Settings rooted in a fresh temporary JOURNEY_HOME."""
    return get_settings({"JOURNEY_HOME": str(tmp_path / "home"), "JOURNEY_SHUFFLE_PARTITIONS": "4"})
