"""Campaign parameters: one field table for the trigger form and for the checks that name the bad field.

`CAMPAIGN_FIELDS` holds each parameter once: type, default, bounds, allowed values, title.
`dag_params()` turns it into the DAG's Airflow Params (the form validates their JSON schema);
`parse_params` reads its defaults and bounds for the same checks and adds the cross-field ones
JSON schema cannot express (end after start, segments that exist, budget shares that add up),
so the REST API and the CLI get the same one-line message naming the field. The rules for one
value live in `fields.py`. Imports no Airflow (`dag_params` loads it when called) and no Spark.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from journey.campaigns.creatives import CREATIVE_SCHEMA, DEFAULT_CREATIVES, MAX_CREATIVES, Creative, parse_creatives
from journey.campaigns.currency import campaign_currency
from journey.campaigns.fields import (
    MAX_AMOUNT,
    MAX_ID,
    MAX_PATH,
    MAX_TEXT,
    PLAIN_TEXT,
    SLUG,
    ZONED_TIME,
    CampaignParamsError,
    catalog,
    entry,
    flag,
    moment,
    names,
    number,
    number_schema,
    one_of,
    short_name,
    shown,
    text,
    text_schema,
    whole,
)
from journey.schemas import LIFECYCLE_STAGES

if TYPE_CHECKING:
    from airflow.sdk import Param

OBJECTIVES = ("conversion", "winback", "cross_sell", "retention")
CAMPAIGN_CHANNELS = ("email", "push", "sms", "display", "social")
CONSENT_CHANNELS = ("email", "push", "sms")  # need an opt-in in the users dimension
COUPON_KINDS = ("percent", "fixed", "free_shipping")
CAMPAIGN_STEPS = ("eligibility", "holdout", "coupons", "ads", "recommendations", "quality")  # Spark steps, in order
RECOMMEND_EXCLUSIONS = ("purchased", "interacted")  # what a user is never recommended again
CAMPAIGN_ID = "a slug of 2-63 lower-case letters, digits, - or _"
ZONE_RULE = "ISO-8601 with its zone, e.g. 2026-11-01T09:00:00Z or +01:00; a time without a zone is refused"


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
    """A validated campaign request (built by `parse_params`, which supplies the table's defaults)."""

    campaign_id: str
    name: str
    objective: str
    segments: tuple[str, ...]  # segment ids or names as given; ("all",) = every segment
    lifecycle_stages: tuple[str, ...]  # empty = every stage
    channels: tuple[str, ...]  # in priority order
    coupons: tuple[Offer, ...]
    budget: float
    segment_budget_shares: dict[str, float]
    max_coupons_per_user: int
    holdout_fraction: float
    recommendations_k: int
    recommendations_lookback_days: int  # 0 = all history
    recommendations_exclude: str  # purchased | interacted
    recommendations_per_category: int  # diversity cap per real category; 0 = off
    recommendations_two_tower: bool  # the TensorFlow two-tower retriever is one more source of the blend
    frequency_cap: int
    start_time: datetime
    end_time: datetime
    dry_run: bool
    creatives: tuple[Creative, ...]  # ad creative rules, first match wins (journey.campaigns.creatives)
    attribution_window_days: int  # days after start_time whose events count in the results (campaigns/results.py)
    exploration: bool  # Thompson sampling sets each offer's share per segment (campaigns/exploration.py)
    exploration_floor: float  # least share of a segment's users each offer keeps while exploring; 0 = none
    test_share: float  # share of the budget on random treated users with random offers (randomised_test.py)

    @property
    def all_segments(self) -> bool:
        """True when the campaign targets every segment."""
        return self.segments == ("all",)

    def to_json(self) -> dict:
        """Plain JSON-ready dict (times as ISO text), the form the jobs receive."""
        out = asdict(self)
        out["start_time"], out["end_time"] = self.start_time.isoformat(), self.end_time.isoformat()
        return out


@dataclass(frozen=True)
class ParamField:
    """One campaign parameter: its form field (an Airflow Param) and the default and bounds parse_params applies."""

    name: str
    type: str  # JSON-schema type: string, number, integer, boolean, array, object
    default: Any
    title: str
    description: str | None = None
    minimum: float | None = None  # of the number; of each value, for an object
    maximum: float | None = None
    enum: tuple[str, ...] = ()  # allowed values; of each item, for an array
    min_items: int | None = None
    max_items: int | None = None
    unique: bool = False  # array items distinct
    items: dict | None = None  # JSON schema of an array's items, when richer than `enum`
    pattern: str | None = None
    format: str | None = None
    max_length: int | None = None  # characters of a string
    prefill: bool = False  # the default only fills the form in; parse_params wants the value given
    optional: bool = False  # empty (null) is allowed and means the default; the form does not mark it required

    def _bounds(self) -> dict:
        """minimum / maximum keywords that are set."""
        return {k: v for k, v in (("minimum", self.minimum), ("maximum", self.maximum)) if v is not None}

    def _number_keywords(self) -> dict:
        """A number's bounds under `if: number, then:` (null passes, as an optional field's empty value).

        Not at the top level on purpose: the form's number box clamps to a top-level minimum/maximum
        when it loses focus (0.9 silently became 0.5), so there it keeps what was typed and the
        schema refuses it with its message ("0.9 is greater than the maximum of 0.5").
        """
        if self.type == "number":  # finite: bounds refuse ±Infinity, `not` refuses NaN
            bounds = {k: v for k, v in number_schema(self.minimum, self.maximum).items() if k != "type"}
        else:
            bounds = self._bounds()
        return {"if": {"type": "number"}, "then": bounds} if bounds else {}

    def _value_keywords(self) -> dict:
        """The bounds and allowed values, placed where the type wants them (items, additionalProperties)."""
        if self.type == "array":  # `examples` at the top makes the form a multi-select of the allowed values
            return {"items": self.items or {"type": "string", "enum": list(self.enum)},
                    **({"examples": list(self.enum)} if self.enum else {})}
        if self.type == "object":  # {name: number}
            return {"additionalProperties": number_schema(self.minimum, self.maximum),
                    "propertyNames": text_schema(MAX_TEXT)}
        if self.type in ("number", "integer"):
            return self._number_keywords()
        return {**self._bounds(), **({"enum": list(self.enum)} if self.enum else {})}

    def schema(self) -> dict:
        """The JSON-schema keywords of the field (what the Airflow Param validates and the form shows).

        An optional field's type allows null: Airflow 3's form marks every field whose type does not
        allow null as required, and an emptied field sends null.
        """
        keywords = {"type": ["null", self.type] if self.optional else self.type, "pattern": self.pattern,
                    "format": self.format, "maxLength": self.max_length, "minItems": self.min_items,
                    "maxItems": self.max_items, "uniqueItems": self.unique or None,
                    **self._value_keywords(), "title": self.title}
        return {k: v for k, v in keywords.items() if v is not None}


OFFER_SCHEMA = {
    "type": "object",
    "required": ["name", "kind", "value", "expected_cost"],
    "properties": {
        "name": {"type": "string", "pattern": SLUG.pattern},
        "kind": {"type": "string", "enum": list(COUPON_KINDS)},
        "value": number_schema(0, MAX_AMOUNT),
        "min_spend": number_schema(0, MAX_AMOUNT),
        "expected_cost": number_schema(0, MAX_AMOUNT, exclusive_low=True),
    },
}

DEFAULT_COUPONS = [
    {"name": "pct10", "kind": "percent", "value": 10, "min_spend": 0, "expected_cost": 4.0},
    {"name": "fixed5", "kind": "fixed", "value": 5, "min_spend": 30, "expected_cost": 3.0},
    {"name": "freeship", "kind": "free_shipping", "value": 0, "min_spend": 20, "expected_cost": 2.0},
]

CURRENCY = campaign_currency()  # of every amount: budget, coupon value, minimum spend, expected cost
CAMPAIGN_DAYS = timedelta(days=7)  # an empty end is the start plus this
HOLDOUT_RANGE = (0.01, 0.5)  # share of the audience held out as the control group
ATTRIBUTION_WINDOW_DAYS = (14, 1, 90)  # default, minimum, maximum (also the results DAG's Param)
EXPLORATION_FLOOR = (0.1, 0.0, 0.5)  # default, minimum, maximum
TEST_SHARE = (0.0, 0.0, 1.0)  # default, minimum, maximum: share of the budget on randomised test picks

CAMPAIGN_FIELDS: tuple[ParamField, ...] = (
    ParamField("campaign_id", "string", "autumn-sale", "Campaign id", pattern=SLUG.pattern, prefill=True,
               description="Slug of 2-63 characters: lower-case letters, digits, - and _ (e.g. autumn-sale); "
                           "reruns of the same id keep history"),
    ParamField("name", "string", "Autumn sale", "Name", prefill=True, max_length=MAX_TEXT, pattern=PLAIN_TEXT,
               optional=True,
               description=f"Free text, at most {MAX_TEXT} characters, no control characters; empty = the id"),
    ParamField("objective", "string", "conversion", "Objective", enum=OBJECTIVES),
    ParamField("segments", "array", ["all"], "Target segments", optional=True, min_items=1,
               description="Pick segments by name, or \"all\" (empty = all). The choices are the segments of the "
                           "latest daily run (written by its publish task to $JOURNEY_HOME/current_segments.json); "
                           "segment ids are accepted too. An unknown one fails the first task listing the current "
                           "segments",
               items={"type": ["string", "integer"], "minimum": 0, "maximum": MAX_ID, **text_schema(MAX_TEXT)}),
    ParamField("lifecycle_stages", "array", [], "Lifecycle stages", optional=True, enum=LIFECYCLE_STAGES,
               unique=True, description=f"Empty = every stage; some of {', '.join(LIFECYCLE_STAGES)}"),
    ParamField("channels", "array", ["email", "push"], "Channels (priority order)", enum=CAMPAIGN_CHANNELS,
               min_items=1, unique=True, description=f"At least one of {', '.join(CAMPAIGN_CHANNELS)}, in the order "
                                                     f"tried; {', '.join(CONSENT_CHANNELS)} need the user's opt-in"),
    ParamField("coupons", "array", DEFAULT_COUPONS, "Coupon catalog", min_items=1, max_items=10, items=OFFER_SCHEMA,
               description=f"List of {{name, kind: percent|fixed|free_shipping, value, min_spend, expected_cost}}; "
                           f"amounts in {CURRENCY} (a percent coupon's value in %); expected_cost above 0",
               prefill=True),
    ParamField("budget", "number", 1000.0, f"Total budget ({CURRENCY})", minimum=0, maximum=MAX_AMOUNT,
               prefill=True, description=f"Most the coupons may cost in expected value, in {CURRENCY}"),
    ParamField("segment_budget_shares", "object", {}, "Budget share per segment", minimum=0, maximum=1,
               optional=True, description="Optional {segment: share of the budget, 0-1}; shares add up to at most 1"),
    ParamField("max_coupons_per_user", "integer", 1, "Max coupons per user", minimum=1, maximum=3, optional=True,
               description="1-3; empty = 1"),
    ParamField("holdout_fraction", "number", 0.10, "Holdout (control group share)", minimum=HOLDOUT_RANGE[0],
               maximum=HOLDOUT_RANGE[1], optional=True,
               description=f"Share of the audience held out as control (gets nothing, measures the lift), "
                           f"{HOLDOUT_RANGE[0]}-{HOLDOUT_RANGE[1]}, e.g. 0.1 = 10 %; empty = 0.1. A value outside "
                           f"the range is refused when you trigger"),
    ParamField("recommendations_k", "integer", 10, "Recommendations per user (K)", minimum=1, maximum=50,
               optional=True, description="1-50; empty = 10"),
    ParamField("recommendations_lookback_days", "integer", 0, "Recommendations look-back (days)", minimum=0,
               maximum=36500, optional=True,
               description="Days of history the recommender learns from; 0 or empty = all history"),
    ParamField("recommendations_exclude", "string", "interacted", "Never recommend again",
               enum=RECOMMEND_EXCLUSIONS, description="purchased: products the user bought; "
                                                      "interacted: every product the user viewed, carted or bought"),
    ParamField("recommendations_per_category", "integer", 0, "Recommendations per category", minimum=0,
               maximum=50, optional=True, description="At most this many products of one top-level category per list "
                                       "(uncategorised products are not capped); 0 = no cap"),
    ParamField("recommendations_two_tower", "boolean", False, "Two-tower retriever in the blend", optional=True,
               description="Train the TensorFlow two-tower model on the look-back window (on the Spark driver, at "
                           "most 100,000 (user, product) pairs) and add it as a candidate source the tuning weighs "
                           "like the others; slower runs (several trainings per run); empty = off"),
    ParamField("frequency_cap", "integer", 3, "Frequency cap", minimum=1, maximum=100, optional=True,
               description="Max messages per user in a trailing 7 days"),
    ParamField("start_time", "string", None, "Start", format="date-time", pattern=ZONED_TIME, optional=True,
               description=f"Empty = when the run starts; else {ZONE_RULE}"),
    ParamField("end_time", "string", None, "End", format="date-time", pattern=ZONED_TIME, optional=True,
               description=f"Empty = the start + {CAMPAIGN_DAYS.days} days; else {ZONE_RULE}"),
    ParamField("attribution_window_days", "integer", ATTRIBUTION_WINDOW_DAYS[0], "Attribution window (days)",
               minimum=ATTRIBUTION_WINDOW_DAYS[1], maximum=ATTRIBUTION_WINDOW_DAYS[2], optional=True,
               description=f"Events of the treated and held-out users in this many days from the start count in the "
                           f"campaign results (DAG journey_campaign_results), {ATTRIBUTION_WINDOW_DAYS[1]}-"
                           f"{ATTRIBUTION_WINDOW_DAYS[2]}; empty = {ATTRIBUTION_WINDOW_DAYS[0]}"),
    ParamField("exploration", "boolean", False, "Explore offers (Thompson sampling)", optional=True,
               description="Each segment's treated users are split between the coupons by Thompson sampling over "
                           "this campaign's measured results (journey.campaign_results of its earlier runs; equal "
                           "shares before any); each user may get only the offer drawn for it, within the same "
                           "budget, one coupon per user; the holdout is unchanged; empty = off"),
    ParamField("exploration_floor", "number", EXPLORATION_FLOOR[0], "Exploration floor (least share per offer)",
               minimum=EXPLORATION_FLOOR[1], maximum=EXPLORATION_FLOOR[2], optional=True,
               description=f"While exploring, every coupon keeps at least this share of a segment's users, "
                           f"{EXPLORATION_FLOOR[1]}-{EXPLORATION_FLOOR[2]} (floor × coupons at most 1); 0 = no floor; "
                           f"empty = {EXPLORATION_FLOOR[0]}"),
    ParamField("test_share", "number", TEST_SHARE[0], "Randomised test share", minimum=TEST_SHARE[1],
               maximum=TEST_SHARE[2], optional=True,
               description=f"Share of the budget spent on randomly drawn treated users the optimiser did not pick, "
                           f"each with a random coupon of the catalogue, so that the uplift model (DAG "
                           f"journey_train_models) has randomised outcomes to learn from; {TEST_SHARE[1]}-"
                           f"{TEST_SHARE[2]} (1 = a randomised test campaign: every coupon at random); 0 or empty "
                           f"= off"),
    ParamField("creatives", "array", DEFAULT_CREATIVES, "Creative catalog", min_items=1, max_items=MAX_CREATIVES,
               items=CREATIVE_SCHEMA, optional=True,
               description="Rules {segment, scene, lifecycle_stage ('*' = any), theme, format}; first match wins; "
                           "the last rule must be '*' everywhere; empty = the built-in catalog"),
    ParamField("dry_run", "boolean", False, "Dry run", description="Write the lake and the report only"),
    ParamField("products", "string", "", "Products CSV", max_length=MAX_PATH, pattern=PLAIN_TEXT, optional=True,
               description="Margins for coupon values and titles for recommendations; "
                           "empty = $JOURNEY_HOME/inbox/products.csv"),
)
FIELDS = {spec.name: spec for spec in CAMPAIGN_FIELDS}


def _form_schema(spec: ParamField, segment_names: tuple[str, ...]) -> dict:
    """The field's schema, plus the current segment names as the segment picker's choices."""
    schema = spec.schema()
    if spec.name == "segments" and segment_names:
        schema["examples"] = ["all", *segment_names]
    return schema


def dag_params(segment_names: tuple[str, ...] = ()) -> dict[str, Param]:
    """The campaign DAG's trigger form: one Airflow Param per field of the table, in its order.

    `segment_names` (segment_names.read_segment_names at parse time) become the segment choices.
    """
    from airflow.sdk import Param

    return {spec.name: Param(copy.deepcopy(spec.default), description=spec.description,
                             **_form_schema(spec, segment_names))
            for spec in CAMPAIGN_FIELDS}


def _given(raw: dict, name: str) -> Any:
    """The field's raw value, else the table's default (None where the default only fills the form in).

    An optional field given as null (what the form sends for an emptied field) is absent.
    """
    spec = FIELDS[name]
    if name in raw and not (raw[name] is None and spec.optional):
        return raw[name]
    return None if spec.prefill else copy.deepcopy(spec.default)


def _bounded(raw: dict, name: str) -> float:
    """A number or whole-number field within the table's bounds."""
    spec = FIELDS[name]
    rule = whole if spec.type == "integer" else number
    return rule(_given(raw, name), name, spec.minimum, spec.maximum)


def _times(raw: dict) -> tuple[datetime, datetime]:
    """(start, end): an empty or absent start is now (UTC, to the second), an empty end the start + CAMPAIGN_DAYS."""
    start = moment(raw["start_time"], "start_time") if raw.get("start_time") else datetime.now(UTC).replace(
        microsecond=0)
    end = moment(raw["end_time"], "end_time") if raw.get("end_time") else start + CAMPAIGN_DAYS
    return start, end


def _channels(raw: dict) -> tuple[str, ...]:
    """Channels in priority order: at least the table's minimum, each a known channel."""
    channels = names(_given(raw, "channels"), "channels", FIELDS["channels"].enum)
    if len(channels) < FIELDS["channels"].min_items:
        raise CampaignParamsError("channels", "give at least one channel")
    return channels


def _segments(raw: dict) -> tuple[str, ...]:
    """Segment ids or names; empty (or absent) is ("all",), which combines with nothing."""
    segments = names(_given(raw, "segments"), "segments") or ("all",)
    if "all" in segments and len(segments) > 1:
        raise CampaignParamsError("segments", "'all' cannot be combined with named segments")
    return segments


def _offer(item: object, index: int) -> Offer:
    """One catalog entry, checked."""
    where = f"coupons[{index}]"
    item = entry(item, where, "name, kind, value, expected_cost")
    name = short_name(item.get("name"), f"{where}.name")
    kind = one_of(item.get("kind"), f"{where}.kind", COUPON_KINDS)
    return Offer(name=name, kind=kind,
                 value=number(item.get("value"), f"{where}.value", 0.0, 100.0 if kind == "percent" else MAX_AMOUNT),
                 min_spend=number(item.get("min_spend", 0.0), f"{where}.min_spend", 0.0, MAX_AMOUNT),
                 expected_cost=number(item.get("expected_cost"), f"{where}.expected_cost", 1e-9, MAX_AMOUNT))


def _offers(raw: dict) -> tuple[Offer, ...]:
    """The coupon catalog: 1 to the table's maximum entries, with distinct names."""
    items = catalog(_given(raw, "coupons"), "coupons", FIELDS["coupons"].max_items, "offers per campaign",
                    "the coupon catalog is empty: give at least one {name, kind, value, expected_cost}")
    offers = tuple(_offer(item, i) for i, item in enumerate(items))
    offer_names = [o.name for o in offers]
    if len(set(offer_names)) != len(offer_names):
        raise CampaignParamsError("coupons", f"offer names must be distinct, got {', '.join(offer_names)}")
    return offers


def _shares(raw: dict) -> dict[str, float]:
    """Optional budget share per segment: each within the table's bounds, summing to at most 1."""
    value, spec = _given(raw, "segment_budget_shares") or {}, FIELDS["segment_budget_shares"]
    if not isinstance(value, dict):
        raise CampaignParamsError(spec.name, f"must be an object {{segment: share}}, got {shown(value)}")
    keys = [text(str(key), spec.name) for key in value]  # segment names: free text
    shares = {key: number(share, f"{spec.name}.{key}", spec.minimum, spec.maximum)
              for key, share in zip(keys, value.values(), strict=True)}
    if sum(shares.values()) > 1.0 + 1e-9:
        raise CampaignParamsError(spec.name, f"shares add up to {sum(shares.values()):.3f}, more than 1")
    return shares


def _check_times(params: CampaignParams) -> CampaignParams:
    """The request, once its end is after its start."""
    if params.end_time <= params.start_time:
        raise CampaignParamsError("end_time", f"{params.end_time.isoformat()} is not after start_time "
                                              f"{params.start_time.isoformat()}")
    return params


def _check_floor(params: CampaignParams) -> CampaignParams:
    """The request, once every coupon of the catalog can keep the exploration floor (floor × coupons <= 1)."""
    floor, offers = params.exploration_floor, len(params.coupons)
    if floor * offers > 1.0 + 1e-9:
        raise CampaignParamsError("exploration_floor", f"{floor} × {offers} coupons is more than 1: "
                                                       f"at most {1 / offers:.4g} with this catalog")
    return params


def _name(raw: dict, campaign_id: str) -> str:
    """The campaign's display name: free text (see fields.text); absent or empty is the campaign id."""
    given = raw.get("name")
    return campaign_id if given is None or given == "" else text(given, "name")


def parse_params(raw: dict) -> CampaignParams:
    """Check a trigger's parameters; raise CampaignParamsError naming the first bad field."""
    if not isinstance(raw, dict):
        raise CampaignParamsError("conf", f"the parameters must be a JSON object, got {type(raw).__name__}")
    campaign_id = short_name(raw.get("campaign_id"), "campaign_id", CAMPAIGN_ID)
    text(_given(raw, "products"), "products", MAX_PATH)  # read by the Spark steps, checked here all the same
    objective = one_of(_given(raw, "objective"), "objective", FIELDS["objective"].enum)
    channels, segments = _channels(raw), _segments(raw)
    start_time, end_time = _times(raw)
    return _check_floor(_check_times(CampaignParams(
        campaign_id=campaign_id, name=_name(raw, campaign_id), objective=objective,
        segments=segments, lifecycle_stages=names(_given(raw, "lifecycle_stages"), "lifecycle_stages",
                                                  FIELDS["lifecycle_stages"].enum),
        channels=channels, coupons=_offers(raw), budget=_bounded(raw, "budget"), segment_budget_shares=_shares(raw),
        max_coupons_per_user=_bounded(raw, "max_coupons_per_user"),
        holdout_fraction=_bounded(raw, "holdout_fraction"), recommendations_k=_bounded(raw, "recommendations_k"),
        recommendations_lookback_days=_bounded(raw, "recommendations_lookback_days"),
        recommendations_exclude=one_of(_given(raw, "recommendations_exclude"), "recommendations_exclude",
                                       RECOMMEND_EXCLUSIONS),
        recommendations_per_category=_bounded(raw, "recommendations_per_category"),
        recommendations_two_tower=flag(_given(raw, "recommendations_two_tower"), "recommendations_two_tower"),
        frequency_cap=_bounded(raw, "frequency_cap"), start_time=start_time,
        end_time=end_time, dry_run=flag(_given(raw, "dry_run"), "dry_run"),
        creatives=parse_creatives(_given(raw, "creatives")),
        attribution_window_days=_bounded(raw, "attribution_window_days"),
        exploration=flag(_given(raw, "exploration"), "exploration"), exploration_floor=_bounded(raw, "exploration_floor"),
        test_share=_bounded(raw, "test_share"),
    )))


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
            raise CampaignParamsError("segments", f"unknown segment {item!r}; the current segments are {listed}")
        chosen[sid] = known[sid]
    for key in params.segment_budget_shares:
        if (key.isdigit() and int(key) in chosen) or key in chosen.values():
            continue
        raise CampaignParamsError("segment_budget_shares", f"{key!r} is not one of the targeted segments")
    return chosen


def share_by_segment_id(params: CampaignParams, segments: dict[int, str]) -> dict[int, float]:
    """Budget shares keyed by segment id."""
    by_name = {name: sid for sid, name in segments.items()}
    return {(int(k) if k.isdigit() else by_name[k]): v for k, v in params.segment_budget_shares.items()}
