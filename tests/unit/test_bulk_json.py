"""The vectorised map → JSON path of COPY loads gives the same objects as the general Python path."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

from journey.warehouse.bulk import _as_json

MAPS = pa.array(
    [[("apparel", 0.5), ('say "hi" \\ bye', 0.25)], None, [], [("ünïcode", 1.0), ("none", None)], [("k", 3.0)]],
    pa.map_(pa.string(), pa.float64()),
)
OBJECTS = [{"apparel": 0.5, 'say "hi" \\ bye': 0.25}, None, {}, {"ünïcode": 1.0, "none": None}, {"k": 3.0}]


def loaded(texts: list[str | None]) -> list[dict | None]:
    """JSON texts parsed back."""
    return [None if t is None else json.loads(t) for t in texts]


@pytest.mark.parametrize(("offset", "length"), [(0, 5), (1, 4), (3, 2)])
def test_numeric_maps_become_the_same_json_objects_also_in_slices(offset, length):
    column = MAPS.slice(offset, length)

    texts = _as_json(column).to_pylist()

    assert loaded(texts) == OBJECTS[offset:offset + length]


def test_values_json_cannot_hold_take_the_general_path():
    not_finite = pa.array([[("a", float("nan"))]], pa.map_(pa.string(), pa.float64()))
    control = pa.array([[("line\nbreak", 1.0)]], pa.map_(pa.string(), pa.float64()))

    assert _as_json(not_finite).to_pylist() == ['{"a": null}']
    assert loaded(_as_json(control).to_pylist()) == [{"line\nbreak": 1.0}]
