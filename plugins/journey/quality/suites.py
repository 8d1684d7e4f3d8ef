"""Expectation suites of every hand-off, each expectation tagged error (stops) or warn (recorded).

A suite is a list of `Check`s built from plain parameters; the GX objects are created only
when a suite is run (`journey.quality.gx_run`), so this module imports no heavy library.
Datasets are prepared by `prepare_*` helpers that add the derived columns some rules need
(affinity sum, holdout flag, ...), so every rule is a plain column expectation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from journey.errors import InputError
from journey.schemas import CURATED_EVENT_COLUMNS, EVENT_TYPES, LIFECYCLE_STAGES, REJECT_REASONS, TIME_FLOOR

ERROR, WARN = "error", "warn"
BACKFILL_MODES = ("auto", "on", "off")
# Quarantine reasons a feed format produces by design: counted and reported, never against the share.
FORMAT_EXPECTED_REASONS: dict[str, tuple[str, ...]] = {"transactions": ("missing_user_id",)}


class QualityParamsError(InputError):
    """A gate threshold is invalid; the message names the DAG Param / job option."""

    def __init__(self, field_name: str, problem: str):
        super().__init__(f"quality parameter '{field_name}' ({knob(field_name)}): {problem}")
        self.field_name = field_name


def knob(*names: str) -> str:
    """Where a threshold is set: 'DAG Param x, --x' for each name."""
    params = "DAG Param" + ("s " if len(names) > 1 else " ") + ", ".join(names)
    return f"{params}, " + ", ".join("--" + n.replace("_", "-") for n in names)


@dataclass(frozen=True)
class QualityParams:
    """Thresholds of the gates (defaults are what the daily DAG uses)."""

    price_ceiling: float = 50_000.0
    time_floor: datetime = datetime.combine(TIME_FLOOR, time())  # the ingest's floor: old history is real
    max_quarantine_share: float = 0.05
    expected_quarantine_reasons: tuple[str, ...] = ()
    volume_band: tuple[float, float] = (0.5, 2.0)
    volume_history_days: int = 7
    volume_min_history: int = 3
    backfill: str = "auto"
    k_min: int = 3
    k_max: int = 8

    def __post_init__(self) -> None:
        """Refuse thresholds that cannot work, naming the Param / option."""
        low, high = self.volume_band
        if not 0.0 <= self.max_quarantine_share <= 1.0:
            raise QualityParamsError("max_quarantine_share", f"must be within [0, 1], got {self.max_quarantine_share}")
        if not 0.0 <= low < 1.0:
            raise QualityParamsError("volume_band_low", f"must be within [0, 1), got {low}")
        if not high > 1.0:
            raise QualityParamsError("volume_band_high", f"must be above 1, got {high}")
        if self.volume_history_days < 1:
            raise QualityParamsError("volume_history_days", f"must be at least 1, got {self.volume_history_days}")
        if self.backfill not in BACKFILL_MODES:
            raise QualityParamsError("backfill", f"must be one of {', '.join(BACKFILL_MODES)}, got {self.backfill!r}")
        unknown = [r for r in self.expected_quarantine_reasons if r not in REJECT_REASONS]
        if unknown:
            raise QualityParamsError("expected_quarantine_reasons",
                                     f"unknown reason(s) {', '.join(unknown)}; known: {', '.join(REJECT_REASONS)}")

    def expected_reasons(self, fmt: str) -> tuple[str, ...]:
        """Reasons left out of the share: the given ones plus those of the feed format."""
        return tuple(dict.fromkeys((*self.expected_quarantine_reasons, *FORMAT_EXPECTED_REASONS.get(fmt, ()))))

    def floor_for(self, ingest_floor: str) -> datetime:
        """The events' time floor: never later than the floor the ingest applied (a mapping may set one)."""
        return min(self.time_floor, datetime.combine(date.fromisoformat(ingest_floor), time()))

    def is_backfill(self, batch_days: int) -> bool:
        """Whether a batch spanning `batch_days` calendar days is checked as a backfill."""
        return self.backfill == "on" or (self.backfill == "auto" and batch_days > self.volume_history_days)


@dataclass(frozen=True)
class Check:
    """One expectation: GX class name, its keyword arguments, and its severity."""

    expectation: str
    kwargs: dict = field(default_factory=dict)
    severity: str = ERROR
    hint: str = ""  # said after a failure: what the limit is and which Param / option changes it

    @property
    def column(self) -> str | None:
        """Column the check is about, if any."""
        return self.kwargs.get("column")


def _not_null(*columns: str) -> list[Check]:
    """Non-null checks (errors) for each column."""
    return [Check("ExpectColumnValuesToNotBeNull", {"column": c}) for c in columns]


SPARK_TYPES = {"string": "StringType", "timestamp": "TimestampType", "double": "DoubleType",
               "int": "IntegerType", "date": "DateType"}


def events_suite(params: QualityParams, now: datetime) -> list[Check]:
    """Curated events of a batch: schema, types, keys, ranges, uniqueness."""
    return [
        Check("ExpectTableColumnsToMatchSet", {"column_set": list(CURATED_EVENT_COLUMNS), "exact_match": True}),
        *[Check("ExpectColumnValuesToBeOfType", {"column": c, "type_": SPARK_TYPES[t]})
          for c, t in CURATED_EVENT_COLUMNS.items()],
        *_not_null("event_id", "event_time", "user_id", "session_id", "event_type", "event_date"),
        Check("ExpectColumnValuesToBeInSet", {"column": "event_type", "value_set": list(EVENT_TYPES)}),
        Check("ExpectColumnValuesToBeBetween", {"column": "price", "min_value": 0.0, "max_value": params.price_ceiling}),
        Check("ExpectColumnValuesToBeBetween", {"column": "quantity", "min_value": 1}),
        Check("ExpectColumnValuesToBeBetween", {"column": "event_time", "min_value": params.time_floor,
                                                "max_value": now.replace(tzinfo=None) + timedelta(minutes=5)}),
        Check("ExpectColumnValuesToBeUnique", {"column": "event_id"}),
        Check("ExpectColumnValuesToNotBeNull", {"column": "product_id", "mostly": 0.5}, WARN),
    ]


VOLUME_KNOBS = knob("volume_band_low", "volume_band_high", "volume_history_days", "backfill")


def volume_suite(params: QualityParams, backfill: bool = False) -> list[Check]:
    """Per-day volume ratio to the median (prepared by `volume_ratios`); a backfill's days only warn."""
    low, high = params.volume_band
    base = "the batch's own median day (backfill)" if backfill else f"the trailing {params.volume_history_days}-day median"
    return [Check("ExpectColumnValuesToBeBetween", {"column": "ratio_to_median", "min_value": low, "max_value": high},
                  WARN if backfill else ERROR, f"outside volume band {low}–{high} × {base} ({VOLUME_KNOBS})")]


def quarantine_suite(params: QualityParams, expected: tuple[str, ...] = ()) -> list[Check]:
    """Share of the batch quarantined for unexpected reasons, and (recorded only) the expected share."""
    left_out = (f"; not counted, as expected of this feed: {', '.join(expected)} "
                f"({knob('expected_quarantine_reasons')})") if expected else ""
    return [
        Check("ExpectColumnMaxToBeBetween",
              {"column": "quarantined_share", "min_value": 0.0, "max_value": params.max_quarantine_share}, ERROR,
              f"exceeds max_quarantine_share {params.max_quarantine_share} ({knob('max_quarantine_share')}){left_out}"),
        Check("ExpectColumnMaxToBeBetween", {"column": "expected_share", "min_value": 0.0, "max_value": 1.0}, WARN),
    ]


def profiles_suite(params: QualityParams) -> list[Check]:
    """Profiles of a snapshot (with `affinity_sum` added by prepare_profiles)."""
    return [
        Check("ExpectColumnValuesToBeUnique", {"column": "user_id"}),
        *_not_null("user_id", "frequency", "monetary", "rfm_segment", "lifecycle_stage"),
        Check("ExpectColumnValuesToBeBetween", {"column": "recency_days", "min_value": 0}),
        Check("ExpectColumnValuesToBeBetween", {"column": "days_since_last_event", "min_value": 0}),
        Check("ExpectColumnValuesToBeBetween", {"column": "monetary", "min_value": 0.0}),
        Check("ExpectColumnValuesToBeBetween", {"column": "affinity_sum", "min_value": 1 - 1e-6, "max_value": 1 + 1e-6}),
        *[Check("ExpectColumnValuesToBeBetween", {"column": c, "min_value": 1, "max_value": 5})
          for c in ("r_score", "f_score", "m_score")],
        Check("ExpectColumnValuesToBeInSet", {"column": "lifecycle_stage", "value_set": list(LIFECYCLE_STAGES)}),
        Check("ExpectColumnValuesToBeBetween", {"column": "conversion_rate", "min_value": 0.0, "max_value": 1.0}, WARN),
    ]


def segments_suite(params: QualityParams, profiled_users: int, segment_ids: list[int]) -> list[Check]:
    """User → segment rows: every profiled user exactly once, ids known to the summary."""
    return [
        Check("ExpectTableRowCountToEqual", {"value": profiled_users}),
        Check("ExpectColumnValuesToBeUnique", {"column": "user_id"}),
        *_not_null("user_id", "segment_id", "segment_name"),
        Check("ExpectColumnValuesToBeInSet", {"column": "segment_id", "value_set": segment_ids}),
    ]


def segment_summary_suite(params: QualityParams, segmented_users: int) -> list[Check]:
    """Segment summary: no empty segment, k within range, sizes add up to the users."""
    return [
        Check("ExpectColumnValuesToBeBetween", {"column": "users", "min_value": 1}),
        Check("ExpectColumnValuesToBeBetween", {"column": "k", "min_value": params.k_min, "max_value": params.k_max}),
        Check("ExpectColumnSumToBeBetween", {"column": "users", "min_value": segmented_users,
                                             "max_value": segmented_users}),
        Check("ExpectColumnValuesToBeUnique", {"column": "segment_id"}),
        Check("ExpectColumnValuesToBeUnique", {"column": "segment_name"}, WARN),
    ]


def assignments_suite(budget: float, max_per_user: int = 1) -> list[Check]:
    """Campaign assignments (prepared by `prepare_assignments`): caps, budget, holdout, consent."""
    return [
        Check("ExpectColumnValuesToBeBetween", {"column": "coupons_for_user", "max_value": max_per_user}),
        Check("ExpectColumnSumToBeBetween", {"column": "expected_cost", "min_value": 0.0, "max_value": budget}),
        Check("ExpectColumnValuesToBeInSet", {"column": "in_holdout", "value_set": [False]}),
        Check("ExpectColumnValuesToBeInSet", {"column": "has_consent", "value_set": [True]}),
    ]


def recommendations_suite() -> list[Check]:
    """Recommendation rows (prepared by `prepare_recommendations`): no repeats, nothing already bought."""
    return [
        Check("ExpectColumnValuesToBeInSet", {"column": "times_recommended", "value_set": [1]}),
        Check("ExpectColumnValuesToBeInSet", {"column": "already_purchased", "value_set": [False]}),
    ]
