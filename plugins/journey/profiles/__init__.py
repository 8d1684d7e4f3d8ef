"""Stage 2, profiles: per-user profiles, K-means segments and the daily publish to the warehouse.

    profiles = build_profiles(events, users, ProfileParams(snapshot_date=day))      # build.py
    result = segment_users(profiles, SegmentParams(), previous_summary)            # segments.py
    publish_daily(settings, day, run_id)                                           # publish.py

See docs/profiles.md and docs/segments.md.
"""

from journey.profiles.build import PROFILE_COLUMNS, LifecycleRules, ProfileParams, build_profiles
from journey.profiles.publish import publish_daily
from journey.profiles.segments import SegmentationResult, SegmentParams, segment_users

__all__ = [
    "PROFILE_COLUMNS", "LifecycleRules", "ProfileParams", "SegmentParams", "SegmentationResult", "build_profiles",
    "publish_daily", "segment_users",
]
