"""The creative catalog of a campaign: which creative a user's ad shows, by segment, scene and lifecycle stage.

A campaign parameter (`creatives`, a list of rules); each rule names a segment (name), a
predicted scene and a lifecycle stage, each "*" for any, and the creative's theme and format.
The first matching rule wins, so the last rule must match everyone ("*", "*", "*"): no
treated user is left without an ad. The creative id is "<objective>.<theme>.<format>".
"""

from __future__ import annotations

from dataclasses import dataclass

from journey.campaigns.fields import (
    MAX_TEXT,
    SLUG,
    CampaignParamsError,
    catalog,
    entry,
    short_name,
    shown,
    text,
    text_schema,
)
from journey.schemas import LIFECYCLE_STAGES, SCENES

ANY = "*"
MAX_CREATIVES = 50
RULE_FIELDS = ("segment", "scene", "lifecycle_stage")


@dataclass(frozen=True)
class Creative:
    """One rule of the catalog."""

    segment: str  # segment name or "*"
    scene: str  # predicted scene or "*"
    lifecycle_stage: str  # lifecycle stage or "*"
    theme: str
    format: str


CREATIVE_SCHEMA = {
    "type": "object",
    "required": ["theme", "format"],
    "properties": {
        "segment": {"type": "string", **text_schema(MAX_TEXT)},
        "scene": {"type": "string", "enum": [ANY, *SCENES]},
        "lifecycle_stage": {"type": "string", "enum": [ANY, *LIFECYCLE_STAGES]},
        "theme": {"type": "string", "pattern": SLUG.pattern},
        "format": {"type": "string", "pattern": SLUG.pattern},
    },
}

DEFAULT_CREATIVES = [
    {"segment": ANY, "scene": "promo_hunt", "lifecycle_stage": ANY, "theme": "best_deals", "format": "deal_grid"},
    {"segment": ANY, "scene": ANY, "lifecycle_stage": "churned", "theme": "come_back", "format": "hero_banner"},
    {"segment": ANY, "scene": ANY, "lifecycle_stage": "at_risk", "theme": "we_miss_you", "format": "hero_banner"},
    {"segment": ANY, "scene": "replenish", "lifecycle_stage": ANY, "theme": "time_to_restock",
     "format": "product_list"},
    {"segment": ANY, "scene": "gift", "lifecycle_stage": ANY, "theme": "gift_ideas", "format": "carousel"},
    {"segment": ANY, "scene": "compare", "lifecycle_stage": ANY, "theme": "top_rated", "format": "comparison_card"},
    {"segment": ANY, "scene": ANY, "lifecycle_stage": "new", "theme": "welcome", "format": "carousel"},
    {"segment": ANY, "scene": ANY, "lifecycle_stage": "loyal", "theme": "thank_you", "format": "product_list"},
    {"segment": ANY, "scene": ANY, "lifecycle_stage": ANY, "theme": "picked_for_you", "format": "carousel"},
]


def _choice(item: dict, name: str, allowed: tuple[str, ...] | None, where: str) -> str:
    """A rule field: "*" (the default) or one of `allowed` (any text when None)."""
    value = item.get(name, ANY)
    if not isinstance(value, str) or not value.strip():
        raise CampaignParamsError(f"{where}.{name}", f"must be a name or '*', got {shown(value)}")
    if allowed is not None and value not in (ANY, *allowed):
        raise CampaignParamsError(f"{where}.{name}", f"must be '*' or one of {', '.join(allowed)}, got {shown(value)}")
    return text(value, f"{where}.{name}")


def _creative(item: object, index: int) -> Creative:
    """One rule, checked."""
    where = f"creatives[{index}]"
    item = entry(item, where, "segment, scene, lifecycle_stage, theme, format")
    theme, form = (short_name(item.get(name), f"{where}.{name}") for name in ("theme", "format"))
    return Creative(segment=_choice(item, "segment", None, where), scene=_choice(item, "scene", SCENES, where),
                    lifecycle_stage=_choice(item, "lifecycle_stage", LIFECYCLE_STAGES, where),
                    theme=theme, format=form)


def parse_creatives(items: object) -> tuple[Creative, ...]:
    """The `creatives` parameter: 1 to MAX_CREATIVES rules, the last a catch-all."""
    items = catalog(items, "creatives", MAX_CREATIVES, "rules", "give at least one rule {segment, scene, "
                    "lifecycle_stage, theme, format}; the last one with '*' everywhere")
    rules = tuple(_creative(item, i) for i, item in enumerate(items))
    last = rules[-1]
    if (last.segment, last.scene, last.lifecycle_stage) != (ANY, ANY, ANY):
        raise CampaignParamsError("creatives", "the last rule must match every user (segment, scene and "
                                               "lifecycle_stage all '*'), so nobody is left without a creative")
    return rules
