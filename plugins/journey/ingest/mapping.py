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
    event_types:          # source value → canonical event type (other values pass unchanged)
      pageview: view
      order: purchase
    constants:            # canonical field → the same value on every row
      channel: web

Every problem of a mapping file is collected and reported in one `MappingError` that names
the file, so a person fixes them all at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from journey.errors import InputError
from journey.schemas import EVENT_COLUMNS, EVENT_TYPES, REQUIRED_EVENT_FIELDS

SECTIONS = ("columns", "timestamp", "event_types", "constants")
TIMESTAMP_KEYS = ("format", "zone")
QUOTED_LITERAL = re.compile(r"'[^']*'")
ZONE_LETTERS = frozenset("XxZOVz")


class MappingError(InputError):
    """A mapping file cannot be used; the message names the file and lists every problem."""


@dataclass(frozen=True)
class ColumnMapping:
    """A validated mapping: which source column feeds which canonical field, and how."""

    path: str
    columns: dict[str, str]  # source column → canonical field
    timestamp_format: str | None = None
    timestamp_zone: str = "UTC"
    event_types: dict[str, str] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)

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


def _timestamp(raw: object, problems: list[str]) -> tuple[str | None, str]:
    """(pattern, zone) of the timestamp section."""
    section = _as_dict(raw, "timestamp", problems)
    extra = sorted(set(section) - set(TIMESTAMP_KEYS))
    if extra:
        problems.append(f"unknown key(s) under 'timestamp': {', '.join(extra)} (known: {', '.join(TIMESTAMP_KEYS)})")
    zone = section.get("zone", "UTC")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"timestamp zone '{zone}' is not an IANA time zone (e.g. UTC, Europe/London)")
    return section.get("format") or None, zone


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
    problems += _column_problems(columns, constants)
    bad_types = sorted({v for v in event_types.values() if v not in EVENT_TYPES})
    if bad_types:
        problems.append(f"event_types maps to unknown type(s): {', '.join(bad_types)} "
                        f"(known: {', '.join(EVENT_TYPES)})")
    pattern, zone = _timestamp(document.get("timestamp"), problems)
    if problems:
        raise MappingError(f"{path}: " + "; ".join(problems))
    return ColumnMapping(path, columns, pattern, zone, event_types, constants)


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
