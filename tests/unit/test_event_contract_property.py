"""Random JSON in the fields of event rows: ingest curates a row that meets the event contract or
quarantines it with a known reason whose detail names the field; nothing else escapes.

The row-level contract lives in Spark (`journey.ingest.events.classify`), so each hypothesis
example is one batch of rows through `run_ingest` (a canonical CSV in a fresh Journey home):
few examples, many rows each. Each row starts valid and gets up to three fields replaced by
random JSON (as its text) or by a hostile value (NaN, Infinity, 1e400, NUL, a zoneless time, ...).
"""

from __future__ import annotations

import csv
import json
import math
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from journey.config import get_settings
from journey.ingest.events import FUTURE_TOLERANCE, PRICE_CEILING, run_ingest
from journey.ingest.quarantine import read_rows
from journey.schemas import CHANNELS, EVENT_COLUMNS, EVENT_TYPES, REJECT_REASONS

pytestmark = pytest.mark.spark

NOW = datetime(2026, 10, 31, 12, 0, tzinfo=UTC)
# The field each reason is about: its detail must name it (a malformed row names its line).
FIELD_OF_REASON = {"malformed_row": "line", "invalid_encoding": "UTF-8", "missing_user_id": "user_id",
                   "unknown_event_type": "event_type", "invalid_quantity": "quantity",
                   **dict.fromkeys(("missing_event_time", "unparsable_timestamp", "timestamp_without_zone",
                                    "future_timestamp", "timestamp_before_floor"), "event_time"),
                   **dict.fromkeys(("invalid_price", "missing_price", "negative_price", "price_above_ceiling"), "price")}
PLAIN_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=20)
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | PLAIN_TEXT,
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(PLAIN_TEXT, inner, max_size=3),
                    max_leaves=6)
HOSTILE = st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "-1", "0", "\x00", "", "   ", "\ufffd",
                           "2026-10-30 10:00:00", "2026-10-30T10:00:00+14:00", "9999-12-31T23:59:59Z",
                           "1969-12-31T23:59:59Z", "purchase ", "PURCHASE", "1.5", "50001", '"', "a,b", "x\ny"])
FIELD_TEXT = HOSTILE | JSON.map(lambda v: v if isinstance(v, str) else json.dumps(v))
VALID_FIELDS = {
    "event_id": st.integers(0, 10**6).map(lambda n: f"e{n}"),
    "event_time": st.sampled_from(["2026-10-30T10:00:00Z", "2026-10-01T23:59:59+02:00", "2025-01-01T00:00:00.5Z"]),
    "user_id": st.sampled_from(["u1", "u2", "u3"]), "session_id": st.sampled_from(["s1", ""]),
    "event_type": st.sampled_from(EVENT_TYPES), "product_id": st.sampled_from(["p1", "p2"]),
    "category": st.sampled_from(["electronics.audio", ""]), "brand": st.sampled_from(["acme", ""]),
    "price": st.sampled_from(["10.5", "0", "49999"]), "quantity": st.sampled_from(["1", "3"]),
    "channel": st.sampled_from(CHANNELS),
}
ROW = st.fixed_dictionaries(VALID_FIELDS).flatmap(
    lambda row: st.dictionaries(st.sampled_from(list(EVENT_COLUMNS)), FIELD_TEXT, max_size=3).map(
        lambda changes: {**row, **changes}))


def ingest(spark, folder, rows: list[dict]):
    """run_ingest over one canonical CSV of `rows` in a fresh home; (result, curated rows, quarantined rows)."""
    home = get_settings({"JOURNEY_HOME": str(folder / "home"), "JOURNEY_SHUFFLE_PARTITIONS": "2"})
    (folder / "in").mkdir(parents=True)
    with open(folder / "in" / "events.csv", "w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(EVENT_COLUMNS))
        writer.writeheader()
        writer.writerows(rows)
    result = run_ingest(spark, home, str(folder / "in"), "canonical", "run-1", now=NOW)
    curated = [r.asDict() for r in spark.read.parquet(result.curated_path).collect()] if result.curated else []
    return result, curated, read_rows(home, "run-1") if result.quarantined else []


def assert_meets_the_contract(event: dict) -> None:
    """A curated event: a time in range, a user, a known type, a finite price in range, a whole quantity."""
    assert event["event_time"] is not None  # Spark hands back UTC wall time without zone
    assert event["event_time"].replace(tzinfo=UTC) <= NOW + FUTURE_TOLERANCE
    assert event["user_id"] and event["event_type"] in EVENT_TYPES
    assert event["price"] is None or (math.isfinite(event["price"]) and 0 <= event["price"] <= PRICE_CEILING)
    assert event["quantity"] >= 1


@settings(max_examples=2, deadline=None, phases=(Phase.explicit, Phase.reuse, Phase.generate),  # no shrinking:
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # each try is a Spark run
@given(rows=st.lists(ROW, min_size=60, max_size=120))
def test_random_json_in_event_fields_is_curated_or_quarantined_naming_the_field(spark, tmp_path_factory, rows):
    result, curated, quarantined = ingest(spark, tmp_path_factory.mktemp("events"), rows)

    assert result.rows_read == result.curated + result.quarantined + result.duplicates
    assert result.rows_read >= len(rows)  # a line break inside a quoted field may split a row, never join two
    for event in curated:
        assert_meets_the_contract(event)
    for row in quarantined:
        assert row["reason"] in REJECT_REASONS
        assert FIELD_OF_REASON[row["reason"]] in row["detail"], row
    assert set(result.by_reason) <= set(REJECT_REASONS)
