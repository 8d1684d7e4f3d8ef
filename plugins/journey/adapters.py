"""Map each known feed format onto the canonical event columns (all still text).

An adapter only renames and re-codes; typing and validation happen once, in ingest.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from journey.schemas import EVENT_COLUMNS

# Columns a source file must have, per format.
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "canonical": ("event_time", "user_id", "event_type"),
    "rees46": (
        "event_time", "event_type", "product_id", "category_id",
        "category_code", "brand", "price", "user_id", "user_session",
    ),
}
KNOWN_COLUMNS: dict[str, tuple[str, ...]] = {
    "canonical": tuple(EVENT_COLUMNS),
    "rees46": REQUIRED_COLUMNS["rees46"],
}
FORMATS: tuple[str, ...] = tuple(REQUIRED_COLUMNS)

REES46_EVENT_TYPES = {"view": "view", "cart": "add_to_cart", "remove_from_cart": "remove_from_cart",
                      "purchase": "purchase"}
PASSTHROUGH = ("_corrupt_record", "source_file", "raw")


def _text(df: DataFrame, name: str) -> F.Column:
    """The column as text, or a null text column when the file lacks it."""
    return F.col(name).cast("string") if name in df.columns else F.lit(None).cast("string")


def canonical(df: DataFrame) -> DataFrame:
    """Canonical files: select the contract columns (missing optional ones become null)."""
    return df.select(*[_text(df, c).alias(c) for c in EVENT_COLUMNS], *PASSTHROUGH)


def rees46(df: DataFrame) -> DataFrame:
    """REES46 click-stream: cart→add_to_cart, user_session→session_id, category_code→category."""
    event_type = F.coalesce(
        F.element_at(F.create_map(*[F.lit(x) for kv in REES46_EVENT_TYPES.items() for x in kv]),
                     F.col("event_type")),
        F.col("event_type"),
    )
    return df.select(
        F.lit(None).cast("string").alias("event_id"),
        F.col("event_time"),
        F.col("user_id"),
        F.col("user_session").alias("session_id"),
        event_type.alias("event_type"),
        F.col("product_id"),
        F.col("category_code").alias("category"),
        F.col("brand"),
        F.col("price"),
        F.lit("1").alias("quantity"),
        F.lit("web").alias("channel"),
        *PASSTHROUGH,
    )


ADAPTERS = {"canonical": canonical, "rees46": rees46}


def to_canonical(df: DataFrame, fmt: str) -> DataFrame:
    """Apply the adapter of a format."""
    return ADAPTERS[fmt](df)
