"""POST /v1/events: check each canonical event against the ingest's contract, file the good ones.

The rules, their order and their reason codes are the ingest's (`journey.ingest.events._rules`,
codes from `journey.schemas.REJECT_REASONS`, limits from `journey.ingest.events`), checked here
in Python on one row at a time so a caller learns at once which rows will be quarantined. The
daily run still applies the full contract (and de-duplicates) when it ingests the file.

Good rows are written as one JSON-lines file per batch into `$JOURNEY_HOME/inbox/events/`, the
folder the daily DAG ingests by default (format `canonical`): first a hidden temporary file
(the ingest skips names starting with '.'), flushed and fsynced, then renamed into place and the
folder fsynced. A batch acknowledged by the API is therefore on disk under its final name.
"""

from __future__ import annotations

import json
import math
import os
import re
import uuid
from datetime import UTC, datetime, time
from pathlib import Path

from journey.ingest.adapters import ZONE_SUFFIX
from journey.ingest.events import FUTURE_TOLERANCE, PRICE_CEILING, PRICED_EVENT_TYPES
from journey.schemas import EVENT_COLUMNS, EVENT_TYPES, TIME_FLOOR

HAS_ZONE = re.compile(ZONE_SUFFIX.removeprefix("(?i)"), re.IGNORECASE)
WHOLE_NUMBER = re.compile(r"^[+-]?\d+$")
NAMED_UTC = re.compile(r"\s?(UTC|GMT)$", re.IGNORECASE)  # "… UTC" as the ingest reads it


def events_folder(inbox: Path) -> Path:
    """Where accepted events go: the daily DAG's default source."""
    return inbox / "events"


def _text(value) -> str | None:
    """A field as the ingest reads it: text, or None when absent/null."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value).lower()
    return value if isinstance(value, str) else str(value)


def _blank(text: str | None) -> bool:
    """True when a field is null or only whitespace."""
    return text is None or not text.strip()


def _timestamp(text: str) -> datetime | None:
    """ISO-8601 timestamp text as a datetime (None when it does not parse)."""
    try:
        return datetime.fromisoformat(NAMED_UTC.sub("+00:00", text.strip()))
    except ValueError:
        return None


def _number(text: str | None) -> float | None:
    """Price text as a float (None when empty or not a number)."""
    if _blank(text):
        return None
    try:
        return float(text.strip())
    except ValueError:
        return None


def _time_problem(text: str | None, now: datetime) -> tuple[str, str] | None:
    """The first event_time rule the value fails, as (reason, detail)."""
    if _blank(text):
        return "missing_event_time", "event_time is empty"
    stamp = _timestamp(text)
    if stamp is None:
        return "unparsable_timestamp", f"event_time {text!r} is not an ISO-8601 timestamp"
    if stamp.tzinfo is None or not HAS_ZONE.search(text.strip()):
        return "timestamp_without_zone", f"event_time {text!r} has no time zone (expected Z or +hh:mm)"
    if stamp > now + FUTURE_TOLERANCE:
        return "future_timestamp", f"event_time {text!r} is after ingest time {now.isoformat()}"
    if stamp < datetime.combine(TIME_FLOOR, time(), UTC):
        return "timestamp_before_floor", f"event_time {text!r} is before {TIME_FLOOR.isoformat()}"
    return None


def _price_problem(event_type: str, text: str | None) -> tuple[str, str] | None:
    """The first price rule the value fails, as (reason, detail)."""
    price = _number(text)
    if not _blank(text) and (price is None or not math.isfinite(price)):
        return "invalid_price", f"price {text!r} is not a finite number"
    if price is None and event_type in PRICED_EVENT_TYPES:
        return "missing_price", f"price is empty on a {event_type} event"
    if price is not None and price < 0:
        return "negative_price", f"price {text} is below zero"
    if price is not None and price > PRICE_CEILING:
        return "price_above_ceiling", f"price {text} is above the ceiling of {PRICE_CEILING:,.0f}"
    return None


def _shape_problem(row) -> tuple[str, str] | None:
    """malformed_row when the row is not an object of canonical scalar fields."""
    if not isinstance(row, dict):
        return "malformed_row", f"an event must be a JSON object, not {type(row).__name__}"
    unknown = sorted(set(row) - set(EVENT_COLUMNS))
    if unknown:
        return "malformed_row", f"unknown field(s) {', '.join(map(repr, unknown))}; expected {', '.join(EVENT_COLUMNS)}"
    nested = [name for name, value in row.items() if isinstance(value, dict | list)]
    if nested:
        return "malformed_row", f"field(s) {', '.join(map(repr, nested))} must be text or numbers, not objects or lists"
    return None


def problem(row, now: datetime) -> tuple[str, str] | None:
    """(reason code, detail) of the first contract rule the event fails, or None when it passes."""
    found = _shape_problem(row)
    if found:
        return found
    text = {name: _text(row.get(name)) for name in EVENT_COLUMNS}
    if any("\ufffd" in value for value in text.values() if value):
        return "invalid_encoding", "row holds text that is not valid UTF-8 (\ufffd)"
    found = _time_problem(text["event_time"], now)
    if found:
        return found
    if _blank(text["user_id"]):
        return "missing_user_id", "user_id is empty"
    if text["event_type"] not in EVENT_TYPES:
        return "unknown_event_type", f"event_type {text['event_type']!r} is not one of {', '.join(EVENT_TYPES)}"
    found = _price_problem(text["event_type"], text["price"])
    if found:
        return found
    quantity = text["quantity"]
    if not _blank(quantity) and (not WHOLE_NUMBER.match(quantity.strip()) or int(quantity) < 1):
        return "invalid_quantity", f"quantity {quantity!r} is not a whole number of at least 1"
    return None


def check_batch(rows: list, now: datetime | None = None) -> tuple[list[dict], list[dict]]:
    """(good rows as canonical text fields, [{index, reason, detail}] of the bad ones)."""
    now = now or datetime.now(UTC)
    good, bad = [], []
    for index, row in enumerate(rows):
        found = problem(row, now)
        if found:
            bad.append({"index": index, "reason": found[0], "detail": found[1]})
        else:
            good.append({name: _text(row.get(name)) for name in EVENT_COLUMNS})
    return good, bad


def write_batch(folder: Path, rows: list[dict]) -> Path:
    """Write rows as a JSON-lines file atomically and durably (temp file, fsync, rename, fsync folder)."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    final = folder / f"api-{stamp}-{uuid.uuid4().hex[:12]}.jsonl"
    temporary = folder / f".{final.name}.tmp"
    with open(temporary, "w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, final)
    directory = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return final

