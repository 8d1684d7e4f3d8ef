"""Column mappings for the `mapped` feed format: any CSV described by a small YAML file.

    columns:              # source column → canonical field
      ts: event_time
      customer: user_id
      action: event_type
      sku: product_id
      amount: price
    timestamp:
      format: "dd/MM/yyyy HH:mm"   # Spark datetime pattern; omit for ISO-8601 text
      zone: Europe/Berlin          # zone of timestamps that carry none (default UTC)
      floor: "1990-01-01"          # earlier times are quarantined (default 1970-01-01)
    event_types:          # source value → canonical event type (other values pass unchanged)
      pageview: view
      order: purchase
    constants:            # canonical field → the same value on every row
      channel: web
    read:                 # how the text file is laid out (default: comma-separated with a header)
      delimiter: whitespace        # one character, or `whitespace` (runs of spaces/tabs)
      header: false
      names: [id, customer, date, cds, dollars]   # column names when there is no header
      encoding: utf-8
    rows_are_distinct: true        # identical lines are distinct events (identity: file + line)
    orders: per_user_day           # or per_row, or {column: invoice}, when the feed has no sessions
    price_is: line_total           # the price column holds price × quantity (default unit_price)

Every problem of a mapping file is collected and reported in one `MappingError` that names
the file, so a person fixes them all at once.
"""

from __future__ import annotations

import codecs
import logging
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from journey.errors import InputError
from journey.schemas import EVENT_COLUMNS, EVENT_TYPES, REQUIRED_EVENT_FIELDS

log = logging.getLogger(__name__)

SECTIONS = ("columns", "timestamp", "event_types", "constants", "read", "rows_are_distinct", "orders", "price_is")
TIMESTAMP_KEYS = ("format", "zone", "floor")
READ_KEYS = ("delimiter", "header", "names", "encoding")
WHITESPACE = "whitespace"
DELIMITER_WORDS = {WHITESPACE: WHITESPACE, "tab": "\t"}
# Python codec name → the charset name Spark's decode() and CSV reader know.
ENCODINGS = {"utf-8": "UTF-8", "iso8859-1": "ISO-8859-1", "ascii": "US-ASCII", "utf-16-be": "UTF-16BE",
             "utf-16-le": "UTF-16LE", "utf-16": "UTF-16", "utf-32": "UTF-32"}
ORDER_RULES = ("per_user_day", "per_row")
PRICE_KINDS = ("unit_price", "line_total")
QUOTED_LITERAL = re.compile(r"'[^']*'")
ZONE_LETTERS = frozenset("XxZOVz")


class MappingError(InputError):
    """A mapping file cannot be used; the message names the file and lists every problem."""


@dataclass(frozen=True)
class ReadOptions:
    """Layout of a text file: delimiter (one character or `whitespace`), header, column names, encoding."""

    delimiter: str = ","
    header: bool = True
    names: tuple[str, ...] = ()
    encoding: str = "UTF-8"  # Spark charset name

    @property
    def whitespace(self) -> bool:
        """True when fields are separated by runs of spaces or tabs."""
        return self.delimiter == WHITESPACE


@dataclass(frozen=True)
class ColumnMapping:
    """A validated mapping: which source column feeds which canonical field, and how."""

    path: str
    columns: dict[str, str]  # source column → canonical field
    timestamp_format: str | None = None
    timestamp_zone: str = "UTC"
    event_types: dict[str, str] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)
    read: ReadOptions = ReadOptions()
    time_floor: date | None = None  # None: the ingest default (schemas.TIME_FLOOR)
    rows_are_distinct: bool = False
    orders: str | None = None  # per_user_day | per_row; None: session_id comes from the feed
    price_is: str = "unit_price"

    @property
    def source_for(self) -> dict[str, str]:
        """Canonical field → source column."""
        return {canonical: source for source, canonical in self.columns.items()}

    @property
    def source_columns(self) -> tuple[str, ...]:
        """Source columns a file must hold, in mapping order."""
        return tuple(self.columns)

    @property
    def format_has_zone(self) -> bool:
        """True when the timestamp pattern reads a zone itself (then `zone` is not applied)."""
        if not self.timestamp_format:
            return False
        return bool(ZONE_LETTERS & set(QUOTED_LITERAL.sub("", self.timestamp_format)))


def _as_dict(raw: object, section: str, problems: list[str]) -> dict[str, str]:
    """A section as a {text: text} dict, or {} with a problem noted."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        problems.append(f"'{section}' must be a mapping of names, got {type(raw).__name__}")
        return {}
    bad = [k for k, v in raw.items() if v is None or isinstance(v, dict | list)]
    if bad:
        problems.append(f"'{section}' has no plain value for: {', '.join(map(str, bad))}")
    return {str(k): str(v) for k, v in raw.items() if k not in bad}


def _unknown_keys(section: dict, name: str, known: tuple[str, ...], problems: list[str]) -> None:
    """Note keys of a section that are not in `known`."""
    extra = sorted(set(map(str, section)) - set(known))
    if extra:
        problems.append(f"unknown key(s) under '{name}': {', '.join(extra)} (known: {', '.join(known)})")


def _column_problems(columns: dict[str, str], constants: dict[str, str]) -> list[str]:
    """Unknown, doubly fed and missing required canonical fields."""
    problems = []
    unknown = sorted({c for c in [*columns.values(), *constants] if c not in EVENT_COLUMNS})
    if unknown:
        problems.append(f"unknown canonical field(s): {', '.join(unknown)} (known: {', '.join(EVENT_COLUMNS)})")
    fed = [*columns.values(), *constants]
    twice = sorted({c for c in fed if fed.count(c) > 1})
    if twice:
        problems.append(f"canonical field(s) fed more than once: {', '.join(twice)}")
    unmapped = [c for c in REQUIRED_EVENT_FIELDS if c not in fed]
    if unmapped:
        problems.append(f"required field(s) not mapped: {', '.join(unmapped)} "
                        "(map a source column to them under 'columns' or set them under 'constants')")
    return problems


def _floor(text: str | None, problems: list[str]) -> date | None:
    """The timestamp floor as a date, or None when not set."""
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems.append(f"timestamp floor '{text}' is not a date (YYYY-MM-DD)")
        return None


def _timestamp(raw: object, problems: list[str]) -> tuple[str | None, str, date | None]:
    """(pattern, zone, floor) of the timestamp section."""
    section = _as_dict(raw, "timestamp", problems)
    _unknown_keys(section, "timestamp", TIMESTAMP_KEYS, problems)
    zone = section.get("zone", "UTC")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a tzdata file
        problems.append(f"timestamp zone '{zone}' is not an IANA time zone (e.g. UTC, Europe/London)")
    return section.get("format") or None, zone, _floor(section.get("floor"), problems)


def _delimiter(raw: object, problems: list[str]) -> str:
    """read.delimiter: one character, `tab` or `whitespace`."""
    text = DELIMITER_WORDS.get(raw, raw) if isinstance(raw, str) else raw
    if not isinstance(text, str) or not (text == WHITESPACE or len(text) == 1) or text in '"\r\n':
        problems.append(f"read.delimiter {raw!r} must be one character (not a quote or line break), "
                        "'tab' or 'whitespace'")
        return ","
    return text


def _encoding(raw: object, problems: list[str]) -> str:
    """read.encoding as the charset name Spark knows."""
    try:
        name = ENCODINGS.get(codecs.lookup(str(raw)).name)
    except (LookupError, ValueError):  # ValueError: a NUL in the name
        name = None
    if name is None:
        problems.append(f"read.encoding {raw!r} is not supported (known: {', '.join(ENCODINGS.values())})")
        return "UTF-8"
    return name


def _names(raw: object, header: bool, problems: list[str]) -> tuple[str, ...]:
    """read.names: distinct column names, required when there is no header."""
    if raw is None:
        if not header:
            problems.append("read.names is required when read.header is false (the column names, in file order)")
        return ()
    if not isinstance(raw, list) or not raw or any(not isinstance(n, str | int) or str(n) == "" for n in raw):
        problems.append(f"read.names must be a list of column names, got {raw!r}")
        return ()
    names = tuple(map(str, raw))
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        problems.append(f"read.names repeats: {', '.join(twice)}")
    if header:
        problems.append("read.names is only used with read.header: false (a header names the columns itself)")
    return names


def _read_options(raw: object, problems: list[str]) -> ReadOptions:
    """The read section: how the text file is laid out."""
    if raw is None:
        return ReadOptions()
    if not isinstance(raw, dict):
        problems.append(f"'read' must be a mapping of options, got {type(raw).__name__}")
        return ReadOptions()
    _unknown_keys(raw, "read", READ_KEYS, problems)
    header = raw.get("header", True)
    if not isinstance(header, bool):
        problems.append(f"read.header must be true or false, got {header!r}")
        header = True
    return ReadOptions(_delimiter(raw.get("delimiter", ","), problems), header,
                       _names(raw.get("names"), header, problems), _encoding(raw.get("encoding", "utf-8"), problems))


def _flag(document: dict, key: str, problems: list[str]) -> bool:
    """A top-level true/false option (default false)."""
    value = document.get(key, False)
    if not isinstance(value, bool):
        problems.append(f"'{key}' must be true or false, got {value!r}")
        return False
    return value


def _choice(document: dict, key: str, choices: tuple[str, ...], problems: list[str]) -> str | None:
    """A top-level option that takes one of `choices` (None when absent)."""
    value = document.get(key)
    if value is not None and value not in choices:
        problems.append(f"'{key}' must be one of {', '.join(choices)}, got {value!r}")
        return None
    return value


def _orders(document: dict, columns: dict[str, str], problems: list[str]) -> str | None:
    """How orders are told apart: per_user_day, per_row, or a column (added to `columns` as session_id)."""
    raw = document.get("orders")
    if isinstance(raw, dict):
        _unknown_keys(raw, "orders", ("column",), problems)
        column = raw.get("column")
        if not isinstance(column, str | int) or str(column) == "":
            problems.append(f"orders.column must name a source column, got {column!r}")
        elif str(column) in columns:
            problems.append(f"orders.column '{column}' is already mapped to {columns[str(column)]}")
        else:
            columns[str(column)] = "session_id"
        return None
    return _choice(document, "orders", ORDER_RULES, problems) if raw is not None else None


def _order_rule(orders: str | None, given: bool, fed: set[str], path: str, problems: list[str]) -> str | None:
    """The orders rule checked against the session field; the per_user_day default, with a warning."""
    if "session_id" in fed:
        if orders is not None:
            problems.append(f"'orders: {orders}' and a session_id field both say what an order is; keep one")
        return None
    if orders is None and not given:
        log.warning("%s: no session_id or order column and no 'orders' option: orders cannot be told apart; "
                    "using orders: per_user_day (one order per user and day)", path)
        return "per_user_day"
    return orders


def _names_problems(columns: dict[str, str], read: ReadOptions) -> list[str]:
    """Mapped source columns that are not among read.names."""
    absent = [c for c in columns if read.names and c not in read.names]
    return [f"mapped column(s) not among read.names: {', '.join(absent)}"] if absent else []


def parse_mapping(document: object, path: str) -> ColumnMapping:
    """Validate a loaded YAML document; raise MappingError listing every problem."""
    if not isinstance(document, dict):
        raise MappingError(f"{path}: a mapping file must be a YAML mapping with a 'columns' section")
    problems: list[str] = []
    extra = sorted(set(map(str, document)) - set(SECTIONS))
    if extra:
        problems.append(f"unknown section(s): {', '.join(extra)} (known: {', '.join(SECTIONS)})")
    columns = _as_dict(document.get("columns"), "columns", problems)
    constants = _as_dict(document.get("constants"), "constants", problems)
    event_types = _as_dict(document.get("event_types"), "event_types", problems)
    orders = _orders(document, columns, problems)
    problems += _column_problems(columns, constants)
    bad_types = sorted({v for v in event_types.values() if v not in EVENT_TYPES})
    if bad_types:
        problems.append(f"event_types maps to unknown type(s): {', '.join(bad_types)} "
                        f"(known: {', '.join(EVENT_TYPES)})")
    pattern, zone, floor = _timestamp(document.get("timestamp"), problems)
    read = _read_options(document.get("read"), problems)
    problems += _names_problems(columns, read)
    distinct = _flag(document, "rows_are_distinct", problems)
    price_is = _choice(document, "price_is", PRICE_KINDS, problems) or "unit_price"
    orders = _order_rule(orders, "orders" in document, {*columns.values(), *constants}, path, problems)
    if problems:
        raise MappingError(f"{path}: " + "; ".join(problems))
    return ColumnMapping(path, columns, pattern, zone, event_types, constants, read, floor, distinct, orders, price_is)


def load_mapping(path: str | Path) -> ColumnMapping:
    """Read and validate a YAML mapping file."""
    file = Path(path)
    if not file.is_file():
        raise MappingError(f"mapping file not found: {path}")
    try:
        document = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise MappingError(f"{path}: not valid YAML ({exc})") from exc
    return parse_mapping(document, str(path))
