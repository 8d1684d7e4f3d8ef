"""Map each known feed format onto the canonical event columns (all still text).

An adapter only renames and re-codes; typing and validation happen once, in ingest.

- canonical: the contract columns themselves.
- rees46: REES46 click-stream (cart → add_to_cart, user_session → session_id).
- transactions: order lines of the "Online Retail" kind (InvoiceNo, StockCode, Description,
  Quantity, InvoiceDate, UnitPrice, CustomerID, Country): one purchase event per line, the
  invoice is the session, invoices starting with `C` are cancellations and become `return`
  events (quantity made positive; profiles count their value as negative spend).
- mapped: any file described by a YAML column mapping (`journey.ingest.mapping`), which may also
  say how the file is laid out (`read`), that identical lines are distinct (`rows_are_distinct`:
  event id from file + line), how orders are told apart (`orders`) and that the price is the
  value of the whole line (`price_is: line_total`: divided by the quantity here).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from journey.errors import InputError
from journey.ingest.mapping import ColumnMapping, ReadOptions, load_mapping
from journey.schemas import EVENT_COLUMNS, TIME_FLOOR

# `_malformed`: why a line could not be split (set by the line reader); `_line`: its line number.
PASSTHROUGH = ("_corrupt_record", "_malformed", "source_file", "raw")
ISO_UTC = "yyyy-MM-dd'T'HH:mm:ssXXX"
ZONE_SUFFIX = r"(?i)(Z|[+-]\d{2}(:?\d{2})?|\s?UTC|\s?GMT)$"  # text that names its own zone

REES46_COLUMNS = (
    "event_time", "event_type", "product_id", "category_id",
    "category_code", "brand", "price", "user_id", "user_session",
)
REES46_EVENT_TYPES = {"view": "view", "cart": "add_to_cart", "remove_from_cart": "remove_from_cart",
                      "purchase": "purchase"}

TRANSACTION_COLUMNS = (
    "InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country",
)
TRANSACTION_REQUIRED = ("InvoiceNo", "StockCode", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID")
# InvoiceDate layouts of the public copies (UCI "12/1/2010 8:26", Online Retail II "2010-12-01 08:26:00").
TRANSACTION_TIME_FORMATS = ("yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm", "M/d/yyyy H:mm", "M/d/yyyy H:mm:ss")
TRANSACTION_ZONE = "Europe/London"  # the shop's local time: the data sets are from a UK retailer
CANCELLATION_PREFIX = "C"


@dataclass(frozen=True)
class FeedFormat:
    """A feed format: the columns a file must (and may) have, and its adapter."""

    name: str
    required: tuple[str, ...]
    known: tuple[str, ...]
    adapt: Callable[[DataFrame], DataFrame]
    read: ReadOptions = ReadOptions()
    line_numbers: bool = False  # rows are identified by file + line number (read line by line)
    time_floor: date = TIME_FLOOR


def _text(df: DataFrame, name: str) -> F.Column:
    """The column as text, or a null text column when the file lacks it."""
    return F.col(f"`{name}`").cast("string") if name in df.columns else F.lit(None).cast("string")


def _none() -> F.Column:
    """A null text column."""
    return F.lit(None).cast("string")


def _recode(column: F.Column, values: dict[str, str]) -> F.Column:
    """Values found in the map are replaced; others pass unchanged (ingest judges them)."""
    if not values:
        return column
    lookup = F.create_map(*[F.lit(x) for kv in values.items() for x in kv])
    return F.coalesce(F.element_at(lookup, column), column)


def parsed_price(text: F.Column) -> F.Column:
    """Price text as a double (null when empty or not a number)."""
    return F.nullif(F.trim(text), F.lit("")).try_cast("double")


def parsed_quantity(text: F.Column) -> F.Column:
    """Quantity text as an int: 1 when empty, null when not a whole number."""
    quantity_text = F.nullif(F.trim(text), F.lit(""))
    return F.coalesce(quantity_text.try_cast("int"), F.when(quantity_text.isNull(), 1))


def content_event_id(raw: F.Column) -> F.Column:
    """Event id derived from a row's raw text: identical rows get the same id (and are duplicates)."""
    return F.concat(F.lit("h"), F.substring(F.sha2(raw, 256), 1, 24))


def line_event_id() -> F.Column:
    """Event id derived from the source file and line number (null for rows read without line numbers)."""
    where = F.concat_ws(":", F.col("source_file"), F.col("_line").cast("string"))
    return F.when(F.col("_line").isNotNull(), F.concat(F.lit("l"), F.substring(F.sha2(where, 256), 1, 24)))


def line_id(df: DataFrame) -> F.Column:
    """Event id from file + line for rows read line by line (rows_are_distinct), else null (the id then comes
    from the row's content, in ingest)."""
    return line_event_id() if "_line" in df.columns else _none()


def local_time(text: F.Column, formats: tuple[str, ...], zone: str) -> F.Column:
    """UTC timestamp of a local time read with the first pattern that fits (null when none does)."""
    trimmed = F.trim(text)
    parsed = F.coalesce(*[F.try_to_timestamp(trimmed, F.lit(pattern)) for pattern in formats])
    return F.to_utc_timestamp(parsed, zone)


def zoned_text(text: F.Column, formats: tuple[str, ...], zone: str) -> F.Column:
    """ISO-8601 UTC text of a local time read with the first pattern that fits.

    Text no pattern reads is passed on unchanged, so ingest quarantines it quoting the
    original value (unparsable_timestamp / timestamp_without_zone).
    """
    return F.coalesce(F.date_format(local_time(text, formats, zone), ISO_UTC), text)


def canonical(df: DataFrame) -> DataFrame:
    """Canonical files: select the contract columns (missing optional ones become null)."""
    values = {c: _text(df, c) for c in EVENT_COLUMNS}
    values["event_id"] = F.coalesce(values["event_id"], line_id(df))
    return df.select(*[column.alias(name) for name, column in values.items()], *PASSTHROUGH)


def rees46(df: DataFrame) -> DataFrame:
    """REES46 click-stream: cart→add_to_cart, user_session→session_id, category_code→category."""
    return df.select(
        line_id(df).alias("event_id"),
        F.col("event_time"),
        F.col("user_id"),
        F.col("user_session").alias("session_id"),
        _recode(F.col("event_type"), REES46_EVENT_TYPES).alias("event_type"),
        F.col("product_id"),
        F.col("category_code").alias("category"),
        F.col("brand"),
        F.col("price"),
        F.lit("1").alias("quantity"),
        F.lit("web").alias("channel"),
        _none().alias("coupon_code"),
        *PASSTHROUGH,
    )


def transactions(df: DataFrame) -> DataFrame:
    """Online Retail order lines: purchases, `C` invoices as returns, float CustomerIDs normalised."""
    invoice = F.trim(F.col("InvoiceNo"))
    is_cancellation = F.upper(invoice).startswith(CANCELLATION_PREFIX)
    quantity = F.trim(F.col("Quantity"))
    return df.select(
        line_id(df).alias("event_id"),
        zoned_text(F.col("InvoiceDate"), TRANSACTION_TIME_FORMATS, TRANSACTION_ZONE).alias("event_time"),
        F.regexp_replace(F.trim(F.col("CustomerID")), r"\.0+$", "").alias("user_id"),
        invoice.alias("session_id"),
        F.when(is_cancellation, F.lit("return")).otherwise(F.lit("purchase")).alias("event_type"),
        F.col("StockCode").alias("product_id"),
        _none().alias("category"),
        _none().alias("brand"),
        F.col("UnitPrice").alias("price"),
        F.when(is_cancellation, F.regexp_replace(quantity, r"^-", "")).otherwise(quantity).alias("quantity"),
        _none().alias("channel"),
        _none().alias("coupon_code"),
        *PASSTHROUGH,
    )


def _mapped_time(text: F.Column, mapping: ColumnMapping) -> F.Column:
    """event_time text: ISO text passes through; local times are read in the mapping's zone."""
    if mapping.format_has_zone:
        parsed = F.try_to_timestamp(F.trim(text), F.lit(mapping.timestamp_format))
        return F.coalesce(F.date_format(parsed, ISO_UTC), text)
    if mapping.timestamp_format:
        return zoned_text(text, (mapping.timestamp_format,), mapping.timestamp_zone)
    has_zone = F.trim(text).rlike(ZONE_SUFFIX)
    local = F.to_utc_timestamp(F.trim(text).try_cast("timestamp"), mapping.timestamp_zone)
    return F.when(has_zone, text).otherwise(F.coalesce(F.date_format(local, ISO_UTC), text))


def _unit_price(price: F.Column, quantity: F.Column) -> F.Column:
    """Unit price text of a line total; text that is not a number (or a bad quantity) passes unchanged."""
    count = parsed_quantity(quantity)
    return F.coalesce(F.when(count >= 1, (parsed_price(price) / count).cast("string")), price)


def _order_id(values: dict[str, F.Column], mapping: ColumnMapping) -> F.Column:
    """session_id of a feed without one: user + local day (per_user_day) or the row's own id (per_row)."""
    if mapping.orders == "per_row":
        return F.coalesce(values["event_id"], content_event_id(F.col("raw")))
    instant = F.trim(values["event_time"]).try_cast("timestamp")
    day = F.date_format(F.from_utc_timestamp(instant, mapping.timestamp_zone), "yyyy-MM-dd")
    return F.concat(F.trim(values["user_id"]), F.lit("@"), day)


def mapped(df: DataFrame, mapping: ColumnMapping) -> DataFrame:
    """Any file described by a column mapping: rename, re-code, add constants, derive ids, orders, unit prices."""
    source_for = mapping.source_for

    def field_value(name: str) -> F.Column:
        if name in mapping.constants:
            return F.lit(mapping.constants[name])
        return _text(df, source_for[name]) if name in source_for else _none()

    values = {name: field_value(name) for name in EVENT_COLUMNS}
    values["event_type"] = _recode(values["event_type"], mapping.event_types)
    if "event_time" in source_for:
        values["event_time"] = _mapped_time(values["event_time"], mapping)
    if mapping.price_is == "line_total":
        values["price"] = _unit_price(values["price"], values["quantity"])
    if mapping.rows_are_distinct:
        values["event_id"] = F.coalesce(values["event_id"], line_id(df))
    if mapping.orders:
        values["session_id"] = _order_id(values, mapping)
    return df.select(*[column.alias(name) for name, column in values.items()], *PASSTHROUGH)


FIXED_FORMATS: dict[str, FeedFormat] = {
    "canonical": FeedFormat("canonical", ("event_time", "user_id", "event_type"), tuple(EVENT_COLUMNS), canonical),
    "rees46": FeedFormat("rees46", REES46_COLUMNS, REES46_COLUMNS, rees46),
    "transactions": FeedFormat("transactions", TRANSACTION_REQUIRED, TRANSACTION_COLUMNS, transactions),
}
FORMATS: tuple[str, ...] = (*FIXED_FORMATS, "mapped")


def mapped_format(mapping: ColumnMapping) -> FeedFormat:
    """The `mapped` format of one mapping file."""
    columns = mapping.source_columns
    return FeedFormat(f"mapped ({mapping.path})", columns, columns, lambda df: mapped(df, mapping),
                      mapping.read, mapping.rows_are_distinct, mapping.time_floor or TIME_FLOOR)


def feed_format(fmt: str, mapping: str | None = None, rows_are_distinct: bool = False) -> FeedFormat:
    """Resolve a format name (and, for `mapped`, its mapping file); InputError naming the problem.

    `rows_are_distinct` (the ingest option of every format; a mapping may also say it): identical lines
    are distinct events, each identified by its file and line number.
    """
    if fmt not in FORMATS:
        raise InputError(f"unknown format '{fmt}': expected one of {', '.join(FORMATS)}")
    if fmt == "mapped":
        if not mapping:
            raise InputError("format 'mapped' needs a mapping file (--mapping FILE, see docs/formats.md)")
        loaded = load_mapping(mapping)
        return mapped_format(replace(loaded, rows_are_distinct=True) if rows_are_distinct else loaded)
    if mapping:
        raise InputError(f"a mapping file is only used with format 'mapped', not '{fmt}'")
    return replace(FIXED_FORMATS[fmt], line_numbers=True) if rows_are_distinct else FIXED_FORMATS[fmt]


def as_feed(fmt: str | FeedFormat) -> FeedFormat:
    """A FeedFormat from itself or from the name of a fixed format."""
    return fmt if isinstance(fmt, FeedFormat) else feed_format(fmt)


def to_canonical(df: DataFrame, fmt: str | FeedFormat) -> DataFrame:
    """Apply the adapter of a format."""
    return as_feed(fmt).adapt(df)
