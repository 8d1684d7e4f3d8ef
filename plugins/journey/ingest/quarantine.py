"""Inspect quarantined rows and re-ingest them after a fix (`journey quarantine show|replay`).

Quarantined rows live in the lake under quarantine/<dataset>/run_id=<run> with their reason,
detail, source file and raw text (the row as JSON, or the raw line when it could not be
split). Replay writes the JSON rows to lake/replay/<run>/rows.jsonl and ingests that file
with the same format as the original run; rows that are still bad are quarantined again
under the replay's run id, with their reason.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pyarrow.dataset as ds

from journey import lake
from journey.config import Settings
from journey.errors import JourneyError


def _local(path: str) -> Path:
    """Local path of a lake location (quarantine tools work on a local lake)."""
    return Path(lake.local_path(path, needs_local="`journey quarantine`"))


def runs(settings: Settings, dataset: str = "events") -> list[str]:
    """Run ids (as stored) that have quarantined rows for a dataset."""
    folder = _local(lake.path(settings, "quarantine", dataset))
    if not folder.exists():
        return []
    return sorted(p.name.split("=", 1)[1] for p in folder.iterdir() if p.name.startswith("run_id="))


def read_rows(settings: Settings, run_id: str, dataset: str = "events") -> list[dict]:
    """All quarantined rows of a run, or a clear error naming what exists."""
    folder = _local(lake.quarantine_path(settings, dataset, run_id))
    if not folder.exists():
        known = ", ".join(runs(settings, dataset)) or "none"
        raise JourneyError(f"no quarantine for run '{run_id}' ({dataset}) in {folder.parent}; runs with one: {known}")
    return ds.dataset(str(folder), format="parquet").to_table().to_pylist()


def show(settings: Settings, run_id: str, dataset: str = "events", limit: int = 20) -> list[str]:
    """Lines: rows per reason, then the first `limit` rows with reason, detail and raw text."""
    rows = read_rows(settings, run_id, dataset)
    lines = [f"{len(rows):,} quarantined {dataset} rows in run {run_id}"]
    lines += [f"  {n:>8,}  {reason}" for reason, n in Counter(r["reason"] for r in rows).most_common()]
    for row in rows[:limit]:
        lines.append(f"- [{row['reason']}] {row['detail']}")
        lines.append(f"    file: {row['source_file']}")
        lines.append(f"    raw:  {row['raw'][:200]}")
    if len(rows) > limit:
        lines.append(f"... {len(rows) - limit:,} more (use --limit)")
    return lines


def replay_file(settings: Settings, run_id: str, dataset: str = "events") -> tuple[Path, int, int]:
    """Write the run's quarantined rows as JSON lines; returns (file, rows written, rows skipped).

    Rows whose raw text is not a JSON object (lines that could not be split into fields)
    cannot be rebuilt and are skipped; fix them in the source file instead.
    """
    target = _local(lake.path(settings, "replay", lake.safe_name(run_id))) / "rows.jsonl"
    target.parent.mkdir(parents=True, exist_ok=True)
    written = skipped = 0
    with open(target, "w", encoding="utf-8") as out:
        for row in read_rows(settings, run_id, dataset):
            try:
                record = json.loads(row["raw"])
            except (TypeError, ValueError):
                record = None
            if not isinstance(record, dict):
                skipped += 1
                continue
            out.write(json.dumps(record) + "\n")
            written += 1
    return target, written, skipped


def original_format(settings: Settings, run_id: str) -> str:
    """Feed format of the ingest run that quarantined the rows (canonical if unknown)."""
    try:
        return lake.read_json(lake.run_summary_path(settings, "ingest_events", run_id))["format"]
    except (OSError, KeyError, ValueError):
        return "canonical"
