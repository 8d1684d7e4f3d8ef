"""Rules for one campaign parameter value: numbers in a range, names, choices, lists, times.

Shared by `params.py` (the trigger form's fields, the coupon catalog) and `creatives.py` (the
creative rules). Each rule takes the value and the field's name and raises CampaignParamsError
naming that field. Imports nothing of journey.campaigns, so neither user imports the other back.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from journey.errors import InputError

SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{1,62}$")
SHORT_NAME = "a short lower-case name (letters, digits, - or _)"


class CampaignParamsError(InputError):
    """A campaign parameter is invalid; the message starts with the field's name."""

    def __init__(self, field_name: str, problem: str):
        super().__init__(f"parameter '{field_name}': {problem}")
        self.field_name = field_name


def _bound(value: float | None, infinite: str) -> str:
    """One end of a range as the messages print it (a float, or +-inf when open)."""
    return infinite if value is None else str(float(value))


def number(value: object, name: str, low: float | None = None, high: float | None = None) -> float:
    """A number within [low, high] (an open end when None)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CampaignParamsError(name, f"must be a number, got {value!r}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise CampaignParamsError(name, f"must be within [{_bound(low, '-inf')}, {_bound(high, 'inf')}], got {value}")
    return float(value)


def whole(value: object, name: str, low: int, high: int) -> int:
    """A whole number within [low, high]."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise CampaignParamsError(name, f"must be a whole number, got {value!r}")
    if not low <= value <= high:
        raise CampaignParamsError(name, f"must be within [{low}, {high}], got {value}")
    return value


def one_of(value: object, name: str, allowed: tuple[str, ...]) -> str:
    """One of `allowed`."""
    if value not in allowed:
        raise CampaignParamsError(name, f"must be one of {', '.join(allowed)}, got {value!r}")
    return value


def short_name(value: object, name: str, what: str = SHORT_NAME) -> str:
    """A slug (SLUG); `what` says in the message what was expected."""
    if not isinstance(value, str) or not SLUG.match(value):
        raise CampaignParamsError(name, f"must be {what}, got {value!r}")
    return value


def names(value: object, name: str, allowed: tuple[str, ...] = ()) -> tuple[str, ...]:
    """A list of distinct names (or comma-separated text), each in `allowed` unless that is empty."""
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str | int) and not isinstance(v, bool)
                                                     for v in value):
        raise CampaignParamsError(name, f"must be a list of names, got {value!r}")
    items = tuple(str(v) for v in value)
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
        raise CampaignParamsError(name, f"must be an object with {keys}; got {item!r}")
    return item


def moment(value: object, name: str) -> datetime:
    """An ISO-8601 time; a time without zone is taken as UTC."""
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise CampaignParamsError(name, f"must be an ISO-8601 time like 2026-11-01T09:00:00Z, got {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
