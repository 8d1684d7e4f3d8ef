"""Rules for one campaign parameter value: numbers in a range, names, choices, lists, times.

Shared by `params.py` (the trigger form's fields, the coupon catalog) and `creatives.py` (the
creative rules). Each rule takes the value and the field's name and raises CampaignParamsError
naming that field. Imports nothing of journey.campaigns, so neither user imports the other back.

Hostile values are refused at the door: numbers must be finite (NaN passes every comparison, so a
NaN holdout fraction would silently drop the control group), flags must be real booleans
(`bool("false")` is True), text is at most MAX_TEXT characters without control characters
(PostgreSQL text cannot hold NUL), and a time must carry its zone. The `*_schema` helpers give
the same rules as JSON-schema keywords for the trigger form and the REST API.
"""

from __future__ import annotations

import math
import re
import sys
from datetime import UTC, datetime

from journey.errors import InputError

SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{1,62}$")
SHORT_NAME = "a short lower-case name (letters, digits, - or _)"
MAX_TEXT = 200  # characters of a free-text value (a campaign name, a segment name)
MAX_PATH = 1024  # characters of a file path or URI
MAX_AMOUNT = 1e9  # the largest money amount (budget, coupon value, spend, cost)
MAX_ID = 2**63 - 1  # the largest whole-number id a list of names takes (a PostgreSQL bigint)
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
PLAIN_TEXT = r"^[^\x00-\x1f\x7f-\x9f]*$"  # JSON-schema pattern: no control character
ZONED_TIME = (r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}([.,]\d+)?)?"  # JSON-schema pattern: a time with its zone
              r"([Zz]|[+-]\d{2}(:?\d{2}(:?\d{2}([.,]\d+)?)?)?)$")
TIME_EXAMPLE = "2026-11-01T09:00:00Z or 2026-11-01T09:00:00+01:00"
SHOWN = 60  # characters of a bad value quoted in a message


class CampaignParamsError(InputError):
    """A campaign parameter is invalid; the message starts with the field's name."""

    def __init__(self, field_name: str, problem: str):
        super().__init__(f"parameter '{field_name}': {problem}")
        self.field_name = field_name


def shown(value: object) -> str:
    """A bad value as a message quotes it: its repr, cut to SHOWN characters (the length said)."""
    try:
        quoted = repr(value)
    except ValueError:  # an int of more than sys.get_int_max_str_digits() digits
        return f"a whole number of {value.bit_length():,} bits"
    if len(quoted) <= SHOWN:
        return quoted
    size = f" ({len(value):,} characters)" if isinstance(value, str) else ""
    return f"{quoted[:SHOWN]}...{size}"


def text_schema(most: int) -> dict:
    """JSON-schema keywords of free text: at most `most` characters, no control character."""
    return {"maxLength": most, "pattern": PLAIN_TEXT}


def number_schema(low: float, high: float, exclusive_low: bool = False) -> dict:
    """JSON-schema of a finite number in [low, high] (or (low, high]).

    The bounds refuse ±Infinity. NaN passes every comparison, so it would pass the bounds too:
    the `not` of the opposite comparison at `low` refuses it (JSON has no NaN, but Python's json
    module, the REST API's parser and Python callers do).
    """
    lower, opposite = ("exclusiveMinimum", "maximum") if exclusive_low else ("minimum", "exclusiveMaximum")
    return {"type": "number", lower: low, "maximum": high, "not": {opposite: low}}


def _bound(value: float | None, infinite: str) -> str:
    """One end of a range as the messages print it (a float, or +-inf when open)."""
    return infinite if value is None else str(float(value))


def number(value: object, name: str, low: float | None = None, high: float | None = None) -> float:
    """A number within [low, high] (an open end when None)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CampaignParamsError(name, f"must be a number, got {shown(value)}")
    as_float = float(value) if abs(value) <= sys.float_info.max else math.inf  # a huge int overflows a float
    if not math.isfinite(as_float):
        raise CampaignParamsError(name, f"must be a finite number, got {shown(value)}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise CampaignParamsError(name, f"must be within [{_bound(low, '-inf')}, {_bound(high, 'inf')}], got {shown(value)}")
    return as_float


def whole(value: object, name: str, low: int, high: int) -> int:
    """A whole number within [low, high]."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise CampaignParamsError(name, f"must be a whole number, got {shown(value)}")
    if not low <= value <= high:
        raise CampaignParamsError(name, f"must be within [{low}, {high}], got {shown(value)}")
    return value


def one_of(value: object, name: str, allowed: tuple[str, ...]) -> str:
    """One of `allowed`."""
    if value not in allowed:
        raise CampaignParamsError(name, f"must be one of {', '.join(allowed)}, got {shown(value)}")
    return value


def flag(value: object, name: str) -> bool:
    """A true/false value: a real boolean (the text "false" would be truthy)."""
    if not isinstance(value, bool):
        raise CampaignParamsError(name, f"must be true or false (a JSON boolean), got {shown(value)}")
    return value


def text(value: object, name: str, most: int = MAX_TEXT) -> str:
    """Free text of at most `most` characters without control characters (NUL, line breaks, ...)."""
    if not isinstance(value, str):
        raise CampaignParamsError(name, f"must be text, got {shown(value)}")
    if len(value) > most:
        raise CampaignParamsError(name, f"must be at most {most} characters, got {len(value):,}")
    control = CONTROL_CHARACTERS.search(value)
    if control:
        raise CampaignParamsError(name, f"must not hold control characters, got {control.group()!r} at "
                                        f"position {control.start()}")
    return value


def short_name(value: object, name: str, what: str = SHORT_NAME) -> str:
    """A slug (SLUG); `what` says in the message what was expected."""
    if not isinstance(value, str) or not SLUG.match(value):
        raise CampaignParamsError(name, f"must be {what}, got {shown(value)}")
    return value


def _name_item(value: object, name: str) -> str:
    """One item of a list of names: text (see `text`) or a whole-number id in [0, MAX_ID]."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_ID:
        return str(value)
    if not isinstance(value, str):
        raise CampaignParamsError(name, f"must be a list of names or ids, got the item {shown(value)}")
    return text(value, name)


def names(value: object, name: str, allowed: tuple[str, ...] = ()) -> tuple[str, ...]:
    """A list of distinct names (or comma-separated text), each in `allowed` unless that is empty."""
    if isinstance(value, str):
        value = [v.strip() for v in text(value, name, MAX_PATH).split(",") if v.strip()]
    if not isinstance(value, list | tuple):
        raise CampaignParamsError(name, f"must be a list of names, got {shown(value)}")
    items = tuple(_name_item(v, name) for v in value)
    unknown = [v for v in items if allowed and v not in allowed]
    if unknown:
        raise CampaignParamsError(name, f"unknown value(s) {', '.join(unknown)}; expected some of {', '.join(allowed)}")
    if len(set(items)) != len(items):
        raise CampaignParamsError(name, "holds the same value twice")
    return items


def catalog(value: object, name: str, most: int, what: str, empty: str) -> list:
    """A non-empty list of at most `most` entries (`what` names them in the message)."""
    if not isinstance(value, list | tuple) or not value:
        raise CampaignParamsError(name, empty)
    if len(value) > most:
        raise CampaignParamsError(name, f"at most {most} {what}, got {len(value)}")
    return list(value)


def entry(item: object, name: str, keys: str) -> dict:
    """One catalog entry: an object (`keys` lists its fields in the message)."""
    if not isinstance(item, dict):
        raise CampaignParamsError(name, f"must be an object with {keys}; got {shown(item)}")
    return item


def moment(value: object, name: str) -> datetime:
    """An ISO-8601 time with its zone (Z or +hh:mm); a time without one is refused, not guessed."""
    try:
        parsed = datetime.fromisoformat(text(value, name, SHOWN))
        parsed.astimezone(UTC)  # a zone that pushes it past year 1 or 9999 overflows here
    except (ValueError, OverflowError):
        raise CampaignParamsError(name, f"must be an ISO-8601 time like {TIME_EXAMPLE}, "
                                        f"got {shown(value)}") from None
    if parsed.utcoffset() is None:
        raise CampaignParamsError(name, f"has no time zone: give one, e.g. {TIME_EXAMPLE} "
                                        f"(the trigger form sends UTC), got {shown(value)}")
    return parsed
