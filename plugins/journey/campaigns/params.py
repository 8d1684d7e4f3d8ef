"""Campaign parameters: the trigger form's JSON schema and the checks that name the bad field.

`CAMPAIGN_SCHEMA` is what the DAG's Params use (the Airflow form validates it); `parse_params`
repeats the checks (and the cross-field ones JSON schema cannot express: end after start,
segments that exist, budget shares that add up) so the REST API and the CLI get the same
one-line message naming the field.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from journey.errors import InputError

if TYPE_CHECKING:
    from journey.campaigns.creatives import Creative

OBJECTIVES = ("conversion", "winback", "cross_sell", "retention")
CAMPAIGN_CHANNELS = ("email", "push", "sms", "display", "social")
CONSENT_CHANNELS = ("email", "push", "sms")  # need an opt-in in the users dimension
COUPON_KINDS = ("percent", "fixed", "free_shipping")
SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{1,62}$")
MAX_OFFERS = 10
MAX_K = 50
MAX_HOLDOUT = 0.5


class CampaignParamsError(InputError):
    """A campaign parameter is invalid; the message starts with the field's name."""

    def __init__(self, field_name: str, problem: str):
        super().__init__(f"parameter '{field_name}': {problem}")
        self.field_name = field_name


@dataclass(frozen=True)
class Offer:
    """One coupon of the catalog."""

    name: str
    kind: str
    value: float
    min_spend: float
    expected_cost: float


@dataclass(frozen=True)
class CampaignParams:
    """A validated campaign request."""

    campaign_id: str
    name: str
    objective: str
    segments: tuple[str, ...]  # segment ids or names as given; ("all",) = every segment
    lifecycle_stages: tuple[str, ...]  # empty = every stage
    channels: tuple[str, ...]  # in priority order
    coupons: tuple[Offer, ...]
    budget: float
    segment_budget_shares: dict[str, float] = field(default_factory=dict)
    max_coupons_per_user: int = 1
    holdout_fraction: float = 0.10
    recommendations_k: int = 10
    frequency_cap: int = 3
    start_time: datetime = datetime(2026, 11, 1, tzinfo=UTC)
    end_time: datetime = datetime(2026, 11, 8, tzinfo=UTC)
    dry_run: bool = False
    creatives: tuple[Creative, ...] = ()  # ad creative rules, first match wins (journey.campaigns.creatives)

    @property
    def all_segments(self) -> bool:
        """True when the campaign targets every segment."""
        return self.segments == ("all",)

    def to_json(self) -> dict:
        """Plain JSON-ready dict (times as ISO text), the form the jobs receive."""
        out = asdict(self)
        out["start_time"], out["end_time"] = self.start_time.isoformat(), self.end_time.isoformat()
        return out


OFFER_SCHEMA = {
    "type": "object",
    "required": ["name", "kind", "value", "expected_cost"],
    "properties": {
        "name": {"type": "string", "pattern": SLUG.pattern},
        "kind": {"type": "string", "enum": list(COUPON_KINDS)},
        "value": {"type": "number", "minimum": 0},
        "min_spend": {"type": "number", "minimum": 0},
        "expected_cost": {"type": "number", "exclusiveMinimum": 0},
    },
}

DEFAULT_COUPONS = [
    {"name": "pct10", "kind": "percent", "value": 10, "min_spend": 0, "expected_cost": 4.0},
    {"name": "fixed5", "kind": "fixed", "value": 5, "min_spend": 30, "expected_cost": 3.0},
    {"name": "freeship", "kind": "free_shipping", "value": 0, "min_spend": 20, "expected_cost": 2.0},
]


def _fail(name: str, problem: str) -> CampaignParamsError:
    """Shorthand for the error naming a field."""
    return CampaignParamsError(name, problem)


def _number(raw: dict, name: str, default: float | None = None, low: float | None = None,
            high: float | None = None, label: str | None = None) -> float:
    """A number field within [low, high]; errors name `label` (default: the field)."""
    value, name = raw.get(name, default), label or name
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(name, f"must be a number, got {value!r}")
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f"[{low if low is not None else '-inf'}, {high if high is not None else 'inf'}]"
        raise _fail(name, f"must be within {bounds}, got {value}")
    return float(value)


def _whole(raw: dict, name: str, default: int, low: int, high: int) -> int:
    """A whole-number field within [low, high]."""
    value = raw.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(name, f"must be a whole number, got {value!r}")
    if not low <= value <= high:
        raise _fail(name, f"must be within [{low}, {high}], got {value}")
    return value


def _text_list(raw: dict, name: str, allowed: tuple[str, ...] | None, default: list) -> tuple[str, ...]:
    """A list of strings, each in `allowed` when given."""
    value = raw.get(name, default)
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str | int) and not isinstance(v, bool)
                                                     for v in value):
        raise _fail(name, f"must be a list of names, got {value!r}")
    items = tuple(str(v) for v in value)
    unknown = [v for v in items if allowed is not None and v not in allowed]
    if unknown:
        raise _fail(name, f"unknown value(s) {', '.join(unknown)}; expected some of {', '.join(allowed)}")
    if len(set(items)) != len(items):
        raise _fail(name, "holds the same value twice")
    return items


def _time(raw: dict, name: str, default: str) -> datetime:
    """An ISO-8601 time; a time without zone is taken as UTC."""
    value = raw.get(name) or default
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise _fail(name, f"must be an ISO-8601 time like 2026-11-01T09:00:00Z, got {value!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _offer(item: object, index: int) -> Offer:
    """One catalog entry, checked."""
    where = f"coupons[{index}]"
    if not isinstance(item, dict):
        raise _fail(where, f"must be an object with name, kind, value, expected_cost; got {item!r}")
    name = item.get("name")
    if not isinstance(name, str) or not SLUG.match(name):
        raise _fail(f"{where}.name", f"must be a short lower-case name (letters, digits, - or _), got {name!r}")
    if item.get("kind") not in COUPON_KINDS:
        raise _fail(f"{where}.kind", f"must be one of {', '.join(COUPON_KINDS)}, got {item.get('kind')!r}")
    value = _number(item, "value", None, 0.0, 100.0 if item["kind"] == "percent" else None, f"{where}.value")
    return Offer(name=name, kind=item["kind"], value=value,
                 min_spend=_number(item, "min_spend", 0.0, 0.0, label=f"{where}.min_spend"),
                 expected_cost=_number(item, "expected_cost", None, 1e-9, label=f"{where}.expected_cost"))


def _offers(raw: dict) -> tuple[Offer, ...]:
    """The coupon catalog: 1 to MAX_OFFERS entries with distinct names."""
    items = raw.get("coupons")
    if not isinstance(items, list) or not items:
        raise _fail("coupons", "the coupon catalog is empty: give at least one {name, kind, value, expected_cost}")
    if len(items) > MAX_OFFERS:
        raise _fail("coupons", f"at most {MAX_OFFERS} offers per campaign, got {len(items)}")
    offers = tuple(_offer(item, i) for i, item in enumerate(items))
    names = [o.name for o in offers]
    if len(set(names)) != len(names):
        raise _fail("coupons", f"offer names must be distinct, got {', '.join(names)}")
    return offers


def _shares(raw: dict) -> dict[str, float]:
    """Optional budget share per segment: each in (0, 1], summing to at most 1."""
    value = raw.get("segment_budget_shares") or {}
    if not isinstance(value, dict):
        raise _fail("segment_budget_shares", f"must be an object {{segment: share}}, got {value!r}")
    shares = {}
    for key in value:
        shares[str(key)] = _number(value, key, None, 0.0, 1.0, f"segment_budget_shares.{key}")
    if sum(shares.values()) > 1.0 + 1e-9:
        raise _fail("segment_budget_shares", f"shares add up to {sum(shares.values()):.3f}, more than 1")
    return shares


def parse_params(raw: dict) -> CampaignParams:
    """Check a trigger's parameters; raise CampaignParamsError naming the first bad field."""
    campaign_id = raw.get("campaign_id")
    if not isinstance(campaign_id, str) or not SLUG.match(campaign_id):
        raise _fail("campaign_id", f"must be a slug of 2-63 lower-case letters, digits, - or _, got {campaign_id!r}")
    objective = raw.get("objective", "conversion")
    if objective not in OBJECTIVES:
        raise _fail("objective", f"must be one of {', '.join(OBJECTIVES)}, got {objective!r}")
    channels = _text_list(raw, "channels", CAMPAIGN_CHANNELS, ["email", "push"])
    if not channels:
        raise _fail("channels", "give at least one channel")
    segments = _text_list(raw, "segments", None, ["all"]) or ("all",)
    if "all" in segments and len(segments) > 1:
        raise _fail("segments", "'all' cannot be combined with named segments")
    from journey.campaigns.creatives import parse_creatives
    from journey.schemas import LIFECYCLE_STAGES

    params = CampaignParams(
        campaign_id=campaign_id, name=str(raw.get("name") or campaign_id), objective=objective,
        segments=segments, lifecycle_stages=_text_list(raw, "lifecycle_stages", LIFECYCLE_STAGES, []),
        channels=channels, coupons=_offers(raw), budget=_number(raw, "budget", None, 0.0),
        segment_budget_shares=_shares(raw),
        max_coupons_per_user=_whole(raw, "max_coupons_per_user", 1, 1, 3),
        holdout_fraction=_number(raw, "holdout_fraction", 0.10, 0.0, MAX_HOLDOUT),
        recommendations_k=_whole(raw, "recommendations_k", 10, 1, MAX_K),
        frequency_cap=_whole(raw, "frequency_cap", 3, 1, 100),
        start_time=_time(raw, "start_time", "2026-11-01T00:00:00Z"),
        end_time=_time(raw, "end_time", "2026-11-08T00:00:00Z"),
        dry_run=bool(raw.get("dry_run", False)),
        creatives=parse_creatives(raw),
    )
    if params.end_time <= params.start_time:
        raise _fail("end_time", f"{params.end_time.isoformat()} is not after start_time "
                                f"{params.start_time.isoformat()}")
    return params


def resolve_segments(params: CampaignParams, known: dict[int, str]) -> dict[int, str]:
    """The targeted segments {id: name}; an unknown id or name fails naming `segments`."""
    if params.all_segments:
        return dict(known)
    by_name = {name: sid for sid, name in known.items()}
    chosen = {}
    for item in params.segments:
        sid = int(item) if item.isdigit() and int(item) in known else by_name.get(item)
        if sid is None:
            listed = ", ".join(f"{i} ({n})" for i, n in sorted(known.items())) or "none published yet"
            raise _fail("segments", f"unknown segment {item!r}; the current segments are {listed}")
        chosen[sid] = known[sid]
    for key in params.segment_budget_shares:
        if (key.isdigit() and int(key) in chosen) or key in chosen.values():
            continue
        raise _fail("segment_budget_shares", f"{key!r} is not one of the targeted segments")
    return chosen


def share_by_segment_id(params: CampaignParams, segments: dict[int, str]) -> dict[int, float]:
    """Budget shares keyed by segment id."""
    by_name = {name: sid for sid, name in segments.items()}
    return {(int(k) if k.isdigit() else by_name[k]): v for k, v in params.segment_budget_shares.items()}
