"""Benchmarks scale generated data by copying it with suffixed ids: more users, same behaviour."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from journey.perf.campaigns import replicate_events
from journey.perf.figures import suffixed


def test_suffixed_changes_only_the_named_columns():
    table = pa.table({"user_id": ["u1", "u2"], "product_id": ["p1", "p1"], "price": [1.5, 2.0]})

    copy = suffixed(table, ["user_id"], "-3")

    assert copy.to_pydict() == {"user_id": ["u1-3", "u2-3"], "product_id": ["p1", "p1"], "price": [1.5, 2.0]}


def test_replicated_day_files_hold_each_copy_under_new_user_and_session_ids(tmp_path):
    day = pa.table({"event_id": ["e1", "e2"], "user_id": ["u1", "u1"], "session_id": ["s1", "s1"],
                    "product_id": ["p7", "p8"]})
    pq.write_table(day, tmp_path / "events-2026-10-31.parquet")
    (tmp_path / "notes.txt").write_text("not a day file")

    replicate_events(tmp_path, 3)

    got = pq.read_table(tmp_path / "events-2026-10-31.parquet").to_pydict()
    assert got["user_id"] == ["u1", "u1", "u1-1", "u1-1", "u1-2", "u1-2"]
    assert got["session_id"] == ["s1", "s1", "s1-1", "s1-1", "s1-2", "s1-2"]
    assert got["event_id"] == ["e1", "e2", "e1-1", "e2-1", "e1-2", "e2-2"]
    assert got["product_id"] == ["p7", "p8"] * 3
    assert (tmp_path / "notes.txt").read_text() == "not a day file"
