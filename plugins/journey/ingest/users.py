"""Users dimension: signup date, country and channel consents, typed and checked."""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from journey import lake
from journey.config import Settings
from journey.schemas import USER_COLUMNS


@dataclass(frozen=True)
class UsersLoad:
    """Accounting of a users-file load."""

    curated: int
    quarantined: int


def _flag(column: str) -> F.Column:
    """Text true/false/1/0/yes/no as boolean (anything else: false)."""
    return F.lower(F.trim(F.col(column))).isin("true", "1", "yes", "y", "t")


def typed_users(raw: DataFrame) -> DataFrame:
    """Users with typed columns plus `reason` (null when valid)."""
    signup = F.trim(F.col("signup_date")).try_cast("date")
    reason = (
        F.when(F.col("user_id").isNull() | (F.trim(F.col("user_id")) == ""), "missing_user_id")
        .when(F.col("signup_date").isNotNull() & signup.isNull(), "unparsable_date")
    )
    return raw.select(
        F.trim(F.col("user_id")).alias("user_id"),
        signup.alias("signup_date"),
        F.upper(F.trim(F.col("country"))).alias("country"),
        *[_flag(c).alias(c) for c in USER_COLUMNS if c.startswith("consent_")],
        reason.alias("reason"),
        F.to_json(F.struct(*raw.columns)).alias("raw"),
    )


def ingest_users(spark: SparkSession, settings: Settings, path: str, run_id: str) -> UsersLoad:
    """Replace the curated users dimension from a CSV; rows without user_id go to quarantine."""
    raw = spark.read.csv(path, header=True, schema=", ".join(f"`{c}` string" for c in USER_COLUMNS))
    typed = typed_users(raw).cache()
    valid = typed.where(F.col("reason").isNull()).select(*USER_COLUMNS).dropDuplicates(["user_id"])
    lake.write_parquet_atomic(valid, lake.path(settings, lake.CURATED_USERS))
    rejected = typed.where(F.col("reason").isNotNull()).select(
        F.lit(run_id).alias("run_id"), F.lit(path).alias("source_file"), "reason",
        F.col("reason").alias("detail"), "raw",
    )
    lake.write_parquet_atomic(rejected, lake.quarantine_path(settings, "users", run_id))
    result = UsersLoad(curated=valid.count(), quarantined=rejected.count())
    typed.unpersist()
    return result
