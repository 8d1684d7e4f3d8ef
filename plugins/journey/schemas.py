"""Canonical schemas and table contracts shared by every step.

Only plain-Python constants live here so that DAG files and the generator can import it
without starting Spark. `spark_schema()` builds the Spark StructType on demand.
"""

from __future__ import annotations

from datetime import date

EVENT_TYPES: tuple[str, ...] = (
    "view",
    "search",
    "add_to_cart",
    "remove_from_cart",
    "purchase",
    "coupon_redeem",
    "return",  # a cancelled order line (transactions feeds): its value counts as negative spend
)

CHANNELS: tuple[str, ...] = ("web", "app", "email", "push", "social", "search", "unknown")

# Canonical event columns, in contract order, with their Spark SQL types.
EVENT_COLUMNS: dict[str, str] = {
    "event_id": "string",
    "event_time": "timestamp",  # UTC
    "user_id": "string",
    "session_id": "string",
    "event_type": "string",
    "product_id": "string",
    "category": "string",  # dotted path, e.g. electronics.smartphone
    "brand": "string",
    "price": "double",
    "quantity": "int",
    "channel": "string",
    "coupon_code": "string",  # optional: the code of a coupon_redeem (null for other events and feeds without it)
}
REQUIRED_EVENT_FIELDS: tuple[str, ...] = ("event_time", "user_id", "event_type")
# Earliest event_time ingest accepts (UTC) unless a feed's mapping sets its own `timestamp.floor`.
TIME_FLOOR: date = date(1970, 1, 1)

# Curated events add the partition column.
CURATED_EVENT_COLUMNS: dict[str, str] = {**EVENT_COLUMNS, "event_date": "date"}

# Quarantine rows keep the raw input, where it came from and why it was rejected.
QUARANTINE_COLUMNS: dict[str, str] = {
    "run_id": "string",
    "source_file": "string",
    "reason": "string",
    "detail": "string",
    "raw": "string",
}

# Reason codes for rejected event rows (one per row: the first rule that failed).
REJECT_REASONS: dict[str, str] = {
    "malformed_row": "the line could not be split into the expected columns",
    "invalid_encoding": "the row holds bytes that are not UTF-8 text",
    "missing_event_time": "event_time is empty",
    "unparsable_timestamp": "event_time is not a timestamp in a known format",
    "timestamp_without_zone": "event_time has no time zone",
    "future_timestamp": "event_time is after the ingest time",
    "timestamp_before_floor": "event_time is before the time floor (default 1970-01-01, or the mapping's)",
    "missing_user_id": "user_id is empty",
    "unknown_event_type": f"event_type is not one of {', '.join(EVENT_TYPES)}",
    "invalid_price": "price is not a number",
    "missing_price": "price is empty on an add_to_cart, purchase or return",
    "negative_price": "price is below zero",
    "price_above_ceiling": "price is above the configured ceiling",
    "invalid_quantity": "quantity is not a whole number of at least 1",
}

USER_COLUMNS: dict[str, str] = {
    "user_id": "string",
    "signup_date": "date",
    "country": "string",
    "consent_email": "boolean",
    "consent_push": "boolean",
    "consent_sms": "boolean",
}

PRODUCT_COLUMNS: dict[str, str] = {
    "product_id": "string",
    "title": "string",
    "category": "string",
    "brand": "string",
    "price": "double",
    "margin": "double",
}

SCENES: tuple[str, ...] = ("browse", "targeted", "compare", "promo_hunt", "replenish", "gift")
LIFECYCLE_STAGES: tuple[str, ...] = ("new", "active", "loyal", "at_risk", "churned")


def ddl(columns: dict[str, str]) -> str:
    """Spark DDL string ("a string, b int") for a column mapping."""
    return ", ".join(f"{name} {kind}" for name, kind in columns.items())


def spark_schema(columns: dict[str, str]):
    """Spark StructType for a column mapping (imports pyspark lazily)."""
    from pyspark.sql.types import StructType

    return StructType.fromDDL(ddl(columns))
