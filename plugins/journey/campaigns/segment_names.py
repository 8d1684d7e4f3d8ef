"""The current segment names as a small JSON file, so the campaign form can offer them without a query.

The DAG file is parsed often and must not query PostgreSQL, so the segment picker of the trigger
form reads `$JOURNEY_HOME/current_segments.json` instead. The daily run's `publish` task writes it
after each publish (and the campaign's `validate_params` refreshes it with the names it just
read), so the choices are those of the latest published snapshot. Reading never fails: a missing
or broken file gives no names (the field is then free text and `validate_params` names the
known segments when one is unknown).
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import date
from pathlib import Path

from journey.config import Settings

SEGMENT_NAMES_FILE = "current_segments.json"


def segment_names_path(settings: Settings) -> Path:
    """Where the current segment names are kept."""
    return settings.home / SEGMENT_NAMES_FILE


def write_segment_names(settings: Settings, snapshot_date: date, segments: dict[int, str]) -> Path:
    """Write {snapshot_date, segments: [{id, name}]} atomically (a parse never sees half a file)."""
    target = segment_names_path(settings)
    target.parent.mkdir(parents=True, exist_ok=True)
    doc = {"snapshot_date": snapshot_date.isoformat(),
           "segments": [{"id": sid, "name": name} for sid, name in sorted(segments.items())]}
    with tempfile.NamedTemporaryFile("w", dir=target.parent, suffix=".tmp", delete=False, encoding="utf-8") as out:
        json.dump(doc, out, indent=1)
    os.replace(out.name, target)
    return target


def read_segment_names(settings: Settings) -> tuple[str, ...]:
    """The current segment names, in id order; () when the file is missing or unreadable."""
    try:
        doc = json.loads(segment_names_path(settings).read_text(encoding="utf-8"))
        return tuple(str(item["name"]) for item in doc["segments"])
    except (OSError, ValueError, KeyError, TypeError):
        return ()


def publish_segment_names(settings: Settings) -> Path | None:
    """Query the current segments (one small query) and write their names for the form; None (and the file
    left as it is) when no segment is published, so the daily publish never fails on the form's choices."""
    from journey.campaigns.params import CampaignParamsError
    from journey.campaigns.validate import current_segments

    try:
        snapshot_date, segments = current_segments(settings)
    except CampaignParamsError:
        return None
    return write_segment_names(settings, snapshot_date, segments)
