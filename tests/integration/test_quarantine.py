"""Quarantined rows can be inspected and, once fixed, re-ingested; nothing is lost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from journey import lake
from journey.errors import JourneyError
from journey.ingest import quarantine
from journey.ingest.events import run_ingest

NOW = datetime(2026, 10, 31, 12, 0, tzinfo=UTC)
HEADER = "event_id,event_time,user_id,session_id,event_type,product_id,category,brand,price,quantity,channel"
ROWS = [
    "q1,2026-10-30T10:00:00Z,u1,s1,view,p1,c,b,10,1,web",
    "q2,2026-10-30T10:01:00Z,u1,s1,purchase,p1,c,b,-10,1,web",
    "q3,2026-10-30T10:02:00Z,,s1,view,p1,c,b,10,1,web",
    "q4,2026-10-30T10:03:00Z,u1,s1,view",
]


@pytest.fixture
def quarantined(spark, settings, tmp_path):
    """A batch with three bad rows, ingested as run 'bad-1'."""
    source = tmp_path / "events.csv"
    source.write_text("\n".join([HEADER, *ROWS]) + "\n")
    result = run_ingest(spark, settings, str(source), "canonical", "bad-1", now=NOW)
    lake.write_json(lake.run_summary_path(settings, "ingest_events", "bad-1"), result.as_dict())
    return result


def test_show_counts_reasons_and_prints_rows(settings, quarantined):
    lines = quarantine.show(settings, "bad-1", limit=5)
    assert lines[0] == "3 quarantined events rows in run bad-1"
    assert sorted(line.split()[-1] for line in lines[1:4]) == ["malformed_row", "missing_user_id", "negative_price"]
    assert "- [negative_price] price -10 is below zero" in lines
    assert quarantine.runs(settings) == ["bad-1"]


def test_unknown_run_names_the_runs_that_exist(settings, quarantined):
    with pytest.raises(JourneyError, match="no quarantine for run 'nope'.*runs with one: bad-1"):
        quarantine.show(settings, "nope")


def test_fixed_rows_are_re_ingested(spark, settings, quarantined):
    path, written, skipped = quarantine.replay_file(settings, "bad-1")
    assert (written, skipped) == (2, 1)  # the line with missing fields cannot be rebuilt
    fixed = []
    for line in path.read_text().splitlines():
        row = json.loads(line)
        row["price"] = row["price"].lstrip("-")
        row["user_id"] = row["user_id"] or "u9"
        fixed.append(json.dumps(row))
    path.write_text("\n".join(fixed) + "\n")
    assert quarantine.original_format(settings, "bad-1") == "canonical"
    result = run_ingest(spark, settings, str(path), "canonical", "replay__bad-1", now=NOW)
    assert (result.curated, result.quarantined) == (2, 0)
    curated = {r["event_id"]: r for r in spark.read.parquet(lake.path(settings, lake.CURATED_EVENTS)).collect()}
    assert sorted(curated) == ["q1", "q2", "q3"]
    assert curated["q2"]["price"] == 10.0 and curated["q3"]["user_id"] == "u9"


def test_cli_show_lists_runs_and_rows(settings, quarantined):
    env = {"PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin", "JOURNEY_HOME": str(settings.home),
           "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    journey = str(Path(sys.executable).parent / "journey")
    listed = subprocess.run([journey, "quarantine", "show"], capture_output=True, text=True, env=env, timeout=120)
    assert listed.returncode == 0 and listed.stdout.strip() == "runs with quarantined events rows: bad-1"
    shown = subprocess.run([journey, "quarantine", "show", "--run-id", "bad-1", "--limit", "1"],
                           capture_output=True, text=True, env=env, timeout=120)
    assert shown.returncode == 0 and "... 2 more (use --limit)" in shown.stdout
    missing = subprocess.run([journey, "quarantine", "show", "--run-id", "zzz"], capture_output=True, text=True,
                             env=env, timeout=120)
    assert missing.returncode == 2 and missing.stderr.startswith("error: no quarantine for run 'zzz'")
