"""Request and response bodies of the API (pydantic: validated on the way in, documented in OpenAPI)."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from journey.schemas import CHANNELS

MAX_BATCH = 1000  # rows per POST /v1/events or /v1/exposures
MAX_ID_LENGTH = 200
Channel = Literal[CHANNELS]
Id = Field(min_length=1, max_length=MAX_ID_LENGTH)
FallbackReason = Literal["unknown_user", "holdout", "suppressed", "no_assignment"]


class Campaign(BaseModel):
    """The live campaign run a treatment comes from."""

    campaign_id: str
    run_id: str
    snapshot_date: date
    name: str
    objective: str


class Recommendation(BaseModel):
    """One recommended product of a campaign's list for the user."""

    campaign_id: str
    rank: int
    product_id: str
    category: str | None
    score: float
    source: str


class NextBestAction(BaseModel):
    """What to show the user now: a treatment from a live campaign, or the fallback (no offer, no creative)."""

    user_id: str
    decision: Literal["treatment", "fallback"]
    fallback_reason: FallbackReason | None = Field(description="why the fallback: unknown_user, holdout "
                                                   "(control group), suppressed, no_assignment")
    campaign: Campaign | None
    offer: dict[str, Any] | None = Field(description="coupon: offer_name, kind, offer_value, min_spend, "
                                         "coupon_code, channel, expected_value")
    creative: dict[str, Any] | None = Field(description="ad: creative_id, channel, send_at, coupon_code")
    recommendations: list[Recommendation]
    reason: dict[str, Any] | None = Field(description="the inputs behind the offer and creative choices")
    segment: dict[str, Any] | None
    lifecycle_stage: str | None
    scores: dict[str, Any] | None


class Segment(BaseModel):
    """One segment of the latest published snapshot."""

    segment_id: int
    segment_name: str
    users: int
    user_share: float
    revenue: float
    revenue_share: float
    avg_recency_days: float | None
    avg_frequency: float | None
    avg_monetary: float | None
    avg_conversion_rate: float | None
    top_category: str | None
    snapshot_date: date
    run_id: str


class EventBatch(BaseModel):
    """Canonical events (docs/formats.md), each checked on its own: a bad row does not refuse the batch."""

    model_config = ConfigDict(extra="forbid")
    events: list[Any] = Field(min_length=1, max_length=MAX_BATCH)


class RejectedEvent(BaseModel):
    """A refused event: its position in the batch and the ingest's reason code."""

    index: int
    reason: str
    detail: str


class EventsAccepted(BaseModel):
    """What happened to a batch of events."""

    accepted: int
    rejected: list[RejectedEvent]
    file: str | None = Field(description="inbox file holding the accepted rows (None when none were accepted)")


class Exposure(BaseModel):
    """An assignment actually shown or sent."""

    model_config = ConfigDict(extra="forbid")
    user_id: str = Id
    campaign_id: str = Id
    run_id: str | None = Field(default=None, min_length=1, max_length=MAX_ID_LENGTH)
    channel: Channel
    kind: Literal["shown", "sent"]
    exposed_at: AwareDatetime
    creative_id: str | None = Field(default=None, min_length=1, max_length=MAX_ID_LENGTH)
    coupon_code: str | None = Field(default=None, min_length=1, max_length=MAX_ID_LENGTH)


class ExposureBatch(BaseModel):
    """Exposures to store."""

    model_config = ConfigDict(extra="forbid")
    exposures: list[Exposure] = Field(min_length=1, max_length=MAX_BATCH)


class ExposuresStored(BaseModel):
    """How many exposures were stored."""

    stored: int
