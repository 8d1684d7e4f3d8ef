"""The DAG's first task: check the trigger parameters against the schema and the published segments.

No Spark: one small query for the current segments (their names are also written for the
trigger form's segment picker, see segment_names.py). The request is saved to the run folder
for the Spark steps.
"""

from __future__ import annotations

from journey import warehouse
from journey.campaigns.params import CampaignParamsError, parse_params, resolve_segments, share_by_segment_id
from journey.campaigns.request import CampaignRequest, save_request
from journey.campaigns.segment_names import write_segment_names
from journey.config import Settings

CURRENT_SEGMENTS_SQL = """SELECT s.snapshot_date, s.segment_id, s.segment_name FROM journey.segment_summary s
WHERE s.snapshot_date = (SELECT max(snapshot_date) FROM journey.user_segments) ORDER BY s.segment_id"""


def current_segments(settings: Settings) -> tuple[object, dict[int, str]]:
    """(snapshot date, {segment id: name}) of the published current segments."""
    with warehouse.connect(settings) as conn:
        rows = warehouse.fetch_all(conn, CURRENT_SEGMENTS_SQL)
    if not rows:
        raise CampaignParamsError("segments", "no segments are published yet: run journey_daily_profiles first")
    return rows[0][0], {sid: name for _, sid, name in rows}


def validate_request(settings: Settings, raw: dict, run_id: str) -> CampaignRequest:
    """Parse and check the parameters, resolve the segments, save request.json; returns the request."""
    params = parse_params(raw)
    snapshot_date, known = current_segments(settings)
    write_segment_names(settings, snapshot_date, known)
    segments = resolve_segments(params, known)
    request = CampaignRequest(params, run_id, snapshot_date, segments, share_by_segment_id(params, segments))
    save_request(settings, request)
    return request
