"""SparkSession factory: local[*] by default, the master from config or spark-submit otherwise.

Started on a cluster master without spark-submit (`JOURNEY_SPARK_MASTER=spark://…`), it ships the
journey package zip to the executors itself, as the DAG's operator does with --py-files.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from journey.config import Settings, get_settings
from journey.runtime.javacheck import ensure_java_home
from journey.runtime.packaging import package_zip, ships_package

# SQL settings every Journey job runs with (UTC timestamps, deterministic output names).
BASE_CONF: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.sources.partitionOverwriteMode": "dynamic",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.adaptive.enabled": "true",
    "spark.log.structuredLogging.enabled": "false",
}
LOG_CONF = Path(__file__).with_name("log4j2.properties")  # Spark at WARN: task logs show our INFO lines


def driver_log_conf() -> dict[str, str]:
    """The driver JVM option that loads LOG_CONF (Spark's start-up INFO lines stay out of task logs)."""
    return {"spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile={LOG_CONF.as_uri()}"}


def spark_conf(settings: Settings) -> dict[str, str]:
    """Spark configuration for Journey jobs, from the settings."""
    return {**BASE_CONF, **driver_log_conf(), "spark.sql.shuffle.partitions": str(settings.shuffle_partitions)}


def get_spark(app_name: str, settings: Settings | None = None):
    """Build (or reuse) the SparkSession; keeps the master chosen by spark-submit if any."""
    from pyspark.sql import SparkSession

    settings = settings or get_settings()
    ensure_java_home()
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.appName(app_name)
    if not _launched_by_spark_submit():
        builder = (
            builder.master(settings.spark_master)
            .config("spark.driver.memory", settings.driver_memory)
            .config("spark.ui.enabled", "false")
        )
    for key, value in spark_conf(settings).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    if not _launched_by_spark_submit() and ships_package(settings.spark_master):
        spark.sparkContext.addPyFile(str(package_zip(settings)))  # what the DAG's operator passes as --py-files
    return spark


def _launched_by_spark_submit() -> bool:
    """True inside a driver started by spark-submit (it passes the master to the JVM)."""
    return "PYSPARK_GATEWAY_PORT" in os.environ or "SPARK_SUBMIT_OPTS" in os.environ


@contextmanager
def session_conf(spark, settings: dict[str, str]) -> Iterator[None]:
    """Run the enclosed Spark actions with these SQL settings; the previous values are restored after."""
    before = {key: spark.conf.get(key, None) for key in settings}
    for key, value in settings.items():
        spark.conf.set(key, value)
    try:
        yield
    finally:
        for key, value in before.items():
            if value is None:
                spark.conf.unset(key)
            else:
                spark.conf.set(key, value)


def fixed_shuffle_partitions(spark, partitions: int):
    """Context: run the enclosed Spark actions with exactly `partitions` post-shuffle partitions.

    Adaptive execution sizes each shuffle by the bytes it moves; a job whose joins then multiply
    the rows (recommendation candidates) would end up in one task per stage. Inside this block
    coalescing is off and the shuffle partition count is fixed; both settings are restored after.
    """
    return session_conf(spark, {"spark.sql.shuffle.partitions": str(partitions),
                                "spark.sql.adaptive.coalescePartitions.enabled": "false"})


COLUMN_PRUNING = "org.apache.spark.sql.catalyst.optimizer.ColumnPruning"


def shared_exchanges(spark):
    """Context: plans made inside it keep every column of a repartitioned DataFrame up to its consumers.

    Spark's optimizer prunes each consumer's unused columns below a repartition, so several
    aggregations of one repartitioned DataFrame each read and shuffle their own columns again. With
    the ColumnPruning rule off (only while the block runs; scans still read only the selected
    columns) their exchanges are the same and Spark runs one and reuses it.
    """
    key = "spark.sql.optimizer.excludedRules"
    excluded = [rule for rule in (spark.conf.get(key, None) or "").split(",") if rule]
    return session_conf(spark, {key: ",".join([*excluded, COLUMN_PRUNING])})
