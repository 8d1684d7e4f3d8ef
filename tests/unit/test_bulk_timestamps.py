"""Zoned timestamps become PostgreSQL timestamptz text in UTC, whatever their zone and unit."""

from datetime import UTC, datetime

import pyarrow as pa
import pytest

from journey.warehouse.bulk import _timestamp_text

MOMENTS = [datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), None, datetime(2026, 1, 1, tzinfo=UTC),
           datetime(1900, 3, 4, 5, 6, 7, 8, tzinfo=UTC), datetime(2026, 10, 31, 23, 59, 59, 123456, tzinfo=UTC)]
TEXT = ["1969-12-31 23:59:59.999999+00", None, "2026-01-01 00:00:00.000000+00", "1900-03-04 05:06:07.000008+00",
        "2026-10-31 23:59:59.123456+00"]


@pytest.mark.parametrize("zone", ["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata"])
def test_every_zone_is_written_as_the_utc_instant(zone):
    assert _timestamp_text(pa.array(MOMENTS, pa.timestamp("us", tz=zone))).to_pylist() == TEXT


def test_coarser_units_write_zero_fractions():
    seconds = pa.array([0, 86_399, -1], pa.timestamp("s", tz="UTC"))
    millis = pa.array([1_500, -1], pa.timestamp("ms", tz="UTC"))
    assert _timestamp_text(seconds).to_pylist() == ["1970-01-01 00:00:00.000000+00", "1970-01-01 23:59:59.000000+00",
                                                    "1969-12-31 23:59:59.000000+00"]
    assert _timestamp_text(millis).to_pylist() == ["1970-01-01 00:00:01.500000+00", "1969-12-31 23:59:59.999000+00"]
