"""Shared fixtures: one local SparkSession per test session, isolated Journey homes."""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

import pytest

from journey.config import get_settings


def pytest_configure(config):
    """Give each session its own base temp dir outside /tmp/pytest-of-<user>.

    The embedded PostgreSQL runs as another OS user (root cannot run it), and pytest resets
    /tmp/pytest-of-<user> to mode 0700 whenever any session starts, which would lock that
    user out of the data directories of servers already running under it.
    """
    if not config.option.basetemp:
        config.option.basetemp = tempfile.mkdtemp(prefix="journey-pytest-")
    # Every JVM of the suite (Spark drivers started by tests and by the DAGs' spark-submit) only
    # lives for seconds on tiny data: the quick JIT tier and the serial collector spend less CPU
    # on start-up (about 11 % off a daily DAG run on 2 cores). Production JVMs keep their defaults.
    os.environ.setdefault("JDK_JAVA_OPTIONS", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
    logging.getLogger("py4j").setLevel(logging.WARNING)  # its shutdown chatter outlives pytest's streams


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    """A small local SparkSession (2 threads, few shuffle partitions), shared by all tests."""
    from journey.runtime.spark import get_spark

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
