"""Ad assignment: one message per treated user, with channel, creative and send time.

Creative catalog: the campaign's `creatives` rules (journey.campaigns.creatives), first match
of (segment name, predicted scene, lifecycle stage) wins ("*" matches anything); the id is
"<objective>.<theme>.<format>", e.g. "winback.come_back.hero_banner". The channel is the
user's first open campaign channel (eligibility). Send time: the user's preferred hour (UTC,
from the profile; DEFAULT_SEND_HOUR when unknown) on the campaign's first day, or the next day
when that hour has already passed at start_time; always before end_time or the user gets
the start time itself. One message per user per campaign run, so together with the
eligibility's frequency cap nobody goes over the cap.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from journey.campaigns.creatives import ANY, Creative
from journey.campaigns.request import CampaignRequest

DEFAULT_SEND_HOUR = 10
AD_COLUMNS = ("campaign_id", "run_id", "snapshot_date", "user_id", "segment_id", "channel", "creative_id",
              "send_at", "coupon_code", "reason")


def _matches(column: str, pattern: str) -> F.Column:
    """Rule part matches the user's value ('*' matches anything)."""
    return F.lit(True) if pattern == ANY else F.col(column) == pattern


def creative_column(objective: str, creatives: tuple[Creative, ...]) -> F.Column:
    """Creative id for each user from the first matching rule."""
    chosen = F.lit(None).cast("string")
    for rule in reversed(creatives):
        matches = (_matches("segment_name", rule.segment) & _matches("predicted_scene", rule.scene)
                   & _matches("lifecycle_stage", rule.lifecycle_stage))
        chosen = F.when(matches, F.lit(f"{objective}.{rule.theme}.{rule.format}")).otherwise(chosen)
    return chosen


def send_at_column(request: CampaignRequest) -> F.Column:
    """The user's preferred hour on the first campaign day (or the next day), within the window."""
    start, end = request.params.start_time, request.params.end_time
    day = F.to_timestamp(F.lit(start.date().isoformat()))
    hour = F.coalesce(F.col("preferred_hour").cast("int"), F.lit(DEFAULT_SEND_HOUR))
    same_day = F.timestamp_add("HOUR", hour, day)
    start_ts, end_ts = F.lit(start).cast("timestamp"), F.lit(end).cast("timestamp")
    planned = F.when(same_day >= start_ts, same_day).otherwise(F.timestamp_add("DAY", F.lit(1), same_day))
    return F.when(planned < end_ts, planned).otherwise(start_ts)


def ad_assignments(treated: DataFrame, coupons: DataFrame, request: CampaignRequest) -> DataFrame:
    """One ad per treated user (AD_COLUMNS); the coupon code rides along when the user has one."""
    params = request.params
    codes = coupons.groupBy("user_id").agg(F.min("coupon_code").alias("coupon_code"))
    reason = F.to_json(F.struct("segment_name", "predicted_scene", "lifecycle_stage", "preferred_hour",
                                "signal_source"))
    return (treated.join(codes, "user_id", "left")
            .select(F.lit(params.campaign_id).alias("campaign_id"), F.lit(request.run_id).alias("run_id"),
                    F.lit(request.snapshot_date).alias("snapshot_date"), "user_id", "segment_id", "channel",
                    creative_column(params.objective, params.creatives).alias("creative_id"),
                    send_at_column(request).alias("send_at"), "coupon_code", reason.alias("reason")))
