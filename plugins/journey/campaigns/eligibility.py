"""Who may receive the campaign, and why everyone else may not (one reason per excluded user).

Rules, in order (the first that applies is the user's reason):
1. not_target_segment: the user's segment is not targeted;
2. not_target_stage: the user's lifecycle stage is not targeted (no stages given = all);
3. suppressed: the user is on journey.suppression_list (unexpired);
4. no_channel_consent: none of the campaign's channels is open to the user. email, push and
   sms need the user's consent flag (curated users dimension; a user missing from it has
   none); display and social are paid-media audiences with no opt-in in the users dimension
   and are open to every user not suppressed;
5. frequency_cap: other campaigns already plan `frequency_cap` or more messages for the user
   in the 7 days before this campaign starts.
An eligible user's channel is the first of the campaign's channels (the order given) open to
them.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from journey.campaigns.params import CONSENT_CHANNELS

EXCLUSION_REASONS = ("not_target_segment", "not_target_stage", "suppressed", "no_channel_consent", "frequency_cap")
AUDIENCE_COLUMNS = ("user_id", "segment_id", "segment_name", "lifecycle_stage", "channel", "exclusion_reason")


@dataclass(frozen=True)
class Targets:
    """The campaign's audience filters."""

    segment_ids: tuple[int, ...]
    lifecycle_stages: tuple[str, ...]  # empty = all
    channels: tuple[str, ...]  # priority order
    frequency_cap: int


def channel_open(channel: str) -> F.Column:
    """True when the channel may carry a message to the user."""
    if channel in CONSENT_CHANNELS:
        return F.coalesce(F.col(f"consent_{channel}"), F.lit(False))
    return F.lit(True)


def first_open_channel(channels: tuple[str, ...]) -> F.Column:
    """The first channel (priority order) open to the user, null when none is."""
    chosen = F.lit(None).cast("string")
    for channel in reversed(channels):
        chosen = F.when(channel_open(channel), F.lit(channel)).otherwise(chosen)
    return chosen


def exclusion_reason(targets: Targets) -> F.Column:
    """The first rule the user fails, null when eligible."""
    stage_ok = F.lit(True) if not targets.lifecycle_stages else F.col("lifecycle_stage").isin(*targets.lifecycle_stages)
    return (F.when(~F.col("segment_id").isin(*targets.segment_ids), "not_target_segment")
            .when(~stage_ok, "not_target_stage")
            .when(F.col("suppression_reason").isNotNull(), "suppressed")
            .when(F.col("channel").isNull(), "no_channel_consent")
            .when(F.coalesce(F.col("recent_messages"), F.lit(0)) >= targets.frequency_cap, "frequency_cap"))


def audience(users: DataFrame, consents: DataFrame, suppressed: DataFrame, recent: DataFrame,
             targets: Targets) -> DataFrame:
    """Every snapshot user with channel and exclusion_reason (null = eligible), plus their profile columns.

    users: profiles joined with segments; consents: user_id, consent_email/push/sms;
    suppressed: user_id, suppression_reason; recent: user_id, recent_messages.
    """
    joined = (users.join(consents, "user_id", "left")
              .join(suppressed.select("user_id", "suppression_reason"), "user_id", "left")
              .join(recent.select("user_id", "recent_messages"), "user_id", "left"))
    with_channel = joined.withColumn("channel", first_open_channel(targets.channels))
    flagged = with_channel.withColumn("exclusion_reason", exclusion_reason(targets))
    return flagged.withColumn("channel", F.when(F.col("exclusion_reason").isNull(), F.col("channel"))).drop(
        "suppression_reason", "recent_messages", *[c for c in consents.columns if c != "user_id"])

